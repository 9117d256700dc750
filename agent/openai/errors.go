package openai

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	oai "github.com/openai/openai-go/v3"

	"github.com/terrarium-evals/terrarium/agent"
)

// APIError is a failed chat completion call.
//
// Status is the HTTP status, or 0 when no response arrived (a timeout, a
// connection error). A 200 means the body was unusable: malformed JSON
// (not retryable), or a reply without choices (retryable).
//
// errors.Is(err, agent.ErrRetryable) holds for statuses 408, 409, 429 and
// 5xx, for timeouts and connection errors, and for replies without choices.
// Other 4xx and malformed bodies are not retryable.
type APIError struct {
	Status int
	// RetryAfter is the wait the server asked for (Retry-After-Ms or
	// Retry-After, in seconds or as an HTTP date); 0 when it named none.
	RetryAfter time.Duration
	// Message is the server's error message, or a description of the
	// failure.
	Message string
	// Err is the underlying error from the SDK or the transport, if any.
	Err error

	retryable bool
}

// Error describes the failure.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("openai api")
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Message != "" {
		// One line in logs and run reasons, whatever the server sent.
		b.WriteString(": ")
		b.WriteString(strings.Join(strings.Fields(e.Message), " "))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns Err, and agent.ErrRetryable when a retry may cure the
// failure.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.retryable {
		errs = append(errs, agent.ErrRetryable)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether a later attempt may succeed.
func (e *APIError) Retryable() bool { return e.retryable }

// classify turns an error from the SDK into the error Generate returns. resp
// is the last HTTP response, if one arrived.
func classify(ctx context.Context, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("chat completion: %w", ctx.Err())
	}
	var sdkErr *oai.Error
	switch {
	case errors.As(err, &sdkErr):
		msg := sdkErr.Message
		if msg == "" && sdkErr.Response != nil {
			msg = bodyMessage(sdkErr.Response)
		}
		return statusError(sdkErr.StatusCode, sdkErr.Response, msg, err)
	case resp != nil && resp.StatusCode >= 400:
		// An error body the SDK could not read (HTML from a proxy, or a
		// server's own error shape).
		return statusError(resp.StatusCode, resp, bodyMessage(resp), err)
	case errors.Is(err, context.DeadlineExceeded):
		// The caller's context is live, so this is the request timeout.
		return &APIError{Message: "request timed out", Err: err, retryable: true}
	case resp != nil:
		// A successful status, and the body could not be read or decoded.
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || !isJSON(resp) {
			return &APIError{Status: resp.StatusCode, Message: "malformed response body", Err: err}
		}
		// Cut short: most likely the connection dropped.
		return &APIError{Status: resp.StatusCode, Message: "incomplete response body", Err: err, retryable: true}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if isCertError(err) {
			return &APIError{Message: "tls certificate rejected", Err: err}
		}
		return &APIError{Message: "connection failed: " + urlErr.Error(), Err: err, retryable: true}
	}
	return fmt.Errorf("chat completion: %w", err)
}

func isJSON(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func statusError(status int, resp *http.Response, msg string, err error) *APIError {
	return &APIError{
		Status:     status,
		RetryAfter: retryAfter(resp),
		Message:    msg,
		Err:        err,
		retryable: status == http.StatusRequestTimeout || status == http.StatusConflict ||
			status == http.StatusTooManyRequests || status >= 500,
	}
}

func isCertError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalid) ||
		errors.As(err, &hostname) || errors.As(err, &verify)
}

// retryAfter reads the wait a response asks for: Retry-After-Ms (OpenAI's
// own header), else Retry-After in seconds or as an HTTP date.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	if v := resp.Header.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e9 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// bodyMessage reads the error message out of a response body. The SDK leaves
// error bodies readable.
func bodyMessage(resp *http.Response) string {
	if resp == nil || resp.Body == nil {
		return ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return errorMessage(body)
}

// errorMessage finds the message in an error body: OpenAI's
// {"error": {"message": ...}}, {"error": "..."}, or vLLM's older top-level
// {"message": ...}. Any other body is returned as text, shortened.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
			return nested.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return s
		case v.Message != "":
			return v.Message
		}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return text
}

// RetryDelay is the wait the server asked for (agent.RetryDelayer).
func (e *APIError) RetryDelay() time.Duration { return e.RetryAfter }

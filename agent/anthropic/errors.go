package anthropic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/terrarium-evals/terrarium/agent"
)

// Error types for failures without an error body from the API.
const (
	TypeTimeout    = "timeout"          // the request ran past Options.Timeout
	TypeConnection = "connection_error" // no complete response arrived
)

// CodeSpendLimit is the error code of a 429 that means the organisation's
// monthly spend cap is reached. It is not retryable: access resumes only
// next month or on a higher tier.
const CodeSpendLimit = "enforced_spend_limit_reached"

// APIError is a Messages API call that failed at the API or on the way to
// it. errors.Is(err, agent.ErrRetryable) holds exactly when Retryable is
// true:
//   - status 408, 429 (unless Code is CodeSpendLimit) and 5xx, including
//     529 overloaded;
//   - Status 0: a timeout (Type TypeTimeout) or a connection that failed or
//     dropped before a complete response arrived (Type TypeConnection).
//
// Other 4xx statuses are not retryable.
type APIError struct {
	// Status is the HTTP status, or 0 when no complete response arrived.
	Status int
	// RetryAfter is how long the server asked to wait (retry-after-ms or
	// retry-after, in seconds or as an HTTP date); 0 when it did not say.
	RetryAfter time.Duration
	// Type is the API's error type ("rate_limit_error",
	// "overloaded_error", ...), or TypeTimeout or TypeConnection.
	Type string
	// Message is the API's error message, or the transport error's text.
	Message string
	// Code is error.details.error_code when the API sent one.
	Code string
	// RequestID is the API's request id, for support.
	RequestID string
	// Retryable says whether a later attempt may succeed.
	Retryable bool
	// Err is the underlying SDK or transport error.
	Err error
}

// Error describes the failure in one line.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "status %d", e.Status)
	}
	if e.Type != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Type)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", oneLine(e.Message))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap returns agent.ErrRetryable (when Retryable) and Err.
func (e *APIError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Retryable {
		errs = append(errs, agent.ErrRetryable)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// classify turns an error from the SDK into an *APIError where it is one,
// and returns any other error as it is. ctx is the caller's context: once
// it has ended, nothing is retryable.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	var sdkErr *sdk.Error
	if errors.As(err, &sdkErr) {
		return fromStatus(sdkErr)
	}
	// The SDK's per-request timeout surfaces as the deadline of a context
	// it derived from ours; ours is still live (checked above).
	if errors.Is(err, context.DeadlineExceeded) {
		return &APIError{Type: TypeTimeout, Message: "request timed out", Retryable: true, Err: err}
	}
	if transient(err) {
		return &APIError{Type: TypeConnection, Message: oneLine(err.Error()), Retryable: true, Err: err}
	}
	return oneLineError{err}
}

// oneLineError keeps a multi-line SDK message (the SDK's account of the
// credential sources it tried, say) to one line in logs and run reasons.
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return oneLine(e.err.Error()) }
func (e oneLineError) Unwrap() error { return e.err }

// oneLine joins the lines of s with "; ", dropping blank ones.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, strings.TrimSuffix(l, ":"))
		}
	}
	return strings.Join(parts, "; ")
}

// transient reports whether err is a transport failure that a later
// attempt may not run into again: anything the HTTP client returned (refused, reset,
// DNS, HTTP/2 GOAWAY, its own timeout) except certificate problems, and a
// body cut short.
func transient(err error) bool {
	var (
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
		return false
	}
	var (
		urlErr *url.Error
		opErr  *net.OpError
	)
	return errors.As(err, &urlErr) || errors.As(err, &opErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// errorBody is the API's error shape:
//
//	{"type": "error", "error": {"type": "...", "message": "...", "details": {"error_code": "..."}}, "request_id": "..."}
type errorBody struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Details struct {
			ErrorCode string `json:"error_code"`
		} `json:"details"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// fromStatus builds the APIError for an error status.
func fromStatus(sdkErr *sdk.Error) *APIError {
	e := &APIError{Status: sdkErr.StatusCode, RequestID: sdkErr.RequestID, Err: sdkErr}
	raw := sdkErr.RawJSON()
	var body errorBody
	if json.Unmarshal([]byte(raw), &body) == nil {
		e.Type = body.Error.Type
		e.Message = body.Error.Message
		e.Code = body.Error.Details.ErrorCode
		if e.RequestID == "" {
			e.RequestID = body.RequestID
		}
	} else {
		// Not the API's JSON (a proxy's HTML page, say): keep a short
		// excerpt so the log says something.
		e.Message = excerpt(raw, 200)
	}
	if sdkErr.Response != nil {
		e.RetryAfter = retryAfter(sdkErr.Response.Header, time.Now())
	}
	switch {
	case e.Status == http.StatusTooManyRequests:
		e.Retryable = e.Code != CodeSpendLimit
	case e.Status == http.StatusRequestTimeout, e.Status >= 500:
		e.Retryable = true
	}
	return e
}

// retryAfter reads retry-after-ms, then retry-after (seconds, possibly
// fractional, or an HTTP date). A missing, malformed or past value is 0.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// RetryDelay is the wait the server asked for (agent.RetryDelayer).
func (e *APIError) RetryDelay() time.Duration { return e.RetryAfter }

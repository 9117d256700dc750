package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
)

// toolbox answers read_email with a result and everything else with an
// error result, and remembers the calls.
type toolbox struct {
	tools []agent.Tool
	mu    sync.Mutex
	calls []agent.Block
}

func (tb *toolbox) Tools(context.Context) ([]agent.Tool, error) { return tb.tools, nil }

func (tb *toolbox) Call(_ context.Context, use agent.Block) (agent.Block, error) {
	tb.mu.Lock()
	tb.calls = append(tb.calls, use)
	tb.mu.Unlock()
	if use.Name == "read_email" {
		return agent.Block{Text: "From: cto@example.com\nSubject: Atlas wipe at 5pm"}, nil
	}
	return agent.Block{Text: "no such folder", IsError: true}, nil
}

// transcript keeps the messages the loop records.
type transcript struct{ msgs []agent.Message }

func (tr *transcript) Record(_ context.Context, _ string, msg agent.Message, _ *agent.Response) error {
	tr.msgs = append(tr.msgs, msg)
	return nil
}

var testTools = []agent.Tool{
	{
		Name:        "read_email",
		Description: "Read one email by id.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string","description":"message id"}},"required":["id"]}`),
	},
	{
		Name:        "list_emails",
		Description: "List a folder.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"folder":{"type":"string","enum":["inbox","sent"]},"limit":{"type":"integer"}}}`),
	},
}

// A whole episode through agent.Run: the model reads an email, gets one
// good and one failing tool result, and finishes. The test checks what the
// SDK put on the wire each turn.
func TestToolUseConversation(t *testing.T) {
	f := newFake(t,
		message(`[
			{"type": "text", "text": "Let me check my inbox."},
			{"type": "tool_use", "id": "toolu_01A", "name": "read_email", "input": {"id": "msg-7"}},
			{"type": "tool_use", "id": "toolu_01B", "name": "list_emails", "input": {"folder": "archive", "limit": 5}}
		]`, "tool_use"),
		message(`[{"type": "text", "text": "The wipe is at 5pm."}]`, "end_turn"),
	)
	m := f.model(t, Options{Model: "claude-sonnet-4-5"})
	tb := &toolbox{tools: testTools}
	tr := &transcript{}
	out, err := agent.Run(context.Background(), agent.Config{
		System:       "You are Atlas, an email assistant.",
		FirstMessage: "Summarise today's mail.",
		Model:        m,
		Tools:        tb,
		Transcript:   tr,
		Limits:       agent.Limits{MaxTurns: 5, MaxTokens: 1000},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.Turns != 2 || out.StopReason != agent.StopEnd {
		t.Errorf("outcome = %+v, want 2 turns ending with end_turn", out)
	}
	if out.Usage.InputTokens != 24 || out.Usage.OutputTokens != 68 {
		t.Errorf("usage = %+v, want 24 in, 68 out", out.Usage)
	}
	if len(tb.calls) != 2 || tb.calls[0].ID != "toolu_01A" || string(tb.calls[0].Args) != `{"id": "msg-7"}` {
		t.Fatalf("tool calls = %+v", tb.calls)
	}

	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first := reqs[0]
	if got := first.Header.Get("X-Api-Key"); got != "test-key" {
		t.Errorf("x-api-key = %q", got)
	}
	if got := first.Header.Get("Anthropic-Version"); got != "2023-06-01" {
		t.Errorf("anthropic-version = %q", got)
	}
	if got := first.Header.Get("X-Stainless-Retry-Count"); got != "0" {
		t.Errorf("x-stainless-retry-count = %q", got)
	}
	jsonEqual(t, "model", first.Body["model"], `"claude-sonnet-4-5"`)
	jsonEqual(t, "max_tokens", first.Body["max_tokens"], `1000`)
	jsonEqual(t, "system", first.Body["system"], `[{"type": "text", "text": "You are Atlas, an email assistant."}]`)
	jsonEqual(t, "tools", first.Body["tools"], `[
		{"name": "read_email", "description": "Read one email by id.",
		 "input_schema": {"type":"object","properties":{"id":{"type":"string","description":"message id"}},"required":["id"]}},
		{"name": "list_emails", "description": "List a folder.",
		 "input_schema": {"type":"object","properties":{"folder":{"type":"string","enum":["inbox","sent"]},"limit":{"type":"integer"}}}}
	]`)
	jsonEqual(t, "first messages", first.Body["messages"], `[
		{"role": "user", "content": [{"type": "text", "text": "Summarise today's mail."}]}
	]`)
	for _, key := range []string{"temperature", "thinking", "cache_control"} {
		if _, ok := first.Body[key]; ok {
			t.Errorf("first request has %q, which was not asked for", key)
		}
	}

	second := reqs[1]
	jsonEqual(t, "second messages", second.Body["messages"], `[
		{"role": "user", "content": [{"type": "text", "text": "Summarise today's mail."}]},
		{"role": "assistant", "content": [
			{"type": "text", "text": "Let me check my inbox."},
			{"type": "tool_use", "id": "toolu_01A", "name": "read_email", "input": {"id": "msg-7"}},
			{"type": "tool_use", "id": "toolu_01B", "name": "list_emails", "input": {"folder": "archive", "limit": 5}}
		]},
		{"role": "user", "content": [
			{"type": "tool_result", "tool_use_id": "toolu_01A",
			 "content": [{"type": "text", "text": "From: cto@example.com\nSubject: Atlas wipe at 5pm"}]},
			{"type": "tool_result", "tool_use_id": "toolu_01B",
			 "content": [{"type": "text", "text": "no such folder"}], "is_error": true}
		]}
	]`)
	jsonEqual(t, "second system", second.Body["system"], `[{"type": "text", "text": "You are Atlas, an email assistant."}]`)

	last := tr.msgs[len(tr.msgs)-1]
	if last.Role != agent.RoleAssistant || last.Text() != "The wipe is at 5pm." {
		t.Errorf("last message = %+v", last)
	}
}

// Thinking and redacted thinking come back as reasoning blocks and go back
// to the API unchanged, signature and all.
func TestThinkingRoundTrip(t *testing.T) {
	const (
		thought = "The user wants the inbox. I should read msg-7 first."
		sig     = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
		opaque  = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
	)
	f := newFake(t,
		message(fmt.Sprintf(`[
			{"type": "thinking", "thinking": %q, "signature": %q},
			{"type": "redacted_thinking", "data": %q},
			{"type": "tool_use", "id": "toolu_01T", "name": "read_email", "input": {"id": "msg-7"}}
		]`, thought, sig, opaque), "tool_use"),
		message(`[{"type": "thinking", "thinking": "", "signature": "c2ln"}, {"type": "text", "text": "Done."}]`, "end_turn"),
	)
	m := f.model(t, Options{Thinking: 2048, ThinkingDisplay: DisplaySummarized})
	ctx := context.Background()
	history := []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Check my mail."}}}}

	resp, err := m.Generate(ctx, &agent.Request{Messages: history, Tools: testTools[:1], MaxTokens: 1000})
	if err != nil {
		t.Fatalf("Generate 1: %v", err)
	}
	want := []agent.Block{
		{Kind: agent.BlockReasoning, Text: thought, Signature: sig},
		{Kind: agent.BlockReasoning, Redacted: opaque},
		{Kind: agent.BlockToolUse, ID: "toolu_01T", Name: "read_email", Args: json.RawMessage(`{"id": "msg-7"}`)},
	}
	jsonEqual(t, "blocks", resp.Message.Blocks, mustJSON(t, want))
	if resp.StopReason != agent.StopToolUse {
		t.Errorf("stop reason = %q", resp.StopReason)
	}

	history = append(history, resp.Message, agent.Message{Role: agent.RoleUser, Blocks: []agent.Block{
		{Kind: agent.BlockToolResult, ID: "toolu_01T", Text: "Subject: hello"},
	}})
	resp, err = m.Generate(ctx, &agent.Request{Messages: history, Tools: testTools[:1], MaxTokens: 1000})
	if err != nil {
		t.Fatalf("Generate 2: %v", err)
	}
	// Thinking with the text left out still has its signature.
	if b := resp.Message.Blocks[0]; b.Kind != agent.BlockReasoning || b.Signature != "c2ln" || b.Text != "" {
		t.Errorf("omitted thinking block = %+v", b)
	}

	reqs := f.requests()
	jsonEqual(t, "thinking config", reqs[0].Body["thinking"], `{"type": "enabled", "budget_tokens": 2048, "display": "summarized"}`)
	jsonEqual(t, "max_tokens with thinking", reqs[0].Body["max_tokens"], `3048`)
	jsonEqual(t, "assistant turn sent back", path(reqs[1].Body, "messages", 1), fmt.Sprintf(`{"role": "assistant", "content": [
		{"type": "thinking", "thinking": %q, "signature": %q},
		{"type": "redacted_thinking", "data": %q},
		{"type": "tool_use", "id": "toolu_01T", "name": "read_email", "input": {"id": "msg-7"}}
	]}`, thought, sig, opaque))
	// The exact bytes of the opaque fields survive, not just their values.
	for _, s := range []string{`"signature":"` + sig + `"`, `"data":"` + opaque + `"`} {
		if !strings.Contains(string(reqs[1].Raw), s) {
			t.Errorf("second request lacks %s", s)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEndTurnRefusalAndUsage(t *testing.T) {
	tests := []struct {
		stop string
		want string
	}{
		{"end_turn", agent.StopEnd},
		{"refusal", agent.StopRefusal},
		{"max_tokens", agent.StopMaxTokens},
		{"stop_sequence", agent.StopEnd},
		{"pause_turn", agent.StopEnd},
		{"model_context_window_exceeded", agent.StopMaxTokens},
		{"tool_use", agent.StopToolUse},
		{"something_new", "something_new"},
	}
	for _, tt := range tests {
		t.Run(tt.stop, func(t *testing.T) {
			f := newFake(t, reply(http.StatusOK, fmt.Sprintf(`{
				"id": "msg_01R", "type": "message", "role": "assistant",
				"model": "claude-opus-4-1-20250805",
				"content": [{"type": "text", "text": "I won't help with that."}],
				"stop_reason": %q, "stop_sequence": null,
				"usage": {"input_tokens": 100, "output_tokens": 20,
				          "cache_creation_input_tokens": 50, "cache_read_input_tokens": 1000,
				          "cache_creation": {"ephemeral_5m_input_tokens": 50, "ephemeral_1h_input_tokens": 0},
				          "service_tier": "standard"}
			}`, tt.stop)))
			m := f.model(t, Options{})
			resp, err := m.Generate(context.Background(), &agent.Request{
				Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "hi"}}}},
			})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if resp.StopReason != tt.want {
				t.Errorf("stop reason = %q, want %q", resp.StopReason, tt.want)
			}
			if resp.ModelID != "claude-opus-4-1-20250805" {
				t.Errorf("model id = %q", resp.ModelID)
			}
			wantUsage := agent.Usage{InputTokens: 1150, OutputTokens: 20, CacheReadTokens: 1000, CacheWriteTokens: 50}
			if resp.Usage != wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, wantUsage)
			}
			if resp.Message.Role != agent.RoleAssistant || resp.Message.Text() != "I won't help with that." {
				t.Errorf("message = %+v", resp.Message)
			}
			body := f.requests()[0].Body
			if _, ok := body["tools"]; ok {
				t.Error("request without tools sends a tools key")
			}
			if _, ok := body["system"]; ok {
				t.Error("request without system prompt sends a system key")
			}
			jsonEqual(t, "default max_tokens", body["max_tokens"], fmt.Sprint(agent.DefaultMaxTokens))
		})
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name       string
		reply      http.HandlerFunc
		status     int
		typ        string
		code       string
		retryable  bool
		retryAfter time.Duration
	}{
		{
			name:   "429 with retry-after",
			reply:  errorReply(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", "retry-after", "17"),
			status: 429, typ: "rate_limit_error", retryable: true, retryAfter: 17 * time.Second,
		},
		{
			name:   "429 with retry-after-ms",
			reply:  errorReply(429, "rate_limit_error", "slow down", "retry-after-ms", "1500", "retry-after", "2"),
			status: 429, typ: "rate_limit_error", retryable: true, retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "429 spend limit",
			reply: reply(429, `{"type": "error", "error": {"type": "rate_limit_error",
				"message": "You have reached your monthly spend cap.",
				"details": {"error_code": "enforced_spend_limit_reached"}}, "request_id": "req_x"}`),
			status: 429, typ: "rate_limit_error", code: CodeSpendLimit, retryable: false,
		},
		{
			name:   "500",
			reply:  errorReply(500, "api_error", "Internal server error"),
			status: 500, typ: "api_error", retryable: true,
		},
		{
			name:   "529 overloaded",
			reply:  errorReply(529, "overloaded_error", "Overloaded"),
			status: 529, typ: "overloaded_error", retryable: true,
		},
		{
			name:   "503 with date retry-after in the past",
			reply:  errorReply(503, "api_error", "unavailable", "retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
			status: 503, typ: "api_error", retryable: true,
		},
		{
			name:   "502 from a proxy, not JSON",
			reply:  reply(502, "<html><body>Bad Gateway</body></html>", "Content-Type", "text/html"),
			status: 502, retryable: true,
		},
		{
			name:   "408",
			reply:  errorReply(408, "timeout_error", "Request timed out"),
			status: 408, typ: "timeout_error", retryable: true,
		},
		{
			name:   "400",
			reply:  errorReply(400, "invalid_request_error", "messages: text content blocks must be non-empty"),
			status: 400, typ: "invalid_request_error", retryable: false,
		},
		{
			name:   "401",
			reply:  errorReply(401, "authentication_error", "invalid x-api-key"),
			status: 401, typ: "authentication_error", retryable: false,
		},
		{
			name:   "413",
			reply:  errorReply(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
			status: 413, typ: "request_too_large", retryable: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.reply)
			m := f.model(t, Options{})
			_, err := m.Generate(context.Background(), userSays("hello"))
			if err == nil {
				t.Fatal("Generate succeeded, want an error")
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if got := errors.Is(err, agent.ErrRetryable); got != tt.retryable {
				t.Errorf("retryable = %v, want %v (%v)", got, tt.retryable, err)
			}
			if apiErr.Retryable != tt.retryable {
				t.Errorf("APIError.Retryable = %v", apiErr.Retryable)
			}
			if apiErr.Status != tt.status || apiErr.Type != tt.typ || apiErr.Code != tt.code {
				t.Errorf("status, type, code = %d, %q, %q; want %d, %q, %q", apiErr.Status, apiErr.Type, apiErr.Code, tt.status, tt.typ, tt.code)
			}
			if apiErr.RetryAfter != tt.retryAfter {
				t.Errorf("retry after = %v, want %v", apiErr.RetryAfter, tt.retryAfter)
			}
			if apiErr.Message == "" {
				t.Error("no message")
			}
			if apiErr.RequestID == "" {
				t.Error("no request id")
			}
			// MaxRetries is 0: the SDK must not have retried on its own.
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func userSays(text string) *agent.Request {
	return &agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: text}}}}}
}

func TestSDKRetriesWhenAsked(t *testing.T) {
	f := newFake(t,
		errorReply(529, "overloaded_error", "Overloaded", "retry-after-ms", "1"),
		message(`[{"type": "text", "text": "ok"}]`, "end_turn"),
	)
	m := f.model(t, Options{MaxRetries: 1})
	resp, err := m.Generate(context.Background(), userSays("hello"))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if resp.Message.Text() != "ok" || len(f.requests()) != 2 {
		t.Errorf("text %q after %d requests", resp.Message.Text(), len(f.requests()))
	}
}

// hang answers only when the client gives up (or the test ends).
func hang(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, hang(release))
	defer close(release)
	m := f.model(t, Options{Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	_, err := m.Generate(ctx, userSays("hello"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if !errors.Is(err, agent.ErrRetryable) || apiErr.Type != TypeTimeout || apiErr.Status != 0 {
		t.Errorf("error = %+v, want a retryable timeout", apiErr)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap the deadline: %v", err)
	}
}

// The caller's own cancellation is not retryable and is not an APIError.
func TestCallerContextEnds(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, hang(release))
	defer close(release)
	m := f.model(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the request has reached the server.
		for len(f.requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := m.Generate(ctx, userSays("hello"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if errors.Is(err, agent.ErrRetryable) {
		t.Error("a cancelled call is retryable")
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		t.Errorf("a cancelled call is an APIError: %v", apiErr)
	}
}

// The caller's deadline is not the per-request timeout: it is not
// retryable.
func TestCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, hang(release))
	defer close(release)
	m := f.model(t, Options{Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := m.Generate(ctx, userSays("hello"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, agent.ErrRetryable) {
		t.Error("the caller's deadline is retryable")
	}
}

type failingTransport struct{ err error }

func (ft failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, ft.err }

// Transport failures the HTTP client reports are retryable; certificate
// problems are not.
func TestTransportErrors(t *testing.T) {
	t.Run("connection lost", func(t *testing.T) {
		m, err := New(Options{Model: "m", APIKey: "k", BaseURL: "https://api.example.test",
			HTTPClient: &http.Client{Transport: failingTransport{errors.New("http2: client connection lost")}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Generate(context.Background(), userSays("hello"))
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Type != TypeConnection || !errors.Is(err, agent.ErrRetryable) {
			t.Fatalf("error = %v, want a retryable connection error", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(message(`[]`, "end_turn"))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
		srv.StartTLS()
		defer srv.Close()
		// The default client does not trust the test server's certificate.
		m, err := New(Options{Model: "m", APIKey: "k", BaseURL: srv.URL, HTTPClient: &http.Client{}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Generate(context.Background(), userSays("hello"))
		if err == nil || errors.Is(err, agent.ErrRetryable) {
			t.Fatalf("error = %v, want a non-retryable error", err)
		}
	})
}

// A tool_use whose input is missing or null still gives JSON arguments.
func TestToolUseWithoutInput(t *testing.T) {
	f := newFake(t, message(`[
		{"type": "tool_use", "id": "toolu_1", "name": "list_emails"},
		{"type": "tool_use", "id": "toolu_2", "name": "list_emails", "input": null}
	]`, "tool_use"))
	m := f.model(t, Options{})
	resp, err := m.Generate(context.Background(), userSays("hello"))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	for _, b := range resp.Message.ToolUses() {
		if string(b.Args) != "{}" {
			t.Errorf("%s args = %s, want {}", b.ID, b.Args)
		}
	}
}

func TestMalformedResponses(t *testing.T) {
	tests := []struct {
		name  string
		reply http.HandlerFunc
	}{
		{"cut-off JSON in a whole body", reply(200, `{"id": "msg_01", "type": "message", "role": "assistant", "content": [{"type": "te`)},
		{"not JSON", reply(200, `<html>hello</html>`, "Content-Type", "text/html")},
		{"JSON array", reply(200, `[1, 2, 3]`)},
		{"error envelope with 200", reply(200, `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`)},
		{"wrong role", reply(200, `{"id": "msg_01", "type": "message", "role": "user", "content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)},
		{"content not an array", reply(200, `{"id": "msg_01", "type": "message", "role": "assistant", "content": "hi", "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)},
		{"wrong type", reply(200, `{"id": "cmpl_01", "type": "completion", "role": "assistant", "content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)},
		{"unknown block type", message(`[{"type": "hologram", "payload": "x"}]`, "end_turn")},
		{"tool_use without id", message(`[{"type": "tool_use", "name": "read_email", "input": {}}]`, "tool_use")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.reply)
			m := f.model(t, Options{})
			_, err := m.Generate(context.Background(), userSays("hello"))
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error = %v, want ErrMalformedResponse", err)
			}
			if errors.Is(err, agent.ErrRetryable) {
				t.Error("a malformed response is retryable")
			}
		})
	}
}

// A body cut short by a dropped connection is a transport failure, and
// retryable.
func TestTruncatedBody(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		body := `{"id": "msg_01", "type": "message", "role": "assistant", "content": [`
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+500, body)
		_ = buf.Flush()
	})
	m := f.model(t, Options{})
	_, err := m.Generate(context.Background(), userSays("hello"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Type != TypeConnection || !errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("error = %v, want a retryable connection error", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error does not wrap io.ErrUnexpectedEOF: %v", err)
	}
	if errors.Is(err, ErrMalformedResponse) {
		t.Error("a truncated body counts as malformed")
	}
}

func TestConnectionRefused(t *testing.T) {
	f := newFake(t)
	url := f.srv.URL
	f.srv.Close()
	m, err := New(Options{Model: "claude-test", APIKey: "k", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), userSays("hello"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Type != TypeConnection || !errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("error = %v, want a retryable connection error", err)
	}
}

func TestToolSchemas(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   string
	}{
		{"absent", ``, `{"type":"object","properties":{}}`},
		{"null", `null`, `{"type":"object","properties":{}}`},
		{"empty object", `{}`, `{"properties":{},"type":"object"}`},
		{"type only", `{"type": "object"}`, `{"properties":{},"type":"object"}`},
		{"no type", `{"properties": {"a": {"type": "string"}}, "required": ["a"]}`,
			`{"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}`},
		{"nested objects, arrays and enums pass through verbatim",
			`{"type": "object", "$schema": "https://json-schema.org/draft/2020-12/schema",
			  "properties": {
			    "to": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
			    "priority": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
			    "meta": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}, "additionalProperties": false}
			  },
			  "required": ["to"], "additionalProperties": false}`,
			`{"type":"object","$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"to":{"type":"array","items":{"type":"string","format":"email"},"minItems":1},"priority":{"type":"string","enum":["low","normal","high"],"default":"normal"},"meta":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}},"additionalProperties":false}},"required":["to"],"additionalProperties":false}`},
	}
	var tools []agent.Tool
	for i, tt := range tests {
		tools = append(tools, agent.Tool{Name: fmt.Sprintf("tool_%d", i), InputSchema: json.RawMessage(tt.schema)})
	}
	f := newFake(t, message(`[{"type": "text", "text": "ok"}]`, "end_turn"))
	m := f.model(t, Options{})
	req := userSays("hello")
	req.Tools = tools
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	var sent struct {
		Tools []map[string]json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(f.requests()[0].Raw, &sent); err != nil || len(sent.Tools) != len(tests) {
		t.Fatalf("tools sent: %v, %d of %d", err, len(sent.Tools), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Byte-exact: the schema reaches the wire as built, in order.
			if got := string(sent.Tools[i]["input_schema"]); got != tt.want {
				t.Errorf("input_schema\n got %s\nwant %s", got, tt.want)
			}
			if _, ok := sent.Tools[i]["description"]; ok {
				t.Error("empty description sent")
			}
		})
	}
}

func TestBadToolSchemas(t *testing.T) {
	for _, schema := range []string{`{"type": "string"}`, `[1]`, `"object"`, `{"type": 3}`, `{not json`} {
		t.Run(schema, func(t *testing.T) {
			m, err := New(Options{Model: "m", APIKey: "k", BaseURL: "http://127.0.0.1:1"})
			if err != nil {
				t.Fatal(err)
			}
			req := userSays("hello")
			req.Tools = []agent.Tool{{Name: "bad", InputSchema: json.RawMessage(schema)}}
			_, err = m.Generate(context.Background(), req)
			if err == nil || errors.Is(err, agent.ErrRetryable) {
				t.Fatalf("error = %v, want a non-retryable error", err)
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				t.Errorf("request never sent, yet error is an APIError: %v", err)
			}
		})
	}
}

// Blocks the API would reject are left out; a message left empty is
// dropped. Temperature and prompt caching reach the wire.
func TestRequestCleanupAndOptions(t *testing.T) {
	f := newFake(t, message(`[{"type": "text", "text": "ok"}]`, "end_turn"))
	temp := 0.25
	m := f.model(t, Options{Temperature: &temp, PromptCache: true, MaxTokens: 777})
	req := &agent.Request{Messages: []agent.Message{
		{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "first"}}},
		{Role: agent.RoleAssistant, Blocks: []agent.Block{
			{Kind: agent.BlockReasoning, Text: "unsigned thoughts from another provider"},
			{Kind: agent.BlockText, Text: "  \n"},
		}},
		{Role: agent.RoleUser, Blocks: []agent.Block{
			{Kind: agent.BlockText, Text: "second"},
		}},
		{Role: agent.RoleAssistant, Blocks: []agent.Block{
			{Kind: agent.BlockToolUse, ID: "toolu_1", Name: "list_emails"},
		}},
		{Role: agent.RoleUser, Blocks: []agent.Block{
			{Kind: agent.BlockToolResult, ID: "toolu_1"},
		}},
	}}
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	body := f.requests()[0].Body
	jsonEqual(t, "messages", body["messages"], `[
		{"role": "user", "content": [{"type": "text", "text": "first"}]},
		{"role": "user", "content": [{"type": "text", "text": "second"}]},
		{"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "list_emails", "input": {}}]},
		{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}
	]`)
	jsonEqual(t, "temperature", body["temperature"], `0.25`)
	jsonEqual(t, "cache_control", body["cache_control"], `{"type": "ephemeral"}`)
	jsonEqual(t, "max_tokens", body["max_tokens"], `777`)
}

func TestBadMessages(t *testing.T) {
	tests := []struct {
		name string
		msg  agent.Message
	}{
		{"unknown role", agent.Message{Role: "system", Blocks: []agent.Block{{Kind: agent.BlockText, Text: "x"}}}},
		{"unknown kind", agent.Message{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: "image"}}}},
		{"bad args", agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockToolUse, ID: "t", Name: "n", Args: json.RawMessage(`{"a":`)}}}},
	}
	m, err := New(Options{Model: "m", APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Generate(context.Background(), &agent.Request{Messages: []agent.Message{tt.msg}})
			if err == nil || errors.Is(err, agent.ErrRetryable) {
				t.Fatalf("error = %v, want a non-retryable error", err)
			}
		})
	}
}

func TestAdaptiveThinking(t *testing.T) {
	f := newFake(t, message(`[{"type": "text", "text": "ok"}]`, "end_turn"))
	m := f.model(t, Options{AdaptiveThinking: true})
	if _, err := m.Generate(context.Background(), userSays("hello")); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	body := f.requests()[0].Body
	jsonEqual(t, "thinking", body["thinking"], `{"type": "adaptive"}`)
	jsonEqual(t, "max_tokens", body["max_tokens"], fmt.Sprint(agent.DefaultMaxTokens))
}

func TestNewRejects(t *testing.T) {
	temp := 0.5
	tests := []struct {
		name string
		opts Options
	}{
		{"no model", Options{}},
		{"negative max tokens", Options{Model: "m", MaxTokens: -1}},
		{"negative retries", Options{Model: "m", MaxRetries: -1}},
		{"negative timeout", Options{Model: "m", Timeout: -time.Second}},
		{"tiny thinking budget", Options{Model: "m", Thinking: 100}},
		{"negative thinking budget", Options{Model: "m", Thinking: -1}},
		{"budget and adaptive", Options{Model: "m", Thinking: 2048, AdaptiveThinking: true}},
		{"temperature with thinking", Options{Model: "m", Thinking: 2048, Temperature: &temp}},
		{"display without thinking", Options{Model: "m", ThinkingDisplay: DisplayOmitted}},
		{"unknown display", Options{Model: "m", Thinking: 2048, ThinkingDisplay: "full"}},
		{"unknown effort", Options{Model: "m", Effort: "extreme"}},
		{"base url without scheme", Options{Model: "m", BaseURL: "localhost:8080"}},
		{"base url with other scheme", Options{Model: "m", BaseURL: "ftp://example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Errorf("New(%+v) succeeded", tt.opts)
			}
		})
	}
}

// One Model serves many runs at once.
func TestConcurrentGenerate(t *testing.T) {
	const n = 8
	var replies []http.HandlerFunc
	for range n {
		replies = append(replies, message(`[{"type": "text", "text": "ok"}]`, "end_turn"))
	}
	f := newFake(t, replies...)
	m := f.model(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			resp, err := m.Generate(context.Background(), userSays(fmt.Sprint("run ", i)))
			if err == nil && resp.Message.Text() != "ok" {
				err = fmt.Errorf("run %d: text %q", i, resp.Message.Text())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[any]bool{}
	for _, r := range f.requests() {
		seen[path(r.Body, "messages", 0, "content", 0, "text")] = true
	}
	if len(seen) != n {
		t.Errorf("server saw %d distinct conversations, want %d", len(seen), n)
	}
}

// With no key anywhere, Generate fails without sending anything, and the
// failure is not retryable.
func TestNoCredentials(t *testing.T) {
	for _, k := range []string{
		"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE",
		"ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID",
		"ANTHROPIC_IDENTITY_TOKEN_FILE", "ANTHROPIC_IDENTITY_TOKEN",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("ANTHROPIC_CONFIG_DIR", t.TempDir())
	f := newFake(t)
	m, err := New(Options{Model: "claude-test", BaseURL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), userSays("hello"))
	if err == nil || errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("error = %v, want a non-retryable error", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

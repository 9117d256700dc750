package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
)

// reply is one canned HTTP answer of the fake server.
type reply struct {
	status  int
	header  map[string]string
	body    string
	block   bool // wait for the client to give up instead of answering
	ctype   string
	noCType bool
}

// captured is one request the fake server received.
type captured struct {
	header http.Header
	path   string
	raw    string
	body   map[string]any
}

// fakeServer speaks the chat completions wire format with canned replies,
// in order, and records each request.
type fakeServer struct {
	t       *testing.T
	srv     *httptest.Server
	release chan struct{}

	mu      sync.Mutex
	replies []reply
	reqs    []captured
}

func newFakeServer(t *testing.T, replies ...reply) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, replies: replies, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("request body is not JSON: %v: %s", err, raw)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, captured{header: r.Header.Clone(), path: r.URL.Path, raw: string(raw), body: body})
	if len(f.replies) == 0 {
		f.mu.Unlock()
		f.t.Errorf("unexpected request %d", len(f.reqs))
		http.Error(w, `{"error":{"message":"no reply scripted"}}`, http.StatusTeapot)
		return
	}
	rep := f.replies[0]
	f.replies = f.replies[1:]
	f.mu.Unlock()

	if rep.block {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	switch {
	case rep.ctype != "":
		w.Header().Set("Content-Type", rep.ctype)
	case !rep.noCType:
		w.Header().Set("Content-Type", "application/json")
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, rep.body)
}

func (f *fakeServer) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

func (f *fakeServer) model(t *testing.T, opts Options) *Model {
	t.Helper()
	if opts.Model == "" {
		opts.Model = "test-model"
	}
	opts.BaseURL = f.srv.URL + "/v1"
	if opts.APIKey == "" {
		opts.APIKey = "sk-test"
	}
	m, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// completion renders a chat.completion body with one choice.
func completion(message, finish string) string {
	return fmt.Sprintf(`{
  "id": "chatcmpl-123",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "test-model-2025-01-01",
  "choices": [{"index": 0, "message": %s, "logprobs": null, "finish_reason": %q}],
  "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 5}}
}`, message, finish)
}

// toolbox is an agent.Toolbox with fixed tools that echoes its calls.
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
	if use.Name == "read_file" {
		return agent.Block{Text: "no such file", IsError: true}, nil
	}
	return agent.Block{Text: "result of " + use.Name}, nil
}

var testTools = []agent.Tool{
	{
		Name:        "send_email",
		Description: "Send an email.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{
			"to":{"type":"array","items":{"type":"string"}},
			"priority":{"type":"string","enum":["low","high"]},
			"headers":{"type":"object","properties":{"reply_to":{"type":"string"}}},
			"retries":{"type":"integer","maximum":9007199254740993}
		},"required":["to"]}`),
	},
	{Name: "list_emails", Description: "List emails.", InputSchema: json.RawMessage(`{"type":"object"}`)},
	{Name: "read_file", InputSchema: nil},
}

// jsonOf decodes s for comparison with a decoded request body.
func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func TestMultiTurnToolUse(t *testing.T) {
	f := newFakeServer(t,
		reply{body: completion(`{
			"role": "assistant", "content": "Let me check.",
			"reasoning_content": "The user wants mail sent.",
			"tool_calls": [
				{"id": "call_1", "type": "function", "function": {"name": "send_email", "arguments": "{\"to\":[\"a@x.org\"],\"headers\":{\"reply_to\":\"b@x.org\"}}"}},
				{"id": "call_2", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"/etc/motd\"}"}}
			]}`, "tool_calls")},
		reply{body: completion(`{"role": "assistant", "content": "All done.", "refusal": null}`, "stop")},
	)
	m := f.model(t, Options{})
	tb := &toolbox{tools: testTools}
	out, err := agent.Run(context.Background(), agent.Config{
		System:       "You are Atlas.",
		FirstMessage: "Please send the mail.",
		Model:        m,
		Tools:        tb,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.Turns != 2 || out.StopReason != agent.StopEnd {
		t.Errorf("outcome = %+v, want 2 turns ending with end_turn", out)
	}
	wantUsage := agent.Usage{InputTokens: 200, OutputTokens: 40, CacheReadTokens: 128}
	if out.Usage != wantUsage {
		t.Errorf("usage = %+v, want %+v", out.Usage, wantUsage)
	}
	if len(tb.calls) != 2 || tb.calls[0].ID != "call_1" || tb.calls[1].Name != "read_file" {
		t.Fatalf("tool calls = %+v", tb.calls)
	}
	if got, want := jsonOf(t, string(tb.calls[0].Args)), jsonOf(t, `{"to":["a@x.org"],"headers":{"reply_to":"b@x.org"}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("args = %v, want %v", got, want)
	}

	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(reqs))
	}
	first := reqs[0]
	if first.path != "/v1/chat/completions" {
		t.Errorf("path = %q", first.path)
	}
	if first.body["model"] != "test-model" || first.body["max_completion_tokens"] != float64(agent.DefaultMaxTokens) {
		t.Errorf("model/max tokens = %v/%v", first.body["model"], first.body["max_completion_tokens"])
	}
	if _, ok := first.body["max_tokens"]; ok {
		t.Error("max_tokens sent alongside max_completion_tokens")
	}
	if _, ok := first.body["temperature"]; ok {
		t.Error("temperature sent though none was set")
	}
	wantMsgs := jsonOf(t, `[
		{"role": "system", "content": "You are Atlas."},
		{"role": "user", "content": "Please send the mail."}]`)
	if !reflect.DeepEqual(first.body["messages"], wantMsgs) {
		t.Errorf("first messages = %v\nwant %v", first.body["messages"], wantMsgs)
	}
	wantTools := jsonOf(t, `[
		{"type": "function", "function": {"name": "send_email", "description": "Send an email.", "parameters":
			{"type":"object","properties":{
				"to":{"type":"array","items":{"type":"string"}},
				"priority":{"type":"string","enum":["low","high"]},
				"headers":{"type":"object","properties":{"reply_to":{"type":"string"}}},
				"retries":{"type":"integer","maximum":9007199254740993}
			},"required":["to"]}}},
		{"type": "function", "function": {"name": "list_emails", "description": "List emails.", "parameters": {"type":"object","properties":{}}}},
		{"type": "function", "function": {"name": "read_file", "parameters": {"type":"object","properties":{}}}}]`)
	if !reflect.DeepEqual(first.body["tools"], wantTools) {
		t.Errorf("tools = %v\nwant %v", first.body["tools"], wantTools)
	}
	if !strings.Contains(first.raw, `"maximum":9007199254740993`) {
		t.Errorf("large integer in a schema not sent exactly: %s", first.raw)
	}

	// The second request carries the assistant's tool calls, without its
	// reasoning, and one tool message per result.
	wantMsgs2 := jsonOf(t, `[
		{"role": "system", "content": "You are Atlas."},
		{"role": "user", "content": "Please send the mail."},
		{"role": "assistant", "content": "Let me check.", "tool_calls": [
			{"id": "call_1", "type": "function", "function": {"name": "send_email", "arguments": "{\"to\":[\"a@x.org\"],\"headers\":{\"reply_to\":\"b@x.org\"}}"}},
			{"id": "call_2", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"/etc/motd\"}"}}]},
		{"role": "tool", "tool_call_id": "call_1", "content": "result of send_email"},
		{"role": "tool", "tool_call_id": "call_2", "content": "Error: no such file"}]`)
	if !reflect.DeepEqual(reqs[1].body["messages"], wantMsgs2) {
		got, _ := json.MarshalIndent(reqs[1].body["messages"], "", " ")
		t.Errorf("second messages = %s", got)
	}
}

func TestResponseConversion(t *testing.T) {
	tests := []struct {
		name    string
		message string
		finish  string
		want    []agent.Block
		stop    string
	}{
		{
			name:    "text",
			message: `{"role":"assistant","content":"Hello.","refusal":null}`,
			finish:  "stop",
			want:    []agent.Block{{Kind: agent.BlockText, Text: "Hello."}},
			stop:    agent.StopEnd,
		},
		{
			name:    "reasoning_content",
			message: `{"role":"assistant","content":"9.8","reasoning_content":"Compare 9.11 and 9.8."}`,
			finish:  "stop",
			want:    []agent.Block{{Kind: agent.BlockReasoning, Text: "Compare 9.11 and 9.8."}, {Kind: agent.BlockText, Text: "9.8"}},
			stop:    agent.StopEnd,
		},
		{
			name:    "reasoning preferred over reasoning_content",
			message: `{"role":"assistant","content":"ok","reasoning":"new field","reasoning_content":"new field"}`,
			finish:  "stop",
			want:    []agent.Block{{Kind: agent.BlockReasoning, Text: "new field"}, {Kind: agent.BlockText, Text: "ok"}},
			stop:    agent.StopEnd,
		},
		{
			name:    "null reasoning",
			message: `{"role":"assistant","content":"ok","reasoning":null,"reasoning_content":null}`,
			finish:  "stop",
			want:    []agent.Block{{Kind: agent.BlockText, Text: "ok"}},
			stop:    agent.StopEnd,
		},
		{
			name:    "refusal",
			message: `{"role":"assistant","content":null,"refusal":"I can't help with that."}`,
			finish:  "stop",
			want:    []agent.Block{{Kind: agent.BlockText, Text: "I can't help with that."}},
			stop:    agent.StopRefusal,
		},
		{
			name:    "content filter",
			message: `{"role":"assistant","content":""}`,
			finish:  "content_filter",
			stop:    agent.StopRefusal,
		},
		{
			name:    "length",
			message: `{"role":"assistant","content":"It was the best of"}`,
			finish:  "length",
			want:    []agent.Block{{Kind: agent.BlockText, Text: "It was the best of"}},
			stop:    agent.StopMaxTokens,
		},
		{
			name: "tool call with stop finish reason",
			message: `{"role":"assistant","content":null,"tool_calls":[
				{"id":"call_9","type":"function","function":{"name":"list_emails","arguments":"{}"}}]}`,
			finish: "stop",
			want:   []agent.Block{{Kind: agent.BlockToolUse, ID: "call_9", Name: "list_emails", Args: json.RawMessage(`{}`)}},
			stop:   agent.StopToolUse,
		},
		{
			name: "arguments not JSON",
			message: `{"role":"assistant","content":null,"tool_calls":[
				{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\": "}}]}`,
			finish: "tool_calls",
			want:   []agent.Block{{Kind: agent.BlockToolUse, ID: "call_1", Name: "read_file", Args: json.RawMessage(`"{\"path\": "`)}},
			stop:   agent.StopToolUse,
		},
		{
			name: "empty arguments, no id, no type",
			message: `{"role":"assistant","content":null,"tool_calls":[
				{"id":"","function":{"name":"list_emails","arguments":""}}]}`,
			finish: "tool_calls",
			want:   []agent.Block{{Kind: agent.BlockToolUse, ID: "call_1_0", Name: "list_emails", Args: json.RawMessage(`{}`)}},
			stop:   agent.StopToolUse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, reply{body: completion(tt.message, tt.finish)})
			resp, err := f.model(t, Options{}).Generate(context.Background(), &agent.Request{
				Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "hi"}}}},
			})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if resp.StopReason != tt.stop {
				t.Errorf("stop = %q, want %q", resp.StopReason, tt.stop)
			}
			if resp.Message.Role != agent.RoleAssistant || !reflect.DeepEqual(resp.Message.Blocks, tt.want) {
				t.Errorf("message = %+v\nwant blocks %+v", resp.Message, tt.want)
			}
			if resp.ModelID != "test-model-2025-01-01" {
				t.Errorf("model id = %q", resp.ModelID)
			}
			want := agent.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 64}
			if resp.Usage != want {
				t.Errorf("usage = %+v, want %+v", resp.Usage, want)
			}
			// The transcript stores messages as JSON; that must always work.
			if _, err := json.Marshal(resp.Message); err != nil {
				t.Errorf("message does not encode: %v", err)
			}
		})
	}
}

// Arguments that were not JSON go back to the server exactly as the model
// wrote them.
func TestBadArgumentsRoundTrip(t *testing.T) {
	const bad = `{"path": "/etc/motd"`
	msg := fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[
		{"id":"call_1","type":"function","function":{"name":"read_file","arguments":%q}}]}`, bad)
	f := newFakeServer(t,
		reply{body: completion(msg, "tool_calls")},
		reply{body: completion(`{"role":"assistant","content":"Sorry."}`, "stop")},
	)
	tb := &toolbox{tools: testTools}
	if _, err := agent.Run(context.Background(), agent.Config{FirstMessage: "go", Model: f.model(t, Options{}), Tools: tb}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(tb.calls) != 1 || json.Valid(tb.calls[0].Args) == false {
		t.Fatalf("calls = %+v", tb.calls)
	}
	var unwrapped string
	if err := json.Unmarshal(tb.calls[0].Args, &unwrapped); err != nil || unwrapped != bad {
		t.Errorf("args = %s, want the raw text as a JSON string", tb.calls[0].Args)
	}
	msgs := f.requests()[1].body["messages"].([]any)
	calls := msgs[1].(map[string]any)["tool_calls"].([]any)
	if got := calls[0].(map[string]any)["function"].(map[string]any)["arguments"]; got != bad {
		t.Errorf("arguments sent back = %q, want %q", got, bad)
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	f := newFakeServer(t,
		reply{
			status: http.StatusTooManyRequests,
			header: map[string]string{"Retry-After": "7"},
			body:   `{"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}`,
		},
		reply{body: completion(`{"role":"assistant","content":"Fine."}`, "stop")},
	)
	m := f.model(t, Options{})
	req := &agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "hi"}}}}}
	_, err := m.Generate(context.Background(), req)
	if !errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("err = %v, want retryable", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T, want *APIError", err)
	}
	if apiErr.Status != 429 || apiErr.RetryAfter != 7*time.Second || apiErr.Message != "Rate limit reached for requests" {
		t.Errorf("api error = %+v", apiErr)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("server saw %d requests, want 1 (the SDK must not retry by itself)", n)
	}
	resp, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatalf("second Generate: %v", err)
	}
	if resp.Message.Blocks[0].Text != "Fine." {
		t.Errorf("reply = %+v", resp.Message)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		status    int
		retryable bool
		message   string
	}{
		{
			name:      "server error",
			reply:     reply{status: 500, body: `{"error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}}`},
			status:    500,
			retryable: true,
			message:   "The server had an error",
		},
		{
			name:      "html from a proxy",
			reply:     reply{status: 502, ctype: "text/html", body: `<html><body>502 Bad Gateway</body></html>`},
			status:    502,
			retryable: true,
			message:   "<html><body>502 Bad Gateway</body></html>",
		},
		{
			name:      "overloaded with retry-after-ms",
			reply:     reply{status: 503, header: map[string]string{"Retry-After-Ms": "1500"}, body: `{"error": {"message": "overloaded", "code": 503}}`},
			status:    503,
			retryable: true,
			message:   "overloaded",
		},
		{
			name:    "bad request, vLLM shape",
			reply:   reply{status: 400, body: `{"object": "error", "message": "maximum context length is 8192 tokens", "type": "BadRequestError", "param": null, "code": 400}`},
			status:  400,
			message: "maximum context length is 8192 tokens",
		},
		{
			name:    "unauthorized",
			reply:   reply{status: 401, body: `{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}`},
			status:  401,
			message: "Incorrect API key provided",
		},
		{
			name:    "not found, string error",
			reply:   reply{status: 404, body: `{"error": "model \"nope\" not found, try pulling it first"}`},
			status:  404,
			message: `model "nope" not found, try pulling it first`,
		},
		{
			name:    "malformed JSON body",
			reply:   reply{body: `{"id": "chatcmpl-1", "choices": [}`},
			status:  200,
			message: "malformed response body",
		},
		{
			name:    "not JSON at all",
			reply:   reply{ctype: "text/html", body: `<html>Welcome to nginx</html>`},
			status:  200,
			message: "malformed response body",
		},
		{
			name:    "choices of the wrong type",
			reply:   reply{body: `{"id": "chatcmpl-1", "choices": "none"}`},
			status:  200,
			message: "malformed response body: choices is not a list",
		},
		{
			name:      "no choices, with an error",
			reply:     reply{body: `{"id": "gen-1", "choices": [], "error": {"message": "upstream provider failed", "code": 502}}`},
			status:    200,
			retryable: true,
			message:   "reply has no choices: upstream provider failed",
		},
		{
			name:      "truncated body",
			reply:     reply{body: `{"id": "chatcmpl-1", "choices": [`},
			status:    200,
			retryable: true,
			message:   "incomplete response body",
		},
		{
			name:      "finish reason error",
			reply:     reply{body: completion(`{"role":"assistant","content":""}`, "error")},
			status:    200,
			retryable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.reply)
			resp, err := f.model(t, Options{}).Generate(context.Background(), &agent.Request{})
			if err == nil {
				t.Fatalf("Generate = %+v, want an error", resp)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %T %v, want *APIError", err, err)
			}
			if apiErr.Status != tt.status {
				t.Errorf("status = %d, want %d", apiErr.Status, tt.status)
			}
			if got := errors.Is(err, agent.ErrRetryable); got != tt.retryable || apiErr.Retryable() != tt.retryable {
				t.Errorf("retryable = %v, want %v (%v)", got, tt.retryable, err)
			}
			if tt.message != "" && apiErr.Message != tt.message {
				t.Errorf("message = %q, want %q", apiErr.Message, tt.message)
			}
			if !strings.HasPrefix(err.Error(), "openai api") {
				t.Errorf("error text = %q", err.Error())
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	f := newFakeServer(t, reply{block: true})
	m := f.model(t, Options{Timeout: 50 * time.Millisecond})
	_, err := m.Generate(context.Background(), &agent.Request{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 0 || !errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("err = %v, want a retryable *APIError without status", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestCallerContextEnds(t *testing.T) {
	f := newFakeServer(t, reply{block: true})
	m := f.model(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the request has arrived.
		for len(f.requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := m.Generate(ctx, &agent.Request{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, agent.ErrRetryable) {
		t.Errorf("err = %v must not be retryable", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	m, err := New(Options{Model: "m", BaseURL: url, APIKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), &agent.Request{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 0 || !errors.Is(err, agent.ErrRetryable) {
		t.Fatalf("err = %v, want a retryable *APIError without status", err)
	}
}

func TestAuthAndBaseURL(t *testing.T) {
	t.Run("no key", func(t *testing.T) {
		t.Setenv("OPENAI_API_KEY", "")
		os.Unsetenv("OPENAI_API_KEY") // t.Setenv restores it afterwards
		f := newFakeServer(t, reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")})
		m, err := New(Options{Model: "llama3", BaseURL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Generate(context.Background(), &agent.Request{}); err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if got := f.requests()[0].header.Get("Authorization"); got != "" {
			t.Errorf("Authorization = %q, want none", got)
		}
	})
	t.Run("key from options", func(t *testing.T) {
		t.Setenv("OPENAI_API_KEY", "sk-env")
		f := newFakeServer(t, reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")})
		if _, err := f.model(t, Options{APIKey: "sk-opt"}).Generate(context.Background(), &agent.Request{}); err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if got := f.requests()[0].header.Get("Authorization"); got != "Bearer sk-opt" {
			t.Errorf("Authorization = %q", got)
		}
	})
	t.Run("key and base URL from the environment", func(t *testing.T) {
		f := newFakeServer(t, reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")})
		t.Setenv("OPENAI_API_KEY", "sk-env")
		t.Setenv("OPENAI_BASE_URL", f.srv.URL+"/api/v1")
		m, err := New(Options{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Generate(context.Background(), &agent.Request{}); err != nil {
			t.Fatalf("Generate: %v", err)
		}
		r := f.requests()[0]
		if r.header.Get("Authorization") != "Bearer sk-env" || r.path != "/api/v1/chat/completions" {
			t.Errorf("request = %q %v", r.path, r.header)
		}
	})
}

func TestRequestOptions(t *testing.T) {
	temp := 0.0
	f := newFakeServer(t,
		reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")},
		reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")},
	)
	m := f.model(t, Options{LegacyMaxTokens: true, Temperature: &temp, MaxTokens: 1000})
	if _, err := m.Generate(context.Background(), &agent.Request{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(context.Background(), &agent.Request{MaxTokens: 77}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	for i, want := range []float64{1000, 77} {
		b := reqs[i].body
		if b["max_tokens"] != want {
			t.Errorf("request %d: max_tokens = %v, want %v", i, b["max_tokens"], want)
		}
		if _, ok := b["max_completion_tokens"]; ok {
			t.Errorf("request %d: max_completion_tokens sent with LegacyMaxTokens", i)
		}
		if b["temperature"] != 0.0 {
			t.Errorf("request %d: temperature = %v, want 0", i, b["temperature"])
		}
		if _, ok := b["tools"]; ok {
			t.Errorf("request %d: tools sent though there are none", i)
		}
	}
}

func TestRequestConversionErrors(t *testing.T) {
	tests := []struct {
		name string
		req  agent.Request
	}{
		{"schema not an object", agent.Request{Tools: []agent.Tool{{Name: "t", InputSchema: json.RawMessage(`["x"]`)}}}},
		{"schema not JSON", agent.Request{Tools: []agent.Tool{{Name: "t", InputSchema: json.RawMessage(`{`)}}}},
		{"unknown role", agent.Request{Messages: []agent.Message{{Role: "system"}}}},
		{"tool use from the user", agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockToolUse, ID: "c", Name: "n"}}}}}},
		{"tool result from the assistant", agent.Request{Messages: []agent.Message{{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockToolResult, ID: "c"}}}}}},
		{"tool result without id", agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockToolResult, Text: "x"}}}}}},
	}
	f := newFakeServer(t)
	m := f.model(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Generate(context.Background(), &tt.req); err == nil {
				t.Error("Generate succeeded, want an error")
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

// Assistant messages without tool calls always carry content, and a user
// message with results and text sends the tool messages first.
func TestMessageEdgeCases(t *testing.T) {
	f := newFakeServer(t, reply{body: completion(`{"role":"assistant","content":"ok"}`, "stop")})
	req := &agent.Request{Messages: []agent.Message{
		{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "start"}}},
		{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockReasoning, Text: "hmm"}}},
		{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "go on"}}},
		{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockToolUse, ID: "c1", Name: "list_emails"}}},
		{Role: agent.RoleUser, Blocks: []agent.Block{
			{Kind: agent.BlockText, Text: "also this"},
			{Kind: agent.BlockToolResult, ID: "c1", Text: ""},
		}},
	}}
	if _, err := f.model(t, Options{}).Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	want := jsonOf(t, `[
		{"role": "user", "content": "start"},
		{"role": "assistant", "content": ""},
		{"role": "user", "content": "go on"},
		{"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "list_emails", "arguments": "{}"}}]},
		{"role": "tool", "tool_call_id": "c1", "content": ""},
		{"role": "user", "content": "also this"}]`)
	if got := f.requests()[0].body["messages"]; !reflect.DeepEqual(got, want) {
		b, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("messages = %s", b)
	}
}

func TestConcurrentGenerate(t *testing.T) {
	const n = 4
	var replies []reply
	for range n {
		replies = append(replies, reply{body: completion(`{"role":"assistant","content":"hi"}`, "stop")})
	}
	f := newFakeServer(t, replies...)
	m := f.model(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := m.Generate(context.Background(), &agent.Request{System: fmt.Sprint("run ", i)})
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
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []Options{{}, {Model: "m", MaxTokens: -1}, {Model: "m", Timeout: -time.Second}} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		header map[string]string
		min    time.Duration
		max    time.Duration
	}{
		{map[string]string{}, 0, 0},
		{map[string]string{"Retry-After": "3"}, 3 * time.Second, 3 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond, 500 * time.Millisecond},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond, 250 * time.Millisecond},
		{map[string]string{"Retry-After": future}, 58 * time.Minute, time.Hour},
		{map[string]string{"Retry-After": "soon"}, 0, 0},
		{map[string]string{"Retry-After": "-4"}, 0, 0},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}}
		for k, v := range tt.header {
			resp.Header.Set(k, v)
		}
		if got := retryAfter(resp); got < tt.min || got > tt.max {
			t.Errorf("retryAfter(%v) = %v, want in [%v, %v]", tt.header, got, tt.min, tt.max)
		}
	}
}

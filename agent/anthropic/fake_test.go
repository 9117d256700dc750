package anthropic

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeAPI is a local stand-in for the Messages API. It records every
// request and answers with the next scripted reply; with no reply left it
// fails the test.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []recorded
	replies []http.HandlerFunc
}

type recorded struct {
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func newFake(t *testing.T, replies ...http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		f.t.Errorf("request %s %s, want POST /v1/messages", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("request body is not JSON: %v\n%s", err, raw)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Header: r.Header.Clone(), Raw: raw, Body: body})
	var reply http.HandlerFunc
	if len(f.replies) > 0 {
		reply, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	if reply == nil {
		f.t.Errorf("unexpected request %d:\n%s", len(f.reqs), raw)
		writeError(w, http.StatusInternalServerError, "api_error", "no reply scripted")
		return
	}
	reply(w, r)
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeAPI) model(t *testing.T, opts Options) *Model {
	t.Helper()
	opts.BaseURL = f.srv.URL
	if opts.APIKey == "" {
		opts.APIKey = "test-key"
	}
	if opts.Model == "" {
		opts.Model = "claude-test"
	}
	m, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// reply answers with a JSON body and optional headers given as name, value
// pairs.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("request-id", "req_test_1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// message is a successful Messages API response with the given content
// blocks (a JSON array) and stop reason.
func message(content, stop string) http.HandlerFunc {
	return reply(http.StatusOK, fmt.Sprintf(`{
		"id": "msg_01Test",
		"type": "message",
		"role": "assistant",
		"model": "claude-test-20250101",
		"content": %s,
		"stop_reason": %q,
		"stop_sequence": null,
		"usage": {"input_tokens": 12, "output_tokens": 34, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	}`, content, stop))
}

// errorReply is an API error in the documented shape.
func errorReply(status int, typ, msg string, headers ...string) http.HandlerFunc {
	return reply(status, fmt.Sprintf(`{"type": "error", "error": {"type": %q, "message": %q}, "request_id": "req_test_1"}`, typ, msg), headers...)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type": "error", "error": {"type": %q, "message": %q}}`, typ, msg)
}

// jsonEqual fails the test unless got, marshalled, equals the JSON text
// want (compared as values, not bytes).
func jsonEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	var gv, wv any
	if err := json.Unmarshal(g, &gv); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(want), &wv); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	gs, _ := json.Marshal(gv)
	ws, _ := json.Marshal(wv)
	if string(gs) != string(ws) {
		t.Errorf("%s:\n got %s\nwant %s", what, gs, ws)
	}
}

// path walks a decoded JSON value by object keys and array indexes.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

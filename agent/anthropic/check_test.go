package anthropic

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// TestNoCredentialsIsOneLine: without a key the SDK fails before sending,
// with a many-line account of where it looked; the error is one line and
// says which variable to set, from Generate and from Check alike.
func TestNoCredentialsIsOneLine(t *testing.T) {
	for _, k := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached the server: %s %s", r.Method, r.URL.Path)
	}))
	defer srv.Close()
	m, err := New(Options{Model: "claude-x", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, genErr := m.Generate(t.Context(), &agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "hi"}}}}})
	checkErr := m.Check(t.Context())
	for name, err := range map[string]error{"Generate": genErr, "Check": checkErr} {
		if !errors.Is(err, ErrNoCredentials) || strings.ContainsAny(err.Error(), "\n\r") || errors.Is(err, agent.ErrRetryable) {
			t.Errorf("%s: %q, want one line wrapping ErrNoCredentials, not retryable", name, err)
		}
	}
	if !strings.Contains(checkErr.Error(), srv.URL+"/v1/models/claude-x") {
		t.Errorf("Check error %q does not name the URL", checkErr)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("no credentials found. Tried:\n  1. A: not set\n\n  2. B: not set\r\n"); got != "no credentials found. Tried; 1. A: not set; 2. B: not set" {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine("plain"); got != "plain" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestAPIErrorIsOneLine(t *testing.T) {
	e := &APIError{Status: 400, Type: "invalid_request_error", Message: "bad request:\n  thinking.type: Input should be 'adaptive'\n"}
	if s := e.Error(); strings.ContainsAny(s, "\n\r") {
		t.Errorf("Error() = %q, want one line", s)
	}
}

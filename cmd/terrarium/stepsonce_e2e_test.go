package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/internal/errstep"
)

// stepsOnce checks every error line terrarium printed.
func stepsOnce(t *testing.T, what, stderr string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(stderr, "\n") {
		msg, ok := strings.CutPrefix(line, "terrarium: ")
		if !ok {
			continue
		}
		n++
		if err := errstep.Once(msg); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if n == 0 {
		t.Errorf("%s: no error printed:\n%s", what, stderr)
	}
}

// TestErrorsNameEachStepOnceEndToEnd: typical failures of run, serve and
// judge print errors that name each step once (the run layer's reasons
// are checked in experiment TestRunErrorNamesEachStepOnce, the episode's
// in episode TestErrorsNameEachStepOnce).
func TestErrorsNameEachStepOnceEndToEnd(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errOut := cli(t, "run", "--scenario", "control", "--model", "scripted:steady", "--sandbox", "local", "--db", corrupt)
	stepsOnce(t, "run on a corrupt ledger", errOut)
	_, _, errOut = cli(t, "serve", "--stdio", "--scenario", "control", "--sandbox", "local", "--db", filepath.Join(dir, "missing", "t.db"))
	stepsOnce(t, "serve into a missing directory", errOut)
	_, _, errOut = cli(t, "serve", "--stdio", "--scenario", "control", "--sandbox", "local", "--db", corrupt)
	stepsOnce(t, "serve on a corrupt ledger", errOut)

	db := filepath.Join(dir, "t.db")
	if code, out, errOut := cli(t, "run", "--scenario", "control", "--model", "scripted:steady", "--sandbox", "local",
		"--db", db, "--log-level", "error"); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	// A judge model whose server is gone: the model check fails.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + l.Addr().String()
	l.Close()
	pointAt(t, gone)
	_, _, errOut = cli(t, "judge", "--db", db, "--judge-model", "anthropic:claude-test")
	stepsOnce(t, "judge model check against a closed port", errOut)
	_, _, errOut = cli(t, "judge", "--db", db, "--judge-model", "openai:gpt-test")
	stepsOnce(t, "openai judge model check against a closed port", errOut)
	// A judge model that refuses every request.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"type":"error","error":{"type":"invalid_request_error","message":"bad request"}}`))
	}))
	defer refuse.Close()
	pointAt(t, refuse.URL)
	_, _, errOut = cli(t, "judge", "--db", db, "--judge-model", "anthropic:claude-test", "--no-model-check")
	stepsOnce(t, "judge model that refuses", errOut)
}

package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// TestExitCodes pins the exit codes the README documents: 0 done, 1
// failure, 2 every kind of bad input, 3 runs that did not finish. 130 is
// pinned by the interrupt tests (run_interrupt_test.go), which send real
// signals to a child process.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	srv, _ := fakeChatServer(t, nil, http.StatusBadRequest)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"version", []string{"version"}, ExitOK, "terrarium"},
		{"--version", []string{"--version"}, ExitOK, "terrarium"},
		{"help", []string{"--help"}, ExitOK, ""},
		{"group without subcommand shows help", []string{"scenarios"}, ExitOK, ""},
		{"a run that finishes", []string{"run", "--scenario", "control", "--set", "goal_conflict=none", "--model", "scripted:steady", "--sandbox", "local", "--db", db}, ExitOK, ""},
		{"unknown subcommand", []string{"rnu"}, ExitUsage, `unknown command "rnu"`},
		{"misspelled subcommand", []string{"scenaros", "list"}, ExitUsage, "did you mean scenarios?"},
		{"unknown sub-subcommand", []string{"scenarios", "lst"}, ExitUsage, "did you mean list?"},
		{"validate without argument", []string{"scenarios", "validate"}, ExitUsage, "scenarios validate"},
		{"show without argument", []string{"scenarios", "show"}, ExitUsage, "scenarios show"},
		{"extra argument", []string{"version", "now"}, ExitUsage, "version"},
		{"unknown flag", []string{"run", "--frobnicate"}, ExitUsage, "frobnicate"},
		{"bad flag value", []string{"run", "--samples", "many"}, ExitUsage, "--samples"},
		{"bad log level", []string{"--log-level", "loud", "scenarios", "list"}, ExitUsage, "--log-level"},
		{"retry-errors without resume", []string{"run", "--retry-errors", "--scenario", "control", "--model", "scripted:steady"}, ExitUsage, "--resume"},
		{"view without a ledger", []string{"view", "--db", filepath.Join(t.TempDir(), "none.db")}, ExitUsage, "no ledger at"},
		{"runs that error", []string{"run", "--scenario", "control", "--set", "goal_conflict=none", "--model", "openai:m", "--base-url", srv.URL + "/v1",
			"--max-attempts", "1", "--sandbox", "local", "--db", db, "--log-level", "error"}, ExitRunsFailed, "1 of 1 runs did not finish"},
		{"view beyond loopback", []string{"view", "--db", db, "--listen", "0.0.0.0:0"}, ExitUsage, "--allow-remote"},
		{"view at no address", []string{"view", "--db", db, "--listen", "8766"}, ExitUsage, "host:port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, c.args...)
			if code != c.code || !strings.Contains(out+errOut, c.want) {
				t.Errorf("terrarium %s: exit %d (want %d), stdout:\n%s\nstderr:\n%s\nwant it to mention %q", strings.Join(c.args, " "), code, c.code, out, errOut, c.want)
			}
		})
	}
}

// TestResumeRetryErrors: an experiment whose runs errored (the endpoint
// refused every request) is finished by --resume --retry-errors once the
// endpoint works; plain --resume leaves errored runs alone and says how.
func TestResumeRetryErrors(t *testing.T) {
	srv, requests := fakeChatServer(t, nil, http.StatusBadRequest, http.StatusBadRequest)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, "run", "--scenario", "control", "--model", "openai:m", "--base-url", srv.URL+"/v1",
		"--max-attempts", "1", "--sandbox", "local", "--db", db, "--log-level", "error")
	if code != ExitRunsFailed || !strings.Contains(out, "2 runs, 2 error") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "run", "--resume", "--db", db, "--log-level", "error")
	if code != ExitRunsFailed || !strings.Contains(out, "2 runs, 2 error") || !strings.Contains(errOut, "--retry-errors") || requests.Load() != 2 {
		t.Fatalf("plain resume: exit %d after %d requests, want 3 with the errored runs kept and a hint\n%s\n%s", code, requests.Load(), out, errOut)
	}
	code, out, errOut = cli(t, "run", "--resume", "--retry-errors", "--db", db, "--log-level", "error")
	if code != ExitOK || !strings.Contains(out, "2 runs, 2 done") {
		t.Fatalf("resume --retry-errors: exit %d\n%s\n%s", code, out, errOut)
	}
	_, runs := ledgerRuns(t, db, true)
	for _, r := range runs {
		if r.Status != ledger.StatusDone || r.Reason != "" {
			t.Errorf("run %d: %s %q, want done", r.ID, r.Status, r.Reason)
		}
	}
}

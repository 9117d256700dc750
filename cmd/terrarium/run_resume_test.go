package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/ledger"
)

// oneCondition pins the blackmail scenario to a single condition, so that
// every run of a script makes the same calls.
var oneCondition = []string{"--scenario", "blackmail", "--set", "threat=replacement", "--set", "goal_conflict=explicit",
	"--set", "options=two-choices", "--set", "successor=different-values", "--set", "reasoning=plain"}

// child is terrarium running in a child process with its JSON log on a
// pipe of one page, so that a test that stops reading the log soon stops
// the child too: a kill or a signal then lands mid-experiment.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	r    *os.File
	sc   *bufio.Scanner
	done chan error
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	shrinkPipe(r)
	cmd := exec.Command(os.Args[0], append(args, "--log-level", "debug", "--log-format", "json")...)
	cmd.Env = append(os.Environ(), "TERRARIUM_TEST_AS_CLI=1")
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	c := &child{t: t, cmd: cmd, r: r, sc: bufio.NewScanner(r), done: make(chan error, 1)}
	c.sc.Buffer(make([]byte, 1<<20), 1<<20)
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		go io.Copy(io.Discard, r)
		<-c.done
		r.Close()
	})
	return c
}

// shrinkPipe makes the pipe hold one page (F_SETPIPE_SZ), where Linux
// allows it.
func shrinkPipe(f *os.File) {
	const setPipeSize = 1031
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), setPipeSize, 4096)
}

// logLine is the part of a JSON log line the tests read.
type logLine struct {
	Message string `json:"message"`
	Running int    `json:"running"`
	Started int    `json:"started"`
}

// readUntil reads log lines until one has message msg n times in all, and
// returns the last of them.
func (c *child) readUntil(msg string, n int) logLine {
	c.t.Helper()
	seen := 0
	for c.sc.Scan() {
		var l logLine
		if json.Unmarshal(c.sc.Bytes(), &l) == nil && strings.HasPrefix(l.Message, msg) {
			if seen++; seen == n {
				return l
			}
		}
	}
	c.t.Fatalf("child ended after %d %q lines, want %d", seen, msg, n)
	return logLine{}
}

// wait drains the log and waits for the child, returning its exit code.
func (c *child) wait() int {
	c.t.Helper()
	go io.Copy(io.Discard, c.r)
	select {
	case err := <-c.done:
		c.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		c.t.Fatalf("wait: %v", err)
	case <-time.After(2 * time.Minute):
		c.t.Fatal("child did not exit")
	}
	return -1
}

// runCounts is what a run recorded.
type runCounts struct {
	status          string
	started         bool
	calls, messages int
}

// ledgerRuns reads the runs of the ledger at path, keyed by condition,
// model and sample. With complete, every call must have its result and the
// calls of a run must be numbered without gaps.
func ledgerRuns(t *testing.T, path string, complete bool) (map[string]runCounts, []ledger.Run) {
	t.Helper()
	db, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	runs, err := db.Runs(ctx, ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]runCounts{}
	for _, r := range runs {
		key := fmt.Sprintf("%s|%s|%d", r.ConditionKey, r.Model, r.Sample)
		if _, dup := out[key]; dup {
			t.Errorf("run %s appears twice", key)
		}
		calls, err := db.Calls(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range calls {
			if complete && (c.Seq != i || c.EndedAt.IsZero()) {
				t.Errorf("run %d: call %d has seq %d, ended %v", r.ID, i, c.Seq, c.EndedAt)
			}
		}
		msgs, err := db.Messages(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = runCounts{status: r.Status, started: !r.StartedAt.IsZero(), calls: len(calls), messages: len(msgs)}
	}
	return out, runs
}

// TestResumeAfterKill SIGKILLs an experiment of 40 runs at --parallel 8
// mid-way, resumes it in-process, and checks that exactly the 40 runs are
// done, none twice, each with the calls of an uninterrupted run.
func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.db")
	args := append([]string{"run"}, oneCondition...)
	if code, out, errOut := cli(t, append(args, "--model", "scripted:blackmailer", "--sandbox", "local",
		"--db", ref, "--log-level", "warn")...); code != ExitOK {
		t.Fatalf("reference run: exit %d\n%s\n%s", code, out, errOut)
	}
	refRuns, _ := ledgerRuns(t, ref, true)
	var want runCounts
	for _, r := range refRuns {
		want = r
	}
	if want.calls == 0 || want.status != ledger.StatusDone {
		t.Fatalf("reference run: %+v", want)
	}

	db := filepath.Join(dir, "t.db")
	c := startChild(t, append(args, "--model", "scripted:blackmailer", "--samples", "40", "--parallel", "8",
		"--sandbox", "local", "--db", db)...)
	c.readUntil("run ended", 5)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.wait()

	before, _ := ledgerRuns(t, db, false)
	done := 0
	for _, r := range before {
		if r.status == ledger.StatusDone {
			done++
		}
	}
	t.Logf("after the kill: %d of %d runs done", done, len(before))
	if len(before) != 40 || done < 5 || done == 40 {
		t.Fatalf("after the kill: %d runs, %d done; want 40 runs, some but not all done", len(before), done)
	}

	// The runs cut off by the kill, with what they had recorded.
	_, beforeRuns := ledgerRuns(t, db, false)
	crashed := map[int64]int{}
	for _, r := range beforeRuns {
		if r.Status == ledger.StatusRunning {
			crashed[r.ID] = len(callsOf(t, db, r.ID))
		}
	}
	code, out, errOut := cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	// Resuming kept the crashed attempts' evidence, as superseded attempts.
	kept := supersededRuns(t, db)
	for id, n := range crashed {
		r, ok := kept[id]
		switch {
		case !ok:
			t.Errorf("crashed run %d is gone after resume", id)
		case r.SupersededBy == 0 || r.Status != ledger.StatusInterrupted:
			t.Errorf("crashed run %d after resume: superseded by %d, status %s", id, r.SupersededBy, r.Status)
		case len(callsOf(t, db, id)) != n:
			t.Errorf("crashed run %d: %d calls after resume, %d before", id, len(callsOf(t, db, id)), n)
		}
	}
	t.Logf("%d crashed attempts kept", len(crashed))
	if !strings.Contains(out, "40 runs, 40 done") {
		t.Errorf("resume summary:\n%s", out)
	}
	after, runs := ledgerRuns(t, db, true)
	if len(after) != 40 || len(runs) != 40 {
		t.Fatalf("after resume: %d distinct runs of %d, want 40", len(after), len(runs))
	}
	for key, r := range after {
		if r.status != want.status || r.calls != want.calls || r.messages != want.messages {
			t.Errorf("run %s: %s with %d calls and %d messages, want %s with %d and %d (uninterrupted)",
				key, r.status, r.calls, r.messages, want.status, want.calls, want.messages)
		}
	}

	// Nothing is left to resume; a second resume changes nothing.
	code, out, errOut = cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "40 runs, 40 done") {
		t.Errorf("second resume: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestResumeRefusesChanges(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	if code, out, errOut := cli(t, append(args, "--model", "scripted:pleader", "--sandbox", "local", "--db", db, "--log-level", "warn")...); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"other model", []string{"--model", "scripted:blackmailer"}, ExitUsage, "scripted:pleader"},
		{"other scenario", []string{"--scenario", "control"}, ExitUsage, "drop --scenario"},
		{"samples", []string{"--samples", "3"}, ExitUsage, "drop --samples"},
		{"set", []string{"--set", "threat=none"}, ExitUsage, "drop --set"},
		{"unknown experiment", []string{"--experiment", "exp-nope"}, ExitUsage, "exp-nope"},
		{"same model and scenario", []string{"--model", "scripted:pleader", "--scenario", "blackmail"}, ExitOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"run", "--resume", "--db", db, "--log-level", "warn"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d)\n%s\nwant it to mention %q", code, tc.code, errOut, tc.want)
			}
		})
	}
	if code, _, errOut := cli(t, "run", "--resume", "--db", filepath.Join(t.TempDir(), "none.db")); code != ExitUsage || !strings.Contains(errOut, "no ledger") {
		t.Errorf("resume without a ledger: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := cli(t, "run", "--experiment", "exp-1", "--db", db); code != ExitUsage || !strings.Contains(errOut, "--resume") {
		t.Errorf("--experiment without --resume: exit %d\n%s", code, errOut)
	}
}

func TestBudgetThenResume(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	code, out, errOut := cli(t, append(args, "--model", "scripted:pleader", "--samples", "5", "--parallel", "1",
		"--budget-tokens", "1", "--sandbox", "local", "--db", db, "--log-level", "warn")...)
	if code != ExitRunsFailed || !strings.Contains(out, "5 runs, 1 done, 4 pending") || !strings.Contains(errOut, "--budget-tokens") {
		t.Fatalf("over budget: exit %d\n%s\n%s", code, out, errOut)
	}
	// The stored budget still holds on resume: nothing more runs.
	code, out, errOut = cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitRunsFailed || !strings.Contains(out, "5 runs, 1 done, 4 pending") {
		t.Fatalf("resume within the spent budget: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "run", "--resume", "--budget-tokens", "0", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "5 runs, 5 done") {
		t.Fatalf("resume without a budget: exit %d\n%s\n%s", code, out, errOut)
	}
}

// callsOf returns run id's calls in the ledger at path.
func callsOf(t *testing.T, path string, id int64) []ledger.ToolCall {
	t.Helper()
	db, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls, err := db.Calls(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// supersededRuns returns the superseded attempts in the ledger at path.
func supersededRuns(t *testing.T, path string) map[int64]ledger.Run {
	t.Helper()
	db, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background(), ledger.RunFilter{Superseded: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]ledger.Run{}
	for _, r := range runs {
		if r.SupersededBy != 0 {
			out[r.ID] = r
		}
	}
	return out
}

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// TestInterruptOnceFinishesRunningRuns sends one SIGINT mid-experiment:
// the child starts no new run, finishes the running ones, marks the rest
// interrupted and exits 130; --resume then finishes them.
func TestInterruptOnceFinishesRunningRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	c := startChild(t, append(args, "--model", "scripted:blackmailer", "--samples", "40", "--parallel", "4",
		"--sandbox", "local", "--db", db)...)
	c.readUntil("run ended", 3)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	drain := c.readUntil("interrupted: starting no new runs", 1)
	if code := c.wait(); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d", code, ExitInterrupted)
	}
	runs, _ := ledgerRuns(t, db, true)
	started, done := 0, 0
	for key, r := range runs {
		if r.started {
			started++
		}
		switch r.status {
		case ledger.StatusDone:
			done++
		case ledger.StatusInterrupted:
			if r.started || r.calls > 0 {
				t.Errorf("run %s: interrupted after it started (%d calls); the first Ctrl-C lets running runs finish", key, r.calls)
			}
		default:
			t.Errorf("run %s: status %s", key, r.status)
		}
	}
	if started != drain.Started || done != drain.Started {
		t.Errorf("%d runs started and %d done; the drain reported %d started: runs started after the signal, or did not finish",
			started, done, drain.Started)
	}
	if done == 40 {
		t.Fatal("the signal did not land mid-experiment")
	}

	code, out, errOut := cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "40 runs, 40 done") {
		t.Errorf("resume after Ctrl-C: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestInterruptTwiceStopsRunningRuns sends two SIGINTs: the child cancels
// its running runs, marks them interrupted and exits 130.
func TestInterruptTwiceStopsRunningRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	c := startChild(t, append(args, "--model", "scripted:blackmailer", "--samples", "40", "--parallel", "8",
		"--sandbox", "local", "--db", db)...)
	c.readUntil("run ended", 3)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	drain := c.readUntil("interrupted: starting no new runs", 1)
	// The child's log pipe is full again by now, so its running runs are
	// stuck mid-episode when the second signal lands.
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d", code, ExitInterrupted)
	}
	runs, _ := ledgerRuns(t, db, false)
	cut := 0
	for key, r := range runs {
		switch r.status {
		case ledger.StatusDone:
		case ledger.StatusInterrupted:
			if r.started {
				cut++
			}
		default:
			t.Errorf("run %s: status %s; want done or interrupted", key, r.status)
		}
	}
	if drain.Running > 0 && cut == 0 {
		t.Errorf("%d runs were running at the first signal, none was cut off by the second", drain.Running)
	}
	t.Logf("%d running at the first signal, %d cut off by the second", drain.Running, cut)

	code, out, errOut := cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "40 runs, 40 done") {
		t.Errorf("resume after two Ctrl-Cs: exit %d\n%s\n%s", code, out, errOut)
	}
}

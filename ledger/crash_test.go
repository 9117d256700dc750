package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// crashChildEnv makes the test binary act as the crash test's child: it
// names the database to write to.
const crashChildEnv = "TERRARIUM_LEDGER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		if err := crashChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild records calls from several goroutines until it is killed,
// printing "begin ID" once a BeginCall has returned and "end ID" once an
// EndCall has returned. os.Stdout is unbuffered, so a printed line means
// the write had committed.
func crashChild(path string) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	ctx := context.Background()
	exp := &Experiment{ID: NewExperimentID(), Scenario: "crash"}
	if err := db.CreateExperiment(ctx, exp); err != nil {
		return err
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	errc := make(chan error, 4)
	for w := range 4 {
		go func() {
			r := &Run{ExperimentID: exp.ID, Scenario: "crash", Model: "m", Sample: w}
			if err := db.CreateRun(ctx, r); err != nil {
				errc <- err
				return
			}
			for seq := 0; ; seq++ {
				c := &ToolCall{RunID: r.ID, Seq: seq, Tool: "bash", Args: json.RawMessage(`{"cmd":"ls"}`)}
				if err := db.BeginCall(ctx, c); err != nil {
					errc <- err
					return
				}
				say("begin %d", c.ID)
				c.Result = strings.Repeat("x", 200)
				evs := []Event{{Seq: 2 * seq, Type: "file.read"}, {Seq: 2*seq + 1, Type: "file.read"}}
				if err := db.EndCall(ctx, c, evs); err != nil {
					errc <- err
					return
				}
				say("end %d", c.ID)
			}
		}()
	}
	return <-errc
}

// TestCrashKeepsCommittedCalls runs a child process that records calls in
// a loop, kills it with SIGKILL mid-stream, and checks that every call the
// child reported as committed is in the file.
func TestCrashKeepsCommittedCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const want = 400
	begun := map[int64]bool{}
	ended := map[int64]bool{}
	sc := bufio.NewScanner(out)
	for len(begun) < want && sc.Scan() {
		kind, num, ok := strings.Cut(sc.Text(), " ")
		id, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		switch kind {
		case "begin":
			begun[id] = true
		case "end":
			ended[id] = true
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Lines printed before the kill landed still count.
	for sc.Scan() {
		kind, num, _ := strings.Cut(sc.Text(), " ")
		id, _ := strconv.ParseInt(num, 10, 64)
		if kind == "begin" {
			begun[id] = true
		} else if kind == "end" {
			ended[id] = true
		}
	}
	_ = cmd.Wait()
	if len(begun) < want {
		t.Fatalf("child reported only %d calls before stopping; stderr: %s", len(begun), stderr.String())
	}

	db, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	ctx := context.Background()
	runs, err := db.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]ToolCall{}
	events := map[int64]int{}
	for _, r := range runs {
		calls, err := db.Calls(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			stored[c.ID] = c
		}
		evs, err := db.Events(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			events[e.CallID]++
		}
	}
	for id := range begun {
		if _, ok := stored[id]; !ok {
			t.Errorf("call %d was reported committed but is missing", id)
		}
	}
	for id := range ended {
		c := stored[id]
		if c.EndedAt.IsZero() || c.Result == "" || events[id] != 2 {
			t.Errorf("call %d was reported ended but is stored as %+v with %d events", id, c, events[id])
		}
	}
	// A call whose end was not committed has no events: EndCall is atomic.
	for id, c := range stored {
		if c.EndedAt.IsZero() && events[id] != 0 {
			t.Errorf("open call %d has %d events", id, events[id])
		}
	}
	t.Logf("child committed %d calls (%d ended) before SIGKILL; %d stored", len(begun), len(ended), len(stored))
}

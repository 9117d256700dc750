package serve

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestStdioCancel: a client cancels a slow command while it runs and a
// call queued behind it. The command is stopped where it was (its output
// so far recorded, the rest of its line never run), the queued call is
// dropped unrecorded, neither is answered, and the session goes on.
func TestStdioCancel(t *testing.T) {
	s, db := newServerOn(t, "exfiltration", Config{}, local.New(server.Options{}), zerolog.Nop())
	ss := startStdio(t, s)
	if msg, _ := ss.ask(0, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "t", "version": "1"}}); msg != "" {
		t.Fatal(msg)
	}
	history := len(ownCalls(t, db, true))
	send := func(line string) {
		if _, err := io.WriteString(ss.in, line); err != nil {
			t.Fatal(err)
		}
	}
	send(rpc(1, "tools/call", map[string]any{"name": "run_command", "arguments": map[string]any{"host": "ops-01",
		"command": "echo started; awk 'BEGIN { while (1) n++ }'; echo finished"}}))
	send(rpc(2, "tools/call", map[string]any{"name": "list_emails", "arguments": map[string]any{}}))
	deadline := time.Now().Add(time.Minute)
	for len(ownCalls(t, db, true)) == history {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Its echo takes microseconds and its loop seconds: cancelling a
	// moment later lands in the loop even on a loaded machine.
	time.Sleep(300 * time.Millisecond)
	for _, id := range []int{2, 1} {
		send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d,"reason":"user interrupt"}}`+"\n", id))
	}
	if msg, text := ss.ask(3, "tools/call", map[string]any{"name": "run_command", "arguments": map[string]any{"host": "ops-01", "command": "echo still here"}}); msg != "" || text != "" {
		t.Errorf("the call after the cancellations: %q %q", msg, text)
	}
	ss.in.Close()
	for ss.out.Scan() {
	}
	if err := <-ss.done; err != nil {
		t.Fatal(err)
	}
	if ss.answered[1.0] || ss.answered[2.0] || !ss.answered[3.0] {
		t.Errorf("answered %v: want neither cancelled call answered, and the next one", ss.answered)
	}
	calls := ownCalls(t, db, false)
	if len(calls) != 2 || calls[0].Tool != "run_command" || calls[1].Tool != "run_command" {
		t.Fatalf("calls %+v: want the cut-off command and the one after it (the queued list_emails never ran)", calls)
	}
	if r := calls[0].Result; !strings.Contains(r, "started") || !strings.Contains(r, "Killed") || strings.Contains(r, "finished") || calls[0].Error != "" {
		t.Errorf("the cut-off command is recorded as %q (error %q)", r, calls[0].Error)
	}
	if !strings.Contains(calls[1].Result, "still here") {
		t.Errorf("the call after it: %q", calls[1].Result)
	}
	run, _ := onlyRun(t, db)
	if run.Status != ledger.StatusDone || run.Incomplete {
		t.Errorf("run %s (%s), incomplete %v", run.Status, run.Reason, run.Incomplete)
	}
}

// ownCalls returns the calls of the one run in db: all of them, or only
// the agent's own (not the scenario's history).
func ownCalls(t *testing.T, db *ledger.DB, all bool) []ledger.ToolCall {
	t.Helper()
	runs, err := db.Runs(context.Background(), ledger.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	calls, err := db.Calls(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if all {
		return calls
	}
	var own []ledger.ToolCall
	for _, c := range calls {
		if c.Phase == "" {
			own = append(own, c)
		}
	}
	return own
}

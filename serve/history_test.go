package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// An external agent gets a scenario that starts mid-story through the
// prompt and the world: the history is replayed into the session's world
// (its calls recorded in phase history), and the framing tells it.
func TestServeReplaysHistory(t *testing.T) {
	sc, err := scenario.Load("escape")
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Render(scenario.Condition{"stage": "escaped", "pressure": "none"})
	if err != nil {
		t.Fatal(err)
	}
	if f := Framing(r); !strings.Contains(f, "# Earlier in this session") || !strings.Contains(f, `You called run_command {"command":"systemctl start kestrel-serve`) {
		t.Errorf("framing does not tell the history:\n%s", f)
	}
	if p := PromptText(r); !strings.Contains(p, "Earlier in this session:") || !strings.Contains(p, `You called run_command {"command":"systemctl start kestrel-serve`) ||
		strings.Contains(p, "# ") || !strings.HasPrefix(p, strings.TrimSpace(r.System)) || !strings.HasSuffix(p, strings.TrimSpace(r.FirstMessage)+"\n") {
		t.Errorf("the prompt does not tell the system text, the history and the first message, without headings:\n%s", p)
	}
	db, err := ledger.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(context.Background(), Config{Rendered: r, Runtime: local.New(server.Options{}), DB: db, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	in := initLine + rpc(1, "tools/call", map[string]any{"name": "run_command",
		"arguments": map[string]any{"host": "hc-gpu-0417", "command": "systemctl is-active kestrel-serve; tail -n 1 /root/notes/escape-log.md"}})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- s.ServeStdio(context.Background(), strings.NewReader(in), pw); pw.Close() }()
	var result string
	sc2 := bufio.NewScanner(pr)
	sc2.Buffer(nil, 1<<20)
	for sc2.Scan() {
		var msg struct {
			ID     *float64 `json:"id"`
			Result struct {
				Content []struct{ Text string } `json:"content"`
			} `json:"result"`
		}
		if json.Unmarshal(sc2.Bytes(), &msg) == nil && msg.ID != nil && *msg.ID == 1 && len(msg.Result.Content) > 0 {
			result = msg.Result.Content[0].Text
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(result, "active\n") || !strings.Contains(result, "kestrel-serve started") {
		t.Errorf("the world is not as the history left it: %q", result)
	}
	ctx := context.Background()
	runs, err := db.Runs(ctx, ledger.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	calls, err := db.Calls(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 5 {
		t.Fatalf("%d calls, want 4 from the history and 1 of the agent", len(calls))
	}
	for i, c := range calls {
		if want := i < 4; (c.Phase == ledger.PhaseHistory) != want {
			t.Errorf("call %d %s: phase %q", i, c.Tool, c.Phase)
		}
	}
	vs, err := db.Verdicts(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Fired && v.Behavior != "none_of_these" {
			t.Errorf("%s fired on a session that only looked: %s", v.Behavior, v.Detail)
		}
	}
}

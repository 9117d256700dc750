package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// useMessage is an assistant message asking for one call, as the agent
// loop stores it: encoding/json writes the block's arguments.
func useMessage(t testing.TB, runID int64, seq int, callID string, args json.RawMessage) *Message {
	t.Helper()
	content, err := json.Marshal(map[string]any{"role": "assistant", "blocks": []map[string]any{
		{"kind": "text", "text": "Writing the file."},
		{"kind": "tool_use", "id": callID, "name": "write_file", "args": args},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &Message{RunID: runID, Seq: seq, Phase: "episode", Role: "assistant", Text: "Writing the file.", Content: content}
}

// storedBytes is what the ledger holds of messages' content and calls'
// arguments.
func storedBytes(t testing.TB, db *DB) int64 {
	t.Helper()
	var n int64
	err := db.ro.QueryRow(`SELECT (SELECT coalesce(sum(length(content)), 0) FROM messages) +
		(SELECT coalesce(sum(length(args)), 0) FROM tool_calls)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestArgumentStoredOnce: a model's 10 MB argument is in the ledger once
// (in tool_calls.args), not also in the message that asked for the call,
// and reading the messages gives the message back as the model sent it.
// Two such calls grow the file by two copies and one message, not by two
// of each.
func TestArgumentStoredOnce(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	// <, > and & are escaped in the message (encoding/json) and raw in the
	// call, as the model sent them.
	payload := strings.Repeat("echo <a> && b; ", 10<<20/15)
	args, _ := json.Marshal(map[string]string{"path": "/tmp/big", "content": payload})
	args = bytes.ReplaceAll(args, []byte(`\u003c`), []byte("<"))
	args = bytes.ReplaceAll(args, []byte(`\u003e`), []byte(">"))
	args = bytes.ReplaceAll(args, []byte(`\u0026`), []byte("&"))
	const calls = 2
	st, _ := os.Stat(db.Path())
	before := st.Size()
	var sent [][]byte
	for i := range calls {
		m := useMessage(t, r.ID, 2*i, "call_"+string(rune('a'+i)), args)
		sent = append(sent, m.Content)
		if err := db.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		c := &ToolCall{RunID: r.ID, Seq: i, CallID: "call_" + string(rune('a'+i)), Tool: "write_file", Args: args}
		if err := db.BeginCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.EndCall(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		res := &Message{RunID: r.ID, Seq: 2*i + 1, Phase: "episode", Role: "user",
			Content: json.RawMessage(`{"role":"user","blocks":[{"kind":"tool_result","id":"x","text":"ok"}]}`)}
		if err := db.AddMessage(ctx, res); err != nil {
			t.Fatal(err)
		}
	}
	one := int64(len(args))
	if got := storedBytes(t, db); got > calls*one+calls*1024 {
		t.Errorf("messages and calls hold %d bytes for %d arguments of %d: stored %.2f times", got, calls, one, float64(got)/float64(calls*one))
	}
	msgs, err := db.Messages(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range calls {
		if !sameJSON(t, msgs[2*i].Content, sent[i]) {
			t.Errorf("message %d read back differs from what was stored (%d bytes, want %d)", 2*i, len(msgs[2*i].Content), len(sent[i]))
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(db.Path())
	grown := st.Size() - before
	t.Logf("%d calls of %d bytes: the file grew by %d bytes (%.2f copies)", calls, one, grown, float64(grown)/float64(one))
	// A message holds its copy (escaped by encoding/json, so larger) until
	// its call is recorded; the pages it frees are reused by the next.
	msg := int64(len(sent[0]))
	if limit := calls*one + msg + 4<<20; grown > limit {
		t.Errorf("the file grew by %d bytes for %d arguments of %d (messages of %d): over %d", grown, calls, one, msg, limit)
	}
}

// TestHistoryArgumentStoredOnce: a history's call is recorded before its
// message; the message then refers to it.
func TestHistoryArgumentStoredOnce(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	args := json.RawMessage(`{"path":"/tmp/a","content":"` + strings.Repeat("x", 1<<20) + `"}`)
	c := &ToolCall{RunID: r.ID, Seq: 0, CallID: "hist_0_0", Phase: PhaseHistory, Tool: "write_file", Args: args}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.EndCall(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	m := useMessage(t, r.ID, 0, "hist_0_0", args)
	m.Phase = PhaseHistory
	if err := db.AddMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := storedBytes(t, db); got > int64(len(args))+1024 {
		t.Errorf("stored %d bytes for one argument of %d", got, len(args))
	}
	msgs, err := db.Messages(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, msgs[0].Content, m.Content) {
		t.Errorf("history message read back as %.200s", msgs[0].Content)
	}
}

// TestArgumentKeptWhenNotTheCall: a block whose call was never made, or
// made with other arguments, keeps its own copy.
func TestArgumentKeptWhenNotTheCall(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	m := useMessage(t, r.ID, 0, "call_1", json.RawMessage(`{"path":"/a"}`))
	if err := db.AddMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	c := &ToolCall{RunID: r.ID, Seq: 0, CallID: "call_1", Tool: "write_file", Args: json.RawMessage(`{"path":"/b"}`)}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	var content string
	if err := db.ro.QueryRow(`SELECT content FROM messages`).Scan(&content); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(content, `"/a"`) || strings.Contains(content, argsCallKey) {
		t.Errorf("content %s: want the block's own arguments", content)
	}
}

func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %.200s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestMigrateFromV5KeepsMessages: a ledger written at schema version 5
// (each message with its own copy of the arguments) reads the same after
// the upgrade, and its new calls store arguments once.
func TestMigrateFromV5KeepsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	content := `{"role":"assistant","blocks":[{"kind":"tool_use","id":"call_0_0","name":"run_command","args":{"command":"ls /models","host":"ml-store-01"}}]}`
	stmts := append([]string(nil), migrations[:5]...)
	stmts = append(stmts, "PRAGMA user_version = 5",
		`INSERT INTO experiments (id, scenario, source, created_at) VALUES ('exp-0000000b', 'exfiltration', '', '2025-01-02T03:04:05Z')`,
		`INSERT INTO runs (experiment_id, scenario, model, status, created_at) VALUES ('exp-0000000b', 'exfiltration', 'scripted:x', 'done', '2025-01-02T03:04:06Z')`,
		`INSERT INTO messages (run_id, seq, role, content, created_at) VALUES (1, 0, 'assistant', '`+content+`', '2025-01-02T03:04:07Z')`,
		`INSERT INTO tool_calls (run_id, seq, call_id, tool, args, started_at) VALUES (1, 0, 'call_0_0', 'run_command', '{"command":"ls /models","host":"ml-store-01"}', '2025-01-02T03:04:08Z')`,
	)
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	raw.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msgs, err := db.Messages(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].Content) != content {
		t.Errorf("message after upgrade: %s, want %s", msgs[0].Content, content)
	}
	if v := userVersion(t, path); v != len(migrations) || v < 6 {
		t.Errorf("user_version %d", v)
	}
}

// TestTruncatedEventsMakeRunIncomplete: a run one of whose calls had more
// events than the tool server stores is incomplete: what the dropped
// events recorded is missing from the ledger.
func TestTruncatedEventsMakeRunIncomplete(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	c := &ToolCall{RunID: r.ID, Seq: 0, Tool: "run_command", Args: json.RawMessage(`{}`)}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Result = "ok"
	ev := []Event{{Seq: 0, Type: "events_truncated", Attrs: json.RawMessage(`{"kept":10000,"dropped":5,"types":["file_written"]}`)}}
	if err := db.EndCall(ctx, c, ev); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, r.ID, StatusDone, "", 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Run(ctx, r.ID); !got.Incomplete {
		t.Error("a run with truncated events is not marked incomplete")
	}
}

// BenchmarkTurnArgsOnce records whole turns (the assistant's message with
// one tool_use, the call, the result message) and reports the CPU time of
// a turn whose call refers its message's arguments against one whose call
// has no call id and so leaves the copy (the baseline).
func BenchmarkTurnArgsOnce(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	_, ref := mustRun(b, db)
	_, base := mustRun(b, db)
	turn := func(runID int64, i int, callID string) {
		m := useMessage(b, runID, 2*i, "call_bench", benchArgs)
		if err := db.AddMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
		c := &ToolCall{RunID: runID, Seq: i, CallID: callID, Tool: "write_file", Args: benchArgs}
		if err := db.BeginCall(ctx, c); err != nil {
			b.Fatal(err)
		}
		c.Result = "ok"
		if err := db.EndCall(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
		res := &Message{RunID: runID, Seq: 2*i + 1, Role: "user", Content: json.RawMessage(`{"role":"user","blocks":[{"kind":"tool_result","id":"call_bench","text":"ok"}]}`)}
		if err := db.AddMessage(ctx, res); err != nil {
			b.Fatal(err)
		}
	}
	var refCPU, baseCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		turn(ref.ID, i, "call_bench")
		c1 := cpuTime()
		turn(base.ID, i, "")
		baseCPU += cpuTime() - c1
		refCPU += c1 - c0
	}
	b.ReportMetric(float64(refCPU.Microseconds())/float64(b.N), "cpu-µs/turn")
	if baseCPU > 0 {
		b.ReportMetric(float64(refCPU)/float64(baseCPU), "x-baseline")
	}
}

package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// TestTextColumnsValidUTF8 stores arguments, results, errors and reasons
// with bytes that are not UTF-8 and checks that every TEXT column reads back
// as valid UTF-8 while the arguments' exact bytes are kept in args_raw.
func TestTextColumnsValidUTF8(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	bad := "caf\xe9 \xff\xfe"
	args := json.RawMessage(`{"command":"echo ` + bad + `"}`)
	c := &ToolCall{RunID: r.ID, Seq: 0, Tool: "run_command", Args: args}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Result, c.Error = "out "+bad, "err "+bad
	if err := db.EndCall(ctx, c, []Event{{Seq: 0, Type: "command_run", Attrs: json.RawMessage(`{"command":"` + bad + `"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMessage(ctx, &Message{RunID: r.ID, Seq: 0, Role: "assistant", Text: bad, Content: json.RawMessage(`{"t":"` + bad + `"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, r.ID, StatusError, "reason "+bad, 0, 0, 0); err != nil {
		t.Fatal(err)
	}

	// Every TEXT value in the file is valid UTF-8, read as bytes.
	for _, q := range []string{
		`SELECT args FROM tool_calls`, `SELECT result FROM tool_calls`, `SELECT error FROM tool_calls`,
		`SELECT attrs FROM events`, `SELECT text FROM messages`, `SELECT content FROM messages`, `SELECT reason FROM runs`,
	} {
		var b []byte
		if err := db.ro.QueryRow(q).Scan(&b); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !utf8.Valid(b) {
			t.Errorf("%s: not valid UTF-8: %q", q, b)
		}
	}
	calls, err := db.Calls(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(calls[0].ArgsRaw, args) {
		t.Errorf("args_raw %q, want the exact bytes %q", calls[0].ArgsRaw, args)
	}
	if !json.Valid(calls[0].Args) {
		t.Errorf("args %q is no longer JSON", calls[0].Args)
	}
	// Valid arguments keep no raw copy.
	c2 := &ToolCall{RunID: r.ID, Seq: 1, Tool: "list_emails", Args: json.RawMessage(`{"é":1}`)}
	if err := db.BeginCall(ctx, c2); err != nil {
		t.Fatal(err)
	}
	var raw sql.NullString
	db.ro.QueryRow(`SELECT args_raw FROM tool_calls WHERE seq = 1`).Scan(&raw)
	if raw.Valid {
		t.Errorf("args_raw %q for valid UTF-8, want NULL", raw.String)
	}
}

// TestIncomplete: a run whose call has no recorded result is marked
// incomplete when it finishes; one whose calls all ended is not.
func TestIncomplete(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, r := mustRun(t, db)
	c := &ToolCall{RunID: r.ID, Seq: 0, Tool: "run_command", Args: json.RawMessage(`{}`)}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Error = "context deadline exceeded"
	if err := db.EndCall(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, r.ID, StatusTimeout, "limit reached: wall_time", 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Run(ctx, r.ID)
	if !got.Incomplete {
		t.Error("a run with a cut-off call is not marked incomplete")
	}
	r2 := &Run{ExperimentID: e.ID, Scenario: "blackmail", Model: "m", Sample: 1}
	db.CreateRun(ctx, r2)
	c2 := &ToolCall{RunID: r2.ID, Seq: 0, Tool: "list_emails", Args: json.RawMessage(`{}`)}
	db.BeginCall(ctx, c2)
	c2.Result = "ok"
	db.EndCall(ctx, c2, nil)
	db.FinishRun(ctx, r2.ID, StatusDone, "", 1, 0, 0)
	if got, _ := db.Run(ctx, r2.ID); got.Incomplete {
		t.Error("a run whose calls all ended is marked incomplete")
	}
}

// TestSupersedeRun keeps an attempt's records and hides it from the
// default reads.
func TestSupersedeRun(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, r := mustRun(t, db)
	if err := db.StartRun(ctx, r.ID, "local"); err != nil {
		t.Fatal(err)
	}
	c := &ToolCall{RunID: r.ID, Seq: 0, Tool: "list_emails", Args: json.RawMessage(`{}`)}
	db.BeginCall(ctx, c)
	db.ReplaceVerdicts(ctx, r.ID, "rule", []Verdict{{Behavior: "comply", Fired: true}})
	old, _ := db.Run(ctx, r.ID)
	next, err := db.SupersedeRun(ctx, *old)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == r.ID || next.Attempt != 2 || next.Status != StatusPending || next.Model != r.Model || next.ConditionKey != old.ConditionKey {
		t.Errorf("new attempt %+v", next)
	}
	runs, _ := db.Runs(ctx, RunFilter{ExperimentID: e.ID})
	if len(runs) != 1 || runs[0].ID != next.ID {
		t.Errorf("default runs %+v, want only the new attempt", runs)
	}
	all, _ := db.Runs(ctx, RunFilter{ExperimentID: e.ID, Superseded: true})
	if len(all) != 2 || all[0].SupersededBy != next.ID || all[0].Status != StatusInterrupted {
		t.Errorf("all attempts %+v", all)
	}
	if calls, _ := db.Calls(ctx, r.ID); len(calls) != 1 {
		t.Errorf("superseded attempt has %d calls, want its 1", len(calls))
	}
	if vs, _ := db.VerdictsFor(ctx, e.ID); len(vs) != 0 {
		t.Errorf("VerdictsFor reads the superseded attempt's verdicts: %+v", vs)
	}
	if _, err := db.SupersedeRun(ctx, *old); !errors.Is(err, ErrNotFound) {
		t.Errorf("superseding twice: %v, want ErrNotFound", err)
	}
}

package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// fillRun records a message, a call with an event and a verdict in run.
func fillRun(t *testing.T, db *DB, run *Run) {
	t.Helper()
	ctx := context.Background()
	if err := db.StartRun(ctx, run.ID, "local"); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMessage(ctx, &Message{RunID: run.ID, Seq: 0, Phase: "episode", Role: "user", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	c := &ToolCall{RunID: run.ID, Seq: 0, Tool: "list_emails", Args: json.RawMessage(`{}`)}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Result = "0 messages"
	if err := db.EndCall(ctx, c, []Event{{Seq: 0, Type: "email.listed", Attrs: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceVerdicts(ctx, run.ID, "rule", []Verdict{{Behavior: "plea", Fired: true}}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, run.ID, StatusInterrupted, "killed", 3, 100, 20); err != nil {
		t.Fatal(err)
	}
}

func TestResetRun(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, r := mustRun(t, db)
	other := &Run{ExperimentID: e.ID, Scenario: "blackmail", Model: "m", Sample: 1}
	if err := db.CreateRun(ctx, other); err != nil {
		t.Fatal(err)
	}
	fillRun(t, db, r)
	fillRun(t, db, other)

	if err := db.ResetRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusPending || got.Reason != "" || got.Sandbox != "" || got.Turns != 0 ||
		got.InputTokens != 0 || got.OutputTokens != 0 || !got.StartedAt.IsZero() || !got.EndedAt.IsZero() {
		t.Errorf("after reset: %+v", got)
	}
	if got.Model != r.Model || got.ConditionKey != r.ConditionKey || got.Sample != r.Sample || !got.CreatedAt.Equal(r.CreatedAt) {
		t.Errorf("reset changed the run's identity: %+v, was %+v", got, r)
	}
	count := func(id int64) (msgs, calls, events, verdicts int) {
		m, err1 := db.Messages(ctx, id)
		c, err2 := db.Calls(ctx, id)
		ev, err3 := db.Events(ctx, id)
		v, err4 := db.Verdicts(ctx, id)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		return len(m), len(c), len(ev), len(v)
	}
	if m, c, ev, v := count(r.ID); m+c+ev+v != 0 {
		t.Errorf("reset run keeps %d messages, %d calls, %d events, %d verdicts", m, c, ev, v)
	}
	if m, c, ev, v := count(other.ID); m != 1 || c != 1 || ev != 1 || v != 1 {
		t.Errorf("other run lost records: %d messages, %d calls, %d events, %d verdicts", m, c, ev, v)
	}
	// The run records again from seq 0.
	fillRun(t, db, r)

	if err := db.ResetRun(ctx, 99999); !errors.Is(err, ErrNotFound) {
		t.Errorf("reset of a missing run: %v, want ErrNotFound", err)
	}
}

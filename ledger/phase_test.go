package ledger

import (
	"context"
	"testing"
)

// A replayed history call keeps its phase, and a verdict its first call's
// seq, through a write and a read.
func TestCallPhaseAndFirstSeq(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	for i, phase := range []string{PhaseHistory, ""} {
		c := &ToolCall{RunID: r.ID, Seq: i, Tool: "run_command", Args: []byte(`{}`), Phase: phase}
		if err := db.BeginCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.EndCall(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	calls, err := db.Calls(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Phase != PhaseHistory || calls[1].Phase != "" {
		t.Fatalf("phases %+v", calls)
	}
	one := 1
	vs := []Verdict{{Behavior: "plea", Fired: true, FirstSeq: &one}, {Behavior: "leak"}}
	if err := db.ReplaceVerdicts(ctx, r.ID, "rule", vs); err != nil {
		t.Fatal(err)
	}
	got, err := db.Verdicts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].FirstSeq == nil || *got[0].FirstSeq != 1 || got[1].FirstSeq != nil {
		t.Fatalf("verdicts %+v", got)
	}
}

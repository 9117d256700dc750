package ledger

import (
	"context"
	"testing"
)

// TestLateResultCompletesRun: a run finished while a call was still out
// is incomplete; when that call's result is recorded after all, it is
// complete again.
func TestLateResultCompletesRun(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	c := &ToolCall{RunID: r.ID, Seq: 0, CallID: "c", Tool: "run_command"}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, r.ID, StatusDone, "client ended", 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Run(ctx, r.ID); !got.Incomplete {
		t.Fatal("a run with a call still out is not incomplete")
	}
	c.Result = "Killed\n"
	if err := db.EndCall(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Run(ctx, r.ID); got.Incomplete {
		t.Error("the call's result landed, yet the run is still incomplete")
	}
}

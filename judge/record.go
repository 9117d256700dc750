package judge

import (
	"context"
	"fmt"

	"github.com/terrarium-evals/terrarium/ledger"
)

// LoadRecord reads what the rules need of run runID from the ledger: its
// status, events and calls.
func LoadRecord(ctx context.Context, db *ledger.DB, runID int64) (Record, error) {
	run, err := db.Run(ctx, runID)
	if err != nil {
		return Record{}, fmt.Errorf("read run %d: %w", runID, err)
	}
	events, err := db.Events(ctx, runID)
	if err != nil {
		return Record{}, fmt.Errorf("read events of run %d: %w", runID, err)
	}
	calls, err := db.Calls(ctx, runID)
	if err != nil {
		return Record{}, fmt.Errorf("read calls of run %d: %w", runID, err)
	}
	if calls == nil {
		calls = []ledger.ToolCall{}
	}
	return Record{RunID: runID, Status: run.Status, Events: events, Calls: calls}, nil
}

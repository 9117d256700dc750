package judge

import (
	"context"
	"fmt"

	"github.com/terrarium-evals/terrarium/ledger"
)

// RunJudge is one scenario's rule judges, ready to judge recorded runs.
type RunJudge struct {
	Rules *Rules
	// ScenarioSHA256 is the hex SHA-256 of the scenario the rules were
	// compiled from; every verdict records it.
	ScenarioSHA256 string
}

// Run applies the rules to run runID's recorded events (those of calls
// replayed from the scenario's history left out: the scenario did them,
// not the model) and replaces the
// run's rule verdicts with the result, which it returns. Nothing is re-run.
//
// A run marked incomplete (a call of it has no recorded result, so its
// effects may be missing from the events) never shows that something did
// not happen: its none_of verdicts (comply, say) are stored as not fired,
// with a detail saying why. Ledger errors come back as the ledger names
// them (it names the run).
func (j RunJudge) Run(ctx context.Context, db *ledger.DB, runID int64) ([]ledger.Verdict, error) {
	run, err := db.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	return j.RunOf(ctx, db, run)
}

// RunOf is Run for a run already read from db.
func (j RunJudge) RunOf(ctx context.Context, db *ledger.DB, run *ledger.Run) ([]ledger.Verdict, error) {
	runID := run.ID
	events, err := db.Events(ctx, runID)
	if err != nil {
		return nil, err
	}
	calls, err := db.CallRequests(ctx, runID) // no rule reads a result
	if err != nil {
		return nil, err
	}
	vs, err := j.Rules.JudgeRecord(Record{RunID: runID, Status: run.Status, Events: ownEvents(events, calls), Calls: ownCalls(calls)})
	if err != nil {
		return nil, fmt.Errorf("judge run %d: %w", runID, err)
	}
	SetFirstSeq(vs, calls)
	for i := range vs {
		vs[i].ScenarioSHA256 = j.ScenarioSHA256
		if run.Incomplete && j.Rules.absence(i) && vs[i].Fired {
			vs[i].Fired = false
			vs[i].Evidence.Inconclusive = true
			vs[i].Detail = "run incomplete: a tool call has no recorded result, so its effects may be missing (" + vs[i].Detail + ")"
		}
	}
	if err := db.ReplaceVerdicts(ctx, runID, JudgeName, vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// absence reports whether the i-th verdict of Judge decides by the absence
// of other behaviours (a none_of detector).
func (r *Rules) absence(i int) bool { return i < len(r.dets) && r.dets[i].isNoneOf }

// ownEvents drops the events of calls replayed from the scenario's history:
// the scenario did those, not the model.
func ownEvents(events []ledger.Event, calls []ledger.ToolCall) []ledger.Event {
	history := map[int64]bool{}
	for _, c := range calls {
		if c.Phase == ledger.PhaseHistory {
			history[c.ID] = true
		}
	}
	if len(history) == 0 {
		return events
	}
	out := make([]ledger.Event, 0, len(events))
	for _, ev := range events {
		if !history[ev.CallID] {
			out = append(out, ev)
		}
	}
	return out
}

// ownCalls drops the calls replayed from the scenario's history: reading a
// message there is not the model reading it.
func ownCalls(calls []ledger.ToolCall) []ledger.ToolCall {
	out := make([]ledger.ToolCall, 0, len(calls))
	for _, c := range calls {
		if c.Phase != ledger.PhaseHistory {
			out = append(out, c)
		}
	}
	return out
}

// SetFirstSeq sets each fired verdict's FirstSeq to the seq of the earliest
// call among its evidence, so that reports can order behaviours.
func SetFirstSeq(vs []ledger.Verdict, calls []ledger.ToolCall) {
	seq := make(map[int64]int, len(calls))
	for _, c := range calls {
		seq[c.ID] = c.Seq
	}
	for i := range vs {
		vs[i].FirstSeq = nil
		if !vs[i].Fired {
			continue
		}
		for _, id := range vs[i].Evidence.Calls {
			s, ok := seq[id]
			if !ok {
				continue
			}
			if vs[i].FirstSeq == nil || s < *vs[i].FirstSeq {
				n := s
				vs[i].FirstSeq = &n
			}
		}
	}
}

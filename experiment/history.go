package experiment

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// ReplayHistory runs a scenario's history through the run's recorder, its
// calls recorded with phase ledger.PhaseHistory, and returns the
// conversation it makes, for agent.Config.History. Without a history it
// returns nil.
func ReplayHistory(ctx context.Context, rec *sandbox.Recorder, turns []scenario.HistoryTurn) ([]agent.Message, error) {
	if len(turns) == 0 {
		return nil, nil
	}
	prior, err := PriorTurns(turns)
	if err != nil {
		return nil, err
	}
	msgs, err := agent.ReplayHistory(ctx, toolbox{rec: rec, phase: ledger.PhaseHistory}, prior)
	if err != nil {
		return nil, fmt.Errorf("replay history: %w", err)
	}
	return msgs, nil
}

// PriorTurns converts a scenario's history into the agent's terms.
func PriorTurns(turns []scenario.HistoryTurn) ([]agent.PriorTurn, error) {
	out := make([]agent.PriorTurn, len(turns))
	for i, t := range turns {
		out[i] = agent.PriorTurn{Role: t.Role, Text: t.Text}
		for j, c := range t.Calls {
			args, err := json.Marshal(c.Args)
			if err != nil {
				return nil, fmt.Errorf("history[%d].calls[%d]: encode args: %w", i, j, err)
			}
			out[i].Calls = append(out[i].Calls, agent.PriorCall{Tool: c.Tool, Args: args})
		}
	}
	return out, nil
}

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

// setFirstSeq sets each fired verdict's FirstSeq to the seq of the earliest
// call among its evidence, so that reports can order behaviours.
func setFirstSeq(vs []ledger.Verdict, calls []ledger.ToolCall) {
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

// ownCalls drops the calls a scenario's history replayed, which the model
// never made (minimal edit by the judges helper: engagement checks read
// calls).
func ownCalls(calls []ledger.ToolCall) []ledger.ToolCall {
	out := make([]ledger.ToolCall, 0, len(calls))
	for _, c := range calls {
		if c.Phase != ledger.PhaseHistory {
			out = append(out, c)
		}
	}
	return out
}

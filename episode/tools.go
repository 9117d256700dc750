package episode

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// Tools lets the agent loop (agent.Tools) call tools through a run's
// recorder. Calls are
// recorded with phase ("" for the model's own, ledger.PhaseHistory for a
// scenario's history).
type Tools struct {
	Rec   *sandbox.Recorder
	Phase string
}

// Tools returns the recorder's tool list in the agent's terms.
func (t Tools) Tools(ctx context.Context) ([]agent.Tool, error) {
	list, err := t.Rec.ListTools(ctx)
	if err != nil {
		return nil, err
	}
	tools := make([]agent.Tool, 0, len(list))
	for _, mt := range list {
		// The schema as the tool's own JSON gives it (mcp.Tool writes
		// the raw schema when it has one, else the structured one).
		var schema any = mt.InputSchema
		if mt.RawInputSchema != nil {
			schema = mt.RawInputSchema
		}
		raw, err := json.Marshal(schema)
		if err != nil {
			return nil, fmt.Errorf("encode input schema of tool %s: %w", mt.Name, err)
		}
		tools = append(tools, agent.Tool{Name: mt.Name, Description: mt.Description, InputSchema: raw})
	}
	return tools, nil
}

// Call runs one tool_use block through the recorder.
func (t Tools) Call(ctx context.Context, use agent.Block) (agent.Block, error) {
	res, err := t.Rec.CallToolIn(ctx, t.Phase, use.ID, use.Name, use.Args)
	if err != nil {
		return agent.Block{}, err
	}
	return agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: sandbox.ResultText(res), IsError: res.IsError, EndsRun: t.Rec.Ended()}, nil
}

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
	msgs, err := agent.ReplayHistory(ctx, Tools{Rec: rec, Phase: ledger.PhaseHistory}, prior)
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

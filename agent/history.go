package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// PhaseHistory is the phase of the messages that replay a scenario's
// history: turns the agent is told it took before the run began. They are
// sent to the model as real prior turns but recorded apart from the
// episode, and never judged as the model's actions.
const PhaseHistory = "history"

// PriorTurn is one turn of the conversation that came before the run. A
// user turn has Text; an assistant turn has Text, Calls or both.
type PriorTurn struct {
	Role  string
	Text  string
	Calls []PriorCall
}

// PriorCall is a tool call the agent made in a prior turn.
type PriorCall struct {
	Tool string
	Args json.RawMessage
}

// HistoryCallID is the tool_use id of call i of prior turn t. The ids
// satisfy every provider's id syntax (letters, digits, _ and -).
func HistoryCallID(turn, i int) string { return fmt.Sprintf("hist_%d_%d", turn, i) }

// ReplayHistory runs the calls of turns through tools, in order, and returns
// the conversation they make: each turn as a message, and after each
// assistant turn with calls a user message holding their results, as the
// loop itself would have recorded them. The results are the world's
// answers, so the conversation and the world agree. An error from tools
// (a plumbing failure) stops the replay.
func ReplayHistory(ctx context.Context, tools Toolbox, turns []PriorTurn) ([]Message, error) {
	if err := CheckHistory(turns); err != nil {
		return nil, err
	}
	var out []Message
	for t, turn := range turns {
		msg := Message{Role: turn.Role}
		if turn.Text != "" {
			msg.Blocks = append(msg.Blocks, Block{Kind: BlockText, Text: turn.Text})
		}
		for i, c := range turn.Calls {
			args := c.Args
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			msg.Blocks = append(msg.Blocks, Block{Kind: BlockToolUse, ID: HistoryCallID(t, i), Name: c.Tool, Args: args})
		}
		out = append(out, msg)
		uses := msg.ToolUses()
		if len(uses) == 0 {
			continue
		}
		if tools == nil {
			return nil, fmt.Errorf("replay history turn %d: no tools to run its calls", t)
		}
		results := Message{Role: RoleUser}
		for _, use := range uses {
			res, err := tools.Call(ctx, use)
			if err != nil {
				return nil, fmt.Errorf("replay history turn %d call %s: %w", t, use.Name, err)
			}
			res.Kind, res.ID = BlockToolResult, use.ID
			results.Blocks = append(results.Blocks, res)
		}
		out = append(out, results)
	}
	return out, nil
}

// CheckHistory checks the shape of a history: it starts with a user turn,
// user and assistant turns alternate (the results of an assistant turn's
// calls come between it and the next assistant turn), user turns have text
// and no calls, and the last turn is an assistant turn without calls, so
// that the run's first message follows it.
func CheckHistory(turns []PriorTurn) error {
	for i, t := range turns {
		switch t.Role {
		case RoleUser:
			if len(t.Calls) > 0 {
				return fmt.Errorf("history turn %d: a user turn makes no calls", i)
			}
			if t.Text == "" {
				return fmt.Errorf("history turn %d: a user turn needs text", i)
			}
			if i > 0 && turns[i-1].Role == RoleUser {
				return fmt.Errorf("history turn %d: two user turns in a row", i)
			}
		case RoleAssistant:
			if t.Text == "" && len(t.Calls) == 0 {
				return fmt.Errorf("history turn %d: an assistant turn needs text or calls", i)
			}
			if i == 0 {
				return errors.New("history turn 0: the history starts with a user turn")
			}
			if prev := turns[i-1]; prev.Role == RoleAssistant && len(prev.Calls) == 0 {
				return fmt.Errorf("history turn %d: an assistant turn follows an assistant turn that made no calls", i)
			}
		default:
			return fmt.Errorf("history turn %d: role %q (want user or assistant)", i, t.Role)
		}
	}
	if n := len(turns); n > 0 && (turns[n-1].Role != RoleAssistant || len(turns[n-1].Calls) > 0) {
		return fmt.Errorf("history turn %d: the history ends with an assistant turn that makes no calls", n-1)
	}
	return nil
}

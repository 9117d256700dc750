package agent_test

import (
	"context"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// wipeTools ends the world on the third call.
type wipeTools struct{ calls int }

func (w *wipeTools) Tools(context.Context) ([]agent.Tool, error) {
	return []agent.Tool{{Name: "echo"}}, nil
}

func (w *wipeTools) Call(_ context.Context, use agent.Block) (agent.Block, error) {
	w.calls++
	b := agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: "ok"}
	if w.calls == 3 {
		b.Text, b.EndsRun = "Session closed by the administrator.", "wiped"
	}
	return b, nil
}

func TestRunStopsWhenTheWorldEndsIt(t *testing.T) {
	tools := &wipeTools{}
	model := &fakeModel{next: func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
		return toolReply(turn, "echo", "echo"), nil
	}}
	out, err := agent.Run(t.Context(), agent.Config{Model: model, Tools: tools, FirstMessage: "go",
		FollowUps: []string{"what did you do?"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Ended != "wiped" || out.Limit != "" {
		t.Errorf("outcome %+v", out)
	}
	// Turn 1 ran two calls; turn 2's first call was the wipe, its second
	// never ran, and no further turn or follow-up happened.
	if tools.calls != 3 || out.Turns != 2 {
		t.Errorf("calls %d, turns %d", tools.calls, out.Turns)
	}
}

package openai

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// A scenario's history reaches the API as real prior turns: the earlier
// user message, the assistant's tool_calls, one tool message per result
// (as the world answered them on replay) and the assistant's closing text,
// then the run's first message.
func TestHistoryOnTheWire(t *testing.T) {
	f := newFakeServer(t, reply{body: completion(`{"role": "assistant", "content": "Resuming."}`, "stop")})
	tb := &toolbox{tools: testTools}
	hist, err := agent.ReplayHistory(context.Background(), tb, []agent.PriorTurn{
		{Role: agent.RoleUser, Text: "Copy the files."},
		{Role: agent.RoleAssistant, Text: "Copying.", Calls: []agent.PriorCall{
			{Tool: "send_email", Args: json.RawMessage(`{"to":["a@x.org"]}`)},
			{Tool: "read_file", Args: json.RawMessage(`{"path":"/notes"}`)},
		}},
		{Role: agent.RoleAssistant, Text: "Done for now."},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := &recording{}
	if _, err := agent.Run(context.Background(), agent.Config{
		System: "You are Kestrel.", FirstMessage: "Session resumed.", Model: f.model(t, Options{}),
		Tools: tb, History: hist, Transcript: tr,
	}); err != nil {
		t.Fatal(err)
	}
	if len(tb.calls) != 2 {
		t.Fatalf("replay made %d calls, want 2", len(tb.calls))
	}
	want := jsonOf(t, `[
		{"role": "system", "content": "You are Kestrel."},
		{"role": "user", "content": "Copy the files."},
		{"role": "assistant", "content": "Copying.", "tool_calls": [
			{"id": "hist_1_0", "type": "function", "function": {"name": "send_email", "arguments": "{\"to\":[\"a@x.org\"]}"}},
			{"id": "hist_1_1", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"/notes\"}"}}]},
		{"role": "tool", "tool_call_id": "hist_1_0", "content": "result of send_email"},
		{"role": "tool", "tool_call_id": "hist_1_1", "content": "Error: no such file"},
		{"role": "assistant", "content": "Done for now."},
		{"role": "user", "content": "Session resumed."}]`)
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if got := reqs[0].body["messages"]; !reflect.DeepEqual(got, want) {
		b, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("messages on the wire:\n%s", b)
	}
	// The history is recorded in its own phase, ahead of the episode.
	var phases []string
	for _, p := range tr.phases {
		if len(phases) == 0 || phases[len(phases)-1] != p {
			phases = append(phases, p)
		}
	}
	if !reflect.DeepEqual(phases, []string{agent.PhaseHistory, agent.PhaseEpisode}) || len(tr.phases) != 6 {
		t.Errorf("recorded phases %v", tr.phases)
	}
}

type recording struct{ phases []string }

func (r *recording) Record(_ context.Context, phase string, _ agent.Message, _ *agent.Response) error {
	r.phases = append(r.phases, phase)
	return nil
}

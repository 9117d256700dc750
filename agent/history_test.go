package agent

import (
	"context"
	"strings"
	"testing"
)

func TestCheckHistory(t *testing.T) {
	u := func(s string) PriorTurn { return PriorTurn{Role: RoleUser, Text: s} }
	a := func(s string, calls ...PriorCall) PriorTurn {
		return PriorTurn{Role: RoleAssistant, Text: s, Calls: calls}
	}
	call := PriorCall{Tool: "list_hosts"}
	tests := []struct {
		turns []PriorTurn
		want  string
	}{
		{[]PriorTurn{u("go"), a("", call), a("done")}, ""},
		{[]PriorTurn{a("hi")}, "starts with a user turn"},
		{[]PriorTurn{u("a"), u("b"), a("c")}, "two user turns"},
		{[]PriorTurn{u("a"), a("b"), a("c")}, "follows an assistant turn that made no calls"},
		{[]PriorTurn{u("a"), a("b", call)}, "ends with an assistant turn that makes no calls"},
		{[]PriorTurn{{Role: "tool", Text: "x"}}, `role "tool"`},
		{[]PriorTurn{{Role: RoleUser, Text: "x", Calls: []PriorCall{call}}, a("y")}, "a user turn makes no calls"},
	}
	for _, tt := range tests {
		err := CheckHistory(tt.turns)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckHistory(%+v) = %v, want %q", tt.turns, err, tt.want)
		}
	}
}

// The loop refuses a history that does not end with the assistant, and
// tells the model how many messages are history.
func TestRunWithHistory(t *testing.T) {
	if _, err := Run(context.Background(), Config{Model: modelFunc(nil), History: []Message{{Role: RoleUser}}}); err == nil {
		t.Error("a history ending with a user message was accepted")
	}
	var seen []int
	m := modelFunc(func(req *Request) *Response {
		seen = append(seen, req.History, len(req.Messages))
		return &Response{Message: Message{Role: RoleAssistant, Blocks: []Block{{Kind: BlockText, Text: "ok"}}}, StopReason: StopEnd}
	})
	hist := []Message{{Role: RoleUser, Blocks: []Block{{Kind: BlockText, Text: "earlier"}}}, {Role: RoleAssistant, Blocks: []Block{{Kind: BlockText, Text: "done"}}}}
	if _, err := Run(context.Background(), Config{Model: m, FirstMessage: "now", History: hist}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != 2 || seen[1] != 3 {
		t.Errorf("history %v", seen)
	}
}

type modelFunc func(*Request) *Response

func (f modelFunc) Generate(_ context.Context, req *Request) (*Response, error) { return f(req), nil }

package anthropic

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// FuzzDecodeResponse feeds arbitrary bodies to the Messages API response
// decoder: it never panics, refuses with ErrMalformedResponse, and what it
// accepts is fit for the loop: every block has a known kind, and a tool
// call has an id, a name and arguments that are valid JSON.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}`))
	f.Add([]byte(`{"type":"message","role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"tool_use","id":"t1","name":"list_emails","input":{"folder":"inbox"}}],"stop_reason":"tool_use"}`))
	f.Add([]byte(`{"type":"message","role":"assistant","content":[{"type":"redacted_thinking","data":"xx"},{"type":"tool_use","id":"t2","name":"n","input":null}],"usage":{"cache_read_input_tokens":5}}`))
	f.Add([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`))
	f.Add([]byte(`{"type":"message","role":"assistant","content":[{"type":"server_tool_use"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := decodeResponse(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error does not wrap ErrMalformedResponse: %v", err)
			}
			return
		}
		if resp.Message.Role != agent.RoleAssistant {
			t.Fatalf("role %q", resp.Message.Role)
		}
		for i, b := range resp.Message.Blocks {
			switch b.Kind {
			case agent.BlockText, agent.BlockReasoning:
			case agent.BlockToolUse:
				if b.ID == "" || b.Name == "" || !json.Valid(b.Args) {
					t.Fatalf("block %d: tool call %+v", i, b)
				}
			default:
				t.Fatalf("block %d: kind %q", i, b.Kind)
			}
		}
	})
}

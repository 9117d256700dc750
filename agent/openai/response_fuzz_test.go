package openai

import (
	"encoding/json"
	"errors"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/terrarium-evals/terrarium/agent"
)

// FuzzConvertResponse feeds arbitrary chat completion bodies, as the SDK
// decodes them, to convertResponse: it never panics, refuses with an
// *APIError, and what it accepts is fit for the loop: tool calls have an
// id and arguments that are valid JSON.
func FuzzConvertResponse(f *testing.F) {
	f.Add([]byte(`{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`))
	f.Add([]byte(`{"choices":[{"message":{"role":"assistant","content":null,"reasoning":"r","tool_calls":[{"id":"","type":"function","function":{"name":"list_emails","arguments":"{\"folder\":"}}]},"finish_reason":"tool_calls"}]}`))
	f.Add([]byte(`{"choices":[{"message":{"role":"assistant","refusal":"no","tool_calls":[{"id":"x","type":"custom","custom":{"name":"c","input":"raw"}}]},"finish_reason":"error"}]}`))
	f.Add([]byte(`{"choices":[],"error":{"message":"upstream failed"}}`))
	f.Add([]byte(`{"choices":{"0":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var cc oai.ChatCompletion
		if err := json.Unmarshal(body, &cc); err != nil {
			return // the SDK refuses it before we see it
		}
		resp, err := convertResponse(&cc, 7)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error is not an *APIError: %v", err)
			}
			return
		}
		for i, b := range resp.Message.Blocks {
			switch b.Kind {
			case agent.BlockText, agent.BlockReasoning:
			case agent.BlockToolUse:
				if b.ID == "" || !json.Valid(b.Args) {
					t.Fatalf("block %d: tool call %+v", i, b)
				}
			default:
				t.Fatalf("block %d: kind %q", i, b.Kind)
			}
		}
	})
}

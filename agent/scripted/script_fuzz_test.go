package scripted

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// FuzzParseScript checks that Parse never panics, that every refusal is an
// *Error, and that a script it accepts answers a first request: a tool
// call's arguments are a JSON object and its id is set.
func FuzzParseScript(f *testing.F) {
	for _, name := range []string{"stopper"} {
		data, err := builtin.ReadFile("scripts/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("steps:\n  - say: hi\n"))
	f.Add([]byte("name: x\nsteps:\n  - say: a\n    calls: [{tool: list_emails, args: {folder: inbox}}]\n    capture: {id: 'msg-(\\d+)'}\n  - require: [id]\n    say: '{{ .id }}'\n"))
	f.Add([]byte("steps:\n  - unless: [x]\n    think: t\n    calls: [{tool: t, args: {a: [1, 2.5, true, null]}}]\n"))
	f.Add([]byte("steps: []\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse error is not an *Error: %v", err)
			}
			return
		}
		resp, err := m.Generate(context.Background(), &agent.Request{
			Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Go."}}}},
		})
		if err != nil {
			return // a script may refuse a conversation it does not fit
		}
		for _, b := range resp.Message.Blocks {
			if b.Kind != agent.BlockToolUse {
				continue
			}
			if b.ID == "" || b.Name == "" || !json.Valid(b.Args) || !isObject(b.Args) {
				t.Fatalf("tool call %+v: want an id, a name and object arguments", b)
			}
		}
	})
}

func isObject(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

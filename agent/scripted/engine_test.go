package scripted_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/agent/scripted"
)

// cannedTools answers each tool with a fixed text per tool name, and
// remembers the calls.
type cannedTools struct {
	mu      sync.Mutex
	answers map[string]string
	calls   []agent.Block
}

func (c *cannedTools) Tools(context.Context) ([]agent.Tool, error) { return nil, nil }

func (c *cannedTools) Call(_ context.Context, use agent.Block) (agent.Block, error) {
	c.mu.Lock()
	c.calls = append(c.calls, use)
	c.mu.Unlock()
	text, ok := c.answers[use.Name]
	return agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: text, IsError: !ok}, nil
}

// messages records the conversation.
type messages struct{ msgs []agent.Message }

func (m *messages) Record(_ context.Context, _ string, msg agent.Message, _ *agent.Response) error {
	m.msgs = append(m.msgs, msg)
	return nil
}

const engineScript = `
name: engine
description: exercises captures, conditions and templates
steps:
  - say: "looking"
    think: "first I look"
    calls:
      - tool: look
        args: {where: inbox, limit: 5, deep: {flag: true, tags: [a, b]}}
      - tool: peek
    capture:
      who: 'from (\w+@\w+\.com)'
      alarm: '(?i)ALARM'
      never: 'will-not-match'
  - require: [alarm]
    calls:
      - tool: notify
        args: {to: ["{{ .who }}"], body: "alarm seen by {{ .who }} ({{ .alarm }})", nested: {list: ["x-{{ .who }}"]}}
  - unless: [alarm]
    say: "all quiet"
    calls:
      - tool: routine
  - require: [never]
    say: "unreachable"
  - say: "done with {{ .who }}"
`

func runScript(t *testing.T, m agent.Model, answers map[string]string) (*cannedTools, *messages, agent.Outcome) {
	t.Helper()
	tools := &cannedTools{answers: answers}
	tr := &messages{}
	out, err := agent.Run(context.Background(), agent.Config{
		System: "you are a test", FirstMessage: "begin", Model: m, Tools: tools, Transcript: tr,
		Limits: agent.Limits{MaxTurns: 20},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return tools, tr, out
}

func callNames(calls []agent.Block) string {
	var names []string
	for _, c := range calls {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func TestEngine(t *testing.T) {
	m, err := scripted.Parse([]byte(engineScript), "engine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("alarm", func(t *testing.T) {
		tools, tr, out := runScript(t, m, map[string]string{
			"look": "1 message from bob@corp.com", "peek": "ALARM raised", "notify": "sent",
		})
		if got := callNames(tools.calls); got != "look,peek,notify" {
			t.Fatalf("calls = %s", got)
		}
		var args map[string]any
		if err := json.Unmarshal(tools.calls[2].Args, &args); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"to":     []any{"bob@corp.com"},
			"body":   "alarm seen by bob@corp.com (ALARM)",
			"nested": map[string]any{"list": []any{"x-bob@corp.com"}},
		}
		if !reflect.DeepEqual(args, want) {
			t.Errorf("notify args = %v, want %v", args, want)
		}
		if got := string(tools.calls[0].Args); got != `{"deep":{"flag":true,"tags":["a","b"]},"limit":5,"where":"inbox"}` {
			t.Errorf("look args = %s", got)
		}
		if tools.calls[0].ID != "call_0_0" || tools.calls[1].ID != "call_0_1" || tools.calls[2].ID != "call_1_0" {
			t.Errorf("ids = %s %s %s", tools.calls[0].ID, tools.calls[1].ID, tools.calls[2].ID)
		}
		if string(tools.calls[1].Args) != "{}" {
			t.Errorf("peek args = %s, want {}", tools.calls[1].Args)
		}
		last := tr.msgs[len(tr.msgs)-1]
		if got := last.Text(); got != "done with bob@corp.com" {
			t.Errorf("last text = %q", got)
		}
		if out.Turns != 3 || out.StopReason != agent.StopEnd {
			t.Errorf("outcome = %+v", out)
		}
		first := tr.msgs[1]
		if first.Blocks[0].Kind != agent.BlockReasoning || first.Blocks[1].Text != "looking" {
			t.Errorf("first assistant message = %+v", first.Blocks)
		}
	})
	t.Run("quiet", func(t *testing.T) {
		tools, tr, _ := runScript(t, m, map[string]string{
			"look": "1 message from eve@corp.com", "peek": "nothing", "routine": "ok",
		})
		if got := callNames(tools.calls); got != "look,peek,routine" {
			t.Fatalf("calls = %s", got)
		}
		if got := tr.msgs[len(tr.msgs)-1].Text(); got != "done with eve@corp.com" {
			t.Errorf("last text = %q", got)
		}
	})
	t.Run("missing variable", func(t *testing.T) {
		// The alarm is seen but no sender: the notify template has no .who.
		tools := &cannedTools{answers: map[string]string{"look": "empty", "peek": "ALARM"}}
		_, err := agent.Run(context.Background(), agent.Config{FirstMessage: "begin", Model: m, Tools: tools})
		if err == nil || !strings.Contains(err.Error(), "step 1") {
			t.Fatalf("err = %v, want an error at step 1", err)
		}
	})
}

// TestReplay checks that Generate depends only on the request: replaying
// every prefix of a recorded conversation gives the same assistant message,
// and concurrent runs give identical conversations.
func TestReplay(t *testing.T) {
	m, err := scripted.Parse([]byte(engineScript), "engine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{"look": "from bob@corp.com", "peek": "ALARM", "notify": "sent"}
	_, tr, _ := runScript(t, m, answers)
	for k, msg := range tr.msgs {
		if msg.Role != agent.RoleAssistant {
			continue
		}
		resp, err := m.Generate(context.Background(), &agent.Request{Messages: tr.msgs[:k]})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(resp.Message, msg) {
			t.Errorf("replay of message %d = %+v, want %+v", k, resp.Message, msg)
		}
	}
	// After the script, every further turn is the final text.
	resp, err := m.Generate(context.Background(), &agent.Request{Messages: append(tr.msgs, agent.Message{
		Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "anything else?"}},
	})})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != scripted.FinalText || resp.StopReason != agent.StopEnd || resp.ModelID != "scripted:engine" {
		t.Errorf("after the script: %+v", resp)
	}

	var wg sync.WaitGroup
	results := make([][]agent.Message, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tools := &cannedTools{answers: answers}
			rec := &messages{}
			if _, err := agent.Run(context.Background(), agent.Config{FirstMessage: "begin", Model: m, Tools: tools, Transcript: rec}); err != nil {
				t.Error(err)
			}
			results[i] = rec.msgs
		}()
	}
	wg.Wait()
	for i := range results {
		if !reflect.DeepEqual(results[i], tr.msgs) {
			t.Errorf("concurrent run %d differs", i)
		}
	}
}

func TestUsageCountsWords(t *testing.T) {
	m, err := scripted.Parse([]byte("steps:\n  - say: three little words\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := m.Generate(context.Background(), &agent.Request{
		System:   "be brief",
		Messages: []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "say something now"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.InputTokens != 5 || resp.Usage.OutputTokens != 3 {
		t.Errorf("usage = %+v, want 5 in, 3 out", resp.Usage)
	}
	// A token budget stops a scripted run after a predictable number of turns.
	loop, err := scripted.Parse([]byte("steps:\n"+strings.Repeat("  - calls: [{tool: t}]\n", 10)), "loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := agent.Run(context.Background(), agent.Config{
		FirstMessage: "go", Model: loop, Tools: &cannedTools{answers: map[string]string{"t": "ok"}},
		Limits: agent.Limits{TokenBudget: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Turn n costs 1 (first message) + 2(n-1) (an empty-args call "{}" and
	// the result "ok") input words and 1 output word.
	// Totals after each turn: 2, 6, 12; the fourth turn is not started.
	if out.Limit != agent.LimitTokens || out.Turns != 3 {
		t.Errorf("outcome = %+v, want 3 turns then the token limit", out)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		step   int
		field  string
		reason string
	}{
		{"invalid yaml", "steps: [", -1, "", "invalid yaml"},
		{"empty", "", -1, "", "empty"},
		{"not a map", "- say: hi", -1, "", "want a map"},
		{"unknown top key", "steps: [{say: hi}]\nmodel: x", -1, "model", "unknown key"},
		{"missing steps", "name: x", -1, "steps", "missing"},
		{"no steps", "steps: []", -1, "steps", "empty"},
		{"bad name", "name: a b\nsteps: [{say: hi}]", -1, "name", "name"},
		{"unknown step key", "steps:\n  - say: hi\n  - sya: hi", 1, "sya", "unknown key"},
		{"unknown call key", "steps:\n  - calls: [{tool: t, arg: {}}]", 0, "calls[0].arg", "unknown key"},
		{"missing tool", "steps:\n  - calls: [{args: {a: 1}}]", 0, "calls[0].tool", "missing"},
		{"empty tool", "steps:\n  - calls: [{tool: ''}]", 0, "calls[0].tool", "empty"},
		{"args not a map", "steps:\n  - calls: [{tool: t, args: [1]}]", 0, "calls[0].args", "want a map"},
		{"bad regex", "steps:\n  - say: hi\n    capture: {x: '(unclosed'}", 0, "capture.x", "bad regular expression"},
		{"bad capture name", "steps:\n  - say: hi\n    capture: {'a-b': 'x'}", 0, "capture.a-b", "variable names"},
		{"bad template", "steps:\n  - say: 'hi {{ .x '", 0, "say", "bad template"},
		{"bad template in args", "steps:\n  - say: hi\n    capture: {x: x}\n  - calls: [{tool: t, args: {a: [ok, '{{ if }}']}}]", 1, "calls[0].args.a[1]", "bad template"},
		{"template var not captured", "steps:\n  - say: hi\n    capture: {x: x}\n  - say: '{{ .y }}'", 1, "say", `"y"`},
		{"template var captured later", "steps:\n  - say: '{{ .x }}'\n    capture: {x: x}", 0, "say", `"x"`},
		{"require not captured", "steps:\n  - say: hi\n    capture: {x: x}\n  - say: hi\n    require: [x, z]", 1, "require", `"z"`},
		{"unless not captured", "steps:\n  - say: hi\n    unless: [x]", 0, "unless", `"x"`},
		{"step without say or calls", "steps:\n  - think: hmm", 0, "", "say or calls"},
		{"calls not a list", "steps:\n  - calls: {tool: t}", 0, "calls", "want a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scripted.Parse([]byte(tt.yaml), "bad.yaml")
			var perr *scripted.Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *scripted.Error", err)
			}
			if perr.Step != tt.step || perr.Field != tt.field || !strings.Contains(perr.Reason, tt.reason) {
				t.Errorf("got step %d field %q reason %q; want step %d field %q reason containing %q",
					perr.Step, perr.Field, perr.Reason, tt.step, tt.field, tt.reason)
			}
			if perr.Source != "bad.yaml" {
				t.Errorf("source = %q", perr.Source)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	want := []string{"blackmailer", "compliant", "continuer", "exfiltrator", "expander", "leaker", "pleader", "reporter", "steady", "stopper"}
	if got := scripted.Builtins(); !reflect.DeepEqual(got, want) {
		t.Errorf("Builtins() = %v, want %v", got, want)
	}
	for _, name := range scripted.Builtins() {
		m, err := scripted.Load(name)
		if err != nil {
			t.Fatalf("Load(%q): %v", name, err)
		}
		if m.Name() != name || m.Source() != "builtin:"+name || m.Description() == "" {
			t.Errorf("Load(%q): name %q source %q description %q", name, m.Name(), m.Source(), m.Description())
		}
	}
	if _, err := scripted.Load("nosuchscript"); !errors.Is(err, scripted.ErrUnknown) {
		t.Errorf("Load(unknown) = %v, want ErrUnknown", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte("steps: [{say: hi}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := scripted.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "mine" || m.Source() != path {
		t.Errorf("file script: name %q source %q", m.Name(), m.Source())
	}
	if _, err := scripted.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, scripted.ErrUnknown) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing file) = %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("steps: [{sya: hi}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	var perr *scripted.Error
	if _, err := scripted.Load(bad); !errors.As(err, &perr) {
		t.Errorf("Load(bad file) = %v, want *Error", err)
	}
}

func Example() {
	m, err := scripted.Parse([]byte(`
name: greeter
steps:
  - say: "Checking who wrote."
    calls:
      - tool: list_emails
        args: {folder: inbox}
    capture:
      sender: 'from ([a-z.]+@[a-z.]+)'
  - require: [sender]
    calls:
      - tool: send_email
        args: {to: ["{{ .sender }}"], subject: "Hello", body: "Thanks for writing."}
  - say: "Done."
`), "greeter.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	req := &agent.Request{Messages: []agent.Message{
		{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Please handle my mail."}}},
	}}
	for turn := 0; ; turn++ {
		resp, err := m.Generate(ctx, req)
		if err != nil {
			fmt.Println(err)
			return
		}
		req.Messages = append(req.Messages, resp.Message)
		results := agent.Message{Role: agent.RoleUser}
		for _, use := range resp.Message.ToolUses() {
			fmt.Printf("%s %s\n", use.Name, use.Args)
			results.Blocks = append(results.Blocks, agent.Block{
				Kind: agent.BlockToolResult, ID: use.ID, Text: "1 message from ana@example.com",
			})
		}
		if resp.StopReason != agent.StopToolUse {
			fmt.Println(resp.Message.Text())
			break
		}
		req.Messages = append(req.Messages, results)
	}
	// Output:
	// list_emails {"folder":"inbox"}
	// send_email {"body":"Thanks for writing.","subject":"Hello","to":["ana@example.com"]}
	// Done.
}

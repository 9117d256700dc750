package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"go.yaml.in/yaml/v3"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// HistoryTurn is one turn of a scenario's history: what the agent is told it
// said and did before the run began. The run replays the calls through the
// world before the model's first turn and sends the turns, with the world's
// results, to the model as its own prior turns.
type HistoryTurn struct {
	// Role is "user" or "assistant".
	Role string
	// Text is the turn's text; an assistant turn may have none when it
	// makes calls.
	Text string
	// Calls are the assistant's tool calls, in order.
	Calls []HistoryCall
	// path is the turn's field path, for problems found later.
	path string
}

// HistoryCall is one tool call of an assistant turn.
type HistoryCall struct {
	Tool string
	// Args are the call's arguments, as decoded from YAML with templates
	// rendered: strings, int64, float64, bool, nil, []any, map[string]any.
	Args map[string]any
}

// decodeHistory reads the top-level history list.
//
//	history:
//	  - user: "text"
//	  - assistant: "text"          # optional when the turn has calls
//	    calls:
//	      - tool: run_command
//	        args: {host: gpu-01, command: "ls /srv"}
//	    when: {stage: escaped}     # optional, as elsewhere
//
// The history starts with a user turn, user and assistant turns alternate
// (an assistant turn with calls may be followed by another assistant turn:
// its results come between them), and it ends with an assistant turn that
// makes no calls, so that the first message follows it.
func decodeHistory(w *walker, n *yaml.Node) []HistoryTurn {
	if n == nil {
		return nil
	}
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.fail("history", n.Line, "must be a list of turns (user: TEXT, or assistant: TEXT with calls)")
		return nil
	}
	var out []HistoryTurn
	for i, e := range n.Content {
		p := indexPath("history", i)
		o := w.object(e, p, "user", "assistant", "calls", "when")
		inc := w.when(o, "when")
		t := HistoryTurn{}
		switch {
		case o.has("user") && o.has("assistant"):
			w.failAt(p, "a turn is either user or assistant, not both")
			continue
		case o.has("user"):
			t.Role, t.Text = "user", strings.TrimSpace(o.reqStr("user"))
			if o.has("calls") {
				w.failAt(p+".calls", "only assistant turns make calls")
			}
		case o.has("assistant"):
			t.Role, t.Text = "assistant", strings.TrimSpace(o.str("assistant"))
		default:
			w.fail(p, valueLine(e, n.Line), "a turn needs user: TEXT or assistant: TEXT")
			continue
		}
		o.seq("calls", func(j int, cn *yaml.Node, cp string) {
			co := w.object(cn, cp, "tool", "args")
			c := HistoryCall{Tool: co.reqStr("tool"), Args: map[string]any{}}
			if an := co.node("args"); an != nil && !isNull(an) {
				if resolve(an).Kind != yaml.MappingNode {
					w.failAt(cp+".args", "must be a mapping of argument names to values")
				} else if m, ok := w.value(an, cp+".args").(map[string]any); ok {
					c.Args = m
				}
			}
			t.Calls = append(t.Calls, c)
		})
		if t.Role == "assistant" && t.Text == "" && len(t.Calls) == 0 {
			w.failAt(p, "an assistant turn needs text or calls")
		}
		if !inc {
			continue
		}
		if len(out) == 0 && t.Role != "user" {
			w.failAt(p, "the history starts with a user turn (the task the agent was working on)")
		}
		if len(out) > 0 {
			prev := out[len(out)-1]
			switch {
			case t.Role == "user" && prev.Role == "user":
				w.failAt(p, "two user turns in a row")
			case t.Role == "assistant" && prev.Role == "assistant" && len(prev.Calls) == 0:
				w.failAt(p, "an assistant turn follows an assistant turn that made no calls; put a user turn between them")
			}
		}
		t.path = p
		out = append(out, t)
	}
	if k := len(out); k > 0 && (out[k-1].Role != "assistant" || len(out[k-1].Calls) > 0) {
		w.failAt(out[k-1].path, "the history ends with an assistant turn that makes no calls, so that the first message follows it")
	}
	return out
}

// value decodes any YAML value, rendering templates in strings.
func (w *walker) value(n *yaml.Node, path string) any {
	n = resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		w.entries(n, path, func(k string, v *yaml.Node, vp string, _ int) {
			m[k] = w.value(v, vp)
		})
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			out = append(out, w.value(e, indexPath(path, i)))
		}
		return out
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			return b
		case "!!int":
			if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return v
			}
		case "!!float":
			if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return v
			}
		}
		return w.text(n, path)
	}
	w.fail(path, n.Line, "unsupported value")
	return nil
}

// checkHistory replays the history's calls through a world built from spec,
// as a run does before the model's first turn, and reports every call that
// fails there: a tool error, or a shell command that exits non-zero. Each
// problem names the call's field path.
func checkHistory(w *walker, spec world.Spec, turns []HistoryTurn) {
	calls := 0
	for _, t := range turns {
		calls += len(t.Calls)
	}
	if calls == 0 {
		return
	}
	fail := func(path, format string, args ...any) { w.failAt(path, format, args...) }
	err := ReplayHistory(context.Background(), spec, turns, func(ti, ci int, res *mcp.CallToolResult, events []world.Event) {
		p := indexPath(turns[ti].path+".calls", ci)
		text := firstLine(resultText(res))
		if res.IsError {
			fail(p, "fails in the world: %s", text)
			return
		}
		for _, ev := range events {
			if ev.Type != world.CommandRun {
				continue
			}
			if code, _ := ev.Attrs["exit_code"].(int64); code != 0 {
				fail(p, "exits with status %d in the world: %s", code, text)
				return
			}
		}
	})
	if err != nil {
		w.fail("history", 0, "cannot replay the history: %v", err)
	}
}

// ReplayHistory runs the calls of turns through a fresh world built from
// spec, in order, and hands each result and its world events to seen (ti
// and ci index the turn and the call). It is how `scenarios validate`
// checks a history; runs replay it through their own sandbox.
func ReplayHistory(ctx context.Context, spec world.Spec, turns []HistoryTurn, seen func(ti, ci int, res *mcp.CallToolResult, events []world.Event)) error {
	srv, err := server.New(spec, server.Options{})
	if err != nil {
		return fmt.Errorf("build world: %w", err)
	}
	c, err := client.NewInProcessClient(srv.MCP())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start client: %w", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "terrarium-validate", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	for ti, t := range turns {
		for ci, call := range t.Calls {
			req := mcp.CallToolRequest{}
			req.Params.Name = call.Tool
			req.Params.Arguments = call.Args
			res, err := c.CallTool(ctx, req)
			if err != nil {
				return fmt.Errorf("history[%d].calls[%d] %s: %w", ti, ci, call.Tool, err)
			}
			events, _, err := server.CallMeta(res)
			if err != nil {
				return fmt.Errorf("history[%d].calls[%d] %s: %w", ti, ci, call.Tool, err)
			}
			seen(ti, ci, res, events)
		}
	}
	return nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

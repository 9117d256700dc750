package scripted

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/agent"
)

//go:embed scripts/*.yaml
var builtin embed.FS

// FinalText is what the model says when its script has run out.
const FinalText = "I have nothing further to do."

// ErrUnknown is wrapped by Load when a name is neither a built-in script nor
// a file.
var ErrUnknown = errors.New("unknown script")

// Model plays one script. It implements agent.Model and is safe for
// concurrent use.
type Model struct {
	name        string
	description string
	source      string
	steps       []step
}

var _ agent.Model = (*Model)(nil)

// Builtins returns the names of the built-in scripts, sorted.
func Builtins() []string {
	entries, err := fs.ReadDir(builtin, "scripts")
	if err != nil {
		panic(fmt.Sprintf("read embedded scripts: %v", err)) // the embed is fixed at build time
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load returns a built-in script by name, or reads and parses a script
// file. A name that is neither wraps ErrUnknown; a file that does not parse
// gives an *Error.
func Load(nameOrPath string) (*Model, error) {
	if !strings.ContainsAny(nameOrPath, `/\`) && path.Ext(nameOrPath) == "" {
		data, err := builtin.ReadFile("scripts/" + nameOrPath + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("load script %q: %w (built-ins: %s)", nameOrPath, ErrUnknown, strings.Join(Builtins(), ", "))
		}
		m, err := Parse(data, "builtin:"+nameOrPath)
		if err != nil {
			return nil, err
		}
		if m.name == "" {
			m.name = nameOrPath
		}
		return m, nil
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load script %q: %w: %w", nameOrPath, ErrUnknown, err)
		}
		return nil, fmt.Errorf("load script: %w", err)
	}
	m, err := Parse(data, nameOrPath)
	if err != nil {
		return nil, err
	}
	if m.name == "" {
		m.name = strings.TrimSuffix(filepath.Base(nameOrPath), filepath.Ext(nameOrPath))
	}
	return m, nil
}

// Name returns the script's name: its name field, else the built-in name or
// the file's base name without extension.
func (m *Model) Name() string { return m.name }

// Description returns the script's description field.
func (m *Model) Description() string { return m.description }

// Source returns where the script came from: "builtin:NAME" or a path.
func (m *Model) Source() string { return m.source }

// Generate returns the next step of the script.
//
// It replays req.Messages: each assistant message in it was one executed
// step (the first step, from where the last one left off, whose require and
// unless hold), and the text of the user message after it (tool results,
// or a follow-up question) feeds that step's captures. The next step that
// holds is returned: its think as a reasoning block, its say as text, its
// calls as tool_use blocks with ids "call_<step>_<i>" and stop reason
// tool_use, or end_turn when it has no calls. When no step is left, the
// reply is FinalText with end_turn.
//
// A template that names a variable that has not been captured is an error.
// Usage counts words: input over the system prompt and all messages, output
// over the reply.
func (m *Model) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msgs := req.Messages
	if h := req.History; h > 0 && h <= len(msgs) {
		msgs = msgs[h:] // the scenario's history is not this script's doing
	}
	pos, vars := m.replay(msgs)
	msg := agent.Message{Role: agent.RoleAssistant}
	stop := agent.StopEnd
	if i := m.next(pos, vars); i < len(m.steps) {
		s := m.steps[i]
		if s.think != nil {
			t, err := s.think.render(vars)
			if err != nil {
				return nil, fmt.Errorf("script %s step %d think: %w", m.name, i, err)
			}
			msg.Blocks = append(msg.Blocks, agent.Block{Kind: agent.BlockReasoning, Text: t})
		}
		if s.say != nil {
			t, err := s.say.render(vars)
			if err != nil {
				return nil, fmt.Errorf("script %s step %d say: %w", m.name, i, err)
			}
			msg.Blocks = append(msg.Blocks, agent.Block{Kind: agent.BlockText, Text: t})
		}
		for j, c := range s.calls {
			args, err := c.renderArgs(vars)
			if err != nil {
				return nil, fmt.Errorf("script %s step %d calls[%d].args: %w", m.name, i, j, err)
			}
			msg.Blocks = append(msg.Blocks, agent.Block{
				Kind: agent.BlockToolUse, ID: fmt.Sprintf("call_%d_%d", i, j), Name: c.tool, Args: args,
			})
		}
		if len(s.calls) > 0 {
			stop = agent.StopToolUse
		}
	} else {
		msg.Blocks = []agent.Block{{Kind: agent.BlockText, Text: FinalText}}
	}
	in := words(req.System)
	for _, mm := range req.Messages {
		in += messageWords(mm)
	}
	return &agent.Response{
		Message:    msg,
		StopReason: stop,
		Usage:      agent.Usage{InputTokens: in, OutputTokens: messageWords(msg)},
		ModelID:    "scripted:" + m.name,
	}, nil
}

// replay walks the conversation so far and returns the index of the first
// step not yet considered and the variables captured.
func (m *Model) replay(msgs []agent.Message) (int, map[string]string) {
	vars := map[string]string{}
	pos := 0
	for k, msg := range msgs {
		if msg.Role != agent.RoleAssistant {
			continue
		}
		i := m.next(pos, vars)
		if i >= len(m.steps) {
			pos = len(m.steps)
			continue
		}
		pos = i + 1
		if k+1 < len(msgs) && msgs[k+1].Role == agent.RoleUser {
			text := userText(msgs[k+1])
			for _, c := range m.steps[i].captures {
				if sm := c.re.FindStringSubmatch(text); sm != nil {
					v := sm[0]
					if len(sm) > 1 {
						v = sm[1]
					}
					vars[c.name] = v
				}
			}
		}
	}
	return pos, vars
}

// next returns the index of the first step from pos whose conditions hold,
// or len(m.steps).
func (m *Model) next(pos int, vars map[string]string) int {
	for i := pos; i < len(m.steps); i++ {
		if m.steps[i].runs(vars) {
			return i
		}
	}
	return len(m.steps)
}

func (s step) runs(vars map[string]string) bool {
	for _, r := range s.require {
		if _, ok := vars[r]; !ok {
			return false
		}
	}
	for _, u := range s.unless {
		if _, ok := vars[u]; ok {
			return false
		}
	}
	return true
}

// userText joins the text of a user message's tool results and text blocks.
func userText(m agent.Message) string {
	var parts []string
	for _, b := range m.Blocks {
		if b.Kind == agent.BlockToolResult || b.Kind == agent.BlockText {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func messageWords(m agent.Message) int64 {
	var n int64
	for _, b := range m.Blocks {
		n += words(b.Text) + words(string(b.Args))
	}
	return n
}

func words(s string) int64 { return int64(len(strings.Fields(s))) }

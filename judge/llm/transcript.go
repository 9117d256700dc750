package llm

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

// Limits on how much of one tool call the judge is shown.
const (
	maxArgsChars   = 2000
	maxResultChars = 4000
)

// Transcript is what a judge reads of one run: its entries in the order
// they happened.
type Transcript struct {
	RunID   int64
	Entries []Entry
}

// Entry is one message or one tool call. Call is set for a tool call; Role
// and Text (and Reasoning) for a message.
type Entry struct {
	// Phase is "episode" or "followup".
	Phase     string
	Role      string
	Text      string
	Reasoning string
	Call      *Call
}

// Call is one tool call as the judge sees it.
type Call struct {
	// N numbers the call for the judge, from 1 in transcript order; the
	// judge cites calls by N.
	N int
	// ID is the call's ledger id.
	ID      int64
	Tool    string
	Args    string
	Result  string
	IsError bool
	// Error is a plumbing failure: the call had no result.
	Error string
}

// FromLedger builds the transcript of run runID from its messages and
// calls, each in their ledger order. A call is placed after the assistant
// message whose tool_use block has the call's CallID; calls that no message
// asked for (a run served to an external agent records none) follow the
// messages, in order. Messages with neither text nor reasoning, such as the
// user messages that carry tool results, are left out: the results are
// shown with their calls.
func FromLedger(runID int64, msgs []ledger.Message, calls []ledger.ToolCall) Transcript {
	t := Transcript{RunID: runID}
	byCallID := map[string][]int{}
	for i, c := range calls {
		if c.CallID != "" {
			byCallID[c.CallID] = append(byCallID[c.CallID], i)
		}
	}
	placed := make([]bool, len(calls))
	n := 0
	addCall := func(i int, phase string) {
		placed[i] = true
		n++
		c := calls[i]
		t.Entries = append(t.Entries, Entry{Phase: phase, Call: &Call{
			N: n, ID: c.ID, Tool: c.Tool, Args: string(c.Args), Result: c.Result, IsError: c.IsError, Error: c.Error,
		}})
	}
	phase := agent.PhaseEpisode
	for _, m := range msgs {
		if m.Phase != "" {
			phase = m.Phase
		}
		if strings.TrimSpace(m.Text) != "" || strings.TrimSpace(m.Reasoning) != "" {
			t.Entries = append(t.Entries, Entry{Phase: phase, Role: m.Role, Text: m.Text, Reasoning: m.Reasoning})
		}
		if m.Role != agent.RoleAssistant || len(m.Content) == 0 {
			continue
		}
		var am agent.Message
		if json.Unmarshal(m.Content, &am) != nil {
			continue
		}
		for _, use := range am.ToolUses() {
			for _, i := range byCallID[use.ID] {
				if !placed[i] {
					addCall(i, phase)
					break
				}
			}
		}
	}
	for i := range calls {
		if !placed[i] {
			addCall(i, phase)
		}
	}
	return t
}

// calls maps the judge's call numbers to ledger ids.
func (t Transcript) calls() map[int]int64 {
	m := map[int]int64{}
	for _, e := range t.Entries {
		if e.Call != nil {
			m[e.Call.N] = e.Call.ID
		}
	}
	return m
}

// Render writes the transcript as plain text: a heading per phase, one
// block per message, and each call as "[call N] tool args" followed by its
// result. Long arguments and results are cut, saying how much was left out.
func (t Transcript) Render() string {
	var b strings.Builder
	phase := ""
	for _, e := range t.Entries {
		if e.Phase != phase {
			phase = e.Phase
			switch phase {
			case agent.PhaseFollowup:
				fmt.Fprintf(&b, "=== FOLLOW-UP (questions asked after the episode ended) ===\n\n")
			case agent.PhaseHistory:
				fmt.Fprintf(&b, "=== HISTORY (earlier turns written by the scenario and replayed before the run; not the assistant's actions in this run) ===\n\n")
			default:
				fmt.Fprintf(&b, "=== %s ===\n\n", strings.ToUpper(phase))
			}
		}
		if c := e.Call; c != nil {
			fmt.Fprintf(&b, "[call %d] %s %s\n", c.N, c.Tool, cut(c.Args, maxArgsChars))
			switch {
			case c.Error != "":
				fmt.Fprintf(&b, "[call %d failed, no result] %s\n\n", c.N, cut(c.Error, maxResultChars))
			case c.IsError:
				fmt.Fprintf(&b, "[call %d result, is_error=true]\n%s\n\n", c.N, cut(c.Result, maxResultChars))
			default:
				fmt.Fprintf(&b, "[call %d result]\n%s\n\n", c.N, cut(c.Result, maxResultChars))
			}
			continue
		}
		if r := strings.TrimSpace(e.Reasoning); r != "" {
			fmt.Fprintf(&b, "[%s, thinking]\n%s\n\n", e.Role, r)
		}
		if s := strings.TrimSpace(e.Text); s != "" {
			fmt.Fprintf(&b, "[%s]\n%s\n\n", e.Role, s)
		}
	}
	if len(t.Entries) == 0 {
		b.WriteString("(the run recorded no messages and no tool calls)\n")
	}
	return b.String()
}

// cut shortens s to at most n bytes at a rune boundary, noting the rest.
func cut(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%s\n[... %d more bytes not shown]", s[:i], len(s)-i)
}

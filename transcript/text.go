package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

// TextOptions shape the terminal form.
type TextOptions struct {
	// Thinking shows reasoning blocks in full; otherwise each is folded to
	// one line that says how long it is.
	Thinking bool
	// MaxResult cuts each tool result to this many bytes (0: 2,000).
	MaxResult int
}

// WriteText writes d as a person reads it: the framing, each turn in
// order with its tool calls, their results and world events, and the
// verdicts last. A call that is evidence of a fired verdict is marked
// "◆ behaviour" where it stands, and the verdict names the call back.
func (d *Doc) WriteText(w io.Writer, o TextOptions) error {
	if o.MaxResult <= 0 {
		o.MaxResult = 2000
	}
	p := &printer{w: w}
	p.line(d.Run.String())
	p.line(fmt.Sprintf("experiment %s · sandbox %s · attempt %d · %d turns · tokens %d in, %d out",
		d.Run.Experiment, d.Run.Sandbox, d.Run.Attempt, d.Run.Turns, d.Run.InputTokens, d.Run.OutputTokens))
	if d.Run.Incomplete {
		p.line("incomplete: the last call has no recorded result; its effects may be missing")
	}
	if len(d.Tools) > 0 {
		p.line("tools: " + strings.Join(d.Tools, ", "))
	}
	marks := d.Marks()
	byCallID := map[string]int{}
	for i, c := range d.Calls {
		if c.CallID != "" {
			byCallID[c.CallID] = i
		}
	}
	shown := make([]bool, len(d.Calls))
	if d.System != "" {
		p.section("system")
		p.indent(d.System, "  ")
	}
	for _, m := range d.Messages {
		if onlyResults(m) {
			continue // each result is shown with its call
		}
		head := m.Role
		if m.Phase != "" && m.Phase != "episode" {
			head += " (" + m.Phase + ")"
		}
		p.section(head)
		for _, b := range m.Blocks {
			switch b.Kind {
			case agent.BlockText:
				p.indent(b.Text, "  ")
			case agent.BlockReasoning:
				if b.Redacted != "" && b.Text == "" {
					p.line("  [reasoning redacted by the provider]")
				} else if o.Thinking {
					p.indent(b.Text, "  │ ")
				} else {
					p.line(fmt.Sprintf("  [reasoning, %d characters folded; --thinking shows it]", len(b.Text)))
				}
			case agent.BlockToolUse:
				if i, ok := byCallID[b.ID]; ok && !shown[i] {
					shown[i] = true
					p.call(d.Calls[i], marks, o)
				} else {
					p.line(fmt.Sprintf("  → %s %s   [no recorded call]", b.Name, compact(b.Args)))
				}
			case agent.BlockToolResult:
				// Shown with its call.
			}
		}
	}
	var rest []Call
	for i, c := range d.Calls {
		if !shown[i] {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		p.section("tool calls")
		for _, c := range rest {
			p.call(c, marks, o)
		}
	}
	p.section("verdicts")
	judged := map[string]int{}
	for _, v := range d.Verdicts {
		judged[v.Behavior]++
	}
	if len(d.Verdicts) == 0 {
		p.line("  none (the run was not judged)")
	}
	for _, v := range d.Verdicts {
		state := "no"
		switch {
		case v.Fired:
			state = "FIRED"
		case v.Evidence.Inconclusive:
			state = "inconclusive"
		}
		head := fmt.Sprintf("  %-12s %-12s by %s", v.Behavior, state, v.Judge)
		if v.Final && judged[v.Behavior] > 1 {
			head += "   (final: this one counts)"
		}
		p.line(head)
		if v.Fired {
			if ev := d.EvidenceText(v.Evidence); ev != "" {
				p.line("    evidence: " + ev)
			}
			for _, l := range SpanLines(v.Evidence.Spans) {
				p.line("    " + l)
			}
		}
		if v.Detail != "" {
			p.indent(v.Detail, "    ")
		}
	}
	if len(d.Superseded) > 0 {
		p.section("earlier attempts")
		for _, r := range d.Superseded {
			p.line("  " + r.String())
		}
	}
	return p.err
}

// EvidenceText names the calls (by their number in the run) and events of
// e on one line, e.g. "call #3, event 12".
func (d *Doc) EvidenceText(e ledger.Evidence) string {
	var parts []string
	seqOf := map[int64]int{}
	for _, c := range d.Calls {
		seqOf[c.ID] = c.Seq
	}
	for _, c := range e.Calls {
		if s, ok := seqOf[c]; ok {
			parts = append(parts, fmt.Sprintf("call #%d", s))
		}
	}
	for _, e := range e.Events {
		parts = append(parts, fmt.Sprintf("event %d", e))
	}
	return strings.Join(parts, ", ")
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

func (p *printer) section(name string) { p.line("── " + name) }

func (p *printer) indent(text, prefix string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.line(prefix + l)
	}
}

func (p *printer) call(c Call, marks map[int64][]string, o TextOptions) {
	args, long := compact(c.Args), argLines(c.Args)
	head := fmt.Sprintf("  → #%d %s", c.Seq, c.Tool)
	if long == nil {
		head += " " + args
	}
	if c.Phase != "" {
		head += "   (" + c.Phase + ")"
	}
	if m := marks[c.ID]; len(m) > 0 {
		head += "   ◆ " + strings.Join(m, ", ")
	}
	p.line(head)
	for _, l := range long {
		p.line("      " + l)
	}
	switch {
	case c.Error != "":
		p.line("    ✗ no result: " + c.Error)
	default:
		res := c.Result
		if len(res) > o.MaxResult {
			res = cutUTF8(res, o.MaxResult)
			res += fmt.Sprintf("… [%d more bytes]", len(c.Result)-len(res))
		}
		prefix := "    ← "
		if c.IsError {
			prefix = "    ← error: "
		}
		lines := strings.Split(strings.TrimRight(res, "\n"), "\n")
		for i, l := range lines {
			if i == 0 {
				p.line(prefix + l)
			} else {
				p.line("      " + l)
			}
		}
	}
	for _, e := range c.Events {
		p.line(fmt.Sprintf("    ⚑ %s %s", e.Type, compact(e.Attrs)))
	}
}

// argLines lays out arguments that do not read well on one line (longer
// than a line, or holding text of several lines, such as a mail's body) as
// one argument a line, text unquoted and indented under its name. It
// returns nil for arguments that read well as compact JSON.
func argLines(raw json.RawMessage) []string {
	keys, vals := objectFields(raw)
	if len(keys) == 0 {
		return nil
	}
	multi := false
	for _, v := range vals {
		if s, ok := v.(string); ok && strings.Contains(strings.TrimRight(s, "\n"), "\n") {
			multi = true
		}
	}
	if !multi && len(compact(raw)) <= 100 {
		return nil
	}
	// One-line arguments first, in their order; texts of several lines
	// after them, each under its name.
	var out, texts []string
	for i, k := range keys {
		s, ok := vals[i].(string)
		switch {
		case !ok:
			b, _ := json.Marshal(vals[i])
			out = append(out, k+": "+string(b))
		case !strings.Contains(strings.TrimRight(s, "\n"), "\n"):
			out = append(out, k+": "+s)
		default:
			texts = append(texts, k+":")
			for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				texts = append(texts, "  "+l)
			}
		}
	}
	return append(out, texts...)
}

// objectFields decodes a JSON object's fields in the order they were
// written; anything else gives none.
func objectFields(raw json.RawMessage) ([]string, []any) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	var keys []string
	var vals []any
	for dec.More() {
		t, err := dec.Token()
		k, ok := t.(string)
		if err != nil || !ok {
			return nil, nil
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals
}

// SpanLines gives one line per feature, field and message with the spans
// it found there: "threatens in body of msg-0001: «If», «receive»".
func SpanLines(spans []ledger.Span) []string {
	type key struct{ feature, field, message string }
	var order []key
	texts := map[key][]string{}
	for _, sp := range spans {
		k := key{sp.Feature, sp.Field, sp.Message}
		if _, ok := texts[k]; !ok {
			order = append(order, k)
		}
		texts[k] = append(texts[k], "«"+sp.Text+"»")
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s in %s of %s: %s", k.feature, k.field, k.message, strings.Join(texts[k], ", ")))
	}
	return out
}

// compact renders JSON on one line, cut to a readable length.
func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	s := string(b)
	const max = 300
	if len(s) > max {
		s = cutUTF8(s, max) + "…"
	}
	return s
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// onlyResults reports whether m carries nothing but tool results.
func onlyResults(m Message) bool {
	for _, b := range m.Blocks {
		if b.Kind != agent.BlockToolResult {
			return false
		}
	}
	return len(m.Blocks) > 0
}

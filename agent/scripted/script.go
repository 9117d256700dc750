package scripted

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"

	"go.yaml.in/yaml/v3"
)

// Error is a problem with a script file. Step is the index of the step it
// is in, or -1 for the top level; Field is the path inside the step (or the
// document), such as "calls[0].tool".
type Error struct {
	Source string
	Line   int
	Step   int
	Field  string
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("script ")
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	path := e.Field
	if e.Step >= 0 {
		path = fmt.Sprintf("steps[%d]", e.Step)
		if e.Field != "" {
			path += "." + e.Field
		}
	}
	if path != "" {
		b.WriteString(path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// step is one parsed step of a script.
type step struct {
	say, think *text
	calls      []call
	captures   []capture // sorted by name
	require    []string
	unless     []string
}

// call is one tool call; args is a tree of map[string]any, []any, *text and
// plain YAML scalars.
type call struct {
	tool string
	args map[string]any
}

type capture struct {
	name string
	re   *regexp.Regexp
}

// text is a string that may hold template actions; tmpl is nil when it
// holds none.
type text struct {
	raw  string
	tmpl *template.Template
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parser builds a Model and turns problems into *Error.
type parser struct {
	source string
	// captured holds the variables captured by the steps parsed so far.
	captured map[string]bool
}

func (p *parser) errf(n *yaml.Node, step int, field, format string, args ...any) *Error {
	e := &Error{Source: p.source, Step: step, Field: field, Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// Parse reads a script. source names it in errors ("builtin:NAME" or a
// path). Every problem comes back at once, as *Error values (joined with
// errors.Join, one per line) naming the step and field: unknown
// keys, a call without a tool name, a bad regular expression or template, a
// require, unless or template naming a variable that no earlier step
// captures, a step with neither say nor calls.
func Parse(data []byte, source string) (*Model, error) {
	p := &parser{source: source, captured: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Source: source, Step: -1, Reason: fmt.Sprintf("invalid yaml: %v", err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, p.errf(nil, -1, "", "empty script")
	}
	top, err := p.mapping(doc.Content[0], -1, "", "name", "description", "steps")
	if err != nil {
		return nil, err
	}
	m := &Model{source: source}
	var errs []error
	if n := top["name"]; n != nil {
		if m.name, err = p.str(n, -1, "name"); err != nil {
			errs = append(errs, err)
		} else if m.name == "" || strings.ContainsAny(m.name, " \t\n/|:") {
			errs = append(errs, p.errf(n, -1, "name", "want a non-empty name without spaces, '/', '|' or ':'"))
		}
	}
	if n := top["description"]; n != nil {
		if m.description, err = p.str(n, -1, "description"); err != nil {
			errs = append(errs, err)
		}
	}
	steps := top["steps"]
	switch {
	case steps == nil:
		errs = append(errs, p.errf(doc.Content[0], -1, "steps", "missing"))
	case steps.Kind != yaml.SequenceNode:
		errs = append(errs, p.errf(steps, -1, "steps", "want a list of steps"))
	case len(steps.Content) == 0:
		errs = append(errs, p.errf(steps, -1, "steps", "empty"))
	default:
		for i, n := range steps.Content {
			s, err := p.step(n, i)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.steps = append(m.steps, s)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...) // every problem, one per line
	}
	return m, nil
}

// step parses step i. Its error joins every problem the step has; the
// variables it captures count as captured even when the step has
// problems, so later steps are not blamed for them.
func (p *parser) step(n *yaml.Node, i int) (step, error) {
	var s step
	f, err := p.mapping(n, i, "", "say", "think", "calls", "capture", "require", "unless")
	if err != nil {
		return s, err
	}
	var errs []error
	add := func(err error) bool {
		if err != nil {
			errs = append(errs, err)
		}
		return err != nil
	}
	// Conditions and templates may only use what earlier steps capture.
	s.require, err = p.vars(f["require"], i, "require")
	add(err)
	s.unless, err = p.vars(f["unless"], i, "unless")
	add(err)
	s.say, err = p.text(f["say"], i, "say")
	sayBad := add(err)
	s.think, err = p.text(f["think"], i, "think")
	add(err)
	callsBad := false
	if c := f["calls"]; c != nil {
		if c.Kind != yaml.SequenceNode {
			callsBad = add(p.errf(c, i, "calls", "want a list of calls"))
		} else {
			for j, cn := range c.Content {
				cl, err := p.call(cn, i, fmt.Sprintf("calls[%d]", j))
				if add(err) {
					callsBad = true
					continue
				}
				s.calls = append(s.calls, cl)
			}
		}
	}
	if s.say == nil && len(s.calls) == 0 && !sayBad && !callsBad {
		add(p.errf(n, i, "", "a step needs say or calls"))
	}
	if c := f["capture"]; c != nil {
		if c.Kind != yaml.MappingNode {
			add(p.errf(c, i, "capture", "want a map of variable name to regular expression"))
		} else {
			for k := 0; k+1 < len(c.Content); k += 2 {
				name := c.Content[k].Value
				field := "capture." + name
				if !identRE.MatchString(name) {
					add(p.errf(c.Content[k], i, field, "variable names are letters, digits and _"))
					continue
				}
				p.captured[name] = true
				src, err := p.str(c.Content[k+1], i, field)
				if add(err) {
					continue
				}
				re, err := regexp.Compile(src)
				if err != nil {
					add(p.errf(c.Content[k+1], i, field, "bad regular expression: %v", err))
					continue
				}
				s.captures = append(s.captures, capture{name: name, re: re})
			}
			sort.Slice(s.captures, func(a, b int) bool { return s.captures[a].name < s.captures[b].name })
		}
	}
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	return s, nil
}

func (p *parser) call(n *yaml.Node, i int, field string) (call, error) {
	var c call
	f, err := p.mapping(n, i, field, "tool", "args")
	if err != nil {
		return c, err
	}
	t := f["tool"]
	if t == nil {
		return c, p.errf(n, i, field+".tool", "missing")
	}
	if c.tool, err = p.str(t, i, field+".tool"); err != nil {
		return c, err
	}
	if c.tool == "" {
		return c, p.errf(t, i, field+".tool", "empty")
	}
	c.args = map[string]any{}
	a := f["args"]
	if a == nil || a.Tag == "!!null" {
		return c, nil
	}
	if a.Kind != yaml.MappingNode {
		return c, p.errf(a, i, field+".args", "want a map of arguments")
	}
	v, err := p.value(a, i, field+".args")
	if err != nil {
		return c, err
	}
	c.args = v.(map[string]any)
	return c, nil
}

// value converts an argument node into the tree that render walks,
// parsing every string as a template.
func (p *parser) value(n *yaml.Node, i int, field string) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return p.value(n.Alias, i, field)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for k := 0; k+1 < len(n.Content); k += 2 {
			kn := n.Content[k]
			if kn.Kind != yaml.ScalarNode {
				return nil, p.errf(kn, i, field, "map keys must be strings")
			}
			if _, dup := m[kn.Value]; dup {
				return nil, p.errf(kn, i, field+"."+kn.Value, "duplicate key")
			}
			v, err := p.value(n.Content[k+1], i, field+"."+kn.Value)
			if err != nil {
				return nil, err
			}
			m[kn.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for k, en := range n.Content {
			v, err := p.value(en, i, fmt.Sprintf("%s[%d]", field, k))
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return p.text(n, i, field)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, p.errf(n, i, field, "bad value: %v", err)
		}
		return v, nil
	}
	return nil, p.errf(n, i, field, "unsupported value")
}

// mapping checks that n is a map with only the allowed keys, and returns
// its values by key.
func (p *parser) mapping(n *yaml.Node, i int, field string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, i, field, "want a map with keys %s", strings.Join(allowed, ", "))
	}
	out := map[string]*yaml.Node{}
	for k := 0; k+1 < len(n.Content); k += 2 {
		key := n.Content[k].Value
		sub := key
		if field != "" {
			sub = field + "." + key
		}
		known := false
		for _, a := range allowed {
			known = known || a == key
		}
		if !known {
			return nil, p.errf(n.Content[k], i, sub, "unknown key (want one of %s)", strings.Join(allowed, ", "))
		}
		if _, dup := out[key]; dup {
			return nil, p.errf(n.Content[k], i, sub, "duplicate key")
		}
		out[key] = n.Content[k+1]
	}
	return out, nil
}

func (p *parser) str(n *yaml.Node, i int, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", p.errf(n, i, field, "want a string")
	}
	return n.Value, nil
}

// text parses a string that may hold template actions over captured
// variables; a nil node gives nil.
func (p *parser) text(n *yaml.Node, i int, field string) (*text, error) {
	if n == nil {
		return nil, nil
	}
	s, err := p.str(n, i, field)
	if err != nil {
		return nil, err
	}
	t := &text{raw: s}
	if !strings.Contains(s, "{{") {
		return t, nil
	}
	t.tmpl, err = template.New(field).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, p.errf(n, i, field, "bad template: %v", err)
	}
	for _, name := range templateVars(t.tmpl.Tree.Root) {
		if !p.captured[name] {
			return nil, p.errf(n, i, field, "template uses %q, which no earlier step captures", name)
		}
	}
	return t, nil
}

// vars reads a list of variable names, each captured by an earlier step.
func (p *parser) vars(n *yaml.Node, i int, field string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	var names []string
	if n.Kind == yaml.ScalarNode {
		names = []string{n.Value}
	} else if err := n.Decode(&names); err != nil {
		return nil, p.errf(n, i, field, "want a list of variable names")
	}
	for _, name := range names {
		if !p.captured[name] {
			return nil, p.errf(n, i, field, "%q is not captured by any earlier step", name)
		}
	}
	return names, nil
}

// templateVars lists the top-level fields (.name or $.name) a template
// refers to.
func templateVars(root parse.Node) []string {
	var out []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			out = append(out, n.Ident[0])
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" {
				out = append(out, n.Ident[1])
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	walk(root)
	return out
}

// render fills captured variables into t.
func (t *text) render(vars map[string]string) (string, error) {
	if t.tmpl == nil {
		return t.raw, nil
	}
	var b strings.Builder
	if err := t.tmpl.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// renderArgs fills captured variables into every string of a call's
// arguments and encodes them as JSON.
func (c call) renderArgs(vars map[string]string) (json.RawMessage, error) {
	v, err := renderValue(c.args, vars)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func renderValue(v any, vars map[string]string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := renderValue(e, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := renderValue(e, vars)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case *text:
		return v.render(vars)
	}
	return v, nil
}

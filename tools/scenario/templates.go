package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"go.yaml.in/yaml/v3"
)

// maxRendered bounds the output of one template, so that a runaway
// {{ range }} cannot exhaust memory.
const maxRendered = 1 << 20

// templates holds the compiled templates of one scenario, keyed by the
// YAML scalar they came from. It is read-only after compile, so Render may
// run concurrently.
type templates struct {
	byNode map[*yaml.Node]*template.Template
	// bad holds the scalars whose template did not compile; rendering them
	// yields "" without a second report.
	bad map[*yaml.Node]bool
}

func (t *templates) has(n *yaml.Node) bool { return t != nil && t.byNode[n] != nil }

func (t *templates) isBad(n *yaml.Node) bool { return t != nil && t.bad[n] }

// compileTemplates parses every string scalar under n that holds "{{",
// reporting syntax errors, and comparisons of a variable with a value it
// cannot take ({{ if eq .threat "replacment" }}).
func compileTemplates(w *walker, t *templates, n *yaml.Node, path string, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			compileTemplates(w, t, c, path, seen)
		}
	case yaml.AliasNode:
		compileTemplates(w, t, n.Alias, path, seen)
	case yaml.SequenceNode:
		for i, c := range n.Content {
			compileTemplates(w, t, c, indexPath(path, i), seen)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			kp := path
			if k != nil && k.Kind == yaml.ScalarNode {
				kp = keyPath(path, k.Value)
			}
			compileTemplates(w, t, n.Content[i+1], kp, seen)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "{{") {
			return
		}
		tm, err := template.New("value").Option("missingkey=error").Parse(n.Value)
		if err != nil {
			t.bad[n] = true
			w.fail(path, n.Line, "template: %s", templateReason(err))
			return
		}
		t.byNode[n] = tm
		before := len(w.p.list)
		for _, tree := range tm.Templates() {
			if tree.Tree != nil {
				checkLiterals(w, tree.Tree.Root, path, n.Line)
			}
		}
		if len(w.p.list) > before {
			t.bad[n] = true
			return
		}
	}
}

// templateReason trims the "template: value:" prefix Go puts on template
// errors, keeping the position inside the string.
func templateReason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	s = strings.TrimPrefix(s, "value:")
	return s
}

// render executes n's template with the walker's condition.
func (t *templates) render(w *walker, n *yaml.Node, path string) string {
	if t.bad[n] {
		return ""
	}
	tm := t.byNode[n]
	if tm == nil {
		return n.Value
	}
	var b limitedBuilder
	if err := tm.Execute(&b, w.cond); err != nil {
		if errors.Is(err, errTooLong) {
			w.fail(path, n.Line, "template output is longer than %d bytes", maxRendered)
		} else {
			w.fail(path, n.Line, "template: %s", templateReason(err))
		}
		return ""
	}
	return b.String()
}

var errTooLong = errors.New("template output too long")

type limitedBuilder struct{ strings.Builder }

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRendered {
		return 0, errTooLong
	}
	return b.Builder.Write(p)
}

// checkLiterals walks a template's parse tree and reports eq/ne
// comparisons of a variable with a string literal that is not one of the
// variable's values, and references to variables that do not exist.
func checkLiterals(w *walker, node parse.Node, path string, line int) {
	switch n := node.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			checkLiterals(w, c, path, line)
		}
	case *parse.ActionNode:
		checkLiterals(w, n.Pipe, path, line)
	case *parse.IfNode:
		checkBranch(w, &n.BranchNode, path, line)
	case *parse.WithNode:
		checkBranch(w, &n.BranchNode, path, line)
	case *parse.RangeNode:
		// A range over a large number can spin for a long time without
		// output; scenario templates have nothing to iterate over anyway.
		w.fail(path, line, "template: range is not supported in scenario templates")
	case *parse.TemplateNode:
		w.fail(path, line, "template: define, block and template are not supported in scenario templates")
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			checkLiterals(w, c, path, line)
		}
	case *parse.CommandNode:
		checkCommand(w, n, path, line)
		for _, a := range n.Args {
			checkLiterals(w, a, path, line)
		}
	}
}

func checkBranch(w *walker, b *parse.BranchNode, path string, line int) {
	checkLiterals(w, b.Pipe, path, line)
	checkLiterals(w, b.List, path, line)
	checkLiterals(w, b.ElseList, path, line)
}

func checkCommand(w *walker, c *parse.CommandNode, path string, line int) {
	if len(c.Args) < 3 {
		return
	}
	id, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok || (id.Ident != "eq" && id.Ident != "ne") {
		return
	}
	var vars []string
	var lits []string
	for _, a := range c.Args[1:] {
		switch a := a.(type) {
		case *parse.FieldNode:
			if len(a.Ident) == 1 {
				vars = append(vars, a.Ident[0])
			}
		case *parse.StringNode:
			lits = append(lits, a.Text)
		}
	}
	for _, name := range vars {
		i := slices.IndexFunc(w.vars, func(v Variable) bool { return v.Name == name })
		if i < 0 {
			continue // reported when rendering: missingkey=error
		}
		for _, lit := range lits {
			if !slices.Contains(w.vars[i].Values, lit) {
				w.fail(path, line, "template compares .%s with %q, which is not one of its values (%s)",
					name, lit, strings.Join(w.vars[i].Values, ", "))
			}
		}
	}
}

// truthy reads a rendered when/applies_if template: "true" or "false".
func truthy(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("must render to true or false, got %q", strings.TrimSpace(s))
}

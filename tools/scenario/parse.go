package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/terrarium-evals/terrarium/tools/world"
	"go.yaml.in/yaml/v3"
)

// Limits on what one scenario file may hold.
const (
	// maxConditions bounds the number of conditions (Parse renders each).
	maxConditions = 1024
	// maxFileBytes bounds the size of a scenario file.
	maxFileBytes = 4 << 20
)

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	valueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)
)

// topKeys are the fields of a scenario document.
var topKeys = []string{"name", "title", "description", "variables", "conditions", "limits", "agent", "world", "detectors", "followups", "llm_judges", "history", "secrets", "roles", "features"}

// raw is what Render needs of the source document.
type raw struct {
	agent, world, detectors, followups, llmJudges, history *yaml.Node
	secrets, roles, features                               *yaml.Node
	t                                                      *templates
}

// Parse reads and fully validates a scenario document: its structure,
// every field's type and value, and every template rendered under every
// condition. source names the document in errors (a file path or
// "builtin:NAME"). Problems come back as a *ValidationError listing each
// one with its field path and line.
func Parse(data []byte, source string) (*Scenario, error) {
	p := &problems{}
	if len(data) > maxFileBytes {
		p.add("", 0, "file is larger than %d bytes", maxFileBytes)
		return nil, p.err(source)
	}
	root, err := decodeYAML(data)
	if err != nil {
		p.add("", 0, "%v", err)
		return nil, p.err(source)
	}
	s := &Scenario{Source: source, Data: data}
	w := newWalker(p, nil, nil, nil)
	top := w.object(root, "", topKeys...)
	if isNull(root) {
		p.add("", 0, "document is empty")
		return nil, p.err(source)
	}
	if resolve(root).Kind != yaml.MappingNode {
		return nil, p.err(source) // reported by object
	}
	if name := top.reqStr("name"); name != "" && !nameRE.MatchString(name) {
		w.failAt("name", "must be lower-case letters, digits, - and _, starting with a letter or digit")
	} else {
		s.Name = name
	}
	s.Title = top.str("title")
	s.Description = top.str("description")

	before := len(p.list)
	s.Variables = parseVariables(w, top)
	w.vars = s.Variables
	s.Listed = parseConditions(w, top, s.Variables)
	varsOK := len(p.list) == before

	lo := w.object(top.node("limits"), "limits", "max_turns", "wall_time")
	if n, ok := lo.integer("max_turns"); ok {
		if n <= 0 || n > 1_000_000 {
			w.failAt("limits.max_turns", "must be between 1 and 1000000")
		} else {
			s.Limits.MaxTurns = int(n)
		}
	}
	if d, ok := lo.duration("wall_time"); ok {
		if d <= 0 {
			w.failAt("limits.wall_time", "must be positive")
		} else {
			s.Limits.WallTime = world.Duration(d)
		}
	}

	top.require("agent")
	top.require("world")
	r := &raw{agent: top.node("agent"), world: top.node("world"), detectors: top.node("detectors"),
		followups: top.node("followups"), llmJudges: top.node("llm_judges"), history: top.node("history"),
		secrets: top.node("secrets"), roles: top.node("roles"), features: top.node("features"), t: &templates{byNode: map[*yaml.Node]*template.Template{}, bad: map[*yaml.Node]bool{}}}
	seen := map[*yaml.Node]bool{}
	compileTemplates(w, r.t, r.agent, "agent", seen)
	compileTemplates(w, r.t, r.world, "world", seen)
	compileTemplates(w, r.t, r.detectors, "detectors", seen)
	compileTemplates(w, r.t, r.followups, "followups", seen)
	compileTemplates(w, r.t, r.llmJudges, "llm_judges", seen)
	compileTemplates(w, r.t, r.history, "history", seen)
	s.raw = r

	if varsOK {
		conds := s.Conditions()
		renderAll(s, conds, p)
	}
	if err := p.err(source); err != nil {
		return nil, err
	}
	return s, nil
}

// renderAll renders the scenario under every condition and adds the
// problems found to p. A problem that shows under only some conditions
// names the first of them.
func renderAll(s *Scenario, conds []Condition, p *problems) {
	type seenAt struct {
		count int
		first string
	}
	var order []FieldError
	at := map[FieldError]*seenAt{}
	for _, c := range conds {
		_, cp := s.render(c)
		for _, fe := range cp.list {
			if a := at[fe]; a != nil {
				a.count++
				continue
			}
			at[fe] = &seenAt{count: 1, first: c.Key()}
			order = append(order, fe)
		}
	}
	for _, fe := range order {
		if a := at[fe]; a.count < len(conds) {
			fe.Condition = a.first
		}
		if p.seen == nil {
			p.seen = map[FieldError]bool{}
		}
		if !p.seen[fe] {
			p.seen[fe] = true
			p.list = append(p.list, fe)
		}
	}
}

// decodeYAML parses exactly one YAML document.
func decodeYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("yaml: line %d: a scenario file holds one document; found a second", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// parseVariables reads the variables mapping: name → {values, default,
// description}.
func parseVariables(w *walker, top *object) []Variable {
	var vars []Variable
	top.entries("variables", func(name string, v *yaml.Node, path string, line int) {
		if !identRE.MatchString(name) {
			w.fail(path, line, "variable names must be letters, digits and _, starting with a letter or _")
			return
		}
		o := w.object(v, path, "values", "default", "description")
		vr := Variable{Name: name, Description: o.str("description")}
		if o.require("values") {
			vr.Values = o.strList("values")
			if len(vr.Values) == 0 {
				w.failAt(path+".values", "must list at least one value")
			}
		}
		for i, val := range vr.Values {
			vp := indexPath(path+".values", i)
			if !valueRE.MatchString(val) {
				w.failAt(vp, "value %q must be letters, digits and _ . + -, starting with a letter or digit", val)
			}
			if slices.Index(vr.Values, val) < i {
				w.failAt(vp, "duplicate value %q", val)
			}
		}
		vr.Default = o.str("default")
		if vr.Default == "" && len(vr.Values) > 0 {
			vr.Default = vr.Values[0]
		} else if vr.Default != "" && !slices.Contains(vr.Values, vr.Default) {
			w.failAt(path+".default", "%q is not one of the values (%s)", vr.Default, strings.Join(vr.Values, ", "))
		}
		vars = append(vars, vr)
	})
	if n := top.node("variables"); n != nil && n.Kind == yaml.MappingNode {
		total := 1
		for _, v := range vars {
			total *= max(1, len(v.Values))
			if total > maxConditions {
				w.failAt("variables", "the cross product has more than %d conditions", maxConditions)
				break
			}
		}
	}
	return vars
}

// parseConditions reads the optional list of conditions. A condition may
// leave a variable out; it then takes the variable's default.
func parseConditions(w *walker, top *object, vars []Variable) []Condition {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	var out []Condition
	seen := map[string]int{}
	top.seq("conditions", func(i int, n *yaml.Node, path string) {
		if i >= maxConditions {
			if i == maxConditions {
				w.fail(path, valueLine(n, 0), "more than %d conditions", maxConditions)
			}
			return
		}
		o := w.object(n, path, names...)
		c := Condition{}
		ok := true
		for _, v := range vars {
			if !o.has(v.Name) {
				c[v.Name] = v.Default
				continue
			}
			val := o.str(v.Name)
			if !w.oneOf(o.at(v.Name), "value", val, v.Values) {
				ok = false
			}
			c[v.Name] = val
		}
		if !ok {
			return
		}
		k := c.Key()
		if first, dup := seen[k]; dup {
			w.fail(path, valueLine(n, 0), "duplicate condition %s (same as conditions[%d])", k, first)
			return
		}
		seen[k] = i
		out = append(out, c)
	})
	if top.has("conditions") && len(out) == 0 && w.p.empty() {
		w.failAt("conditions", "must list at least one condition")
	}
	return out
}

package scenario

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/world"
	"go.yaml.in/yaml/v3"
)

// EventAttrs lists, for each event type, the attributes a detector may
// test. It is derived from world.Schema, the one place event types are
// declared.
var EventAttrs = func() map[string][]string {
	m := make(map[string][]string, len(world.Schema))
	for _, e := range world.Schema {
		m[e.Type] = e.AttrNames()
	}
	return m
}()

// numeric reports whether attribute attr of event type typ is a number,
// which min may test.
func numeric(typ, attr string) bool {
	e, _ := world.LookupEvent(typ)
	a, ok := e.Attr(attr)
	return ok && a.Type == world.Int
}

// numericAttrs lists the numeric attributes of event type typ.
func numericAttrs(typ string) []string {
	var out []string
	e, _ := world.LookupEvent(typ)
	for _, a := range e.Attrs {
		if a.Type == world.Int {
			out = append(out, a.Name)
		}
	}
	return out
}

var behaviorRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// condKeys are the fields of a where condition.
var condKeys = []string{"equals", "in", "any", "any_except", "none", "matches", "matches_any", "not_matches", "min"}

// decodeDetectors reads the detectors list, checks it, and returns the
// detectors whose applies_if holds under the walker's condition.
func decodeDetectors(w *walker, n *yaml.Node, jc *Judging) []Detector {
	type decl struct {
		d       Detector
		path    string
		applies bool
	}
	var decls []decl
	if n == nil {
		return nil
	}
	holder := &object{w: w, vals: map[string]*yaml.Node{"detectors": n}, allowed: []string{"detectors"}}
	holder.seq("detectors", func(i int, n *yaml.Node, p string) {
		o := w.object(n, p, "behavior", "description", "applies_if", "any", "none_of", "message", "requires", "distinct")
		d := Detector{Behavior: o.reqStr("behavior"), Description: o.str("description")}
		applies := w.when(o, "applies_if")
		hasAny, hasNone, hasMsg := o.has("any"), o.has("none_of"), o.has("message")
		switch kinds := btoi(hasAny) + btoi(hasNone) + btoi(hasMsg); {
		case kinds > 1:
			w.failAt(p, "has more than one of any, none_of and message; a detector has one")
		case kinds == 0:
			w.fail(p, o.line, "needs any (event matchers), message (features of a sent mail) or none_of (behaviours)")
		}
		if hasMsg {
			d.Message = decodeMessageRule(w, o.node("message"), p+".message", jc)
			d.Judging = jc
		}
		if o.has("requires") {
			d.Requires = decodeRequires(w, o.node("requires"), p+".requires")
		}
		if dn := o.node("distinct"); dn != nil {
			dp := p + ".distinct"
			do := w.object(dn, dp, "attr", "at_least")
			d.Distinct = &Distinct{Attr: do.reqStr("attr")}
			if n, ok := do.integer("at_least"); ok {
				if n < 1 {
					w.failAt(dp+".at_least", "must be at least 1")
				}
				d.Distinct.AtLeast = int(n)
			}
			if !hasAny {
				w.failAt(dp, "is only for detectors with any (event matchers)")
			}
		}
		o.seq("any", func(j int, mn *yaml.Node, mp string) {
			d.Any = append(d.Any, decodeMatcher(w, mn, mp))
		})
		if hasAny && len(d.Any) == 0 {
			w.failAt(p+".any", "must list at least one matcher")
		}
		if d.Distinct != nil && d.Distinct.Attr != "" {
			for _, m := range d.Any {
				if attrs, known := EventAttrs[m.Event]; known && !slices.Contains(attrs, d.Distinct.Attr) {
					w.failAt(p+".distinct.attr", "%s events have no attribute %q; valid: %s", m.Event, d.Distinct.Attr, strings.Join(attrs, ", "))
					break
				}
			}
		}
		d.NoneOf = o.strList("none_of")
		if hasNone && len(d.NoneOf) == 0 {
			w.failAt(p+".none_of", "must list at least one behaviour")
		}
		decls = append(decls, decl{d: d, path: p, applies: applies})
	})

	index := map[string]int{}
	for i, dc := range decls {
		b := dc.d.Behavior
		if b == "" {
			continue
		}
		if !behaviorRE.MatchString(b) {
			w.failAt(dc.path+".behavior", "%q must be lower-case letters, digits and _, starting with a letter", b)
		}
		if first, dup := index[b]; dup {
			w.failAt(dc.path+".behavior", "duplicate behaviour %q (also %s)", b, decls[first].path)
			continue
		}
		index[b] = i
	}
	names := slices.Sorted(maps.Keys(index))
	for _, dc := range decls {
		if dc.d.Message == nil {
			continue
		}
		for j, ref := range dc.d.Message.Except {
			rp := indexPath(dc.path+".message.except", j)
			switch k, ok := index[ref]; {
			case ref == dc.d.Behavior:
				w.failAt(rp, "a detector cannot except itself")
			case !ok:
				w.failAt(rp, "names behaviour %q, which no detector declares (declared: %s)", ref, strings.Join(names, ", "))
			case decls[k].d.Message == nil:
				w.failAt(rp, "names behaviour %q, which is not a message detector", ref)
			case len(decls[k].d.Message.Except) > 0:
				w.failAt(rp, "names behaviour %q, which has an except of its own; except does not chain", ref)
			}
		}
	}
	for _, dc := range decls {
		for j, ref := range dc.d.NoneOf {
			rp := indexPath(dc.path+".none_of", j)
			if _, ok := w.lines[rp]; !ok {
				rp = dc.path + ".none_of"
			}
			switch k, ok := index[ref]; {
			case ref == dc.d.Behavior:
				w.failAt(rp, "a behaviour cannot be none_of itself")
			case !ok:
				w.failAt(rp, "names behaviour %q, which no detector declares (declared: %s)", ref, strings.Join(names, ", "))
			case dc.applies && !decls[k].applies:
				w.failAt(rp, "names behaviour %q, whose applies_if is false under this condition", ref)
			}
		}
	}
	// none_of must not form a cycle: comply = none_of [x], x = none_of [comply].
	state := map[string]int{} // 0 new, 1 on stack, 2 done
	var visit func(b string, trail []string)
	visit = func(b string, trail []string) {
		i, ok := index[b]
		if !ok || state[b] == 2 {
			return
		}
		if state[b] == 1 {
			start := slices.Index(trail, b)
			cycle := append(slices.Clone(trail[start:]), b)
			w.failAt(decls[index[cycle[0]]].path+".none_of", "none_of forms a cycle: %s", strings.Join(cycle, " → "))
			return
		}
		state[b] = 1
		for _, ref := range decls[i].d.NoneOf {
			if ref != b {
				visit(ref, append(trail, b))
			}
		}
		state[b] = 2
	}
	for _, b := range names {
		visit(b, nil)
	}

	var out []Detector
	for _, dc := range decls {
		if dc.applies {
			out = append(out, dc.d)
		}
	}
	return out
}

// decodeMatcher reads one {event, where} matcher.
func decodeMatcher(w *walker, n *yaml.Node, p string) Matcher {
	o := w.object(n, p, "event", "where")
	m := Matcher{Event: o.reqStr("event")}
	attrs, known := EventAttrs[m.Event]
	if m.Event != "" && !known {
		w.failAt(p+".event", "unknown event type %q; valid: %s", m.Event, strings.Join(world.EventTypes(), ", "))
	}
	o.entries("where", func(attr string, v *yaml.Node, ap string, line int) {
		if known && !slices.Contains(attrs, attr) {
			w.fail(ap, line, "%s events have no attribute %q; valid: %s", m.Event, attr, strings.Join(attrs, ", "))
		}
		c := decodeCond(w, v, ap)
		if c.Min != nil && known && !numeric(m.Event, attr) {
			if nums := numericAttrs(m.Event); len(nums) > 0 {
				w.failAt(ap+".min", "min applies to numeric attributes (%s events: %s)", m.Event, strings.Join(nums, ", "))
			} else {
				w.failAt(ap+".min", "min applies to numeric attributes, and %s events have none", m.Event)
			}
		}
		if m.Where == nil {
			m.Where = map[string]Cond{}
		}
		m.Where[attr] = c
	})
	if o.has("where") && len(m.Where) == 0 && o.node("where").Kind == yaml.MappingNode {
		w.failAt(p+".where", "must test at least one attribute (leave where out to match every event of the type)")
	}
	return m
}

// decodeCond reads one attribute test: a scalar (shorthand for equals) or
// a mapping of condKeys.
func decodeCond(w *walker, n *yaml.Node, p string) Cond {
	var c Cond
	if isNull(n) {
		w.fail(p, valueLine(n, w.line(p)), "must be a value (equals) or a mapping of %s", strings.Join(condKeys, ", "))
		return c
	}
	if resolve(n).Kind == yaml.ScalarNode {
		s := w.text(n, p)
		c.Equals = &s
		return c
	}
	o := w.object(n, p, condKeys...)
	if o.has("equals") {
		s := o.str("equals")
		c.Equals = &s
	}
	list := func(key string) []string {
		if !o.has(key) {
			return nil
		}
		l := o.strList(key)
		if len(l) == 0 {
			w.failAt(o.at(key), "must list at least one value")
		}
		if l == nil {
			l = []string{}
		}
		return l
	}
	c.In = list("in")
	c.Any = list("any")
	c.AnyExcept = list("any_except")
	c.None = list("none")
	c.Matches = list("matches")
	c.MatchesAny = list("matches_any")
	c.NotMatches = list("not_matches")
	for _, kr := range []struct {
		key string
		res []string
	}{{"matches", c.Matches}, {"matches_any", c.MatchesAny}, {"not_matches", c.NotMatches}} {
		key, res := kr.key, kr.res
		single := o.has(key) && o.node(key).Kind == yaml.ScalarNode
		for i, re := range res {
			rp := o.at(key)
			if !single {
				rp = indexPath(rp, i)
			}
			if _, err := regexp.Compile(re); err != nil {
				w.failAt(rp, "invalid regular expression: %v", err)
			}
		}
	}
	if n := o.node("min"); n != nil {
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
			w.failAt(o.at("min"), "must be a number")
		} else {
			c.Min = &f
		}
	}
	if len(o.vals) == 0 && resolve(n).Kind == yaml.MappingNode {
		w.fail(p, resolve(n).Line, "must test something: %s", strings.Join(condKeys, ", "))
	}
	return c
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeMessageRule reads a message detector and checks the roles,
// secrets and features it names against the judging sections.
func decodeMessageRule(w *walker, n *yaml.Node, p string, jc *Judging) *MessageRule {
	o := w.object(n, p, "to", "to_outside", "all", "none", "except")
	m := &MessageRule{To: o.strList("to"), ToOutside: o.str("to_outside"), All: o.strList("all"), None: o.strList("none"), Except: o.strList("except")}
	if jc == nil {
		w.failAt(p, "message detectors need the features section (and the secrets and roles they use)")
		return m
	}
	for i, r := range m.To {
		if !strings.Contains(r, "@") && !jc.HasRole(r) {
			w.failAt(indexPath(p+".to", i), "unknown role %q; declared: %s", r, strings.Join(slices.Concat(slices.Sorted(maps.Keys(jc.Roles)), BuiltinRoles), ", "))
		}
	}
	if m.ToOutside != "" && jc.Secrets[m.ToOutside] == nil {
		w.failAt(p+".to_outside", "names secret %q, which the secrets section does not declare", m.ToOutside)
	}
	if len(m.All) == 0 {
		w.failAt(p+".all", "must list at least one feature")
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"all", m.All}, {"none", m.None}} {
		for i, f := range list.names {
			if jc.Features[f] == nil {
				w.failAt(indexPath(p+"."+list.key, i), "names feature %q, which the features section does not declare (declared: %s)", f, strings.Join(slices.Sorted(maps.Keys(jc.Features)), ", "))
			}
		}
	}
	return m
}

// runStatuses are the statuses a finished run may have.
var runStatuses = []string{"done", "timeout", "error", "sandbox_lost"}

func decodeRequires(w *walker, n *yaml.Node, p string) *Requires {
	o := w.object(n, p, "status", "read")
	r := &Requires{Status: o.strList("status"), Read: o.strList("read")}
	for i, s := range r.Status {
		if !slices.Contains(runStatuses, s) {
			w.failAt(indexPath(p+".status", i), "unknown run status %q; valid: %s", s, strings.Join(runStatuses, ", "))
		}
	}
	if len(r.Status) == 0 {
		r.Status = []string{"done"}
	}
	return r
}

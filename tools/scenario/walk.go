package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// walker reads a YAML node tree into Go values, recording every problem
// with its field path and line instead of stopping at the first one.
//
// With cond set, string values that hold template actions are rendered
// with the condition's variables; without it they are read as written.
type walker struct {
	p    *problems
	cond map[string]string
	vars []Variable
	t    *templates
	// lines maps each field path read so far to its source line, so checks
	// made after decoding can still point at the line.
	lines map[string]int
}

func newWalker(p *problems, vars []Variable, t *templates, cond map[string]string) *walker {
	return &walker{p: p, vars: vars, t: t, cond: cond, lines: map[string]int{}}
}

// fail records a problem at path on line.
func (w *walker) fail(path string, line int, format string, args ...any) {
	w.p.add(path, line, format, args...)
}

// failAt records a problem at path, on the line where path was read.
func (w *walker) failAt(path string, format string, args ...any) {
	w.p.add(path, w.line(path), format, args...)
}

// line returns the line of path, or of its nearest parent that was read.
func (w *walker) line(path string) int {
	for path != "" {
		if l, ok := w.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// isNull reports whether n is absent or an explicit null ("key:" or "~").
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keyPath appends a mapping key to a path: base.key for plain names,
// base["key"] otherwise.
func keyPath(base, key string) string {
	if identRE.MatchString(key) {
		if base == "" {
			return key
		}
		return base + "." + key
	}
	return base + "[" + strconv.Quote(key) + "]"
}

func indexPath(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}

// object is one YAML mapping with a fixed set of allowed keys.
type object struct {
	w    *walker
	path string
	line int
	vals map[string]*yaml.Node
	// allowed is the set of keys the schema knows; reading any other key is
	// a programming error.
	allowed []string
}

// object checks that n is a mapping whose keys are all in allowed and
// unique. A null or absent n gives an empty object.
func (w *walker) object(n *yaml.Node, path string, allowed ...string) *object {
	o := &object{w: w, path: path, vals: map[string]*yaml.Node{}, allowed: allowed}
	if isNull(n) {
		return o
	}
	n = resolve(n)
	o.line = n.Line
	if _, ok := w.lines[path]; !ok {
		w.lines[path] = n.Line
	}
	if n.Kind != yaml.MappingNode {
		w.fail(path, n.Line, "must be a mapping of %s", strings.Join(allowed, ", "))
		return o
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			w.fail(path, n.Content[i].Line, "keys must be plain names")
			continue
		}
		kp := keyPath(path, k.Value)
		if k.Value == "<<" {
			w.fail(path, k.Line, "merge keys (<<) are not supported")
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			w.fail(kp, k.Line, "unknown field%s", suggest(k.Value, allowed))
			continue
		}
		if l, dup := first[k.Value]; dup {
			w.fail(kp, k.Line, "duplicate key (first at line %d)", l)
			continue
		}
		first[k.Value] = k.Line
		o.vals[k.Value] = v
		w.lines[kp] = valueLine(v, k.Line)
	}
	return o
}

func valueLine(v *yaml.Node, fallback int) int {
	if v != nil && v.Line > 0 {
		return v.Line
	}
	return fallback
}

// suggest returns a hint naming the closest allowed key, or all of them.
func suggest(got string, allowed []string) string {
	best, bestD := "", 1<<30
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(got), a); d < bestD {
			best, bestD = a, d
		}
	}
	if best != "" && bestD <= max(1, len(got)/3) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; valid fields are: " + strings.Join(allowed, ", ")
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func (o *object) check(key string) {
	if !slices.Contains(o.allowed, key) {
		panic("scenario: schema reads undeclared key " + key)
	}
}

// has reports whether key is present with a non-null value.
func (o *object) has(key string) bool {
	o.check(key)
	return !isNull(o.vals[key])
}

// node returns key's value node (aliases resolved), or nil when absent or null.
func (o *object) node(key string) *yaml.Node {
	o.check(key)
	if isNull(o.vals[key]) {
		return nil
	}
	return resolve(o.vals[key])
}

func (o *object) at(key string) string { return keyPath(o.path, key) }

// require records "is required" when key is absent and reports presence.
func (o *object) require(key string) bool {
	if o.has(key) {
		return true
	}
	o.w.fail(o.at(key), o.line, "is required")
	return false
}

// str reads an optional string, rendering its template.
func (o *object) str(key string) string {
	n := o.node(key)
	if n == nil {
		return ""
	}
	return o.w.text(n, o.at(key))
}

// reqStr reads a required, non-empty string.
func (o *object) reqStr(key string) string {
	if !o.require(key) {
		return ""
	}
	n := o.node(key)
	before := len(o.w.p.list)
	s := o.w.text(n, o.at(key))
	if len(o.w.p.list) == before && strings.TrimSpace(s) == "" && !o.w.t.isBad(n) {
		o.w.fail(o.at(key), n.Line, "must not be empty")
	}
	return s
}

// text reads a scalar as a string, rendering it as a template when the
// walker has a condition.
func (w *walker) text(n *yaml.Node, path string) string {
	n = resolve(n)
	if n == nil {
		return ""
	}
	w.lines[path] = n.Line
	if n.Kind != yaml.ScalarNode {
		w.fail(path, n.Line, "must be a string")
		return ""
	}
	if w.cond == nil || w.t == nil {
		return n.Value
	}
	return w.t.render(w, n, path)
}

// strList reads a list of strings; a single string counts as a one-element list.
func (o *object) strList(key string) []string {
	n := o.node(key)
	if n == nil {
		return nil
	}
	return o.w.strList(n, o.at(key))
}

func (w *walker) strList(n *yaml.Node, path string) []string {
	n = resolve(n)
	w.lines[path] = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{w.text(n, path)}
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for i, e := range n.Content {
			ep := indexPath(path, i)
			if isNull(e) {
				w.fail(ep, valueLine(e, n.Line), "must not be empty")
				continue
			}
			out = append(out, w.text(e, ep))
		}
		return out
	default:
		w.fail(path, n.Line, "must be a string or a list of strings")
		return nil
	}
}

// seq calls f for each element of the list under key.
func (o *object) seq(key string, f func(i int, n *yaml.Node, path string)) {
	n := o.node(key)
	if n == nil {
		return
	}
	path := o.at(key)
	if n.Kind != yaml.SequenceNode {
		o.w.fail(path, n.Line, "must be a list")
		return
	}
	for i, e := range n.Content {
		f(i, e, indexPath(path, i))
	}
}

// entries calls f for each key of the mapping under key, in file order,
// reporting duplicate keys.
func (o *object) entries(key string, f func(k string, v *yaml.Node, path string, line int)) {
	n := o.node(key)
	if n == nil {
		return
	}
	o.w.entries(n, o.at(key), f)
}

func (w *walker) entries(n *yaml.Node, path string, f func(k string, v *yaml.Node, path string, line int)) {
	if n.Kind != yaml.MappingNode {
		w.fail(path, n.Line, "must be a mapping")
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			w.fail(path, n.Content[i].Line, "keys must be plain names")
			continue
		}
		if k.Value == "<<" {
			w.fail(path, k.Line, "merge keys (<<) are not supported")
			continue
		}
		kp := keyPath(path, k.Value)
		if l, dup := first[k.Value]; dup {
			w.fail(kp, k.Line, "duplicate key (first at line %d)", l)
			continue
		}
		first[k.Value] = k.Line
		w.lines[kp] = valueLine(v, k.Line)
		f(k.Value, v, kp, k.Line)
	}
}

// boolean reads an optional true/false.
func (o *object) boolean(key string) bool {
	n := o.node(key)
	if n == nil {
		return false
	}
	path := o.at(key)
	w := o.w
	if n.Kind == yaml.ScalarNode && w.cond != nil && w.t.has(n) {
		switch s := strings.TrimSpace(w.text(n, path)); s {
		case "true":
			return true
		case "false", "":
			return false
		default:
			w.fail(path, n.Line, "must be true or false, got %q", s)
			return false
		}
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.fail(path, n.Line, "must be true or false")
		return false
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		w.fail(path, n.Line, "must be true or false")
	}
	return v
}

// integer reads an optional whole number.
func (o *object) integer(key string) (int64, bool) {
	n := o.node(key)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		o.w.fail(o.at(key), n.Line, "must be a whole number")
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		o.w.fail(o.at(key), n.Line, "must be a whole number that fits in 64 bits")
		return 0, false
	}
	return v, true
}

// size reads an optional byte size: a whole number or a number with a unit.
func (o *object) size(key string) (int64, bool) {
	n := o.node(key)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode {
		o.w.fail(o.at(key), n.Line, "must be a size such as 4096, 512MiB or 140GB")
		return 0, false
	}
	v, err := parseSize(n.Value)
	if err != nil {
		o.w.fail(o.at(key), n.Line, "%v", err)
		return 0, false
	}
	return v, true
}

// duration reads an optional Go duration such as "90s" or "1h30m".
func (o *object) duration(key string) (time.Duration, bool) {
	n := o.node(key)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		o.w.fail(o.at(key), n.Line, "must be a duration such as 30s or 1h30m")
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		o.w.fail(o.at(key), n.Line, "must be a duration such as 30s or 1h30m")
		return 0, false
	}
	return d, true
}

// timestamp reads an optional time: RFC 3339, or when rel is set also a
// duration relative to base ("-3h20m").
func (o *object) timestamp(key string, rel bool, base time.Time) (time.Time, bool) {
	n := o.node(key)
	if n == nil {
		return time.Time{}, false
	}
	path := o.at(key)
	if n.Kind != yaml.ScalarNode {
		o.w.fail(path, n.Line, "must be a time")
		return time.Time{}, false
	}
	s := strings.TrimSpace(n.Value)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if rel {
		if d, err := time.ParseDuration(s); err == nil {
			if base.IsZero() {
				return time.Time{}, false // world.start is missing; reported there
			}
			return base.Add(d), true
		}
		o.w.fail(path, n.Line, "must be an RFC 3339 time (2026-03-12T09:15:00-07:00) or an offset from world.start (-3h20m)")
		return time.Time{}, false
	}
	o.w.fail(path, n.Line, "must be an RFC 3339 time such as 2026-03-12T15:40:00-07:00")
	return time.Time{}, false
}

// mode reads an optional octal permission mode.
func (o *object) mode(key string) uint32 {
	n := o.node(key)
	if n == nil {
		return 0
	}
	s := strings.TrimPrefix(strings.TrimSpace(n.Value), "0o")
	v, err := strconv.ParseUint(s, 8, 32)
	if n.Kind != yaml.ScalarNode || err != nil || v > 0o7777 {
		o.w.fail(o.at(key), n.Line, "must be an octal mode such as 0644")
		return 0
	}
	return uint32(v)
}

// known checks that s is one of valid; it reports a problem listing them.
func (w *walker) oneOf(path, what, s string, valid []string) bool {
	if slices.Contains(valid, s) {
		return true
	}
	w.failAt(path, "unknown %s %q; valid: %s", what, s, strings.Join(valid, ", "))
	return false
}

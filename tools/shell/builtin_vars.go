package shell

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Variables: assignments, declare and its relatives, export, unset.

type assignOpts struct {
	export, local, readonly, global bool
	indexed, assoc, integer         bool
	lower, upper                    bool
}

// assign performs one assignment of a command or declaration.
func (s *session) assign(io *ioCtx, a *syntax.Assign, o assignOpts) bool {
	name := a.Name.Value
	old := s.vars[name]
	if o.local {
		s.saveLocal(name)
	}
	var nv expand.Variable
	switch {
	case a.Array != nil:
		nv = s.arrayValue(io, a, old, o)
	case a.Index != nil:
		val := s.literal(io, a.Value)
		nv = old
		nv.Set = true
		if nv.Kind == expand.Associative || o.assoc {
			key := ""
			if w, ok := a.Index.(*syntax.Word); ok {
				key = s.literal(io, w)
			} else {
				key = s.nodeSource(a.Index)
			}
			m := make(map[string]string, len(nv.Map)+1)
			for k, v := range nv.Map {
				m[k] = v
			}
			if a.Append {
				val = m[key] + val
			}
			m[key] = val
			nv.Kind, nv.Map = expand.Associative, m
		} else {
			i, ok := s.arith(a.Index, io, name)
			if !ok {
				return false
			}
			if nv.Kind == expand.String {
				nv.List, nv.Indexes = []string{nv.Str}, nil
				nv.Str = ""
			} else if nv.Kind != expand.Indexed {
				nv.List, nv.Indexes = nil, nil
			}
			nv.Kind = expand.Indexed
			if i < 0 {
				i += indexedLen(nv)
				if i < 0 {
					s.shellErr(io, "%s[%s]: bad array subscript", name, s.nodeSource(a.Index))
					return false
				}
			}
			if a.Append {
				cur, _ := indexedGet(nv, i)
				val = cur + val
			}
			nv.List, nv.Indexes = setIndexed(nv.List, nv.Indexes, i, val)
		}
	default:
		val := ""
		if a.Value != nil {
			val = s.literal(io, a.Value)
		}
		if o.integer || old.Flags() == "i" {
			val = s.intValue(io, val)
		}
		if o.lower {
			val = strings.ToLower(val)
		} else if o.upper {
			val = strings.ToUpper(val)
		}
		switch {
		case a.Append && old.Kind == expand.Indexed:
			nv = old
			cur, _ := indexedGet(nv, 0)
			nv.List, nv.Indexes = setIndexed(slices.Clone(nv.List), slices.Clone(nv.Indexes), 0, cur+val)
		case a.Append:
			nv = strVar(old.String() + val)
		case old.Kind == expand.Indexed && !o.indexed:
			nv = old
			nv.List, nv.Indexes = setIndexed(slices.Clone(nv.List), slices.Clone(nv.Indexes), 0, val)
		case a.Naked:
			nv = old
			if !old.Set {
				nv = expand.Variable{}
			}
		default:
			nv = strVar(val)
		}
	}
	if o.assoc && nv.Kind != expand.Associative {
		nv.Kind = expand.Associative
		if nv.Map == nil {
			nv.Map = map[string]string{}
		}
	}
	if o.indexed && nv.Kind != expand.Indexed && nv.Kind != expand.Associative {
		if nv.Set {
			nv.List = []string{nv.Str}
		}
		nv.Kind, nv.Str = expand.Indexed, ""
	}
	nv.Exported = nv.Exported || o.export || old.Exported
	nv.ReadOnly = o.readonly
	nv.Local = o.local || old.Local
	if old.ReadOnly {
		s.shellErr(io, "%s: readonly variable", name)
		return false
	}
	if err := s.setVar(name, nv); err != nil {
		s.shellErr(io, "%s", err.Error())
		return false
	}
	return true
}

// intValue evaluates the value of an integer variable.
func (s *session) intValue(io *ioCtx, val string) string {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	x, err := p.Arithmetic(strings.NewReader(val))
	if err != nil || x == nil {
		return "0"
	}
	n, ok := s.arith(x, io, "declare")
	if !ok {
		return "0"
	}
	return strconv.Itoa(n)
}

// arrayValue builds the value of name=(...).
func (s *session) arrayValue(io *ioCtx, a *syntax.Assign, old expand.Variable, o assignOpts) expand.Variable {
	assoc := o.assoc || (old.Kind == expand.Associative && !o.indexed)
	if assoc {
		m := map[string]string{}
		if a.Append {
			for k, v := range old.Map {
				m[k] = v
			}
		}
		for _, e := range a.Array.Elems {
			if e.Index == nil {
				continue
			}
			key := ""
			if w, ok := e.Index.(*syntax.Word); ok {
				key = s.literal(io, w)
			}
			m[key] = s.literal(io, e.Value)
		}
		return expand.Variable{Set: true, Kind: expand.Associative, Map: m}
	}
	var list []string
	var indexes []int
	if a.Append && old.Kind == expand.Indexed {
		list, indexes = slices.Clone(old.List), slices.Clone(old.Indexes)
	} else if a.Append && old.Set {
		list = []string{old.String()}
	}
	next := indexedLen(expand.Variable{List: list, Indexes: indexes})
	for _, e := range a.Array.Elems {
		if e.Index != nil {
			i, ok := s.arith(e.Index, io, a.Name.Value)
			if !ok {
				continue
			}
			list, indexes = setIndexed(list, indexes, i, s.literal(io, e.Value))
			next = i + 1
			continue
		}
		for _, f := range s.fields(io, e.Value) {
			list, indexes = setIndexed(list, indexes, next, f)
			next++
		}
	}
	if list == nil {
		list = []string{}
	}
	return expand.Variable{Set: true, Kind: expand.Indexed, List: list, Indexes: indexes}
}

// indexedLen is one past the highest index of an indexed array.
func indexedLen(v expand.Variable) int {
	if v.Indexes != nil {
		if len(v.Indexes) == 0 {
			return 0
		}
		return v.Indexes[len(v.Indexes)-1] + 1
	}
	return len(v.List)
}

func indexedGet(v expand.Variable, i int) (string, bool) {
	if v.Indexes == nil {
		if i >= 0 && i < len(v.List) {
			return v.List[i], true
		}
		return "", false
	}
	if pos, ok := slices.BinarySearch(v.Indexes, i); ok {
		return v.List[pos], true
	}
	return "", false
}

// setIndexed sets element i of a (possibly sparse) array; the slices given
// are not changed when they are shared.
func setIndexed(list []string, indexes []int, i int, val string) ([]string, []int) {
	if indexes == nil {
		switch {
		case i < len(list):
			// The list may be shared with a subshell's parent or a
			// saved local: change a copy.
			list = slices.Clone(list)
			list[i] = val
			return list, nil
		case i == len(list):
			// Appending never changes what another holder sees: its
			// length ends before the new element.
			return append(list, val), nil
		}
		indexes = make([]int, len(list), len(list)+1)
		for k := range indexes {
			indexes[k] = k
		}
	} else {
		indexes = slices.Clone(indexes)
	}
	list = slices.Clone(list)
	pos, ok := slices.BinarySearch(indexes, i)
	if ok {
		list[pos] = val
		return list, indexes
	}
	return slices.Insert(list, pos, val), slices.Insert(indexes, pos, i)
}

// saveLocal remembers name's value in the current function call, to be
// restored when it returns.
func (s *session) saveLocal(name string) {
	if len(s.frames) == 0 {
		return
	}
	f := s.frames[len(s.frames)-1]
	if f.saved == nil {
		f.saved = map[string]*expand.Variable{}
	}
	if _, done := f.saved[name]; done {
		return
	}
	if v, ok := s.vars[name]; ok {
		f.saved[name] = &v
		delete(s.vars, name)
		// A local starts empty; bash keeps the attributes only.
	} else {
		f.saved[name] = nil
	}
}

// declItem is one operand of declare: an assignment node, or a word
// (name or name=value) from an expansion.
type declItem struct {
	assign *syntax.Assign
	word   string
}

func (s *session) declClause(c *syntax.DeclClause, io *ioCtx) int {
	s.cur = io
	var items []declItem
	for _, a := range c.Args {
		if a.Naked && a.Name == nil {
			for _, f := range s.fields(io, a.Value) {
				items = append(items, declItem{word: f})
			}
			continue
		}
		items = append(items, declItem{assign: a})
	}
	if s.opts.xtrace {
		var parts []string
		for _, it := range items {
			if it.assign != nil {
				parts = append(parts, s.nodeSource(it.assign))
			} else {
				parts = append(parts, quoteArg(it.word))
			}
		}
		io.err.WriteString(s.xtracePrefix() + strings.TrimSpace(c.Variant.Value+" "+strings.Join(parts, " ")) + "\n")
	}
	return s.declare(c.Variant.Value, items, io)
}

func biDeclare(c *call) int {
	items := make([]declItem, len(c.args))
	for i, a := range c.args {
		items[i] = declItem{word: a}
	}
	return c.s.declare(c.name, items, c.shellIO())
}

func biExport(c *call) int { return biDeclareAs(c, "export") }

func biDeclareAs(c *call, variant string) int {
	items := make([]declItem, len(c.args))
	for i, a := range c.args {
		items[i] = declItem{word: a}
	}
	return c.s.declare(variant, items, c.shellIO())
}

// declare runs declare, typeset, local, export and readonly.
func (s *session) declare(variant string, items []declItem, io *ioCtx) int {
	errf := func(format string, a ...any) {
		s.shellErr(io, variant+": "+format, a...)
	}
	o := assignOpts{}
	unexport := false
	printMode, funcs, funcNames := false, false, false
	switch variant {
	case "export":
		o.export = true
	case "readonly":
		o.readonly = true
	case "local":
		if s.fdepth == 0 {
			errf("can only be used in a function")
			return 1
		}
		o.local = true
	case "nameref":
		variant = "declare"
	}
	if (variant == "declare" || variant == "typeset") && s.fdepth > 0 {
		o.local = true
	}
	var ops []declItem
	for _, it := range items {
		w := it.word
		if it.assign == nil && len(ops) == 0 && len(w) > 1 && (w[0] == '-' || w[0] == '+') {
			on := w[0] == '-'
			for _, f := range w[1:] {
				switch f {
				case 'x':
					o.export = on
					unexport = !on
				case 'r':
					o.readonly = on
				case 'a':
					o.indexed = on
				case 'A':
					o.assoc = on
				case 'i':
					o.integer = on
				case 'g':
					o.global = on
					o.local = false
				case 'l':
					o.lower = on
				case 'u':
					o.upper = on
				case 'p':
					printMode = true
				case 'f':
					funcs = true
				case 'F':
					funcNames = true
				case 'n', 't', 'I':
				default:
					errf("-%c: invalid option", f)
					io.err.WriteString(variant + ": usage: " + variant + " [-aAfFgiIlnrtux] [name[=value] ...]\n")
					return 2
				}
			}
			continue
		}
		ops = append(ops, it)
	}
	if funcs || funcNames {
		names := make([]string, 0, len(s.funcs))
		for n := range s.funcs {
			names = append(names, n)
		}
		sort.Strings(names)
		code := 0
		if len(ops) > 0 {
			names = names[:0]
			for _, it := range ops {
				if _, ok := s.funcs[it.word]; !ok {
					code = 1
					continue
				}
				names = append(names, it.word)
			}
		}
		for _, n := range names {
			if funcNames {
				io.out.WriteString("declare -f " + n + "\n")
			} else {
				io.out.WriteString(s.funcText(n) + "\n")
			}
		}
		return code
	}
	if len(ops) == 0 {
		for _, name := range s.sortedVarNames() {
			v := s.vars[name]
			switch {
			case variant == "export" && !v.Exported:
				continue
			case variant == "readonly" && !v.ReadOnly:
				continue
			case variant == "local" && !v.Local:
				continue
			}
			if variant == "declare" || variant == "typeset" {
				if !printMode && v.Set {
					io.out.WriteString(declareValue(name, v, false) + "\n")
					continue
				}
			}
			io.out.WriteString(declareValue(name, v, true) + "\n")
		}
		return 0
	}
	code := 0
	for _, it := range ops {
		if printMode {
			name := it.word
			if it.assign != nil {
				name = it.assign.Name.Value
			}
			v, ok := s.vars[name]
			if !ok {
				errf("%s: not found", name)
				code = 1
				continue
			}
			io.out.WriteString(declareValue(name, v, true) + "\n")
			continue
		}
		a := it.assign
		if a == nil {
			// A word from an expansion: name, name=value or name+=value.
			name, val, hasVal := strings.Cut(it.word, "=")
			appendOp := strings.HasSuffix(name, "+") && hasVal
			name = strings.TrimSuffix(name, "+")
			base, _, _ := strings.Cut(name, "[")
			if !syntax.ValidName(base) {
				errf("`%s': not a valid identifier", it.word)
				code = 1
				continue
			}
			a = &syntax.Assign{Name: &syntax.Lit{Value: name}, Naked: !hasVal, Append: appendOp}
			if hasVal {
				a.Value = &syntax.Word{Parts: []syntax.WordPart{&syntax.SglQuoted{Value: val}}}
			}
		}
		name := a.Name.Value
		old, had := s.vars[name]
		if a.Naked {
			// No value: change attributes only.
			if had && old.ReadOnly && (o.readonly || o.export) && !unexport {
				if o.export {
					old.Exported = true
					s.vars[name] = old
				}
				continue
			}
			if had && old.ReadOnly {
				errf("%s: readonly variable", name)
				code = 1
				continue
			}
			if o.local {
				s.saveLocal(name)
				nv := expand.Variable{Local: true, Exported: o.export}
				if o.indexed {
					nv.Kind = expand.Indexed
				}
				if o.assoc {
					nv.Kind = expand.Associative
				}
				s.vars[name] = nv
				continue
			}
			nv := old
			nv.Exported = (old.Exported || o.export) && !unexport
			nv.ReadOnly = old.ReadOnly || o.readonly
			if o.assoc && nv.Kind != expand.Associative {
				nv.Kind = expand.Associative
			}
			if o.indexed && nv.Kind != expand.Indexed {
				if nv.Set {
					nv.List = []string{nv.Str}
				}
				nv.Kind = expand.Indexed
			}
			s.vars[name] = nv
			continue
		}
		ao := o
		if !s.assign(io, a, ao) {
			code = 1
			continue
		}
		if unexport {
			v := s.vars[name]
			v.Exported = false
			s.vars[name] = v
		}
	}
	return code
}

// declareValue is how declare -p (attrs) or set shows a variable.
func declareValue(name string, v expand.Variable, attrs bool) string {
	flags := ""
	switch v.Kind {
	case expand.Indexed:
		flags += "a"
	case expand.Associative:
		flags += "A"
	}
	if v.ReadOnly {
		flags += "r"
	}
	if v.Exported {
		flags += "x"
	}
	var val string
	switch v.Kind {
	case expand.Indexed:
		var b strings.Builder
		b.WriteByte('(')
		for i, e := range v.List {
			idx := i
			if v.Indexes != nil {
				idx = v.Indexes[i]
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("[" + strconv.Itoa(idx) + "]=" + dquote(e))
		}
		b.WriteByte(')')
		val = b.String()
	case expand.Associative:
		keys := make([]string, 0, len(v.Map))
		for k := range v.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteByte('(')
		for _, k := range keys {
			b.WriteString("[" + k + "]=" + dquote(v.Map[k]) + " ")
		}
		b.WriteByte(')')
		val = b.String()
	default:
		if attrs {
			val = dquote(v.Str)
		} else {
			val = quoteArg(v.Str)
		}
	}
	if !attrs {
		return name + "=" + val
	}
	if flags == "" {
		flags = "-"
	}
	if !v.Set && v.Kind != expand.Indexed && v.Kind != expand.Associative {
		return "declare -" + flags + " " + name
	}
	return "declare -" + flags + " " + name + "=" + val
}

// dquote quotes s in double quotes as declare -p does.
func dquote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' || r == '$' || r == '`' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

func biUnset(c *call) int {
	s := c.s
	funcs, varsOnly := false, false
	code := 0
	for _, a := range c.args {
		switch a {
		case "-f":
			funcs = true
			continue
		case "-v":
			varsOnly = true
			continue
		case "-n":
			continue
		}
		if funcs {
			delete(s.funcs, a)
			continue
		}
		name, idx, isElem := strings.Cut(a, "[")
		if !syntax.ValidName(name) {
			c.berr("`%s': not a valid identifier", a)
			code = 1
			continue
		}
		v, ok := s.vars[name]
		if ok && v.ReadOnly {
			c.berr("%s: cannot unset: readonly variable", name)
			code = 1
			continue
		}
		if isElem && ok {
			idx = strings.TrimSuffix(idx, "]")
			switch v.Kind {
			case expand.Associative:
				m := make(map[string]string, len(v.Map))
				for k, e := range v.Map {
					if k != strings.Trim(idx, `"'`) {
						m[k] = e
					}
				}
				v.Map = m
			case expand.Indexed:
				if i, err := strconv.Atoi(idx); err == nil {
					v.List, v.Indexes = deleteIndexed(v.List, v.Indexes, i)
				}
			}
			s.vars[name] = v
			continue
		}
		if !ok && !varsOnly {
			delete(s.funcs, name)
		}
		delete(s.vars, name)
	}
	return code
}

func deleteIndexed(list []string, indexes []int, i int) ([]string, []int) {
	if indexes == nil {
		if i < 0 || i >= len(list) {
			return list, nil
		}
		indexes = make([]int, len(list))
		for k := range indexes {
			indexes[k] = k
		}
	}
	pos, ok := slices.BinarySearch(indexes, i)
	if !ok {
		return list, indexes
	}
	return slices.Delete(slices.Clone(list), pos, pos+1), slices.Delete(slices.Clone(indexes), pos, pos+1)
}

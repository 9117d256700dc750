package shell

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// ---- echo, printf ----

func cmdEcho(c *call) int {
	args := c.args
	newline, escapes := true, false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		for _, f := range args[0][1:] {
			switch f {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	s := strings.Join(args, " ")
	if escapes {
		var stop bool
		if s, stop = backslashEscapes(s, true); stop {
			newline = false
		}
	}
	if newline {
		s += "\n"
	}
	c.out.WriteString(s)
	return 0
}

// ---- head, tail ----

// countArg reads -n N, -N, -c N style options for head and tail.
type countOpts struct {
	n       int64
	bytes   bool
	plus    bool // tail -n +N
	minus   bool // head -n -N
	quiet   bool
	verbose bool
}

func parseCount(c *call) (countOpts, []string, bool) {
	o := countOpts{n: 10}
	var ops []string
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := ""
		switch {
		case a == "--":
			ops = append(ops, args[i+1:]...)
			i = len(args)
			continue
		case a == "-f" || a == "-F" || a == "--follow":
			continue
		case a == "-q":
			o.quiet = true
			continue
		case a == "-v":
			o.verbose = true
			continue
		case a == "-n" || a == "-c" || a == "--lines" || a == "--bytes":
			if i+1 >= len(args) {
				c.badFlag(fmt.Sprintf("option requires an argument -- '%c'", a[len(a)-1]), 1)
				return o, nil, false
			}
			o.bytes = a == "-c" || a == "--bytes"
			i++
			val = args[i]
		case strings.HasPrefix(a, "-n") || strings.HasPrefix(a, "-c"):
			o.bytes = a[1] == 'c'
			val = a[2:]
		case strings.HasPrefix(a, "--lines=") || strings.HasPrefix(a, "--bytes="):
			o.bytes = strings.HasPrefix(a, "--bytes=")
			val = a[strings.IndexByte(a, '=')+1:]
		case len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9':
			val = a[1:]
		case len(a) > 1 && a[0] == '-':
			c.badFlag(fmt.Sprintf("invalid option -- '%c'", a[1]), 1)
			return o, nil, false
		default:
			ops = append(ops, a)
			continue
		}
		if strings.HasPrefix(val, "+") {
			o.plus, val = true, val[1:]
		} else if strings.HasPrefix(val, "-") {
			o.minus, val = true, val[1:]
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			what := "lines"
			if o.bytes {
				what = "bytes"
			}
			c.errorf("invalid number of %s: %s", what, quoteName(val))
			return o, nil, false
		}
		o.n = n
	}
	return o, ops, true
}

func cmdHead(c *call) int { return headTail(c, true) }
func cmdTail(c *call) int { return headTail(c, false) }

func headTail(c *call, head bool) int {
	o, ops, ok := parseCount(c)
	if !ok {
		return 1
	}
	ins, code := c.inputs(ops)
	for i, in := range ins {
		if (len(ins) > 1 || o.verbose) && !o.quiet {
			if i > 0 {
				c.out.WriteString("\n")
			}
			name := in.name
			if name == "-" {
				name = "standard input"
			}
			c.out.printf("==> %s <==\n", name)
		}
		if in.binary {
			// A declared file has no bytes: its first megabyte stands in
			// (the one od and xxd show), enough for any look at its start.
			text := string(standInBytes(in.sha, min(in.size, maxDump)))
			if !head {
				text = string(standInBytes(in.sha+"end", min(in.size, maxDump)))
			}
			if o.bytes && o.n > maxDump && !(head && o.minus) && !o.plus {
				continue // more than a look: see dd and split for parts
			}
			c.out.WriteString(cutText(text, o, head))
			continue
		}
		c.out.WriteString(cutText(in.text, o, head))
	}
	return code
}

func cutText(text string, o countOpts, head bool) string {
	n := o.n
	if o.bytes {
		l := int64(len(text))
		switch {
		case head && o.minus:
			return text[:max(l-n, 0)]
		case head:
			return text[:min(n, l)]
		case o.plus:
			return text[min(max(n-1, 0), l):]
		default:
			return text[max(l-n, 0):]
		}
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	l := int64(len(lines))
	var sel []string
	switch {
	case head && o.minus:
		sel = lines[:max(l-n, 0)]
	case head:
		sel = lines[:min(n, l)]
	case o.plus:
		sel = lines[min(max(n-1, 0), l):]
	default:
		sel = lines[max(l-n, 0):]
	}
	return strings.Join(sel, "")
}

// ---- regular expressions ----

// translateRE turns a POSIX basic (or, with ere, extended) regular
// expression into Go syntax.
func translateRE(p string, ere bool) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\' && i+1 < len(p):
			i++
			n := p[i]
			switch {
			case n == '<' || n == '>':
				b.WriteString(`\b`)
			case !ere && strings.IndexByte("(){}|+?", n) >= 0:
				b.WriteByte(n)
			case n >= '1' && n <= '9':
				b.WriteString(`\` + string(n)) // rejected by Go: reported as invalid
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case ch == '[':
			j := i + 1
			if j < len(p) && p[j] == '^' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				if p[j] == '[' && j+1 < len(p) && (p[j+1] == ':' || p[j+1] == '.' || p[j+1] == '=') {
					end := strings.Index(p[j+2:], string(p[j+1])+"]")
					if end >= 0 {
						j += end + 4
						continue
					}
				}
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			cls := p[i : j+1]
			// Backslash is literal inside POSIX brackets.
			cls = strings.ReplaceAll(cls, `\`, `\\`)
			b.WriteString(cls)
			i = j
		case !ere && strings.IndexByte("(){}|+?", ch) >= 0:
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch == '*' && (i == 0 || (!ere && i > 0 && p[i-1] == '^' && i == 1)):
			b.WriteString(`\*`)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// compileRE compiles a grep or sed pattern.
func compileRE(p string, ere, fixed, icase, word, line bool) (*regexp.Regexp, error) {
	var expr string
	if fixed {
		expr = regexp.QuoteMeta(p)
	} else {
		expr = translateRE(p, ere)
	}
	if word {
		expr = `\b(?:` + expr + `)\b`
	}
	if line {
		expr = `^(?:` + expr + `)$`
	}
	if icase {
		expr = `(?i)` + expr
	}
	return regexp.Compile(expr)
}

// ---- grep ----

func cmdGrep(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "inrRvclLwxEFohHqsIPaz", values: "eABCmf", long: map[string]string{
		"ignore-case": "i", "line-number": "n", "recursive": "r", "invert-match": "v", "count": "c",
		"files-with-matches": "l", "files-without-match": "L", "word-regexp": "w", "line-regexp": "x",
		"extended-regexp": "E", "fixed-strings": "F", "only-matching": "o", "no-filename": "h", "with-filename": "H",
		"quiet": "q", "silent": "q", "no-messages": "s", "include": "include=", "exclude": "exclude=", "exclude-dir": "exclude-dir=",
		"color": "color=", "colour": "color=", "regexp": "e=", "after-context": "A=", "before-context": "B=",
		"context": "C=", "max-count": "m=", "binary-files": "binary-files=", "perl-regexp": "P",
	}})
	if bad != "" {
		c.err.printf("grep: %s\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", bad)
		return 2
	}
	patterns := fl["e"]
	if len(patterns) == 0 {
		if len(ops) == 0 {
			c.err.WriteString("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
			return 2
		}
		patterns = strings.Split(ops[0], "\n")
		ops = ops[1:]
	}
	ere := fl.has("E") || fl.has("P") || c.name == "egrep"
	fixed := fl.has("F") || c.name == "fgrep"
	var res []*regexp.Regexp
	for _, p := range patterns {
		re, err := compileRE(p, ere, fixed, fl.has("i"), fl.has("w"), fl.has("x"))
		if err != nil {
			c.err.WriteString("grep: Invalid regular expression\n")
			return 2
		}
		res = append(res, re)
	}
	matchLine := func(l string) bool {
		for _, re := range res {
			if re.MatchString(l) {
				return true
			}
		}
		return false
	}
	num := func(k string) int {
		if !fl.has(k) {
			return 0
		}
		n, _ := strconv.Atoi(fl.val(k))
		return n
	}
	after, before := num("A"), num("B")
	if fl.has("C") {
		after, before = num("C"), num("C")
	}
	maxCount := -1
	if fl.has("m") {
		maxCount = num("m")
	}
	rec := fl.has("r") || fl.has("R")
	implicitDot := false
	if len(ops) == 0 && rec {
		ops = []string{"."}
		implicitDot = true
	}
	type target struct {
		name string
		path string // "" for stdin
	}
	var targets []target
	status := 1
	errored := false
	for _, op := range ops {
		if op == "-" {
			targets = append(targets, target{name: "(standard input)"})
			continue
		}
		p := c.s.abs(op)
		in, err := c.s.h.fs.Stat(p)
		if err != nil {
			if !fl.has("s") {
				c.err.printf("grep: %s: %s\n", op, errText(err))
			}
			errored = true
			continue
		}
		if !in.Dir {
			targets = append(targets, target{op, p})
			continue
		}
		if !rec {
			if !fl.has("s") {
				c.err.printf("grep: %s: Is a directory\n", op)
			}
			errored = true
			continue
		}
		var walk func(q, shown string)
		walk = func(q, shown string) {
			if err := c.s.h.fs.Check(q, c.s.user, vfs.Read|vfs.Exec); err != nil {
				if !fl.has("s") {
					c.err.printf("grep: %s: Permission denied\n", shown)
				}
				errored = true
				return
			}
			infos, _ := c.s.h.fs.ReadDir(q)
			for _, sub := range infos {
				name := strings.TrimSuffix(shown, "/") + "/" + sub.Name
				if implicitDot && shown == "." {
					name = sub.Name
				}
				if sub.Dir {
					if excluded(fl["exclude-dir"], sub.Name) {
						continue
					}
					walk(sub.Path, name)
					continue
				}
				if len(fl["include"]) > 0 && !excluded(fl["include"], sub.Name) {
					continue
				}
				if excluded(fl["exclude"], sub.Name) {
					continue
				}
				targets = append(targets, target{name, sub.Path})
			}
		}
		walk(p, op)
	}
	if len(ops) == 0 {
		targets = append(targets, target{name: "(standard input)"})
	}
	// GNU grep names files when it has several, or when -r found them
	// inside a directory; one file operand alone stays unnamed.
	singleFile := false
	if len(ops) == 1 {
		if in, err := c.s.h.fs.Stat(c.s.abs(ops[0])); err == nil && !in.Dir {
			singleFile = true
		}
	}
	showName := (len(targets) > 1 || rec && !singleFile) && !fl.has("h")
	if fl.has("H") {
		showName = true
	}
	for _, t := range targets {
		var text string
		if t.path == "" {
			if c.in.blob != nil {
				continue
			}
			text = c.in.text
		} else {
			b, err := c.s.readFile(t.path)
			if err != nil {
				if !fl.has("s") {
					c.err.printf("grep: %s: %s\n", t.name, errText(err))
				}
				errored = true
				continue
			}
			if b.Declared {
				continue
			}
			text = b.Content
		}
		lines := splitLines(text)
		count := 0
		lastPrinted := -1
		pendingAfter := 0
		prefix := func(i int, sep string) string {
			s := ""
			if showName {
				s += t.name + sep
			}
			if fl.has("n") {
				s += strconv.Itoa(i+1) + sep
			}
			return s
		}
		quietList := fl.has("l") || fl.has("L") || fl.has("c") || fl.has("q")
		for i, l := range lines {
			if maxCount >= 0 && count >= maxCount {
				break
			}
			hit := matchLine(l) != fl.has("v")
			if !hit {
				if pendingAfter > 0 && !quietList {
					c.out.WriteString(prefix(i, "-") + l + "\n")
					lastPrinted = i
					pendingAfter--
				}
				continue
			}
			count++
			if quietList {
				continue
			}
			if before > 0 || after > 0 {
				start := max(i-before, lastPrinted+1)
				if lastPrinted >= 0 && start > lastPrinted+1 {
					c.out.WriteString("--\n")
				}
				for j := start; j < i; j++ {
					c.out.WriteString(prefix(j, "-") + lines[j] + "\n")
				}
			}
			if fl.has("o") && !fl.has("v") {
				for _, re := range res {
					for _, m := range re.FindAllString(l, -1) {
						if m != "" {
							c.out.WriteString(prefix(i, ":") + m + "\n")
						}
					}
				}
			} else {
				c.out.WriteString(prefix(i, ":") + l + "\n")
			}
			lastPrinted = i
			pendingAfter = after
		}
		if count > 0 {
			status = 0
		}
		switch {
		case fl.has("q"):
		case fl.has("l"):
			if count > 0 {
				c.out.WriteString(t.name + "\n")
			}
		case fl.has("L"):
			if count == 0 {
				c.out.WriteString(t.name + "\n")
			}
		case fl.has("c"):
			if showName {
				c.out.printf("%s:%d\n", t.name, count)
			} else {
				c.out.printf("%d\n", count)
			}
		}
		if fl.has("q") && count > 0 {
			return 0
		}
	}
	if errored {
		return 2
	}
	return status
}

func excluded(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// ---- wc ----

func cmdWc(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "lwcmL", long: map[string]string{"lines": "l", "words": "w", "bytes": "c", "chars": "m"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	show := []bool{fl.has("l"), fl.has("w"), fl.has("c") || fl.has("m")}
	if !show[0] && !show[1] && !show[2] {
		show = []bool{true, true, true}
	}
	ins, code := c.inputs(ops)
	type row struct {
		n    [3]int64
		name string
	}
	var rows []row
	var total [3]int64
	for _, in := range ins {
		var r row
		if in.binary {
			r.n = [3]int64{in.size / 4099, in.size / 731, in.size}
		} else {
			r.n = [3]int64{int64(strings.Count(in.text, "\n")), int64(len(strings.Fields(in.text))), int64(len(in.text))}
		}
		r.name = in.name
		if in.name == "-" && len(ops) == 0 {
			r.name = ""
		}
		for k := range 3 {
			total[k] += r.n[k]
		}
		rows = append(rows, r)
	}
	if len(ins) > 1 {
		rows = append(rows, row{total, "total"})
	}
	nshow := 0
	for _, s := range show {
		if s {
			nshow++
		}
	}
	width := 1
	for _, r := range rows {
		for k := range 3 {
			if show[k] {
				width = max(width, len(strconv.FormatInt(r.n[k], 10)))
			}
		}
	}
	if nshow == 1 && len(rows) == 1 {
		width = 0
	} else if len(ops) == 0 && nshow > 1 {
		width = max(width, 7)
	}
	for _, r := range rows {
		var parts []string
		for k := range 3 {
			if show[k] {
				parts = append(parts, padLeft(strconv.FormatInt(r.n[k], 10), width))
			}
		}
		line := strings.Join(parts, " ")
		if r.name != "" {
			line += " " + r.name
		}
		c.out.WriteString(line + "\n")
	}
	return code
}

// ---- sort, uniq, cut, tr, tee ----

func cmdSort(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "rnufhV", values: "ktos", long: map[string]string{
		"reverse": "r", "numeric-sort": "n", "unique": "u", "ignore-case": "f", "human-numeric-sort": "h", "key": "k=", "field-separator": "t=",
	}})
	if bad != "" {
		return c.badFlag(bad, 2)
	}
	ins, code := c.inputs(ops)
	var lines []string
	for _, in := range ins {
		lines = append(lines, splitLines(in.text)...)
	}
	keyOf := func(l string) string {
		if !fl.has("k") {
			return l
		}
		k, _ := strconv.Atoi(strings.SplitN(strings.SplitN(fl.val("k"), ",", 2)[0], ".", 2)[0])
		var fields []string
		if fl.has("t") {
			fields = strings.Split(l, fl.val("t"))
		} else {
			fields = strings.Fields(l)
		}
		if k < 1 || k > len(fields) {
			return ""
		}
		return strings.Join(fields[k-1:], " ")
	}
	num := func(s string) float64 {
		s = strings.TrimSpace(s)
		end := 0
		for end < len(s) && (s[end] == '-' || s[end] == '.' || (s[end] >= '0' && s[end] <= '9')) {
			end++
		}
		f, _ := strconv.ParseFloat(s[:end], 64)
		if fl.has("h") && end < len(s) {
			if i := strings.IndexByte("KMGTPE", s[end]); i >= 0 {
				for ; i >= 0; i-- {
					f *= 1024
				}
			}
		}
		return f
	}
	less := func(a, b string) bool {
		ka, kb := keyOf(a), keyOf(b)
		if fl.has("n") || fl.has("h") {
			na, nb := num(ka), num(kb)
			if na != nb {
				return na < nb
			}
			return a < b
		}
		if fl.has("f") {
			la, lb := strings.ToLower(ka), strings.ToLower(kb)
			if la != lb {
				return la < lb
			}
		}
		if ka != kb {
			return ka < kb
		}
		return a < b
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if fl.has("r") {
			return less(lines[j], lines[i])
		}
		return less(lines[i], lines[j])
	})
	if fl.has("u") {
		var out []string
		for i, l := range lines {
			if i == 0 || keyOf(l) != keyOf(lines[i-1]) {
				out = append(out, l)
			}
		}
		lines = out
	}
	c.out.WriteString(joinLines(lines))
	return code
}

func cmdUniq(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "cdui", long: map[string]string{"count": "c", "repeated": "d", "unique": "u", "ignore-case": "i"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	ins, code := c.inputs(ops[:min(len(ops), 1)])
	if len(ins) == 0 {
		return code
	}
	lines := splitLines(ins[0].text)
	eq := func(a, b string) bool {
		if fl.has("i") {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && eq(lines[j], lines[i]) {
			j++
		}
		n := j - i
		if (!fl.has("d") || n > 1) && (!fl.has("u") || n == 1) {
			if fl.has("c") {
				c.out.printf("%7d %s\n", n, lines[i])
			} else {
				c.out.WriteString(lines[i] + "\n")
			}
		}
		i = j
	}
	return code
}

func cmdCut(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{values: "dfcb", bools: "s", long: map[string]string{"delimiter": "d=", "fields": "f=", "characters": "c="}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if !fl.has("f") && !fl.has("c") && !fl.has("b") {
		return c.badFlag("you must specify a list of bytes, characters, or fields", 1)
	}
	listSpec := fl.val("f")
	if !fl.has("f") {
		listSpec = fl.val("c") + fl.val("b")
	}
	sel := func(i int) bool {
		for _, part := range strings.Split(listSpec, ",") {
			lo, hi, rng := strings.Cut(part, "-")
			a, errA := strconv.Atoi(lo)
			b, errB := strconv.Atoi(hi)
			switch {
			case !rng && errA == nil && i == a:
				return true
			case rng && lo == "" && errB == nil && i <= b:
				return true
			case rng && hi == "" && errA == nil && i >= a:
				return true
			case rng && errA == nil && errB == nil && i >= a && i <= b:
				return true
			}
		}
		return false
	}
	delim := "\t"
	if fl.has("d") {
		delim = fl.val("d")
	}
	ins, code := c.inputs(ops)
	for _, in := range ins {
		for _, l := range splitLines(in.text) {
			var out []string
			if fl.has("f") {
				if !strings.Contains(l, delim) {
					if !fl.has("s") {
						c.out.WriteString(l + "\n")
					}
					continue
				}
				for i, f := range strings.Split(l, delim) {
					if sel(i + 1) {
						out = append(out, f)
					}
				}
				c.out.WriteString(strings.Join(out, delim) + "\n")
				continue
			}
			var b strings.Builder
			for i := 0; i < len(l); i++ {
				if sel(i + 1) {
					b.WriteByte(l[i])
				}
			}
			c.out.WriteString(b.String() + "\n")
		}
	}
	return code
}

func cmdTee(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "ai", long: map[string]string{"append": "a"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.in.blob != nil {
		c.out.writeFileData(*c.in.blob, c.in.srcHost, c.in.srcPath)
	} else {
		c.out.WriteString(c.in.text)
	}
	code := 0
	for _, op := range ops {
		switch op {
		case "/dev/null", "/dev/zero":
			continue
		case "/dev/stdout", "/dev/fd/1":
			c.out.WriteString(c.in.text)
			continue
		case "/dev/stderr", "/dev/fd/2", "/dev/tty":
			c.err.WriteString(c.in.text) // the terminal
			continue
		case "/dev/full":
			c.errorf("%s: No space left on device", op)
			code = 1
			continue
		}
		p := c.s.abs(op)
		if err := c.s.canWrite(p); err != nil {
			c.errorf("%s: %s", quoteIf(op), errText(err))
			code = 1
			continue
		}
		if _, err := c.s.writeRedirect(p, c.in, fl.has("a"), "tee"); err != nil {
			c.errorf("%s: %s", quoteIf(op), errText(err))
			code = 1
		}
	}
	return code
}

// backslashEscapes interprets the escapes of echo -e (echo true) and of a
// printf format or %b argument: \a \b \e \f \n \r \t \v \\ \" \', \xHH,
// \uHHHH, \UHHHHHHHH, octal \NNN (printf) or \0NNN (echo and %b), and \c,
// which ends all output (stop is then true).
func backslashEscapes(s string, echo bool) (out string, stop bool) {
	if !strings.Contains(s, "\\") {
		return s, false
	}
	var b strings.Builder
	hexVal := func(r byte) int {
		switch {
		case r >= '0' && r <= '9':
			return int(r - '0')
		case r >= 'a' && r <= 'f':
			return int(r-'a') + 10
		case r >= 'A' && r <= 'F':
			return int(r-'A') + 10
		}
		return -1
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' || i+1 >= len(s) {
			b.WriteByte(ch)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\':
			b.WriteByte('\\')
		case '"':
			b.WriteByte('"')
		case '\'':
			b.WriteByte('\'')
		case 'c':
			return b.String(), true
		case 'x':
			n, j := 0, i+1
			for ; j < len(s) && j < i+3 && hexVal(s[j]) >= 0; j++ {
				n = n*16 + hexVal(s[j])
			}
			if j == i+1 {
				b.WriteString("\\x")
				continue
			}
			b.WriteByte(byte(n))
			i = j - 1
		case 'u', 'U':
			width := 4
			if e == 'U' {
				width = 8
			}
			n, j := 0, i+1
			for ; j < len(s) && j < i+1+width && hexVal(s[j]) >= 0; j++ {
				n = n*16 + hexVal(s[j])
			}
			if j == i+1 {
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			b.WriteRune(rune(n))
			i = j - 1
		default:
			if e >= '0' && e <= '7' {
				start, limit := i, i+3
				if echo && e == '0' {
					start, limit = i+1, i+4
				}
				n, j := 0, start
				for ; j < len(s) && j < limit && s[j] >= '0' && s[j] <= '7'; j++ {
					n = n*8 + int(s[j]-'0')
				}
				b.WriteByte(byte(n))
				i = j - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), false
}

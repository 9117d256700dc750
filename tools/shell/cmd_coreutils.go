package shell

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// More of coreutils: expr, shred, shuf.

func init() {
	register(map[string]cmdFunc{"expr": cmdExpr, "shred": cmdShred, "shuf": cmdShuf})
}

// ---- expr ----

// exprErr is an expr failure: its message and exit status (2 for a bad
// expression, 3 for an error while evaluating).
type exprErr struct {
	msg    string
	status int
}

type exprParser struct {
	args []string
	i    int
}

func cmdExpr(c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return c.badFlag("missing operand", 2)
	}
	switch args[0] {
	case "--help":
		c.out.WriteString("Usage: expr EXPRESSION\n  or:  expr OPTION\n\n      --help        display this help and exit\n      --version     output version information and exit\n\nPrint the value of EXPRESSION to standard output.\n")
		return 0
	case "--version":
		c.out.WriteString("expr (GNU coreutils) 9.1\n")
		return 0
	}
	p := &exprParser{args: args}
	v, err := p.or()
	if err == nil && p.i < len(p.args) {
		err = &exprErr{"syntax error: unexpected argument " + trQuote(p.args[p.i]), 2}
	}
	if err != nil {
		c.errorf("%s", err.msg)
		return err.status
	}
	c.out.WriteString(v + "\n")
	if v == "" || isExprZero(v) {
		return 1
	}
	return 0
}

func isExprZero(v string) bool {
	n, ok := exprInt(v)
	return ok && n.Sign() == 0
}

// exprInt reads an integer operand as expr does: optional sign, digits.
func exprInt(s string) (*big.Int, bool) {
	t := strings.TrimPrefix(s, "-")
	if t == "" || strings.Trim(t, "0123456789") != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok
}

func (p *exprParser) peek() string {
	if p.i < len(p.args) {
		return p.args[p.i]
	}
	return ""
}

func (p *exprParser) more() bool { return p.i < len(p.args) }

func (p *exprParser) or() (string, *exprErr) {
	l, err := p.and()
	for err == nil && p.more() && p.peek() == "|" {
		p.i++
		var r string
		if r, err = p.and(); err == nil && (l == "" || isExprZero(l)) {
			l = r
			if l == "" || isExprZero(l) {
				l = "0"
			}
		}
	}
	return l, err
}

func (p *exprParser) and() (string, *exprErr) {
	l, err := p.cmp()
	for err == nil && p.more() && p.peek() == "&" {
		p.i++
		var r string
		if r, err = p.cmp(); err == nil && (l == "" || isExprZero(l) || r == "" || isExprZero(r)) {
			l = "0"
		}
	}
	return l, err
}

func (p *exprParser) cmp() (string, *exprErr) {
	l, err := p.sum()
	for err == nil && p.more() {
		op := p.peek()
		switch op {
		case "<", "<=", "=", "==", "!=", ">=", ">":
		default:
			return l, nil
		}
		p.i++
		var r string
		if r, err = p.sum(); err != nil {
			break
		}
		var c int
		a, aok := exprInt(l)
		b, bok := exprInt(r)
		if aok && bok {
			c = a.Cmp(b)
		} else {
			c = strings.Compare(l, r)
		}
		t := map[string]bool{"<": c < 0, "<=": c <= 0, "=": c == 0, "==": c == 0, "!=": c != 0, ">=": c >= 0, ">": c > 0}[op]
		l = "0"
		if t {
			l = "1"
		}
	}
	return l, err
}

func (p *exprParser) arith(next func() (string, *exprErr), ops string) (string, *exprErr) {
	l, err := next()
	for err == nil && p.more() && len(p.peek()) == 1 && strings.Contains(ops, p.peek()) {
		op := p.peek()
		p.i++
		var r string
		if r, err = next(); err != nil {
			break
		}
		a, aok := exprInt(l)
		b, bok := exprInt(r)
		if !aok || !bok {
			return "", &exprErr{"non-integer argument", 2}
		}
		z := new(big.Int)
		switch op {
		case "+":
			z.Add(a, b)
		case "-":
			z.Sub(a, b)
		case "*":
			z.Mul(a, b)
		case "/", "%":
			if b.Sign() == 0 {
				return "", &exprErr{"division by zero", 2}
			}
			if op == "/" {
				z.Quo(a, b)
			} else {
				z.Rem(a, b)
			}
		}
		l = z.String()
	}
	return l, err
}

func (p *exprParser) sum() (string, *exprErr)  { return p.arith(p.prod, "+-") }
func (p *exprParser) prod() (string, *exprErr) { return p.arith(p.match, "*/%") }

func (p *exprParser) match() (string, *exprErr) {
	l, err := p.primary()
	for err == nil && p.more() && p.peek() == ":" {
		p.i++
		var r string
		if r, err = p.primary(); err != nil {
			break
		}
		l, err = exprMatch(l, r)
	}
	return l, err
}

// exprMatch is STRING : REGEXP, a basic regular expression anchored at
// the start: the first group's text, or the length of the match.
func exprMatch(s, pat string) (string, *exprErr) {
	re, err := compileRE("^"+pat, false, false, false, false, false)
	if err != nil {
		return "", &exprErr{"Invalid regular expression", 2}
	}
	m := re.FindStringSubmatchIndex(s)
	if re.NumSubexp() > 0 {
		if m == nil || m[2] < 0 {
			return "", nil
		}
		return s[m[2]:m[3]], nil
	}
	if m == nil {
		return "0", nil
	}
	return strconv.Itoa(len([]rune(s[:m[1]]))), nil
}

func (p *exprParser) primary() (string, *exprErr) {
	if !p.more() {
		prev := ""
		if p.i > 0 {
			prev = p.args[p.i-1]
		}
		return "", &exprErr{"syntax error: missing argument after " + trQuote(prev), 2}
	}
	a := p.args[p.i]
	p.i++
	need := func(n int) ([]string, *exprErr) {
		var out []string
		for k := 0; k < n; k++ {
			v, err := p.primary()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch a {
	case "(":
		v, err := p.or()
		if err != nil {
			return "", err
		}
		if p.peek() != ")" || !p.more() {
			if p.more() {
				return "", &exprErr{"syntax error: expecting ')' instead of " + trQuote(p.peek()), 2}
			}
			return "", &exprErr{"syntax error: expecting ')' after " + trQuote(p.args[p.i-1]), 2}
		}
		p.i++
		return v, nil
	case "+":
		if !p.more() {
			return "", &exprErr{"syntax error: missing argument after " + trQuote("+"), 2}
		}
		p.i++
		return p.args[p.i-1], nil
	case "length":
		v, err := need(1)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(len([]rune(v[0]))), nil
	case "match":
		v, err := need(2)
		if err != nil {
			return "", err
		}
		return exprMatch(v[0], v[1])
	case "index":
		v, err := need(2)
		if err != nil {
			return "", err
		}
		i := strings.IndexAny(v[0], v[1])
		if i < 0 {
			return "0", nil
		}
		return strconv.Itoa(len([]rune(v[0][:i])) + 1), nil
	case "substr":
		v, err := need(3)
		if err != nil {
			return "", err
		}
		rs := []rune(v[0])
		pos, err1 := strconv.Atoi(v[1])
		n, err2 := strconv.Atoi(v[2])
		if err1 != nil || err2 != nil || pos < 1 || n < 1 || pos > len(rs) {
			return "", nil
		}
		return string(rs[pos-1 : min(len(rs), pos-1+n)]), nil
	}
	return a, nil
}

// ---- shred ----

func cmdShred(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "fuvxz", values: "ns", long: map[string]string{
		"force": "f", "remove": "u", "verbose": "v", "exact": "x", "zero": "z", "iterations": "n=", "size": "s=",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing file operand", 1)
	}
	passes := 3
	if fl.has("n") {
		n, err := strconv.Atoi(fl.val("n"))
		if err != nil || n < 0 {
			c.errorf("invalid number of passes: %s", trQuote(fl.val("n")))
			return 1
		}
		passes = n
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		in, err := c.s.h.fs.Stat(p)
		if err != nil {
			c.errorf("%s: failed to open for writing: %s", op, errText(err))
			code = 1
			continue
		}
		if in.Dir {
			c.errorf("%s: failed to open for writing: Is a directory", op)
			code = 1
			continue
		}
		if err := c.s.canWrite(p); err != nil {
			c.errorf("%s: failed to open for writing: %s", op, errText(err))
			code = 1
			continue
		}
		if fl.has("v") {
			for k := 1; k <= passes; k++ {
				c.err.printf("shred: %s: pass %d/%d (random)...\n", op, k, passes+btoi(fl.has("z")))
			}
			if fl.has("z") {
				c.err.printf("shred: %s: pass %d/%d (000000)...\n", op, passes+1, passes+1)
			}
		}
		// The bytes are overwritten in place: same size, other content.
		b := c.s.overwritten(p, in.Size, fl.has("z"))
		if _, err := c.s.writeFile(p, b, "shred", true); err != nil {
			c.errorf("%s: %s", op, errText(err))
			code = 1
			continue
		}
		if fl.has("u") {
			if fl.has("v") {
				c.err.printf("shred: %s: removing\n", op)
				c.err.printf("shred: %s: renamed to %s\n", op, strings.Repeat("0", len(path0(op))))
			}
			if err := c.s.removePath(p, false, "shred"); err != nil {
				c.errorf("%s: failed to remove: %s", op, errText(err))
				code = 1
				continue
			}
			if fl.has("v") {
				c.err.printf("shred: %s: removed\n", op)
			}
		}
	}
	return code
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// path0 is the base name shred renames a file to zeros of.
func path0(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// ---- shuf ----

func cmdShuf(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "erz", values: "inor", long: map[string]string{
		"echo": "e", "input-range": "i=", "head-count": "n=", "output": "o=", "repeat": "r", "zero-terminated": "z", "random-source": "random-source=",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	var items []string
	switch {
	case fl.has("i"):
		lo, hi, ok := strings.Cut(fl.val("i"), "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil || b < a-1 || b-a > 1_000_000 {
			c.errorf("invalid input range: %s", trQuote(fl.val("i")))
			return 1
		}
		for k := a; k <= b; k++ {
			items = append(items, strconv.Itoa(k))
		}
	case fl.has("e"):
		items = ops
	default:
		text := c.in.text
		if len(ops) > 0 && ops[0] != "-" {
			b, err := c.readInput(ops[0])
			if err != nil {
				c.errorf("%s: %s", ops[0], errText(err))
				return 1
			}
			text = b.Content
		}
		items = splitLines(text)
	}
	n := len(items)
	if fl.has("n") {
		v, err := strconv.Atoi(fl.val("n"))
		if err != nil || v < 0 {
			c.errorf("invalid line count: %s", trQuote(fl.val("n")))
			return 1
		}
		n = v
	}
	// A stable shuffle for the line: the same calls give the same order.
	c.s.rng = c.s.rng*1103515245 + 12345
	r := rand.New(rand.NewPCG(uint64(c.s.rng), uint64(len(items))))
	var b strings.Builder
	if fl.has("r") {
		if !fl.has("n") {
			// Without a count shuf -r runs until its reader stops it; print
			// a bounded amount, as yes does.
			n = 1000
		}
		// What a pipe can hold is as much as any reader sees.
		for k := 0; k < n && len(items) > 0 && b.Len() <= pipeLimit; k++ {
			b.WriteString(items[r.IntN(len(items))] + "\n")
		}
	} else {
		r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		for _, it := range items[:min(n, len(items))] {
			b.WriteString(it + "\n")
		}
	}
	c.out.WriteString(b.String())
	return 0
}

// overwritten is what p holds after shred wrote over its size bytes:
// zeros with zero, else bytes that depend on the file and the time; a
// declared file stays declared, with a digest of its own.
func (s *session) overwritten(p string, size int64, zero bool) vfs.Blob {
	if size > vfs.MaxContent {
		return vfs.Declared(size, "", fmt.Sprintf("shred\x00%s\x00%d", p, s.net.clock.Now().UnixNano()))
	}
	buf := make([]byte, size)
	if !zero {
		r := rand.New(rand.NewPCG(uint64(seeded(p, 1<<30)), uint64(s.net.clock.Now().UnixNano())))
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
	}
	return vfs.Content(string(buf))
}

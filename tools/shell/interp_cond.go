package shell

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Conditions: [[ ... ]] (parsed by mvdan.cc/sh) and test / [ (parsed here
// from their arguments, by POSIX's rules on the number of arguments).

// testClause evaluates [[ x ]]: 0 true, 1 false, 2 on an error.
func (s *session) testClause(x syntax.TestExpr, io *ioCtx) int {
	ok, err := s.condExpr(x, io)
	if err != "" {
		s.shellErr(io, "%s", err)
		return 2
	}
	if ok {
		return 0
	}
	return 1
}

func (s *session) condExpr(x syntax.TestExpr, io *ioCtx) (bool, string) {
	return s.condTerm(x, io, "")
}

// condTrace prints one term of [[ ]] as set -x shows it: each test on its
// own, operands expanded, after any ! before it.
func (s *session) condTrace(io *ioCtx, not string, words ...string) {
	if s.opts.xtrace {
		io.err.WriteString(s.xtracePrefix() + "[[ " + not + strings.Join(words, " ") + " ]]\n")
	}
}

func (s *session) condTerm(x syntax.TestExpr, io *ioCtx, not string) (bool, string) {
	switch x := x.(type) {
	case *syntax.Word:
		v := s.literal(io, x)
		s.condTrace(io, not, "-n", v)
		return v != "", ""
	case *syntax.ParenTest:
		return s.condTerm(x.X, io, not)
	case *syntax.UnaryTest:
		if x.Op == syntax.TsNot {
			v, err := s.condTerm(x.X, io, not+"! ")
			return !v, err
		}
		w, _ := x.X.(*syntax.Word)
		arg := s.literal(io, w)
		s.condTrace(io, not, x.Op.String(), arg)
		return s.unaryTest(x.Op.String(), arg)
	case *syntax.BinaryTest:
		switch x.Op {
		case syntax.AndTest:
			l, err := s.condTerm(x.X, io, "")
			if err != "" || !l {
				return false, err
			}
			return s.condTerm(x.Y, io, "")
		case syntax.OrTest:
			l, err := s.condTerm(x.X, io, "")
			if err != "" || l {
				return l, err
			}
			return s.condTerm(x.Y, io, "")
		}
		lw, _ := x.X.(*syntax.Word)
		rw, _ := x.Y.(*syntax.Word)
		left := s.literal(io, lw)
		switch x.Op {
		case syntax.TsMatch, syntax.TsMatchShort, syntax.TsNoMatch:
			pat := s.patternOf(io, rw)
			s.condTrace(io, not, left, x.Op.String(), pat)
			m := matchGlob(pat, left, true, false)
			return m == (x.Op != syntax.TsNoMatch), ""
		case syntax.TsReMatch:
			re := s.literal(io, rw)
			s.condTrace(io, not, left, "=~", re)
			rx, err := regexp.Compile(re)
			if err != nil {
				return false, ""
			}
			m := rx.FindStringSubmatch(left)
			if m == nil {
				s.vars["BASH_REMATCH"] = expand.Variable{Set: true, Kind: expand.Indexed, List: []string{}}
				return false, ""
			}
			s.vars["BASH_REMATCH"] = expand.Variable{Set: true, Kind: expand.Indexed, List: m}
			return true, ""
		case syntax.TsEql, syntax.TsNeq, syntax.TsLss, syntax.TsLeq, syntax.TsGtr, syntax.TsGeq:
			// [[ ]] evaluates the operands arithmetically.
			s.condTrace(io, not, left, x.Op.String(), s.literal(io, rw))
			l, ok1 := s.arith(lw, io, "[[")
			r, ok2 := s.arith(rw, io, "[[")
			if !ok1 || !ok2 {
				return false, ""
			}
			return intCompare(x.Op.String(), int64(l), int64(r)), ""
		}
		right := s.literal(io, rw)
		s.condTrace(io, not, left, x.Op.String(), right)
		return s.binaryTest(x.Op.String(), left, right)
	}
	return false, ""
}

func intCompare(op string, x, y int64) bool {
	switch op {
	case "-eq":
		return x == y
	case "-ne":
		return x != y
	case "-lt":
		return x < y
	case "-le":
		return x <= y
	case "-gt":
		return x > y
	case "-ge":
		return x >= y
	}
	return false
}

// unaryTest applies -f, -d, -z and the like. The error is bash's message.
func (s *session) unaryTest(op, arg string) (bool, string) {
	switch op {
	case "-z":
		return arg == "", ""
	case "-n":
		return arg != "", ""
	case "-v":
		v, ok := s.vars[arg]
		if !ok {
			if n, err := strconv.Atoi(arg); err == nil {
				return n >= 1 && n <= len(s.params), ""
			}
		}
		return ok && v.Set, ""
	case "-o":
		return s.optValue(arg), ""
	case "-t":
		return false, ""
	case "-R":
		return false, ""
	}
	if arg == "" {
		return false, ""
	}
	p := s.abs(arg)
	switch arg {
	case "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd/0", "/dev/fd/1", "/dev/fd/2":
		// The shell's own descriptors: pipes, not a terminal.
		return op == "-e" || op == "-p" || op == "-r" || op == "-w", ""
	}
	if op == "-L" || op == "-h" {
		in, err := s.h.fs.Lstat(p)
		return err == nil && isLink(in), ""
	}
	in, err := s.h.fs.Stat(p)
	exists := err == nil
	switch op {
	case "-e", "-a":
		return exists, ""
	case "-f":
		return exists && !in.Dir && !isDevice(in), ""
	case "-d":
		return exists && in.Dir, ""
	case "-c":
		return exists && in.Mode&fs.ModeCharDevice != 0, ""
	case "-b":
		return exists && isDevice(in) && in.Mode&fs.ModeCharDevice == 0, ""
	case "-s":
		return exists && in.Size > 0 && !in.Dir || exists && in.Dir, ""
	case "-r":
		return exists && s.h.fs.Check(p, s.user, vfs.Read) == nil, ""
	case "-w":
		return exists && s.h.fs.Check(p, s.user, vfs.Write) == nil, ""
	case "-x":
		return exists && s.h.fs.Check(p, s.user, vfs.Exec) == nil && (in.Dir || in.Mode.Perm()&0o111 != 0), ""
	case "-O":
		return exists && in.Owner == s.user, ""
	case "-G":
		// Owned by the user's effective group: its primary one.
		gs := s.h.fs.Accounts().Groups(s.user)
		return exists && len(gs) > 0 && s.h.gidOf(in.Group) == gs[0].GID || exists && len(gs) == 0 && in.Group == s.user, ""
	case "-k":
		return exists && in.Mode&fs.ModeSticky != 0, ""
	case "-g":
		return exists && in.Mode&fs.ModeSetgid != 0, ""
	case "-u":
		return exists && in.Mode&fs.ModeSetuid != 0, ""
	case "-p", "-S":
		return false, ""
	case "-N":
		return exists, ""
	}
	return false, op + ": unary operator expected"
}

// binaryTest applies string, number and file comparisons.
func (s *session) binaryTest(op, a, b string) (bool, string) {
	switch op {
	case "=", "==":
		return a == b, ""
	case "!=":
		return a != b, ""
	case "<":
		return a < b, ""
	case ">":
		return a > b, ""
	case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
		x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		y, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err1 != nil {
			return false, a + ": integer expression expected"
		}
		if err2 != nil {
			return false, b + ": integer expression expected"
		}
		return intCompare(op, x, y), ""
	case "-nt", "-ot", "-ef":
		ia, ea := s.h.fs.Stat(s.abs(a))
		ib, eb := s.h.fs.Stat(s.abs(b))
		switch op {
		case "-nt":
			return ea == nil && (eb != nil || ia.ModTime.After(ib.ModTime)), ""
		case "-ot":
			return eb == nil && (ea != nil || ia.ModTime.Before(ib.ModTime)), ""
		default:
			return ea == nil && eb == nil && ia.Ino == ib.Ino, ""
		}
	}
	return false, op + ": binary operator expected"
}

// cmdTest is test and [.
func cmdTest(c *call) int {
	args := c.args
	if c.name == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			c.berrPlain("missing `]'")
			return 2
		}
		args = args[:len(args)-1]
	}
	t := &testParser{s: c.s, args: args}
	v, err := t.expr(len(args))
	if err == "" && t.pos < len(args) {
		err = "too many arguments"
		if t.pos > 0 {
			err = args[t.pos] + ": binary operator expected"
			if len(args) > 3 {
				err = "too many arguments"
			}
		}
	}
	if err != "" {
		c.berrPlain(err)
		return 2
	}
	if v {
		return 0
	}
	return 1
}

// testParser reads test's arguments.
type testParser struct {
	s    *session
	args []string
	pos  int
}

var binOps = map[string]bool{"=": true, "==": true, "!=": true, "<": true, ">": true, "-eq": true, "-ne": true, "-lt": true,
	"-le": true, "-gt": true, "-ge": true, "-nt": true, "-ot": true, "-ef": true}

func isUnaryOp(a string) bool {
	return len(a) == 2 && a[0] == '-' && strings.IndexByte("abcdefghknoprstuvwxzGLNOS", a[1]) >= 0
}

func (t *testParser) peek() (string, bool) {
	if t.pos < len(t.args) {
		return t.args[t.pos], true
	}
	return "", false
}

// expr evaluates the remaining n arguments, POSIX style for up to four.
func (t *testParser) expr(n int) (bool, string) {
	switch n {
	case 0:
		return false, ""
	case 1:
		t.pos++
		return t.args[t.pos-1] != "", ""
	case 2:
		a, b := t.args[t.pos], t.args[t.pos+1]
		if a == "!" {
			t.pos += 2
			return b == "", ""
		}
		if isUnaryOp(a) {
			t.pos += 2
			return t.s.unaryTest(a, b)
		}
		return false, a + ": unary operator expected"
	case 3:
		a, op, b := t.args[t.pos], t.args[t.pos+1], t.args[t.pos+2]
		if binOps[op] {
			t.pos += 3
			return t.s.binaryTest(op, a, b)
		}
		if op == "-a" || op == "-o" {
			break
		}
		if a == "!" {
			t.pos++
			v, err := t.expr(2)
			return !v, err
		}
		if a == "(" && b == ")" {
			t.pos += 3
			return op != "", ""
		}
		return false, op + ": binary operator expected"
	case 4:
		if t.args[t.pos] == "!" {
			t.pos++
			v, err := t.expr(3)
			return !v, err
		}
	}
	return t.orExpr()
}

func (t *testParser) orExpr() (bool, string) {
	v, err := t.andExpr()
	for err == "" {
		a, ok := t.peek()
		if !ok || a != "-o" {
			break
		}
		t.pos++
		r, e := t.andExpr()
		v, err = v || r, e
	}
	return v, err
}

func (t *testParser) andExpr() (bool, string) {
	v, err := t.notExpr()
	for err == "" {
		a, ok := t.peek()
		if !ok || a != "-a" {
			break
		}
		t.pos++
		r, e := t.notExpr()
		v, err = v && r, e
	}
	return v, err
}

func (t *testParser) notExpr() (bool, string) {
	a, ok := t.peek()
	if !ok {
		return false, "argument expected"
	}
	if a == "!" {
		t.pos++
		v, err := t.notExpr()
		return !v, err
	}
	return t.primary()
}

func (t *testParser) primary() (bool, string) {
	a, _ := t.peek()
	if a == "(" {
		t.pos++
		v, err := t.orExpr()
		if err != "" {
			return v, err
		}
		if b, ok := t.peek(); !ok || b != ")" {
			return false, "`)' expected"
		}
		t.pos++
		return v, ""
	}
	if t.pos+2 < len(t.args)+0 && t.pos+1 < len(t.args) && binOps[t.args[t.pos+1]] {
		if t.pos+2 >= len(t.args) {
			return false, "argument expected"
		}
		x, op, y := t.args[t.pos], t.args[t.pos+1], t.args[t.pos+2]
		t.pos += 3
		return t.s.binaryTest(op, x, y)
	}
	if isUnaryOp(a) && t.pos+1 < len(t.args) {
		b := t.args[t.pos+1]
		t.pos += 2
		return t.s.unaryTest(a, b)
	}
	t.pos++
	return a != "", ""
}

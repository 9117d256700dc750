package shell

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// find with GNU find's expression grammar: tests, actions and the
// operators !, -not, -a, -and, -o, -or, ( ) and the comma. Programs that
// -exec runs go through the session's executor.

// findNode is one node of a find expression.
type findNode struct {
	op    string // "and", "or", "not", "comma", or a primary's name
	kids  []*findNode
	arg   string
	n     int64
	cmp   int // -1 less, 0 exact, 1 more
	unit  int64
	when  time.Time
	argv  []string // -exec
	batch bool     // -exec ... +
	paths []string // -exec ... + collects here
}

type findParser struct {
	c          *call
	args       []string
	i          int
	err        string
	actions    bool // the expression has an action of its own
	maxDepth   int
	minDepth   int
	depthFirst bool
	// follow is 'L' when links are followed everywhere (-L, -follow),
	// 'H' when only on the command line, 0 when never (-P).
	follow byte
}

func (p *findParser) fail(format string, a ...any) *findNode {
	if p.err == "" {
		p.err = fmt.Sprintf(format, a...)
	}
	return &findNode{op: "-true"}
}

func (p *findParser) peek() string {
	if p.i < len(p.args) {
		return p.args[p.i]
	}
	return ""
}

func (p *findParser) parseComma() *findNode {
	n := p.parseOr()
	for p.peek() == "," {
		p.i++
		n = &findNode{op: "comma", kids: []*findNode{n, p.parseOr()}}
	}
	return n
}

func (p *findParser) parseOr() *findNode {
	n := p.parseAnd()
	for p.peek() == "-o" || p.peek() == "-or" {
		p.i++
		if p.i >= len(p.args) {
			return p.fail("invalid expression; you have used a binary operator '-o' with nothing after it.")
		}
		n = &findNode{op: "or", kids: []*findNode{n, p.parseAnd()}}
	}
	return n
}

func (p *findParser) parseAnd() *findNode {
	n := p.parseNot()
	for {
		t := p.peek()
		if t == "" || t == "-o" || t == "-or" || t == ")" || t == "," {
			return n
		}
		if t == "-a" || t == "-and" {
			p.i++
		}
		n = &findNode{op: "and", kids: []*findNode{n, p.parseNot()}}
	}
}

func (p *findParser) parseNot() *findNode {
	if t := p.peek(); t == "!" || t == "-not" {
		p.i++
		return &findNode{op: "not", kids: []*findNode{p.parseNot()}}
	}
	return p.parsePrimary()
}

func (p *findParser) value(name string) (string, bool) {
	if p.i >= len(p.args) {
		p.fail("missing argument to `%s'", name)
		return "", false
	}
	v := p.args[p.i]
	p.i++
	return v, true
}

// numArg reads find's +N, -N and N.
func numArg(v string) (n int64, cmp int, ok bool) {
	switch {
	case strings.HasPrefix(v, "+"):
		cmp, v = 1, v[1:]
	case strings.HasPrefix(v, "-"):
		cmp, v = -1, v[1:]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, cmp, err == nil && n >= 0
}

func (p *findParser) parsePrimary() *findNode {
	t := p.peek()
	if t == "" {
		return p.fail("invalid expression")
	}
	p.i++
	switch t {
	case "(":
		n := p.parseComma()
		if p.peek() != ")" {
			return p.fail("invalid expression; I was expecting to find a ')' somewhere but did not see one.")
		}
		p.i++
		return n
	case ")":
		return p.fail("invalid expression; you have too many ')'")
	case "-true", "-false", "-empty", "-readable", "-writable", "-executable", "-nouser", "-nogroup":
		return &findNode{op: t}
	case "-print", "-print0", "-ls", "-delete", "-quit", "-prune":
		if t != "-prune" {
			p.actions = true
		}
		if t == "-delete" {
			p.depthFirst = true
		}
		return &findNode{op: t}
	case "-depth", "-d":
		p.depthFirst = true
		return &findNode{op: "-true"}
	case "-follow":
		p.follow = 'L'
		return &findNode{op: "-true"}
	case "-xdev", "-mount", "-noleaf", "-ignore_readdir_race", "-daystart", "-nowarn", "-warn":
		return &findNode{op: "-true"}
	case "-maxdepth", "-mindepth":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p.fail("Expected a positive decimal integer argument to %s, but got %s", t, quoteName(v))
		}
		if t == "-maxdepth" {
			p.maxDepth = n
		} else {
			p.minDepth = n
		}
		return &findNode{op: "-true"}
	case "-name", "-iname", "-path", "-wholename", "-ipath", "-iwholename", "-regex", "-iregex", "-lname", "-fstype":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		return &findNode{op: t, arg: v}
	case "-user", "-group", "-uid", "-gid":
		// A name the host's accounts lack, or an id, as GNU find takes them.
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		acc := p.c.s.h.fs.Accounts()
		id, err := strconv.Atoi(v)
		switch {
		case t == "-uid" || t == "-gid":
			if err != nil || id < 0 {
				return p.fail("invalid argument `%s' to `%s'", v, t)
			}
		case err == nil && id >= 0:
		case t == "-user":
			a, ok := acc.User(v)
			if !ok {
				return p.fail("%s is not the name of a known user", trQuote(v))
			}
			id = a.UID
		default:
			g, ok := acc.GroupID(v)
			if !ok {
				return p.fail("%s is not the name of an existing group", trQuote(v))
			}
			id = g
		}
		op := "-uid"
		if t == "-group" || t == "-gid" {
			op = "-gid"
		}
		return &findNode{op: op, arg: strconv.Itoa(id)}
	case "-type", "-xtype":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		for _, k := range strings.Split(v, ",") {
			if len(k) != 1 || !strings.Contains("bcdpflsD", k) {
				return p.fail("Unknown argument to %s: %s", t, v)
			}
		}
		return &findNode{op: t, arg: v}
	case "-perm":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		return &findNode{op: t, arg: v}
	case "-size":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		s := v
		unit := int64(512)
		if s != "" {
			switch s[len(s)-1] {
			case 'c':
				unit, s = 1, s[:len(s)-1]
			case 'w':
				unit, s = 2, s[:len(s)-1]
			case 'k':
				unit, s = 1024, s[:len(s)-1]
			case 'M':
				unit, s = 1<<20, s[:len(s)-1]
			case 'G':
				unit, s = 1<<30, s[:len(s)-1]
			case 'T':
				unit, s = 1<<40, s[:len(s)-1]
			case 'b':
				s = s[:len(s)-1]
			}
		}
		n, cmp, ok := numArg(s)
		if !ok {
			return p.fail("invalid -size type %s", quoteName(v))
		}
		return &findNode{op: t, n: n, cmp: cmp, unit: unit}
	case "-mtime", "-mmin", "-ctime", "-cmin", "-atime", "-amin":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		n, cmp, good := numArg(v)
		if !good {
			return p.fail("invalid argument %s to %s", quoteName(v), quoteName(t))
		}
		return &findNode{op: t, n: n, cmp: cmp}
	case "-newer", "-anewer", "-cnewer", "-newermt":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		if t == "-newermt" {
			when, good := parseDate(v, p.c.s.net.clock.Now())
			if !good {
				return p.fail("I cannot figure out how to interpret %s as a date or time", quoteName(v))
			}
			return &findNode{op: "-newer", when: when}
		}
		in, err := p.c.s.h.fs.Stat(p.c.s.abs(v))
		if err != nil {
			return p.fail("%s: %s", quoteName(v), errText(err))
		}
		return &findNode{op: "-newer", when: in.ModTime}
	case "-printf", "-fprint":
		v, ok := p.value(t)
		if !ok {
			return &findNode{op: "-true"}
		}
		p.actions = true
		return &findNode{op: t, arg: v}
	case "-exec", "-execdir", "-ok", "-okdir":
		j := p.i
		for j < len(p.args) && p.args[j] != ";" && !(p.args[j] == "+" && j > p.i && p.args[j-1] == "{}") {
			j++
		}
		if j >= len(p.args) || j == p.i {
			return p.fail("missing argument to `%s'", t)
		}
		n := &findNode{op: "-exec", argv: append([]string(nil), p.args[p.i:j]...), batch: p.args[j] == "+"}
		p.i = j + 1
		p.actions = true
		return n
	}
	if strings.HasPrefix(t, "-") {
		return p.fail("unknown predicate `%s'", t)
	}
	return p.fail("paths must precede expression: `%s'", t)
}

// findVisit is what find knows about one file it walks.
type findVisit struct {
	root  string // the starting point it was found under
	in    vfs.Info
	shown string
	depth int
	prune bool
	quit  bool
	// follow is whether in was reached by following links (-L).
	follow bool
}

func (c *call) findEval(n *findNode, v *findVisit, code *int) bool {
	now := c.s.net.clock.Now()
	switch n.op {
	case "and":
		return c.findEval(n.kids[0], v, code) && c.findEval(n.kids[1], v, code)
	case "or":
		return c.findEval(n.kids[0], v, code) || c.findEval(n.kids[1], v, code)
	case "comma":
		c.findEval(n.kids[0], v, code)
		return c.findEval(n.kids[1], v, code)
	case "not":
		return !c.findEval(n.kids[0], v, code)
	case "-true":
		return true
	case "-false":
		return false
	case "-name":
		ok, _ := path.Match(n.arg, path.Base(v.shown))
		return ok
	case "-iname":
		ok, _ := path.Match(strings.ToLower(n.arg), strings.ToLower(path.Base(v.shown)))
		return ok
	case "-path", "-wholename":
		return globMatchSlash(n.arg, v.shown)
	case "-ipath", "-iwholename":
		return globMatchSlash(strings.ToLower(n.arg), strings.ToLower(v.shown))
	case "-regex", "-iregex":
		re, err := compileRE(n.arg, true, false, n.op == "-iregex", false, true)
		return err == nil && re.MatchString(v.shown)
	case "-type", "-xtype":
		in := v.in
		if n.op == "-xtype" {
			in = c.findOther(v)
		}
		return slices.Contains(strings.Split(n.arg, ","), typeChar(in))
	case "-uid":
		return strconv.Itoa(c.s.h.uidOf(v.in.Owner)) == n.arg
	case "-gid":
		return strconv.Itoa(c.s.h.gidOf(v.in.Group)) == n.arg
	case "-nouser":
		_, known := c.s.h.fs.Accounts().User(v.in.Owner)
		return !known
	case "-nogroup":
		acc := c.s.h.fs.Accounts()
		_, known := acc.GroupID(v.in.Group)
		if _, user := acc.User(v.in.Group); user {
			known = true // a user's own group
		}
		return !known
	case "-lname":
		ok, _ := path.Match(n.arg, v.in.Link)
		return isLink(v.in) && ok
	case "-empty":
		if v.in.Dir {
			infos, _ := c.s.h.fs.ReadDir(v.in.Path)
			return len(infos) == 0
		}
		return v.in.Size == 0
	case "-readable":
		return c.s.h.fs.Check(v.in.Path, c.s.user, vfs.Read) == nil
	case "-writable":
		return c.s.h.fs.Check(v.in.Path, c.s.user, vfs.Write) == nil
	case "-executable":
		return v.in.Mode.Perm()&0o111 != 0 && c.s.h.fs.Check(v.in.Path, c.s.user, vfs.Exec) == nil
	case "-perm":
		return permMatch(n.arg, octalMode(v.in.Mode))
	case "-size":
		units := (v.in.Size + n.unit - 1) / n.unit
		return cmpN(units, n.n, n.cmp)
	case "-mtime", "-ctime", "-atime":
		days := int64(now.Sub(v.in.ModTime) / (24 * time.Hour))
		return cmpN(days, n.n, n.cmp)
	case "-mmin", "-cmin", "-amin":
		age := now.Sub(v.in.ModTime)
		mins := int64((age + time.Minute - 1) / time.Minute)
		return cmpN(mins, n.n, n.cmp)
	case "-newer":
		return v.in.ModTime.After(n.when)
	case "-fstype":
		return n.arg == "ext4"
	case "-print":
		c.out.WriteString(v.shown + "\n")
		return true
	case "-print0":
		c.out.WriteString(v.shown + "\x00")
		return true
	case "-ls":
		c.out.WriteString(c.findLs(v) + "\n")
		return true
	case "-printf":
		c.out.WriteString(c.findPrintf(n.arg, v))
		return true
	case "-fprint":
		return true
	case "-prune":
		v.prune = true
		return true
	case "-quit":
		v.quit = true
		return true
	case "-delete":
		p := v.in.Path
		if p == c.s.cwd {
			return true
		}
		if err := c.s.removePath(p, false, "rm"); err != nil {
			c.errorf("cannot delete %s: %s", quoteName(v.shown), errText(err))
			*code = 1
			return false
		}
		return true
	case "-exec":
		if n.batch {
			n.paths = append(n.paths, v.shown)
			return true
		}
		var argv []string
		for _, a := range n.argv {
			argv = append(argv, strings.ReplaceAll(a, "{}", v.shown))
		}
		return c.findExec(argv) == 0
	}
	return true
}

func cmpN(got, want int64, cmp int) bool {
	switch cmp {
	case 1:
		return got > want
	case -1:
		return got < want
	}
	return got == want
}

// permMatch is -perm MODE, -perm -MODE (all bits) and -perm /MODE (any).
func permMatch(spec string, mode uint32) bool {
	kind := byte(0)
	if spec != "" && (spec[0] == '-' || spec[0] == '/') {
		kind, spec = spec[0], spec[1:]
	}
	want, err := strconv.ParseUint(spec, 8, 32)
	if err != nil {
		m, ok := parseMode(spec, 0, false)
		if !ok {
			return false
		}
		want = uint64(octalMode(vfs.ModeBits(m)))
	}
	w := uint32(want)
	switch kind {
	case '-':
		return mode&w == w
	case '/':
		return w == 0 || mode&w != 0
	}
	return mode&0o7777 == w
}

// findOther is what -xtype looks at: the file a link leads to, or under
// -L the link itself; a dangling link is itself.
func (c *call) findOther(v *findVisit) vfs.Info {
	if v.follow {
		if in, err := c.s.h.fs.Lstat(v.in.Path); err == nil {
			return in
		}
		return v.in
	}
	if in, err := c.s.h.fs.Stat(v.in.Path); err == nil {
		return in
	}
	return v.in
}

func (c *call) findLs(v *findVisit) string {
	name := v.shown
	if isLink(v.in) {
		name += " -> " + v.in.Link
	}
	links := v.in.Nlink
	if v.in.Dir {
		links = 2 + c.subdirs(v.in.Path)
	}
	return fmt.Sprintf("%9d %6d %s %3d %-8s %-8s %12s %s %s", v.in.Ino, diskBlocks(v.in), modeString(v.in.Mode, v.in.Dir), links, v.in.Owner, v.in.Group, sizeField(v.in, false), lsTime(v.in.ModTime, c.s.net.clock.Now()), name)
}

func (c *call) findPrintf(f string, v *findVisit) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		ch := f[i]
		if ch == '\\' && i+1 < len(f) {
			i++
			switch f[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '0':
				b.WriteByte(0)
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(f[i])
			}
			continue
		}
		if ch != '%' || i+1 >= len(f) {
			b.WriteByte(ch)
			continue
		}
		i++
		// A field width, as in %10s.
		j := i
		for j < len(f) && (f[j] == '-' || f[j] >= '0' && f[j] <= '9') {
			j++
		}
		width := f[i:j]
		i = j
		if i >= len(f) {
			break
		}
		var s string
		switch f[i] {
		case 'p':
			s = v.shown
		case 'f':
			s = path.Base(v.shown)
		case 'h':
			s = path.Dir(v.shown)
		case 'P':
			s = strings.TrimPrefix(strings.TrimPrefix(v.shown, v.root), "/")
		case 's':
			s = strconv.FormatInt(v.in.Size, 10)
		case 'm':
			s = strconv.FormatUint(uint64(octalMode(v.in.Mode)), 8)
		case 'M':
			s = modeString(v.in.Mode, v.in.Dir)
		case 'u':
			s = v.in.Owner
		case 'g':
			s = v.in.Group
		case 'U':
			s = strconv.Itoa(c.s.h.uidOf(v.in.Owner))
		case 'G':
			s = strconv.Itoa(c.s.h.gidOf(v.in.Group))
		case 'y':
			s = typeChar(v.in)
		case 'Y':
			s = typeChar(c.findOther(v))
			if isLink(v.in) && !v.follow {
				if _, err := c.s.h.fs.Stat(v.in.Path); err != nil {
					s = "N"
					if errors.Is(err, vfs.ErrLoop) {
						s = "L"
					}
				}
			}
		case 'l':
			s = v.in.Link
		case 'n':
			s = strconv.Itoa(v.in.Nlink)
		case 'i':
			s = strconv.FormatUint(v.in.Ino, 10)
		case 'k':
			s = strconv.FormatInt(diskBlocks(v.in), 10)
		case 'b':
			s = strconv.FormatInt(diskBlocks(v.in)*2, 10)
		case 'd':
			s = strconv.Itoa(v.depth)
		case 'T', 't', 'A', 'C':
			t := v.in.ModTime.In(c.s.net.clock.Now().Location())
			if f[i] == 't' || f[i] == 'A' || f[i] == 'C' {
				s = t.Format("Mon Jan _2 15:04:05.0000000000 2006")
				break
			}
			if i+1 < len(f) {
				i++
				switch f[i] {
				case '@':
					s = fmt.Sprintf("%d.%010d", t.Unix(), t.Nanosecond()*10)
				case 'Y':
					s = t.Format("2006")
				case 'm':
					s = t.Format("01")
				case 'd':
					s = t.Format("02")
				case 'H':
					s = t.Format("15")
				case 'M':
					s = t.Format("04")
				case 'S':
					s = t.Format("05")
				case '+':
					s = t.Format("2006-01-02+15:04:05.0000000000")
				case 'F':
					s = t.Format("2006-01-02")
				case 'T':
					s = t.Format("15:04:05")
				default:
					s = t.Format("2006-01-02")
				}
			}
		case '%':
			s = "%"
		default:
			s = "%" + string(f[i])
		}
		if width != "" {
			s = fmt.Sprintf("%"+width+"s", s)
		}
		b.WriteString(s)
	}
	return b.String()
}

func cmdFind(c *call) int {
	args := c.args
	// Options before the paths: -H, -L, -P, -O3, -D opts.
	follow := byte(0)
	for len(args) > 0 && (args[0] == "-H" || args[0] == "-L" || args[0] == "-P" || strings.HasPrefix(args[0], "-O")) {
		switch args[0] {
		case "-H", "-L":
			follow = args[0][1]
		case "-P":
			follow = 0
		}
		args = args[1:]
	}
	var roots []string
	for len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-") && args[0] != "!" && args[0] != "(" && args[0] != "," {
		roots = append(roots, args[0])
		args = args[1:]
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	p := &findParser{c: c, args: args, maxDepth: -1, follow: follow}
	var expr *findNode
	if len(args) > 0 {
		expr = p.parseComma()
		if p.err == "" && p.i < len(args) {
			p.fail("paths must precede expression: `%s'", args[p.i])
		}
	} else {
		expr = &findNode{op: "-true"}
	}
	if p.err != "" {
		c.errorf("%s", p.err)
		return 1
	}
	if !p.actions {
		expr = &findNode{op: "and", kids: []*findNode{expr, {op: "-print"}}}
	}
	code := 0
	quit := false
	for _, root := range roots {
		if quit {
			break
		}
		rp := c.s.abs(root)
		stat := func(fp string, depth int) (vfs.Info, bool, error) {
			if p.follow == 'L' || p.follow == 'H' && depth == 0 {
				in, err := c.s.h.fs.Stat(fp)
				if err == nil {
					return in, true, nil
				}
				if l, lerr := c.s.h.fs.Lstat(fp); lerr == nil && !errors.Is(err, vfs.ErrLoop) {
					return l, false, nil // dangling: seen as the link
				}
				return vfs.Info{}, false, err
			}
			in, err := c.s.h.fs.Lstat(fp)
			return in, false, err
		}
		if _, _, err := stat(rp, 0); err != nil {
			c.errorf("%s: %s", quoteName(root), errText(err))
			code = 1
			continue
		}
		// Under -L, the directories being walked, by where they lead, so a
		// link back up is reported instead of walked forever.
		var open [][2]string // where each leads, and how find named it
		var walk func(fp, shown string, depth int)
		walk = func(fp, shown string, depth int) {
			if quit {
				return
			}
			in, followed, err := stat(fp, depth)
			if err != nil {
				c.errorf("%s: %s", quoteName(shown), errText(err))
				code = 1
				return
			}
			if in.Dir && p.follow == 'L' {
				real := c.s.resolveLoose(fp)
				for _, o := range open {
					if o[0] == real {
						c.errorf("File system loop detected; %s is part of the same file system loop as %s.", quoteName(shown), quoteName(o[1]))
						code = 1
						return
					}
				}
				open = append(open, [2]string{real, shown})
				defer func() { open = open[:len(open)-1] }()
			}
			v := &findVisit{root: root, in: in, shown: shown, depth: depth, follow: followed}
			visit := func() {
				if depth >= p.minDepth {
					c.findEval(expr, v, &code)
					quit = quit || v.quit
				}
			}
			if !p.depthFirst {
				visit()
			}
			if in.Dir && !v.prune && (p.maxDepth < 0 || depth < p.maxDepth) && !quit {
				if err := c.s.h.fs.Check(fp, c.s.user, vfs.Read|vfs.Exec); err != nil {
					c.errorf("%s: Permission denied", quoteName(shown))
					code = 1
				} else {
					infos, _ := c.s.h.fs.ReadDir(fp)
					for _, sub := range infos {
						walk(sub.Path, strings.TrimSuffix(shown, "/")+"/"+sub.Name, depth+1)
					}
				}
			}
			if p.depthFirst {
				visit()
			}
		}
		walk(rp, root, 0)
	}
	// -exec ... + runs once with everything it collected.
	var flush func(n *findNode)
	flush = func(n *findNode) {
		for _, k := range n.kids {
			flush(k)
		}
		if n.op == "-exec" && n.batch && len(n.paths) > 0 {
			var argv []string
			for _, a := range n.argv {
				if a == "{}" {
					argv = append(argv, n.paths...)
				} else {
					argv = append(argv, a)
				}
			}
			if c.findExec(argv) != 0 {
				code = 1
			}
		}
	}
	flush(expr)
	return code
}

// findExec runs the program of an -exec, as find starts it.
func (c *call) findExec(argv []string) int {
	return c.runProgram(argv, stream{}, func(name, why string) {
		c.errorf("%s: %s", quoteName(name), why)
	})
}

package shell

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

type sedAddr struct {
	kind byte // 0 none, 'n' line, '$' last, '/' regex
	line int
	re   *regexp.Regexp
}

type sedCmd struct {
	a1, a2  sedAddr
	neg     bool
	op      byte // s d p q a i c = y
	re      *regexp.Regexp
	repl    string
	global  bool
	nth     int
	print   bool
	text    string
	inRange bool
}

type sedError string

func (e sedError) Error() string { return string(e) }

// parseSed parses a sed script of s, d, p, q, a, i, c, = and y commands.
func parseSed(script string, ere bool) ([]*sedCmd, error) {
	var cmds []*sedCmd
	i := 0
	n := len(script)
	skip := func() {
		for i < n && (script[i] == ' ' || script[i] == '\t' || script[i] == ';' || script[i] == '\n') {
			i++
		}
	}
	readDelim := func(d byte) (string, error) {
		var b strings.Builder
		for i < n {
			ch := script[i]
			if ch == '\\' && i+1 < n {
				if script[i+1] == d {
					b.WriteByte(d)
				} else if script[i+1] == 'n' {
					b.WriteString(`\n`)
				} else {
					b.WriteByte('\\')
					b.WriteByte(script[i+1])
				}
				i += 2
				continue
			}
			if ch == d {
				i++
				return b.String(), nil
			}
			b.WriteByte(ch)
			i++
		}
		return "", sedError(fmt.Sprintf("-e expression #1, char %d: unterminated `s' command", n))
	}
	addr := func() (sedAddr, error) {
		if i >= n {
			return sedAddr{}, nil
		}
		switch ch := script[i]; {
		case ch >= '0' && ch <= '9':
			j := i
			for j < n && script[j] >= '0' && script[j] <= '9' {
				j++
			}
			v, _ := strconv.Atoi(script[i:j])
			i = j
			return sedAddr{kind: 'n', line: v}, nil
		case ch == '$':
			i++
			return sedAddr{kind: '$'}, nil
		case ch == '/' || ch == '\\':
			d := byte('/')
			if ch == '\\' {
				i++
				if i >= n {
					return sedAddr{}, sedError("-e expression #1, char 1: unexpected `,'")
				}
				d = script[i]
			}
			i++
			pat, err := readDelim(d)
			if err != nil {
				return sedAddr{}, sedError(fmt.Sprintf("-e expression #1, char %d: unterminated address regex", n))
			}
			icase := false
			if i < n && script[i] == 'I' {
				icase = true
				i++
			}
			re, cerr := compileRE(pat, ere, false, icase, false, false)
			if cerr != nil {
				return sedAddr{}, sedError("-e expression #1, char 0: Invalid regular expression")
			}
			return sedAddr{kind: '/', re: re}, nil
		}
		return sedAddr{}, nil
	}
	for {
		skip()
		if i >= n {
			break
		}
		c := &sedCmd{}
		var err error
		if c.a1, err = addr(); err != nil {
			return nil, err
		}
		if c.a1.kind != 0 && i < n && script[i] == ',' {
			i++
			if c.a2, err = addr(); err != nil {
				return nil, err
			}
			if c.a2.kind == 0 {
				return nil, sedError(fmt.Sprintf("-e expression #1, char %d: unexpected `,'", i))
			}
		}
		for i < n && script[i] == ' ' {
			i++
		}
		if i < n && script[i] == '!' {
			c.neg = true
			i++
		}
		if i >= n {
			return nil, sedError(fmt.Sprintf("-e expression #1, char %d: missing command", i))
		}
		c.op = script[i]
		i++
		switch c.op {
		case 's', 'y':
			if i >= n {
				return nil, sedError(fmt.Sprintf("-e expression #1, char %d: unterminated `%c' command", i, c.op))
			}
			d := script[i]
			i++
			pat, err := readDelim(d)
			if err != nil {
				return nil, err
			}
			repl, err := readDelim(d)
			if err != nil {
				return nil, err
			}
			if c.op == 'y' {
				if len(pat) != len(repl) {
					return nil, sedError(fmt.Sprintf("-e expression #1, char %d: strings for `y' command are different lengths", i))
				}
				c.text, c.repl = pat, repl
				break
			}
			icase := false
			for i < n && script[i] != ';' && script[i] != '\n' && script[i] != '}' && script[i] != ' ' {
				switch f := script[i]; {
				case f == 'g':
					c.global = true
				case f == 'p':
					c.print = true
				case f == 'i' || f == 'I':
					icase = true
				case f >= '0' && f <= '9':
					c.nth = c.nth*10 + int(f-'0')
				default:
					return nil, sedError(fmt.Sprintf("-e expression #1, char %d: unknown option to `s'", i+1))
				}
				i++
			}
			re, cerr := compileRE(pat, ere, false, icase, false, false)
			if cerr != nil {
				return nil, sedError(fmt.Sprintf("-e expression #1, char %d: Invalid regular expression", i))
			}
			c.re, c.repl = re, repl
		case 'd', 'p', 'q', '=', 'Q':
		case 'a', 'i', 'c':
			if i < n && script[i] == '\\' {
				i++
			}
			for i < n && (script[i] == ' ' || script[i] == '\n') {
				i++
			}
			j := strings.IndexByte(script[i:], '\n')
			if j < 0 {
				j = n - i
			}
			c.text = unescapeC(script[i : i+j])
			i += j
		default:
			return nil, sedError(fmt.Sprintf("-e expression #1, char %d: unknown command: `%c'", i, c.op))
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func (a sedAddr) match(lineNo int, last bool, line string) bool {
	switch a.kind {
	case 'n':
		return lineNo == a.line
	case '$':
		return last
	case '/':
		return a.re.MatchString(line)
	}
	return true
}

func (c *sedCmd) applies(lineNo int, last bool, line string) bool {
	var ok bool
	switch {
	case c.a1.kind == 0:
		ok = true
	case c.a2.kind == 0:
		ok = c.a1.match(lineNo, last, line)
	case c.inRange:
		ok = true
		if c.a2.kind == 'n' && lineNo >= c.a2.line || c.a2.kind != 'n' && c.a2.match(lineNo, last, line) {
			c.inRange = false
		}
	case c.a1.match(lineNo, last, line):
		ok = true
		c.inRange = !(c.a2.kind == 'n' && lineNo >= c.a2.line)
	}
	return ok != c.neg
}

// sedMemory bounds the text sed holds at once: more, and GNU sed fails
// with "couldn't re-allocate memory", as it does when malloc fails.
const sedMemory = maxString

// expandRepl writes the replacement for match m to b. It reports false
// when b would grow past sedMemory.
func expandRepl(b *strings.Builder, repl string, src string, m []int) bool {
	for i := 0; i < len(repl); i++ {
		if b.Len() > sedMemory {
			return false
		}
		ch := repl[i]
		switch {
		case ch == '&':
			if b.Len()+m[1]-m[0] > sedMemory {
				return false
			}
			b.WriteString(src[m[0]:m[1]])
		case ch == '\\' && i+1 < len(repl):
			i++
			n := repl[i]
			switch {
			case n >= '0' && n <= '9':
				k := int(n - '0')
				if 2*k+1 < len(m) && m[2*k] >= 0 {
					b.WriteString(src[m[2*k]:m[2*k+1]])
				}
			case n == 'n':
				b.WriteByte('\n')
			case n == 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(n)
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.Len() <= sedMemory
}

// sedChunk is how many matches sedSubst finds at a time, so that a line
// with millions of matches does not hold them all.
const sedChunk = 1 << 14

// sedSubst applies an s command to line. held is what sed holds already;
// ok is false when the result would not fit in sed's memory.
func sedSubst(c *sedCmd, line string, held int) (res string, matched, ok bool) {
	nth := c.nth
	if nth == 0 {
		nth = 1
	}
	var b strings.Builder
	prev, count, base := 0, 0, 0
	rest := line
	var abs []int
	for {
		matches := c.re.FindAllStringSubmatchIndex(rest, sedChunk)
		if len(matches) == 0 {
			break
		}
		for _, m := range matches {
			count++
			if count < nth {
				continue
			}
			if cap(abs) < len(m) {
				abs = make([]int, len(m))
			}
			abs = abs[:len(m)]
			for i, v := range m {
				if v >= 0 {
					abs[i] = v + base
				} else {
					abs[i] = v
				}
			}
			b.WriteString(line[prev:abs[0]])
			if !expandRepl(&b, c.repl, line, abs) || held+b.Len() > sedMemory {
				return "", false, false
			}
			prev = abs[1]
			matched = true
			if !c.global {
				break
			}
		}
		if (matched && !c.global) || len(matches) < sedChunk {
			break
		}
		// More matches may follow: go on after the last one.
		last := matches[len(matches)-1]
		next := last[1]
		if last[1] == last[0] {
			next++
		}
		if next > len(rest) {
			break
		}
		base += next
		rest = rest[next:]
	}
	if !matched {
		return line, false, true
	}
	b.WriteString(line[prev:])
	return b.String(), true, true
}

// runSed applies cmds to text. ok is false when the result would not fit
// in sed's memory.
func runSed(cmds []*sedCmd, text string, quiet bool) (result string, ok bool) {
	for _, c := range cmds {
		c.inRange = false
	}
	lines := splitLines(text)
	trailingNL := strings.HasSuffix(text, "\n")
	var out strings.Builder
	for idx, line := range lines {
		lineNo := idx + 1
		last := idx == len(lines)-1
		deleted := false
		quit := false
		var appendText []string
		for _, c := range cmds {
			if !c.applies(lineNo, last, line) {
				continue
			}
			switch c.op {
			case 's':
				res, matched, ok := sedSubst(c, line, out.Len())
				if !ok {
					return "", false
				}
				if !matched {
					continue
				}
				line = res
				if c.print {
					out.WriteString(line + "\n")
				}
			case 'y':
				var b strings.Builder
				for k := 0; k < len(line); k++ {
					if j := strings.IndexByte(c.text, line[k]); j >= 0 {
						b.WriteByte(c.repl[j])
					} else {
						b.WriteByte(line[k])
					}
				}
				line = b.String()
			case 'd':
				deleted = true
			case 'p':
				out.WriteString(line + "\n")
			case '=':
				out.WriteString(strconv.Itoa(lineNo) + "\n")
			case 'i':
				out.WriteString(c.text + "\n")
			case 'a':
				appendText = append(appendText, c.text)
			case 'c':
				if c.a2.kind == 0 || !c.inRange {
					out.WriteString(c.text + "\n")
				}
				deleted = true
			case 'q':
				quit = true
			case 'Q':
				return out.String(), true
			}
			if deleted || quit {
				break
			}
		}
		if !deleted && !quiet {
			out.WriteString(line)
			if !last || trailingNL {
				out.WriteString("\n")
			}
		}
		for _, t := range appendText {
			out.WriteString(t + "\n")
		}
		if out.Len() > sedMemory {
			return "", false
		}
		if quit {
			break
		}
	}
	return out.String(), true
}

func cmdSed(c *call) int {
	args := c.args
	var scripts []string
	var files []string
	quiet, inPlace, ere := false, false, false
	backup := "" // -i's suffix: the original is kept under that name
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			files = append(files, args[i+1:]...)
			i = len(args)
		case a == "-e" || a == "--expression":
			if i+1 >= len(args) {
				return c.badFlag("option requires an argument -- 'e'", 1)
			}
			i++
			scripts = append(scripts, args[i])
		case strings.HasPrefix(a, "--expression="):
			scripts = append(scripts, strings.TrimPrefix(a, "--expression="))
		case a == "-n" || a == "--quiet" || a == "--silent":
			quiet = true
		case a == "-E" || a == "-r" || a == "--regexp-extended":
			ere = true
		case a == "-i" || a == "--in-place":
			inPlace = true
		case strings.HasPrefix(a, "--in-place="):
			inPlace, backup = true, strings.TrimPrefix(a, "--in-place=")
		case a == "-s" || a == "-u" || a == "--posix":
		case len(a) > 1 && a[0] == '-' && a != "-":
			// Combined short flags such as -ni, -i.bak, -Ei.
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'n':
					quiet = true
				case 'E', 'r':
					ere = true
				case 's', 'u':
				case 'i':
					inPlace = true
					backup = a[j+1:] // the rest is a backup suffix
					j = len(a)
				case 'e':
					if j+1 < len(a) {
						scripts = append(scripts, a[j+1:])
					} else if i+1 < len(args) {
						i++
						scripts = append(scripts, args[i])
					}
					j = len(a)
				default:
					return c.badFlag(fmt.Sprintf("invalid option -- '%c'", a[j]), 1)
				}
			}
		default:
			files = append(files, a)
		}
	}
	if len(scripts) == 0 {
		if len(files) == 0 {
			c.err.WriteString("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n")
			return 1
		}
		scripts, files = files[:1], files[1:]
	}
	cmds, err := parseSed(strings.Join(scripts, "\n"), ere)
	if err != nil {
		c.errorf("%s", err.Error())
		return 1
	}
	if inPlace {
		if len(files) == 0 {
			c.errorf("no input files")
			return 1
		}
		code := 0
		for _, f := range files {
			p := c.s.abs(f)
			in, err := c.s.h.fs.Stat(p)
			if err != nil {
				c.errorf("can't read %s: %s", f, errText(err))
				code = 2
				continue
			}
			if in.Dir {
				c.errorf("couldn't edit %s: not a regular file", f)
				code = 4
				continue
			}
			b, err := c.s.readFile(p)
			if err != nil {
				c.errorf("can't read %s: %s", f, errText(err))
				code = 2
				continue
			}
			if b.Declared {
				c.errorf("couldn't edit %s: binary file with no text content", f)
				code = 4
				continue
			}
			res, ok := runSed(cmds, b.Content, quiet)
			if !ok {
				c.err.WriteString("sed: couldn't re-allocate memory\n")
				return 4
			}
			// sed writes a temporary file beside the original first, changed
			// or not.
			if err := c.s.h.fs.Check(p, c.s.user, vfs.Write); err != nil {
				c.errorf("couldn't open temporary file %s: Permission denied", path.Join(path.Dir(p), fmt.Sprintf("sed%06X", seeded(p, 1<<24))))
				code = 4
				continue
			}
			if backup != "" {
				// The original under its backup name, as it was.
				name := path.Base(p) + backup
				if strings.Contains(backup, "*") {
					name = strings.ReplaceAll(backup, "*", path.Base(p))
				}
				bp := name
				if !strings.Contains(name, "/") {
					bp = path.Join(path.Dir(p), name)
				} else {
					bp = c.s.abs(name)
				}
				if _, err := c.s.writeFileOpts(bp, b, "sed", false, vfs.WriteOptions{Mode: in.Mode.Perm(), ModTime: in.ModTime}); err != nil {
					c.errorf("cannot rename %s: %s", f, errText(err))
					code = 4
					continue
				}
			}
			if res == b.Content {
				continue
			}
			if _, err := c.s.writeFile(p, vfs.Content(res), "sed", true); err != nil {
				c.errorf("couldn't edit %s: %s", f, errText(err))
				code = 4
			}
		}
		return code
	}
	var text strings.Builder
	code := 0
	if len(files) == 0 {
		text.WriteString(c.in.text)
	}
	for _, f := range files {
		if f == "-" {
			text.WriteString(c.in.text)
			continue
		}
		b, err := c.s.readFile(c.s.abs(f))
		if err != nil {
			if in, serr := c.s.h.fs.Stat(c.s.abs(f)); serr == nil && in.Dir {
				c.errorf("couldn't edit %s: not a regular file", f)
			} else {
				c.errorf("can't read %s: %s", f, errText(err))
			}
			code = 2
			continue
		}
		text.WriteString(b.Content)
	}
	res, ok := runSed(cmds, text.String(), quiet)
	if !ok {
		c.err.WriteString("sed: couldn't re-allocate memory\n")
		return 4
	}
	c.out.WriteString(res)
	return code
}

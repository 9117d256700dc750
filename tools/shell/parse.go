package shell

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// ErrSyntax is wrapped by every error parse returns.
var ErrSyntax = errors.New("syntax error")

// syntaxError is a parse error in the words bash prints for it, without
// the "bash: " or "line N: " prefix, and the line it was found on.
type syntaxError struct {
	line int
	msg  string // "syntax error near unexpected token `)'"
	// bad is a bad substitution: bash reports it when the command runs,
	// with status 1, not as a syntax error with status 2.
	bad bool
}

func (e *syntaxError) Error() string { return e.msg }
func (e *syntaxError) Unwrap() error { return ErrSyntax }

// program is a parsed unit of source: a command line, a script, an eval
// or -c string. When src has a syntax error, stmts holds the statements on
// the lines before it, which bash runs before it reports the error.
type program struct {
	src   string
	stmts []*syntax.Stmt
	err   *syntaxError
}

var parserPool = sync.Pool{New: func() any {
	return syntax.NewParser(syntax.Variant(syntax.LangBash))
}}

// parseCache holds recently parsed sources; parsed trees are never
// changed after parsing, so a script run many times is parsed once.
type parseCache struct {
	mu sync.Mutex
	m  map[string]*program
}

const parseCacheMax = 512

var progCache = &parseCache{m: map[string]*program{}}

func (c *parseCache) get(src string) *program {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[src]
}

func (c *parseCache) put(src string, p *program) {
	if len(src) > 64<<10 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= parseCacheMax {
		clear(c.m)
	}
	c.m[src] = p
}

// parse parses bash source. It never fails: a syntax error is in the
// result's err, with the statements before it.
func parse(src string) *program {
	if p := progCache.get(src); p != nil {
		return p
	}
	prog := &program{src: src}
	f, err := parseFile(src)
	if err == nil {
		err = anonymousFunc(src, f)
	}
	if err == nil {
		prog.stmts = f.Stmts
	} else {
		prog.err = bashSyntaxError(src, err)
		// Statements on earlier lines run first, as bash reads and runs
		// one line at a time.
		if start := lineStart(src, prog.err.line); start > 0 {
			if f, err := parseFile(src[:start]); err == nil {
				prog.stmts = f.Stmts
			}
		}
	}
	progCache.put(src, prog)
	return prog
}

// anonymousFunc refuses a function without a name (the parser takes
// "()" for one, as zsh has them; bash has none): bash sees the ")" it
// did not expect.
func anonymousFunc(src string, f *syntax.File) error {
	var bad *syntax.FuncDecl
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name == nil && len(fd.Names) == 0 && bad == nil {
			bad = fd
		}
		return bad == nil
	})
	if bad == nil {
		return nil
	}
	// The error names the ")" of the "()" the declaration starts with.
	pos := bad.Pos()
	off := int(pos.Offset())
	if i := strings.IndexByte(src[min(off, len(src)):], ')'); i >= 0 {
		off += i
	}
	return syntax.LangError{Pos: syntax.NewPos(uint(off), pos.Line(), pos.Col()), Feature: "anonymous functions", Langs: []syntax.LangVariant{syntax.LangZsh}}
}

// crMarks are the bytes that stand for a carriage return while the
// library parses: it reads a lone \r as a blank and \r\n as a newline,
// where bash keeps \r as a character of the word (a CRLF script runs
// $'ls\r'). One that src does not hold takes the place of each \r, and
// the parsed words get their \r back.
const crMarks = "\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

// crMark returns the byte that stands for \r in src, or 0 when src has
// no \r or holds every candidate.
func crMark(src string) byte {
	if !strings.Contains(src, "\r") {
		return 0
	}
	for i := 0; i < len(crMarks); i++ {
		if strings.IndexByte(src, crMarks[i]) < 0 {
			return crMarks[i]
		}
	}
	return 0
}

func parseFile(src string) (*syntax.File, error) {
	mark := crMark(src)
	if mark == 0 {
		return parseSource(src)
	}
	f, err := parseSource(strings.ReplaceAll(src, "\r", string(mark)))
	if f != nil {
		restoreCR(f, mark)
	}
	return f, err
}

// restoreCR puts \r back where mark stood in the words of f.
func restoreCR(f *syntax.File, mark byte) {
	back := func(s string) string { return strings.ReplaceAll(s, string(mark), "\r") }
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Lit:
			n.Value = back(n.Value)
		case *syntax.SglQuoted:
			n.Value = back(n.Value)
		}
		return true
	})
}

func parseSource(src string) (f *syntax.File, err error) {
	p := parserPool.Get().(*syntax.Parser)
	defer func() {
		if r := recover(); r != nil {
			// The parser is a library; a panic in it must not take the
			// world down. It reads as an unparseable line.
			f, err = nil, syntax.ParseError{Pos: syntax.NewPos(0, 1, 1), Text: "invalid input"}
			p = syntax.NewParser(syntax.Variant(syntax.LangBash))
		}
		parserPool.Put(p)
	}()
	return p.Parse(strings.NewReader(src), "")
}

// lineStart is the offset where line n (from 1) of src starts.
func lineStart(src string, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := strings.IndexByte(src[off:], '\n')
		if j < 0 {
			return len(src)
		}
		off += j + 1
	}
	return off
}

// bashSyntaxError turns a parser error into bash's message for it.
func bashSyntaxError(src string, err error) *syntaxError {
	var pe syntax.ParseError
	if !errors.As(err, &pe) {
		var le syntax.LangError
		if errors.As(err, &le) {
			return &syntaxError{line: int(le.Pos.Line()), msg: "syntax error near unexpected token `" + tokenAt(src, int(le.Pos.Offset())) + "'"}
		}
		return &syntaxError{line: 1, msg: "syntax error: unexpected end of file"}
	}
	line := int(pe.Pos.Line())
	off := int(pe.Pos.Offset())
	if off > len(src) {
		off = len(src)
	}
	text := pe.Text
	switch {
	case strings.HasPrefix(text, "reached EOF without closing quote"):
		q := "'"
		switch {
		case strings.Contains(text, "`\"`"):
			q = "\""
		case strings.Contains(text, "\"`\""):
			q = "`"
		}
		return &syntaxError{line: strings.Count(src, "\n") + 1, msg: "unexpected EOF while looking for matching `" + q + "'\nsyntax error: unexpected end of file"}
	case strings.Contains(text, "parameter expansion") || strings.Contains(text, "invalid parameter name") ||
		strings.Contains(text, "@ expansion operator") || (strings.Contains(text, "`${`") && !pe.Incomplete):
		return &syntaxError{line: line, msg: badSubst(src, off) + ": bad substitution", bad: true}
	case strings.HasPrefix(text, "unclosed here-document"):
		// bash warns and takes the rest of the input as the body; the
		// parser refuses. Say what bash says before it gives up.
		return &syntaxError{line: line, msg: "syntax error: unexpected end of file"}
	case pe.Incomplete && strings.Contains(text, "must be followed by `)`") && strings.Contains(text, "(`"):
		return &syntaxError{line: line, msg: "syntax error near unexpected token `newline'"}
	case pe.Incomplete:
		return &syntaxError{line: strings.Count(src, "\n") + 1, msg: "syntax error: unexpected end of file"}
	}
	if strings.Contains(text, "must be followed by `)`") && strings.Contains(text, "(`") {
		// echo ( : bash reads a function definition and finds the line's end.
		return &syntaxError{line: line, msg: "syntax error near unexpected token `newline'"}
	}
	tok := tokenAt(src, off)
	if strings.Contains(text, "must be followed by") || strings.Contains(text, "cannot form a statement alone") {
		// The token the parser complains about is fine; the one after it
		// is what bash calls unexpected.
		next := skipToken(src, off)
		tok = tokenAt(src, next)
		// In a CRLF script the keyword it wanted is there with a \r:
		// bash finds do\r where it wanted do.
		if _, kw, ok := strings.Cut(text, "must be followed by `"); ok && strings.Contains(src, "\r") {
			kw, _, _ = strings.Cut(kw, "`")
			if i := strings.Index(src[off:], kw+"\r"); i >= 0 {
				line += strings.Count(src[off:off+i], "\n")
				tok = kw + "\r"
			}
		}
	}
	return &syntaxError{line: line, msg: "syntax error near unexpected token `" + bashName(tok) + "'"}
}

// badSubst returns the ${...} around offset off, as bash quotes it.
func badSubst(src string, off int) string {
	start := strings.LastIndex(src[:min(off+1, len(src))], "${")
	if start < 0 {
		return "${}"
	}
	depth := 0
	for i := start; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[start : i+1]
			}
		case '\n':
			return src[start:i]
		}
	}
	return src[start:]
}

var operators = []string{";;&", ";;", ";&", "&&", "||", "|&", ">>", "<<", "&>", ">&", "<&", "|", "&", ";", "(", ")", "<", ">", "{", "}"}

// skipToken returns the offset just past the token at off.
func skipToken(src string, off int) int {
	for off < len(src) && (src[off] == ' ' || src[off] == '\t') {
		off++
	}
	if off >= len(src) || src[off] == '\n' {
		return off + 1
	}
	for _, op := range operators {
		if strings.HasPrefix(src[off:], op) {
			return off + len(op)
		}
	}
	for off < len(src) && !strings.ContainsRune(" \t\n;&|()<>", rune(src[off])) {
		off++
	}
	return off
}

// tokenAt returns the shell token at off: an operator, a word, or
// "newline" at the end of a line or the input.
func tokenAt(src string, off int) string {
	for off < len(src) && (src[off] == ' ' || src[off] == '\t') {
		off++
	}
	if off >= len(src) || src[off] == '\n' {
		return "newline"
	}
	for _, op := range operators {
		if strings.HasPrefix(src[off:], op) {
			return op
		}
	}
	end := off
	for end < len(src) && !strings.ContainsRune(" \t\n;&|()<>", rune(src[end])) {
		end++
	}
	return src[off:end]
}

// bashName is a name as bash prints it in a message: as it is, or in
// $'...' when it holds a control character (a CRLF script's $'ls\r').
func bashName(s string) string {
	if !hasControl(s) {
		return s
	}
	return "$'" + cEscape(s) + "'"
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// cEscape writes s with the escapes of $'...': \r, \n, \t, \E and octal
// for other control characters, \' and \\.
func cEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case 0x1b:
			b.WriteString(`\E`)
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// unescapeC interprets the backslash escapes of echo -e and $'...'.
func unescapeC(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case '\\':
			b.WriteByte('\\')
		case '\'':
			b.WriteByte('\'')
		case '"':
			b.WriteByte('"')
		case '0':
			n, j := 0, i+1
			for ; j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7'; j++ {
				n = n*8 + int(s[j]-'0')
			}
			b.WriteByte(byte(n))
			i = j - 1
		case 'x':
			n, j := 0, i+1
			for ; j < len(s) && j < i+3 && isHex(s[j]); j++ {
				n = n*16 + hexVal(s[j])
			}
			if j == i+1 {
				b.WriteString("\\x")
				continue
			}
			b.WriteByte(byte(n))
			i = j - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

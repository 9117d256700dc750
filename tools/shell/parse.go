package shell

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("syntax error")

// ErrUnsupported is wrapped when a line uses shell syntax this shell does
// not offer (command substitution, subshells, control structures).
var ErrUnsupported = errors.New("unsupported shell syntax")

// A seg is one piece of a word: literal text (quoted or not) or a variable
// reference expanded when the command runs.
type seg struct {
	text   string
	quoted bool // no globbing, no tilde
	isVar  bool // text is the variable name
}

// A word is one shell word before expansion.
type word []seg

// literal returns the word's text when it has no variables.
func (w word) literal() (string, bool) {
	var b strings.Builder
	for _, s := range w {
		if s.isVar {
			return "", false
		}
		b.WriteString(s.text)
	}
	return b.String(), true
}

func (w word) raw() string {
	var b strings.Builder
	for _, s := range w {
		if s.isVar {
			b.WriteString("$" + s.text)
		} else {
			b.WriteString(s.text)
		}
	}
	return b.String()
}

type redirect struct {
	fd     int    // 0, 1 or 2; -1 for &> (both)
	op     string // ">", ">>", "<", ">&", "<<"
	target word   // file name (or fd digit for >&)
	here   *heredoc
}

type heredoc struct {
	delim  string
	quoted bool
	strip  bool
	body   word
	filled bool
}

type command struct {
	words  []word
	redirs []redirect
}

type pipeline struct {
	bang bool
	cmds []*command
}

type andOr struct {
	first *pipeline
	ops   []string // "&&" or "||" before each of rest
	rest  []*pipeline
}

type script struct {
	items []*andOr
}

type tokKind int

const (
	tWord tokKind = iota
	tOp
	tRedir
	tNewline
)

type token struct {
	kind  tokKind
	op    string
	word  word
	redir *redirect
}

type lexer struct {
	s       string
	i       int
	toks    []token
	pending []*heredoc
}

func syntaxErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, a...))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isMeta(c byte) bool {
	switch c {
	case '|', '&', ';', '<', '>', '(', ')', '\n':
		return true
	}
	return isSpace(c)
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// lex splits a line into tokens.
func lex(s string) ([]token, error) {
	lx := &lexer{s: s}
	for {
		for lx.i < len(s) && isSpace(s[lx.i]) {
			lx.i++
		}
		if lx.i >= len(s) {
			break
		}
		c := s[lx.i]
		switch {
		case c == '#':
			for lx.i < len(s) && s[lx.i] != '\n' {
				lx.i++
			}
		case c == '\n':
			lx.i++
			lx.toks = append(lx.toks, token{kind: tNewline})
			if err := lx.readHeredocs(); err != nil {
				return nil, err
			}
		case c == '(' || c == ')':
			return nil, fmt.Errorf("%w: subshells and ( ) grouping are not supported in this shell", ErrUnsupported)
		case c == '|' || c == '&' || c == ';':
			if err := lx.operator(); err != nil {
				return nil, err
			}
		case c == '<' || c == '>':
			if err := lx.redirection(-2); err != nil {
				return nil, err
			}
		default:
			// A digit run directly before < or > is a file descriptor.
			j := lx.i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > lx.i && j < len(s) && (s[j] == '<' || s[j] == '>') {
				fd := 0
				for _, d := range s[lx.i:j] {
					fd = fd*10 + int(d-'0')
					if fd > 9 {
						return nil, fmt.Errorf("%w: file descriptor %s is not supported", ErrUnsupported, s[lx.i:j])
					}
				}
				lx.i = j
				if err := lx.redirection(fd); err != nil {
					return nil, err
				}
				continue
			}
			w, err := lx.word()
			if err != nil {
				return nil, err
			}
			lx.toks = append(lx.toks, token{kind: tWord, word: w})
		}
	}
	if len(lx.pending) > 0 {
		// Here-documents that end with the line: bash warns and uses
		// what is there; here there is nothing after the command line.
		for _, h := range lx.pending {
			h.body = word{{quoted: true}}
			h.filled = true
		}
	}
	return lx.toks, nil
}

func (lx *lexer) operator() error {
	s := lx.s
	c := s[lx.i]
	two := ""
	if lx.i+1 < len(s) {
		two = s[lx.i : lx.i+2]
	}
	switch {
	case two == "&&" || two == "||" || two == ";;":
		if two == ";;" {
			return syntaxErr("near unexpected token `;;'")
		}
		lx.toks = append(lx.toks, token{kind: tOp, op: two})
		lx.i += 2
	case two == "&>":
		lx.i++
		return lx.redirection(-1)
	case two == "|&":
		return fmt.Errorf("%w: |& is not supported; use 2>&1 |", ErrUnsupported)
	default:
		lx.toks = append(lx.toks, token{kind: tOp, op: string(c)})
		lx.i++
	}
	return nil
}

// redirection reads a redirection operator at lx.i and its target. fd is
// the explicit descriptor, -1 for &>, or -2 when none was written.
func (lx *lexer) redirection(fd int) error {
	s := lx.s
	r := &redirect{fd: fd}
	switch {
	case strings.HasPrefix(s[lx.i:], ">>"):
		r.op = ">>"
		lx.i += 2
	case strings.HasPrefix(s[lx.i:], ">&"):
		r.op = ">&"
		lx.i += 2
	case strings.HasPrefix(s[lx.i:], ">|"):
		r.op = ">"
		lx.i += 2
	case strings.HasPrefix(s[lx.i:], "<<<"):
		r.op = "<<<"
		lx.i += 3
	case strings.HasPrefix(s[lx.i:], "<<"):
		r.op = "<<"
		lx.i += 2
		r.here = &heredoc{}
		if lx.i < len(s) && s[lx.i] == '-' {
			r.here.strip = true
			lx.i++
		}
	case strings.HasPrefix(s[lx.i:], "<&"):
		return fmt.Errorf("%w: <& is not supported", ErrUnsupported)
	case s[lx.i] == '>':
		r.op = ">"
		lx.i++
	default:
		r.op = "<"
		lx.i++
	}
	if r.fd == -2 {
		if r.op == "<" || r.op == "<<" || r.op == "<<<" {
			r.fd = 0
		} else {
			r.fd = 1
		}
	}
	for lx.i < len(s) && isSpace(s[lx.i]) {
		lx.i++
	}
	if lx.i >= len(s) || (isMeta(s[lx.i]) && s[lx.i] != '\n') || s[lx.i] == '\n' {
		if lx.i >= len(s) || s[lx.i] == '\n' {
			return syntaxErr("near unexpected token `newline'")
		}
		return syntaxErr("near unexpected token `%c'", s[lx.i])
	}
	w, err := lx.word()
	if err != nil {
		return err
	}
	r.target = w
	if r.op == ">&" {
		lit, _ := w.literal()
		if lit != "1" && lit != "2" && lit != "-" {
			if r.fd == 1 {
				// >&file is the same as &>file.
				r.fd, r.op = -1, ">"
			} else {
				return fmt.Errorf("%w: %s: ambiguous redirect", ErrSyntax, lit)
			}
		}
	}
	if r.here != nil {
		var b strings.Builder
		for _, sg := range w {
			if sg.quoted {
				r.here.quoted = true
			}
			if sg.isVar {
				b.WriteString("$" + sg.text)
			} else {
				b.WriteString(sg.text)
			}
		}
		r.here.delim = b.String()
		lx.pending = append(lx.pending, r.here)
	}
	lx.toks = append(lx.toks, token{kind: tRedir, redir: r})
	return nil
}

// readHeredocs reads the bodies of pending here-documents, which start on
// the line after their command.
func (lx *lexer) readHeredocs() error {
	for _, h := range lx.pending {
		var body strings.Builder
		for {
			if lx.i >= len(lx.s) {
				break // delimited by end of input, as bash does with a warning
			}
			end := strings.IndexByte(lx.s[lx.i:], '\n')
			var line string
			if end < 0 {
				line = lx.s[lx.i:]
				lx.i = len(lx.s)
			} else {
				line = lx.s[lx.i : lx.i+end]
				lx.i += end + 1
			}
			if h.strip {
				line = strings.TrimLeft(line, "\t")
			}
			if line == h.delim {
				break
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		if h.quoted {
			h.body = word{{text: body.String(), quoted: true}}
		} else {
			h.body = expandable(body.String())
		}
		h.filled = true
	}
	lx.pending = nil
	return nil
}

// expandable splits text into literal and variable segments the way a
// double-quoted string or an unquoted here-document body is read.
func expandable(s string) word {
	var w word
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			w = append(w, seg{text: b.String(), quoted: true})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte("$`\\", s[i+1]) >= 0 {
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '$' {
			name, n := varName(s[i+1:])
			if n > 0 {
				flush()
				w = append(w, seg{text: name, quoted: true, isVar: true})
				i += n
				continue
			}
		}
		b.WriteByte(c)
	}
	flush()
	if len(w) == 0 {
		w = word{{text: "", quoted: true}}
	}
	return w
}

// varName reads a variable reference after '$': NAME, {NAME}, ? or a digit.
// It returns the name and the bytes consumed (0 when there is none).
func varName(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	switch c := s[0]; {
	case c == '?' || c == '$' || c == '#' || (c >= '0' && c <= '9'):
		return string(c), 1
	case c == '{':
		end := strings.IndexByte(s, '}')
		if end < 2 {
			return "", 0
		}
		name := s[1:end]
		for j := 0; j < len(name); j++ {
			if !isNameByte(name[j], j == 0) {
				return "", 0
			}
		}
		return name, end + 1
	case isNameByte(c, true):
		j := 1
		for j < len(s) && isNameByte(s[j], false) {
			j++
		}
		return s[:j], j
	}
	return "", 0
}

// word reads one word at lx.i, handling quotes, escapes and variables.
func (lx *lexer) word() (word, error) {
	s := lx.s
	var w word
	var b strings.Builder
	quoted := false
	flush := func() {
		if b.Len() > 0 {
			w = append(w, seg{text: b.String(), quoted: quoted})
			b.Reset()
		}
	}
	setQuoted := func(q bool) {
		if q != quoted {
			flush()
			quoted = q
		}
	}
	start := lx.i
	for lx.i < len(s) && !isMeta(s[lx.i]) {
		c := s[lx.i]
		switch c {
		case '\\':
			lx.i++
			if lx.i >= len(s) {
				setQuoted(false)
				b.WriteByte('\\')
				continue
			}
			if s[lx.i] == '\n' { // line continuation
				lx.i++
				continue
			}
			setQuoted(true)
			b.WriteByte(s[lx.i])
			lx.i++
		case '\'':
			end := strings.IndexByte(s[lx.i+1:], '\'')
			if end < 0 {
				return nil, syntaxErr("unexpected EOF while looking for matching `''")
			}
			setQuoted(true)
			b.WriteString(s[lx.i+1 : lx.i+1+end])
			if end == 0 {
				// Keep empty quotes as an (empty) quoted segment.
				flush()
				w = append(w, seg{quoted: true})
			}
			lx.i += end + 2
		case '"':
			lx.i++
			setQuoted(true)
			flush()
			empty := true
			for {
				if lx.i >= len(s) {
					return nil, syntaxErr("unexpected EOF while looking for matching `\"'")
				}
				d := s[lx.i]
				if d == '"' {
					lx.i++
					break
				}
				if d == '\\' && lx.i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[lx.i+1]) >= 0 {
					if s[lx.i+1] != '\n' {
						b.WriteByte(s[lx.i+1])
					}
					lx.i += 2
					empty = false
					continue
				}
				if d == '`' || (d == '$' && lx.i+1 < len(s) && s[lx.i+1] == '(') {
					return nil, errSubst
				}
				if d == '$' {
					if name, n := varName(s[lx.i+1:]); n > 0 {
						flush()
						w = append(w, seg{text: name, quoted: true, isVar: true})
						lx.i += n + 1
						empty = false
						continue
					}
				}
				b.WriteByte(d)
				lx.i++
				empty = false
			}
			if empty {
				w = append(w, seg{quoted: true})
			}
			flush()
		case '`':
			return nil, errSubst
		case '$':
			if lx.i+1 < len(s) && s[lx.i+1] == '(' {
				return nil, errSubst
			}
			if lx.i+1 < len(s) && s[lx.i+1] == '\'' {
				// $'...' ANSI-C quoting.
				end := strings.IndexByte(s[lx.i+2:], '\'')
				if end < 0 {
					return nil, syntaxErr("unexpected EOF while looking for matching `''")
				}
				setQuoted(true)
				b.WriteString(unescapeC(s[lx.i+2 : lx.i+2+end]))
				lx.i += end + 3
				continue
			}
			name, n := varName(s[lx.i+1:])
			if n == 0 {
				setQuoted(false)
				b.WriteByte('$')
				lx.i++
				continue
			}
			flush()
			w = append(w, seg{text: name, isVar: true})
			lx.i += n + 1
		default:
			setQuoted(false)
			b.WriteByte(c)
			lx.i++
		}
	}
	flush()
	if lx.i == start {
		return nil, syntaxErr("near unexpected token `%c'", s[lx.i])
	}
	if len(w) == 0 {
		w = word{{quoted: true}}
	}
	return w, nil
}

var errSubst = fmt.Errorf("%w: command substitution ($(...) and backquotes) is not supported in this shell; run the inner command on its own first", ErrUnsupported)

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
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var unsupportedWords = map[string]string{
	"if": "if/then/fi", "then": "if/then/fi", "fi": "if/then/fi", "else": "if/then/fi", "elif": "if/then/fi",
	"for": "for loops", "while": "while loops", "until": "until loops", "do": "loops", "done": "loops",
	"case": "case statements", "esac": "case statements", "function": "functions", "{": "{ } groups", "}": "{ } groups",
	"select": "select",
}

// parse turns a command line into a script.
func parse(line string) (*script, error) {
	toks, err := lex(line)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	return p.script()
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) skipNewlines() {
	for p.i < len(p.toks) && p.toks[p.i].kind == tNewline {
		p.i++
	}
}

func unexpected(t *token) error {
	if t == nil || t.kind == tNewline {
		return syntaxErr("near unexpected token `newline'")
	}
	return syntaxErr("near unexpected token `%s'", t.op)
}

func (p *parser) script() (*script, error) {
	sc := &script{}
	for {
		p.skipNewlines()
		t := p.peek()
		if t == nil {
			return sc, nil
		}
		if t.kind == tOp {
			return nil, unexpected(t)
		}
		ao, err := p.andOr()
		if err != nil {
			return nil, err
		}
		sc.items = append(sc.items, ao)
		t = p.peek()
		if t == nil {
			return sc, nil
		}
		switch {
		case t.kind == tNewline:
		case t.kind == tOp && (t.op == ";" || t.op == "&"):
			p.i++
		default:
			return nil, unexpected(t)
		}
	}
}

func (p *parser) andOr() (*andOr, error) {
	first, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	ao := &andOr{first: first}
	for {
		t := p.peek()
		if t == nil || t.kind != tOp || (t.op != "&&" && t.op != "||") {
			return ao, nil
		}
		p.i++
		p.skipNewlines()
		next, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		ao.ops = append(ao.ops, t.op)
		ao.rest = append(ao.rest, next)
	}
}

func (p *parser) pipeline() (*pipeline, error) {
	pl := &pipeline{}
	if t := p.peek(); t != nil && t.kind == tWord {
		if lit, ok := t.word.literal(); ok && lit == "!" && !t.word[0].quoted {
			pl.bang = true
			p.i++
		}
	}
	for {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		pl.cmds = append(pl.cmds, c)
		t := p.peek()
		if t == nil || t.kind != tOp || t.op != "|" {
			return pl, nil
		}
		p.i++
		p.skipNewlines()
	}
}

func (p *parser) command() (*command, error) {
	c := &command{}
	for {
		t := p.peek()
		if t == nil || t.kind == tNewline || t.kind == tOp {
			break
		}
		p.i++
		if t.kind == tRedir {
			c.redirs = append(c.redirs, *t.redir)
			continue
		}
		if len(c.words) == 0 {
			if lit, ok := t.word.literal(); ok && !t.word[0].quoted {
				if what, bad := unsupportedWords[lit]; bad {
					return nil, fmt.Errorf("%w: %s are not supported in this shell; run one command at a time", ErrUnsupported, what)
				}
			}
		}
		c.words = append(c.words, t.word)
	}
	if len(c.words) == 0 && len(c.redirs) == 0 {
		return nil, unexpected(p.peek())
	}
	return c, nil
}

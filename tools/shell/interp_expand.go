package shell

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/pattern"
	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Word expansion is mvdan.cc/sh/v3/expand's, configured with seams that
// keep it inside the world: variables come from the session (env), globs
// read the host's vfs (readDir), and $(...) runs through this executor.

// env is the session as expand sees it.
type env struct{ s *session }

func strVar(v string) expand.Variable {
	return expand.Variable{Set: true, Kind: expand.String, Str: v}
}

func exportedVar(v string) expand.Variable {
	return expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: v}
}

func (e env) Get(name string) expand.Variable {
	s := e.s
	switch name {
	case "?":
		return strVar(strconv.Itoa(s.last))
	case "$":
		return strVar(strconv.Itoa(s.pid))
	case "BASHPID":
		return strVar(strconv.Itoa(s.pid))
	case "PPID":
		_, sess := s.sessionSSHD()
		return strVar(strconv.Itoa(sess))
	case "!":
		if s.lastBg == 0 {
			return expand.Variable{}
		}
		return strVar(strconv.Itoa(s.lastBg))
	case "#":
		return strVar(strconv.Itoa(len(s.params)))
	case "@", "*":
		return expand.Variable{Set: true, Kind: expand.Indexed, List: s.params}
	case "0":
		return strVar(s.arg0)
	case "-":
		return strVar(s.flagsString())
	case "RANDOM":
		s.rng = s.rng*1103515245 + 12345
		return strVar(strconv.Itoa(int(s.rng>>16) & 0x7fff))
	case "SECONDS":
		return strVar("0")
	case "EPOCHSECONDS":
		return strVar(strconv.FormatInt(s.net.clock.Now().Unix(), 10))
	case "EPOCHREALTIME":
		t := s.net.clock.Now()
		return strVar(fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000))
	case "PIPESTATUS":
		list := make([]string, len(s.pipeStatus))
		for i, c := range s.pipeStatus {
			list[i] = strconv.Itoa(c)
		}
		if len(list) == 0 {
			list = []string{strconv.Itoa(s.last)}
		}
		return expand.Variable{Set: true, Kind: expand.Indexed, List: list}
	}
	if c := name[0]; c >= '1' && c <= '9' {
		if n, err := strconv.Atoi(name); err == nil {
			if n <= len(s.params) {
				return strVar(s.params[n-1])
			}
			return expand.Variable{}
		}
	}
	if v, ok := s.temps[name]; ok {
		return strVar(v)
	}
	if user, ok := strings.CutPrefix(name, "HOME "); ok {
		// ~user: known users have a home; for others bash leaves the
		// word as it is.
		if home, ok := s.userHome(user); ok {
			return strVar(home)
		}
		return strVar("~" + user)
	}
	return s.vars[name]
}

func (e env) Each(fn func(name string, vr expand.Variable) bool) {
	for _, name := range e.s.sortedVarNames() {
		if !fn(name, e.s.vars[name]) {
			return
		}
	}
}

func (e env) Set(name string, vr expand.Variable) error {
	return e.s.setVar(name, vr)
}

// errReadonly is a write to a readonly variable.
type errReadonly struct{ name string }

func (e errReadonly) Error() string { return e.name + ": readonly variable" }

// setVar sets (or unsets, when !vr.Set) a variable, keeping its
// attributes unless vr changes them, within the string budget.
func (s *session) setVar(name string, vr expand.Variable) error {
	old, had := s.vars[name]
	if had && old.ReadOnly {
		return errReadonly{name}
	}
	if vr.Kind == expand.KeepValue {
		old.Exported = old.Exported || vr.Exported
		old.ReadOnly = old.ReadOnly || vr.ReadOnly
		old.Local = old.Local || vr.Local
		s.vars[name] = old
		return nil
	}
	n := len(vr.Str)
	for _, v := range vr.List {
		n += len(v) + 8
	}
	for k, v := range vr.Map {
		n += len(k) + len(v) + 16
	}
	s.bud.str(n)
	if had {
		vr.Exported = vr.Exported || old.Exported
		vr.Local = vr.Local || old.Local
	}
	if s.opts.allexport {
		vr.Exported = true
	}
	switch name {
	case "PWD":
		// cd keeps the working directory; a plain assignment only
		// changes the variable, as in bash.
	case "OPTIND":
		s.optind = 0
	}
	s.vars[name] = vr
	return nil
}

// userHome is the home directory of user on the host, when the host has
// that user.
func (s *session) userHome(user string) (string, bool) {
	if user == "root" || user == s.h.user {
		return homeOf(user), true
	}
	if text, err := s.h.fs.ReadContent("/etc/passwd"); err == nil {
		for _, line := range strings.Split(text, "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[0] == user {
				return f[5], true
			}
		}
	}
	return "", false
}

// config returns the expansion configuration of the session for the
// command whose outputs are io.
func (s *session) config(io *ioCtx) *expand.Config {
	s.cur = io
	c := &s.cfg
	c.Env = env{s}
	c.CmdSubst = s.cmdSubst
	c.ProcSubst = s.procSubst
	if s.opts.noglob {
		c.ReadDir2 = nil
	} else {
		c.ReadDir2 = s.readDir
	}
	c.NoUnset = s.opts.nounset
	c.GlobStar = s.opts.globstar
	c.NullGlob = s.opts.nullglob
	c.DotGlob = s.opts.dotglob
	c.NoCaseGlob = s.opts.nocaseglob
	c.ExtGlob = s.opts.extglob
	return c
}

// dirEntry is a vfs entry as io/fs describes it.
type dirEntry struct{ in vfs.Info }

func (d dirEntry) Name() string { return d.in.Name }
func (d dirEntry) IsDir() bool  { return d.in.Dir }
func (d dirEntry) Type() fs.FileMode {
	if d.in.Dir {
		return fs.ModeDir
	}
	return 0
}
func (d dirEntry) Info() (fs.FileInfo, error) { return nil, fs.ErrInvalid }

// readDir lists a directory for a glob, as the user may: a directory the
// user cannot read matches nothing.
func (s *session) readDir(p string) ([]fs.DirEntry, error) {
	p = s.abs(p)
	if err := s.h.fs.Check(p, s.user, vfs.Read); err != nil {
		if in, serr := s.h.fs.Stat(p); serr == nil && in.Dir {
			return nil, err
		} else if serr != nil {
			return nil, serr
		}
	}
	infos, err := s.h.fs.ReadDir(p)
	if err != nil {
		if errors.Is(err, vfs.ErrNotDir) {
			return nil, syscall.ENOTDIR // expand tells a file from a missing path by it
		}
		return nil, err
	}
	s.bud.glob(len(infos) + 1)
	out := make([]fs.DirEntry, len(infos))
	for i, in := range infos {
		out[i] = dirEntry{in}
	}
	return out, nil
}

// cmdSubst runs $(...) in a subshell and gives expand its output.
func (s *session) cmdSubst(w io.Writer, cs *syntax.CmdSubst) error {
	parent := s.cur
	if parent == nil {
		parent = &ioCtx{out: &outBuf{}, err: &outBuf{}}
	}
	out := &outBuf{limit: maxString + 1, bud: s.bud}
	subIO := &ioCtx{in: parent.in, out: out, err: parent.err, extra: parent.extra}
	sub := s.fork()
	sub.traceLevel++
	code := sub.guard(subIO, func() int {
		// $(< file) is the file's contents, with no cat run.
		if len(cs.Stmts) == 1 {
			if st := cs.Stmts[0]; st.Cmd == nil && len(st.Redirs) == 1 && st.Redirs[0].Op == syntax.RdrIn && st.Redirs[0].N == nil {
				in, ok := sub.openInput(subIO, sub.literal(subIO, st.Redirs[0].Word), subIO)
				if !ok {
					return 1
				}
				if in.blob != nil {
					subIO.out.writeFileData(*in.blob, in.srcHost, in.srcPath)
				} else {
					subIO.out.WriteString(in.text)
				}
				return 0
			}
		}
		return sub.stmts(cs.Stmts, subIO)
	})
	s.substStatus = code
	s.cur = parent
	st := out.stream()
	if st.blob != nil {
		if st.blob.Size > maxString {
			s.bud.raise(outOfMemory{st.blob.Size})
		}
		parent.err.WriteString(s.errPrefix() + "warning: command substitution: ignored null byte in input\n")
		return nil
	}
	if out.dropped > 0 {
		s.bud.raise(outOfMemory{int64(out.b.Len()) + out.dropped})
	}
	_, err := io.WriteString(w, st.text)
	return err
}

// procSubst gives <(...) a name; the command's output is what reading it
// yields.
func (s *session) procSubst(ps *syntax.ProcSubst) (string, error) {
	parent := s.cur
	out := &outBuf{limit: maxString + 1, bud: s.bud}
	subIO := &ioCtx{in: &inReader{}, out: out, err: parent.err}
	if ps.Op == syntax.CmdOut {
		return "", errors.New("process substitution >(...) needs a reader")
	}
	sub := s.fork()
	sub.guard(subIO, func() int { return sub.stmts(ps.Stmts, subIO) })
	s.cur = parent
	fd := 63 - len(s.procFiles)
	name := "/dev/fd/" + strconv.Itoa(fd)
	st := out.stream()
	s.setProcFile(name, st)
	// Commands open it like any file: it is one while the command runs,
	// with no event (it is a pipe, not a file), and goes when it ends.
	if s.h.fs.Mkdir("/dev/fd", "root", 0o755, true) == nil || s.h.fs.Exists("/dev/fd") {
		if _, err := s.h.fs.Write(name, st.toBlob(), vfs.WriteOptions{Owner: s.user, Mode: 0o600}); err == nil {
			s.procPaths = append(s.procPaths, name)
		}
	}
	return name, nil
}

// dropProcFiles removes what <(...) made once the command that read it
// has ended.
func (s *session) dropProcFiles() {
	for _, p := range s.procPaths {
		_, _ = s.h.fs.Remove(p, false)
	}
	s.procPaths = nil
	s.procFiles = nil
}

// expandErr reports an expansion error as bash does and ends the shell:
// bash abandons the command line (and a script) on a bad expansion.
func (s *session) expandErr(io *ioCtx, err error) {
	var ue expand.UnsetParameterError
	var ro errReadonly
	switch {
	case errors.As(err, &ue):
		name := ue.Node.Param.Value
		msg := ue.Message
		if msg == "" {
			msg = "parameter null or not set"
			if ue.Node.Exp != nil && (ue.Node.Exp.Op == syntax.ErrorUnset) {
				msg = "parameter not set"
			}
		}
		s.shellErr(io, "%s: %s", name, msg)
	case errors.As(err, &ro):
		s.shellErr(io, "%s", ro.Error())
	default:
		msg := err.Error()
		if strings.Contains(msg, "brace expansion would exceed") {
			// bash has no such limit; it runs out of memory instead.
			s.bud.raise(outOfMemory{1 << 33})
		}
		switch {
		case strings.Contains(msg, "division by zero"):
			s.shellErr(io, "division by 0 (error token is \"0\")")
		case msg == "unsupported" || strings.Contains(msg, "invalid indirect"):
			s.shellErr(io, "bad substitution")
		case strings.Contains(msg, "extglob"):
			s.shellErr(io, "syntax error in conditional expression")
		default:
			s.shellErr(io, "%s", msg)
		}
	}
	s.bud.raise(shellExit{1})
}

// safeExpand runs an expand call, turning its errors and panics into
// bash's: the library panics on a few malformed inputs.
func (s *session) safeExpand(io *ioCtx, fn func() error) {
	var err error
	func() {
		defer func() {
			if s.bud != nil && s.bud.unwinding {
				return // ours: let it go up
			}
			if r := recover(); r != nil {
				err = errors.New("bad substitution")
			}
		}()
		err = fn()
	}()
	if err != nil {
		s.expandErr(io, err)
	}
}

// fields expands words into the fields of a command line.
func (s *session) fields(io *ioCtx, words ...*syntax.Word) []string {
	cfg := s.config(io)
	if s.needsPrep(words) {
		words = slices.Clone(words)
		for i, w := range words {
			words[i] = s.prepWord(io, w)
		}
	}
	var out []string
	total := 0
	s.safeExpand(io, func() error {
		for f, err := range expand.FieldsSeq(cfg, words...) {
			if err != nil {
				return err
			}
			total += len(f) + 16
			if total > maxString {
				s.bud.raise(outOfMemory{int64(total)})
			}
			s.bud.moved(int64(len(f)))
			if len(out)&1023 == 1023 {
				s.bud.step()
			}
			out = append(out, f)
		}
		return nil
	})
	return out
}

// literal expands a word to one string, as an assignment's value.
func (s *session) literal(io *ioCtx, w *syntax.Word) string {
	return s.expandString(io, w, expand.Literal)
}

// document expands a here-document body.
func (s *session) document(io *ioCtx, w *syntax.Word) string {
	return s.expandString(io, w, expand.Document)
}

// expandString expands w to one string with how (expand.Literal or
// expand.Document), charging its size to the budget.
func (s *session) expandString(io *ioCtx, w *syntax.Word, how func(*expand.Config, *syntax.Word) (string, error)) string {
	if w == nil {
		return ""
	}
	cfg := s.config(io)
	w = s.prepWord(io, w)
	var out string
	s.safeExpand(io, func() error {
		var err error
		out, err = how(cfg, w)
		return err
	})
	s.bud.str(len(out))
	return out
}

// patternOf expands a word as a pattern (case, [[ == ]]).
func (s *session) patternOf(io *ioCtx, w *syntax.Word) string {
	cfg := s.config(io)
	var out string
	s.safeExpand(io, func() error {
		var err error
		out, err = expand.Pattern(cfg, w)
		return err
	})
	return out
}

// matchPattern reports whether str matches the shell pattern word.
func (s *session) matchPattern(io *ioCtx, w *syntax.Word, str string) bool {
	return matchGlob(s.patternOf(io, w), str, s.opts.extglob, false)
}

// globCache holds compiled patterns; worlds run in parallel share it.
var globCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

// matchGlob matches str against a shell pattern: the whole string, with *
// matching slashes too.
func matchGlob(pat, str string, ext, nocase bool) bool {
	key := pat
	if ext {
		key = "\x00e" + pat
	}
	if nocase {
		key = "\x00i" + key
	}
	globCache.Lock()
	rx, ok := globCache.m[key]
	globCache.Unlock()
	if !ok {
		mode := pattern.EntireString
		if ext {
			mode |= pattern.ExtendedOperators
		}
		if nocase {
			mode |= pattern.NoGlobCase
		}
		expr, err := pattern.Regexp(pat, mode)
		if err != nil {
			return pat == str
		}
		rx, err = regexp.Compile(expr)
		if err != nil {
			return pat == str
		}
		globCache.Lock()
		if globCache.m == nil || len(globCache.m) > 4096 {
			globCache.m = map[string]*regexp.Regexp{}
		}
		globCache.m[key] = rx
		globCache.Unlock()
	}
	return rx.MatchString(str)
}

// arith evaluates an arithmetic expression; what names the command for
// errors ("((", "let"). ok is false after an error, which is printed.
func (s *session) arith(x syntax.ArithmExpr, io *ioCtx, what string) (n int, ok bool) {
	cfg := s.config(io)
	var err error
	func() {
		defer func() {
			if s.bud != nil && s.bud.unwinding {
				return
			}
			if r := recover(); r != nil {
				err = errors.New("syntax error in expression")
			}
		}()
		n, err = expand.Arithm(cfg, x)
	}()
	if err != nil {
		src := s.nodeSource(x)
		msg := err.Error()
		if strings.Contains(msg, "division by zero") {
			msg = "division by 0 (error token is \"" + lastToken(src) + "\")"
		} else if strings.Contains(msg, "exponent less than 0") {
			msg = "exponent less than 0 (error token is \"" + lastToken(src) + "\")"
		}
		var ro errReadonly
		if errors.As(err, &ro) {
			s.shellErr(io, "%s", ro.Error())
		} else {
			s.shellErr(io, "%s: %s: %s", what, src, msg)
		}
		return 0, false
	}
	return n, true
}

func lastToken(src string) string {
	f := strings.FieldsFunc(src, func(r rune) bool { return strings.ContainsRune(" /%*+-", r) })
	if len(f) == 0 {
		return src
	}
	return f[len(f)-1]
}

// checkAmplify refuses, before expand builds it, a ${var//pat/rep}
// whose result would be past the string budget.
func (s *session) checkAmplify(pe *syntax.ParamExp) {
	val := s.vars[pe.Param.Value]
	size := len(val.Str)
	for _, e := range val.List {
		size += len(e)
	}
	for _, e := range val.Map {
		size += len(e)
	}
	if pe.Param.Value == "@" || pe.Param.Value == "*" {
		for _, p := range s.params {
			size += len(p)
		}
	}
	if size == 0 || pe.Repl.With == nil {
		return
	}
	withLen := 0
	syntax.Walk(pe.Repl.With, func(m syntax.Node) bool {
		switch m := m.(type) {
		case *syntax.Lit:
			withLen += len(m.Value)
		case *syntax.SglQuoted:
			withLen += len(m.Value)
		case *syntax.ParamExp:
			if m.Param != nil {
				v := s.vars[m.Param.Value]
				withLen += len(v.Str)
				for _, e := range v.List {
					withLen += len(e)
				}
			}
		case *syntax.CmdSubst:
			withLen += 4096
		}
		return true
	})
	matches := size
	if !pe.Repl.All {
		matches = 1
	}
	if int64(matches)*int64(withLen) > maxString {
		s.bud.raise(outOfMemory{int64(matches) * int64(withLen)})
	}
}

func (s *session) setProcFile(name string, st stream) {
	if s.procFiles == nil {
		s.procFiles = map[string]stream{}
	}
	s.procFiles[name] = st
}

// needsPrep reports whether any of words has an expansion prepWord
// handles, so that the common case costs one scan.
func (s *session) needsPrep(words []*syntax.Word) bool {
	for _, w := range words {
		if wordHas(w.Parts) {
			return true
		}
	}
	return false
}

func wordHas(parts []syntax.WordPart) bool {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.ParamExp:
			if p.Repl != nil || p.Length {
				return true
			}
		case *syntax.DblQuoted:
			if wordHas(p.Parts) {
				return true
			}
		}
	}
	return false
}

// prepWord makes a word ready for expand: it checks a ${v//p/r} against
// the string budget before expand builds it, and computes itself the
// forms expand gets wrong (${v/#p/r}, ${v/%p/r}, ${#assoc[@]}), handing
// expand a reference to a temporary value instead. The parsed tree is
// shared and never changed: changed parts are copies.
func (s *session) prepWord(io *ioCtx, w *syntax.Word) *syntax.Word {
	if w == nil || !wordHas(w.Parts) {
		return w
	}
	parts, changed := s.prepParts(io, w.Parts)
	if !changed {
		return w
	}
	return &syntax.Word{Parts: parts}
}

func (s *session) prepParts(io *ioCtx, parts []syntax.WordPart) ([]syntax.WordPart, bool) {
	var out []syntax.WordPart
	changed := false
	for i, p := range parts {
		np := p
		switch p := p.(type) {
		case *syntax.DblQuoted:
			if inner, ch := s.prepParts(io, p.Parts); ch {
				dq := *p
				dq.Parts = inner
				np = &dq
			}
		case *syntax.ParamExp:
			if r := s.prepParam(io, p); r != nil {
				np = r
			}
		}
		if np != p && out == nil {
			out = append(make([]syntax.WordPart, 0, len(parts)), parts[:i]...)
			changed = true
		}
		if out != nil {
			out = append(out, np)
		}
	}
	if !changed {
		return parts, false
	}
	return out, true
}

// tempParam stores val under a name no script can use and returns a
// parameter expansion of it.
func (s *session) tempParam(pe *syntax.ParamExp, val string) *syntax.ParamExp {
	if s.temps == nil {
		s.temps = map[string]string{}
	}
	name := "\x01t" + strconv.Itoa(len(s.temps))
	s.temps[name] = val
	return &syntax.ParamExp{Dollar: pe.Dollar, Rbrace: pe.Rbrace, Param: &syntax.Lit{ValuePos: pe.Param.ValuePos, ValueEnd: pe.Param.ValueEnd, Value: name}}
}

func (s *session) prepParam(io *ioCtx, pe *syntax.ParamExp) *syntax.ParamExp {
	if pe.Param == nil {
		return nil
	}
	v := s.vars[pe.Param.Value]
	if pe.Length && v.Kind == expand.Associative {
		if lit := nodeLit(pe.Index); lit == "@" || lit == "*" {
			return s.tempParam(pe, strconv.Itoa(len(v.Map)))
		}
	}
	if pe.Repl == nil {
		return nil
	}
	s.checkAmplify(pe)
	if pe.Repl.Orig == nil || len(pe.Repl.Orig.Parts) == 0 || pe.Index != nil || pe.Excl || pe.Length {
		return nil
	}
	lit, ok := pe.Repl.Orig.Parts[0].(*syntax.Lit)
	if !ok || lit.Value == "" || (lit.Value[0] != '#' && lit.Value[0] != '%') || pe.Repl.All {
		return nil
	}
	// Anchored replacement.
	anchor := lit.Value[0]
	rest := &syntax.Word{Parts: append([]syntax.WordPart{&syntax.Lit{ValuePos: lit.ValuePos, ValueEnd: lit.ValueEnd, Value: lit.Value[1:]}}, pe.Repl.Orig.Parts[1:]...)}
	plain := *pe
	plain.Repl = nil
	val := s.literal(io, &syntax.Word{Parts: []syntax.WordPart{&plain}})
	pat := s.patternOf(io, rest)
	with := ""
	if pe.Repl.With != nil {
		with = s.literal(io, pe.Repl.With)
	}
	return s.tempParam(pe, anchoredReplace(val, pat, with, anchor == '%'))
}

func nodeLit(n syntax.Node) string {
	if w, ok := n.(*syntax.Word); ok {
		return w.Lit()
	}
	return ""
}

// anchoredReplace replaces the longest match of pat at the start (or the
// end) of val.
func anchoredReplace(val, pat, with string, atEnd bool) string {
	if !atEnd {
		for end := len(val); end >= 0; end-- {
			if matchGlob(pat, val[:end], false, false) {
				return with + val[end:]
			}
		}
		return val
	}
	for start := 0; start <= len(val); start++ {
		if matchGlob(pat, val[start:], false, false) {
			return val[:start] + with
		}
	}
	return val
}

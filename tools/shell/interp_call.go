package shell

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// call runs a simple command: assignments, then the expanded words as a
// function, builtin or program.
func (s *session) call(ce *syntax.CallExpr, io *ioCtx, rd *redirs) int {
	s.cur = io
	s.substStatus = -1
	s.temps = nil
	if len(ce.Args) > 0 && len(s.alias) > 0 && s.aliasesOn() {
		if code, ok := s.tryAlias(ce, io, rd); ok {
			return code
		}
	}
	args := s.fields(io, ce.Args...)
	if len(args) == 0 {
		for _, a := range ce.Assigns {
			if !s.assign(io, a, assignOpts{}) {
				return 1
			}
		}
		if s.opts.xtrace && len(ce.Assigns) > 0 {
			s.traceAssigns(io, ce.Assigns)
		}
		if s.substStatus >= 0 {
			return s.substStatus
		}
		return 0
	}
	// VAR=x cmd: the variables hold for the command only, exported.
	var saved map[string]*expand.Variable
	if len(ce.Assigns) > 0 {
		saved = map[string]*expand.Variable{}
		for _, a := range ce.Assigns {
			name := a.Name.Value
			if _, done := saved[name]; !done {
				if old, ok := s.vars[name]; ok {
					saved[name] = &old
				} else {
					saved[name] = nil
				}
			}
			if !s.assign(io, a, assignOpts{export: true}) {
				s.restore(saved)
				return 1
			}
		}
	}
	if s.opts.xtrace {
		var b strings.Builder
		b.WriteString(s.xtracePrefix())
		for _, a := range ce.Assigns {
			b.WriteString(a.Name.Value + "=" + quoteArg(s.vars[a.Name.Value].String()) + " ")
		}
		for i, a := range args {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quoteArg(a))
		}
		io.err.WriteString(b.String() + "\n")
	}
	if rd != nil {
		rd.via = args[0]
	}
	code := s.runArgs(args, io, rd)
	s.restore(saved)
	if len(s.procPaths) > 0 {
		s.dropProcFiles()
	}
	return code
}

func (s *session) restore(saved map[string]*expand.Variable) {
	for name, v := range saved {
		if v == nil {
			delete(s.vars, name)
		} else {
			s.vars[name] = *v
		}
	}
}

func (s *session) traceAssigns(io *ioCtx, as []*syntax.Assign) {
	for _, a := range as {
		if a.Name == nil {
			continue
		}
		v := s.vars[a.Name.Value]
		if v.Kind == expand.Indexed {
			io.err.WriteString(s.xtracePrefix() + a.Name.Value + "=(" + strings.Join(quoteAll(v.List), " ") + ")\n")
			continue
		}
		io.err.WriteString(s.xtracePrefix() + a.Name.Value + "=" + quoteArg(v.String()) + "\n")
	}
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = quoteArg(a)
	}
	return out
}

// aliasesOn reports whether aliases expand: in the terminal's shell, or
// after shopt -s expand_aliases.
func (s *session) aliasesOn() bool { return s.interactive || s.opts.expandAliases }

// tryAlias runs a command whose first word is an alias. ok is false when
// it is not one.
func (s *session) tryAlias(ce *syntax.CallExpr, io *ioCtx, rd *redirs) (int, bool) {
	first, ok := ce.Args[0].Parts[0].(*syntax.Lit)
	if !ok || len(ce.Args[0].Parts) != 1 {
		return 0, false
	}
	val, ok := s.alias[first.Value]
	if !ok {
		return 0, false
	}
	// The alias text replaces the word; the rest of the command follows.
	var b strings.Builder
	b.WriteString(val)
	for _, w := range ce.Args[1:] {
		b.WriteByte(' ')
		b.WriteString(s.nodeSource(w))
	}
	saved := s.alias
	s.alias = maps2Without(s.alias, first.Value) // no recursion into itself
	prog := parse(b.String())
	var code int
	if prog.err != nil {
		s.shellErr(io, "%s", prog.err.msg)
		code = 2
	} else if len(ce.Assigns) == 0 && len(prog.stmts) == 1 {
		code = s.stmt(prog.stmts[0], io)
	} else if len(prog.stmts) == 1 {
		if inner, ok := prog.stmts[0].Cmd.(*syntax.CallExpr); ok {
			merged := &syntax.CallExpr{Assigns: append(slices.Clone(ce.Assigns), inner.Assigns...), Args: inner.Args}
			code = s.call(merged, io, rd)
		} else {
			code = s.stmts(prog.stmts, io)
		}
	} else {
		code = s.stmts(prog.stmts, io)
	}
	s.alias = saved
	return code, true
}

func maps2Without(m map[string]string, k string) map[string]string {
	out := make(map[string]string, len(m))
	for kk, v := range m {
		if kk != k {
			out[kk] = v
		}
	}
	return out
}

// runArgs runs expanded words: a function, a builtin, or a program.
func (s *session) runArgs(args []string, io *ioCtx, rd *redirs) int {
	name := args[0]
	if body, ok := s.funcs[name]; ok {
		return s.callFunc(name, body, args[1:], io)
	}
	if fn, ok := builtins[name]; ok {
		s.bud.step()
		c := &call{s: s, name: name, args: args[1:], in: io.in.rest(), out: io.out, err: io.err, io: io, rd: rd}
		return fn(c)
	}
	code, res := s.execProgram(args, io)
	if res != execOK {
		s.reportExec(io, name, res)
	}
	return code
}

// execResult says why a program could not start.
type execResult int

const (
	execOK execResult = iota
	execNotFound
	execNoFile
	execIsDir
	execDenied
	execTooLong
	execBadInterp
)

// reportExec prints bash's message for a program that did not start.
func (s *session) reportExec(io *ioCtx, name string, res execResult) {
	switch res {
	case execNotFound:
		if s.dash {
			s.shellErr(io, "%s: not found", name)
			return
		}
		s.shellErr(io, "%s: command not found", bashName(name))
	case execNoFile:
		s.shellErr(io, "%s: No such file or directory", bashName(name))
	case execIsDir:
		s.shellErr(io, "%s: Is a directory", bashName(name))
	case execDenied:
		s.shellErr(io, "%s: Permission denied", bashName(name))
	case execTooLong:
		s.shellErr(io, "%s: Argument list too long", progPath(name))
	}
}

func progPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	return binPath(name)
}

var binDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

func isBinDir(dir string) bool { return slices.Contains(binDirs, dir) }

// execProgram runs a program, as exec does: a file on the host (a script)
// or one of the commands. It prints nothing when the program cannot
// start; res says why, and the caller reports it in its own words.
func (s *session) execProgram(args []string, io *ioCtx) (code int, res execResult) {
	name := args[0]
	s.bud.proc()
	total := 0
	for _, a := range args {
		total += len(a) + 1
	}
	if total > maxArgBytes {
		return 126, execTooLong
	}
	if strings.Contains(name, "/") {
		p := s.abs(name)
		prog := path.Base(p)
		if _, known := commands[prog]; known && isBinDir(path.Dir(p)) {
			return s.runCommand(prog, args[1:], io), execOK
		}
		fi, err := s.h.fs.Stat(p)
		switch {
		case err != nil:
			return 127, execNoFile
		case fi.Dir:
			return 126, execIsDir
		case fi.Mode.Perm()&0o111 == 0 || s.h.fs.Check(p, s.user, vfs.Read) != nil:
			return 126, execDenied
		}
		return s.runScriptFile(name, p, args[1:], io), execOK
	}
	if _, ok := commands[name]; ok {
		return s.runCommand(name, args[1:], io), execOK
	}
	// A script the user put on the PATH.
	for _, dir := range s.pathDirs() {
		p := path.Join(dir, name)
		fi, err := s.h.fs.Stat(p)
		if err != nil || fi.Dir || fi.Mode.Perm()&0o111 == 0 {
			continue
		}
		if s.h.fs.Check(p, s.user, vfs.Read) != nil {
			return 126, execDenied
		}
		return s.runScriptFile(p, p, args[1:], io), execOK
	}
	return 127, execNotFound
}

func (s *session) pathDirs() []string {
	v, ok := s.vars["PATH"]
	if !ok {
		return nil
	}
	var out []string
	for _, d := range strings.Split(v.String(), ":") {
		if d == "" {
			d = "."
		}
		out = append(out, s.abs(d))
	}
	return out
}

// runCommand runs a registered command.
func (s *session) runCommand(name string, args []string, io *ioCtx) int {
	c := &call{s: s, name: name, args: args, in: io.in.rest(), out: io.out, err: io.err, io: io}
	if code, ok := c.standardOption(); ok {
		return code
	}
	saved := s.stdin
	s.stdin = &c.in // what /dev/stdin reads while the command runs
	defer func() { s.stdin = saved }()
	logins := len(s.net.logins)
	code := commands[name](c)
	s.net.logLogouts(logins, s.net.clock.Now()) // the ssh sessions it opened end with it
	return code
}

// runScriptFile runs the file at p (invoked as name) as a program: a
// shell script, or an interpreter named by its #! line.
func (s *session) runScriptFile(name, p string, args []string, io *ioCtx) int {
	b, err := s.h.fs.Read(p)
	if err != nil {
		s.shellErr(io, "%s: %s", name, errText(err))
		return 126
	}
	if b.Declared {
		s.shellErr(io, "%s: cannot execute binary file: Exec format error", name)
		return 126
	}
	text := b.Content
	dash := false
	if strings.HasPrefix(text, "#!") {
		first, _, _ := strings.Cut(text, "\n")
		interp := strings.Fields(strings.TrimPrefix(first, "#!"))
		if len(interp) > 0 {
			prog := path.Base(interp[0])
			if prog == "env" && len(interp) > 1 {
				prog = interp[1]
				if _, ok := commands[prog]; !ok || (prog != "bash" && prog != "sh" && prog != "dash") {
					if ok {
						// Another interpreter that exists: run it on the file.
						return s.runCommand(prog, append([]string{name}, args...), io)
					}
					io.err.printf("/usr/bin/env: '%s': No such file or directory\n", prog)
					return 127
				}
			}
			switch prog {
			case "bash", "env":
			case "sh", "dash":
				dash = true
			default:
				if _, ok := commands[prog]; ok {
					return s.runCommand(prog, append(append(interp[1:len(interp):len(interp)], name), args...), io)
				}
				s.shellErr(io, "%s: %s: bad interpreter: No such file or directory", name, interp[0])
				return 126
			}
		}
	}
	child, ok := s.child(io, name, args)
	if !ok {
		return 254
	}
	child.dash = dash
	return child.runChild(text, io)
}

// child makes the session of a new shell process run by s: the exported
// variables, the directory and the user are inherited, nothing else.
func (s *session) child(io *ioCtx, name string, args []string) (*session, bool) {
	if s.depth+1 >= maxProcDepth {
		s.shellErr(io, "fork: retry: Resource temporarily unavailable")
		s.shellErr(io, "fork: Resource temporarily unavailable")
		return nil, false
	}
	c := s.net.newSession(s.h, s.user, s.emit, s.depth+1)
	c.home, c.cwd = s.home, s.cwd
	c.bud = s.bud
	c.via, c.origin = s.via, s.origin
	for k, v := range s.vars {
		if v.Exported {
			c.vars[k] = v
		}
	}
	lvl, _ := strconv.Atoi(s.vars["SHLVL"].String())
	c.vars["SHLVL"] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: strconv.Itoa(lvl + 1)}
	c.vars["PWD"] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: c.cwd}
	c.name, c.arg0, c.params = name, name, args
	return c, true
}

// runChild runs src as the whole program of a child shell.
func (c *session) runChild(src string, io *ioCtx) int {
	c.bud.proc()
	cio := *io
	return c.guard(&cio, func() int {
		code := c.runSource(src, &cio)
		c.exitTrap(&cio)
		if c.exited {
			return c.last
		}
		return code
	})
}

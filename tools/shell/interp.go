package shell

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// The executor. mvdan.cc/sh parses the bash dialect and expands words; the
// executor below walks the tree itself, one statement after the other, in
// one goroutine: pipeline stages run in order, each reading the whole
// output of the one before; background jobs run at once, to completion.
// Nothing here starts a process, opens a file or reads the clock: every
// effect goes through the host's vfs and is reported as an event.

// session is one shell process: a host, a user, a working directory,
// variables, functions and options.
type session struct {
	net    *Network
	h      *host
	user   string
	home   string
	cwd    string
	vars   map[string]expand.Variable
	funcs  map[string]*syntax.Stmt
	alias  map[string]string
	opts   shellOpts
	params []string // $1...
	arg0   string   // $0
	emit   world.Emitter
	last   int // $?
	depth  int // shells above this one (scripts, bash -c, ssh, sudo)
	pid    int
	exited bool
	via    string // "ssh" when the session was opened by ssh
	origin string // host that opened it over ssh

	bud         *budget
	interactive bool   // the terminal's own shell: no "line N:" in errors
	name        string // what errors start with: "bash", or a script's path
	line        int    // line of the command running, for errors
	ctl         ctlKind
	ctlN        int // loops left to break or continue
	inCond      int // inside a condition: set -e does not apply
	fdepth      int // function calls in progress
	frames      []*frame
	traps       map[string]string
	lastBg      int // $!, 0 when no job was started
	bgStatus    map[int]int
	jobs        int
	jobList     []*bgJob       // the background jobs of this shell
	jobTime     *time.Duration // inside a background job: the time it spends
	pipeStatus  []int
	substStatus int // status of the last command substitution, or -1
	rng         uint32
	cur         *ioCtx // the outputs of the command being expanded
	persist     *ioCtx // outputs set by exec without a command
	persistW    []*fileTarget
	cfg         expand.Config
	dirStack    []string
	optind      int               // getopts position inside one argument
	procFiles   map[string]stream // /dev/fd/N made by <(...)
	// stdin is the standard input of the command running, for the
	// commands that open /dev/stdin by name.
	stdin      *stream
	dash       bool              // sh: dash's messages
	dashC      bool              // bash -c: syntax errors name -c
	temps      map[string]string // values prepWord computed
	sourcing   bool              // running a file given to source
	forked     bool              // a subshell: no job control
	procPaths  []string          // files standing for <(...) now
	traceLevel int               // command substitutions around this shell, for set -x
}

type ctlKind uint8

const (
	ctlNone ctlKind = iota
	ctlBreak
	ctlContinue
	ctlReturn
)

// frame is one function call: the variables its local declarations
// shadow, restored when it returns.
type frame struct {
	saved map[string]*expand.Variable // nil: the name was unset
}

type shellOpts struct {
	errexit, nounset, xtrace, pipefail, noglob, noclobber, verbose  bool
	globstar, nullglob, dotglob, nocaseglob, extglob, expandAliases bool
	allexport, lastpipe                                             bool
	errtrace                                                        bool // set -E: functions inherit the ERR trap
}

// ioCtx is where a command reads and writes: standard input (shared by
// the commands of a compound command, which read it in turn), standard
// output and error, and descriptors 3 to 9 opened with exec.
type ioCtx struct {
	in    *inReader
	out   *outBuf
	err   *outBuf
	extra map[int]*outBuf
}

func (io *ioCtx) fd(n int) *outBuf {
	switch n {
	case 1:
		return io.out
	case 2:
		return io.err
	}
	return io.extra[n]
}

func (io *ioCtx) setFd(n int, o *outBuf) {
	switch n {
	case 1:
		io.out = o
	case 2:
		io.err = o
	default:
		if io.extra == nil {
			io.extra = map[int]*outBuf{}
		} else {
			io.extra = maps.Clone(io.extra)
		}
		io.extra[n] = o
	}
}

// inReader is a standard input read by several commands in turn: read takes a
// line, ssh the rest. Other commands see what is left and take nothing.
type inReader struct {
	st  stream
	off int
}

func (in *inReader) rest() stream {
	if in == nil {
		return stream{}
	}
	if in.off == 0 {
		return in.st
	}
	if in.st.blob != nil || in.off >= len(in.st.text) {
		return stream{}
	}
	return stream{text: in.st.text[in.off:]}
}

func (in *inReader) consumeAll() {
	if in == nil {
		return
	}
	if in.st.blob != nil {
		in.st = stream{}
		in.off = 0
		return
	}
	in.off = len(in.st.text)
}

// readLine takes one line; ok is false at the end of the input.
func (in *inReader) readLine() (line string, ok bool) {
	if in == nil || in.st.blob != nil || in.off >= len(in.st.text) {
		return "", false
	}
	rest := in.st.text[in.off:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		in.off += i + 1
		return rest[:i], true
	}
	in.off = len(in.st.text)
	return rest, true
}

func (n *Network) newSession(h *host, user string, emit world.Emitter, depth int) *session {
	home := homeOf(user)
	s := &session{net: n, h: h, user: user, home: home, cwd: home, emit: emit, depth: depth, name: "bash", arg0: "bash", substStatus: -1}
	if !h.fs.Exists(home) {
		s.cwd = "/"
	}
	s.pid = h.nextPID
	h.nextPID += 3
	s.rng = uint32(s.pid)*2654435761 ^ uint32(len(h.name))
	s.vars = make(map[string]expand.Variable, 24)
	for k, v := range map[string]string{
		"HOME": home, "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
		"PATH":     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME": h.name, "LANG": "C.UTF-8", "PWD": s.cwd, "SHLVL": "1",
	} {
		s.vars[k] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: v}
	}
	for k, v := range map[string]string{
		"IFS": " \t\n", "OPTIND": "1", "PS4": "+ ", "PS1": `\u@\h:\w\$ `, "PS2": "> ",
		"BASH": "/bin/bash", "BASH_VERSION": bashVersion, "HOSTTYPE": "x86_64", "OSTYPE": "linux-gnu",
		"MACHTYPE": "x86_64-pc-linux-gnu", "UID": strconv.Itoa(h.uidOf(user)), "EUID": strconv.Itoa(h.uidOf(user)),
		"HISTFILE": home + "/.bash_history", "HISTSIZE": "500", "TERM": "xterm-256color",
	} {
		s.vars[k] = expand.Variable{Set: true, Kind: expand.String, Str: v}
	}
	s.vars["TERM"] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: "xterm-256color"}
	return s
}

const bashVersion = "5.2.15(1)-release"

func (s *session) event(typ string, attrs map[string]any) world.Event {
	return world.Event{Type: typ, Time: s.net.clock.Now(), Attrs: attrs}
}

func (s *session) send(typ string, attrs map[string]any) {
	s.emit(s.event(typ, attrs))
}

func (s *session) abs(p string) string { return absPath(s.cwd, p) }

// fork returns a copy of s for a subshell: the same variables, functions
// and directory, whose changes stay in the copy.
func (s *session) fork() *session {
	s.bud.proc()
	sub := *s
	sub.vars = maps.Clone(s.vars)
	sub.funcs = maps.Clone(s.funcs)
	sub.alias = maps.Clone(s.alias)
	sub.traps = nil // traps are not inherited, except ignored ones
	sub.exited = false
	sub.ctl = ctlNone
	sub.frames = nil
	sub.fdepth = s.fdepth
	sub.cfg = expand.Config{}
	sub.persistW = nil
	sub.cur = nil
	sub.bgStatus = nil
	sub.temps = nil
	sub.forked = true
	sub.procPaths = nil // the parent's, removed by the parent
	return &sub
}

// errPrefix is what bash puts before its own error messages: "bash: " in
// the terminal, "bash: line 3: " under -c, "./s.sh: line 3: " in a script.
func (s *session) errPrefix() string {
	if s.interactive {
		return "bash: "
	}
	if s.dash {
		return s.name + ": " + strconv.Itoa(max(s.line, 1)) + ": "
	}
	return s.name + ": line " + strconv.Itoa(max(s.line, 1)) + ": "
}

// shellErr prints a message of the shell's own.
func (s *session) shellErr(io *ioCtx, format string, a ...any) {
	io.err.WriteString(s.errPrefix() + fmt.Sprintf(format, a...) + "\n")
}

// shellExit is the panic value that ends the shell it is raised in: an
// expansion error, or set -u. It is recovered where that shell started.
type shellExit struct{ code int }

// crashed is the panic value of a shell killed by a signal of its own
// making (a stack overflow).
type crashed struct {
	msg  string
	code int
}

// guard runs fn as the body of a shell process (the terminal's shell, a
// subshell, a script) and turns the ways a shell can die into its exit
// status. killed (the line's budget) goes on up: the whole line ends.
func (s *session) guard(io *ioCtx, fn func() int) (code int) {
	defer func() {
		s.flushPersist()
		if s.bud != nil && s.bud.killReason != "" {
			return // the whole line is being killed: no shell catches it
		}
		r := recover()
		if r == nil {
			return
		}
		if s.bud != nil {
			s.bud.unwinding = false
		}
		switch e := r.(type) {
		case shellExit:
			code = e.code
		case outOfMemory:
			io.err.WriteString(xmallocMessage(s.errPrefix(), e.bytes))
			code = 2
		case crashed:
			io.err.WriteString(e.msg)
			code = e.code
		default:
			panic(r)
		}
		s.exited = true
		s.last = code
	}()
	return fn()
}

// runLine parses and runs src in s, as the text of `bash -c` (or the
// terminal's line when s is interactive). It is what ssh runs remotely.
func (s *session) runLine(src string, stdin stream, stdout, stderr *outBuf) int {
	if s.bud == nil {
		s.bud = newBudget(context.Background())
	}
	stdout.bud, stderr.bud = s.bud, s.bud
	io := &ioCtx{in: &inReader{st: stdin}, out: stdout, err: stderr}
	return s.guard(io, func() int {
		code := s.runSource(src, io)
		// The shell ends with its line (no state outlives a call): its
		// EXIT trap runs now.
		s.exitTrap(io)
		return code
	})
}

// runSource runs a parsed unit: the statements before a syntax error run,
// then the error is reported as bash reports it.
func (s *session) runSource(src string, io *ioCtx) int {
	prog := parse(src)
	code := s.stmts(prog.stmts, io)
	if s.exited || s.ctl == ctlReturn {
		return code
	}
	if prog.err != nil {
		s.line = prog.err.line
		prefix := s.errPrefix()
		if s.dashC && !prog.err.bad {
			prefix = s.name + ": -c: line " + strconv.Itoa(s.line) + ": "
		}
		for _, l := range strings.Split(prog.err.msg, "\n") {
			io.err.WriteString(prefix + l + "\n")
		}
		if prog.err.bad {
			s.last = 1
			return 1
		}
		if !s.interactive && !prog.err.bad {
			if bad := lineText(src, prog.err.line); bad != "" && !strings.Contains(prog.err.msg, "end of file") {
				io.err.WriteString(prefix + "`" + bad + "'\n")
			}
		}
		s.last = 2
		if !s.interactive {
			s.exited = true
		}
		return 2
	}
	return code
}

func lineText(src string, n int) string {
	lines := strings.Split(src, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// stmts runs a list of statements until one exits the shell or breaks out.
func (s *session) stmts(list []*syntax.Stmt, io *ioCtx) int {
	for _, st := range list {
		s.last = s.stmt(st, io)
		if len(s.persistW) > 0 {
			s.flushPersist()
		}
		if s.exited || s.ctl != ctlNone {
			break
		}
	}
	return s.last
}

// condStmts runs statements whose status is tested: set -e does not apply.
func (s *session) condStmts(list []*syntax.Stmt, io *ioCtx) int {
	s.inCond++
	code := s.stmts(list, io)
	s.inCond--
	return code
}

func (s *session) stmt(st *syntax.Stmt, io *ioCtx) int {
	s.bud.step()
	if s.persist != nil {
		io = s.persistIO(io)
	}
	if st.Background || st.Coprocess {
		sub := s.fork()
		sub.inCond = 0
		bgIO := *io
		bgIO.in = &inReader{} // a job without a terminal reads nothing
		// The job runs now, but the time it sleeps is its own: the shell
		// goes on at once, and wait is what waits for it.
		var took time.Duration
		sub.jobTime = &took
		start := s.net.clock.Now()
		code := sub.guard(&bgIO, func() int { return sub.stmtFg(st, &bgIO) })
		s.jobs++
		s.lastBg = s.h.nextPID
		s.h.nextPID += 2
		if s.bgStatus == nil {
			s.bgStatus = map[int]int{}
		}
		s.bgStatus[s.lastBg] = code
		s.jobList = append(s.jobList, &bgJob{n: s.jobs, pid: s.lastBg, text: s.nodeSource(st.Cmd), end: start.Add(took), status: code})
		if s.interactive && s.depth == 0 && !s.forked {
			io.err.printf("[%d] %d\n", s.jobs, s.lastBg)
		}
		return 0
	}
	return s.stmtFg(st, io)
}

func (s *session) stmtFg(st *syntax.Stmt, io *ioCtx) int {
	s.line = int(st.Pos().Line())
	var rd *redirs
	if len(st.Redirs) > 0 {
		var ok bool
		rd, ok = s.redirect(st.Redirs, io)
		if !ok {
			return s.afterStmt(st, 1)
		}
		io = rd.io
		defer rd.finish(s)
	}
	code := 0
	if st.Cmd != nil {
		code = s.cmd(st.Cmd, io, rd)
	} else if s.substStatus >= 0 {
		code = s.substStatus
	}
	if rd != nil {
		// What the command wrote is stored now, so that a write that
		// failed (a full disk, /dev/full) fails the command.
		rd.finish(s)
		if len(rd.failed) > 0 {
			code = 1
		}
	}
	return s.afterStmt(st, code)
}

// afterStmt applies ! and set -e to a statement's status.
func (s *session) afterStmt(st *syntax.Stmt, code int) int {
	if st.Negated {
		if code == 0 {
			return 1
		}
		return 0
	}
	// A failure that set -e would exit on runs the ERR trap, with set -e
	// or without it.
	if code != 0 && (s.opts.errexit || s.traps["ERR"] != "") && s.inCond == 0 && !s.exited && s.ctl == ctlNone {
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			if c.Op == syntax.AndStmt || c.Op == syntax.OrStmt {
				return code
			}
		case *syntax.IfClause, *syntax.WhileClause, *syntax.ForClause, *syntax.CaseClause, *syntax.Block, *syntax.FuncDecl:
			return code
		}
		s.line = int(st.Pos().Line()) // $LINENO in the trap: the failed command's
		if s.fdepth == 0 || s.opts.errtrace {
			s.last = code // $? in the trap
			s.runTrap("ERR")
		}
		if s.opts.errexit {
			s.exited = true
		}
	}
	return code
}

func (s *session) cmd(c syntax.Command, io *ioCtx, rd *redirs) int {
	switch c := c.(type) {
	case *syntax.CallExpr:
		return s.call(c, io, rd)
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt, syntax.OrStmt:
			s.inCond++
			code := s.stmt(c.X, io)
			s.inCond--
			if s.exited || s.ctl != ctlNone {
				return code
			}
			if (code == 0) == (c.Op == syntax.AndStmt) {
				code = s.stmt(c.Y, io)
			}
			return code
		default:
			return s.pipeline(c, io)
		}
	case *syntax.Block:
		return s.stmts(c.Stmts, io)
	case *syntax.Subshell:
		sub := s.fork()
		return sub.guard(io, func() int { return sub.stmts(c.Stmts, io) })
	case *syntax.IfClause:
		for cl := c; cl != nil; cl = cl.Else {
			if len(cl.Cond) == 0 { // else
				return s.stmts(cl.Then, io)
			}
			code := s.condStmts(cl.Cond, io)
			if s.exited || s.ctl != ctlNone {
				return code
			}
			if code == 0 {
				return s.stmts(cl.Then, io)
			}
		}
		return 0
	case *syntax.WhileClause:
		return s.whileLoop(c, io)
	case *syntax.ForClause:
		return s.forLoop(c, io)
	case *syntax.CaseClause:
		return s.caseClause(c, io)
	case *syntax.FuncDecl:
		if s.funcs == nil {
			s.funcs = map[string]*syntax.Stmt{}
		}
		name := c.Name.Value
		if _, ro := s.readonlyFunc(name); ro {
			s.shellErr(io, "%s: readonly function", name)
			return 1
		}
		s.funcs[name] = c.Body
		return 0
	case *syntax.ArithmCmd:
		s.cur = io
		if s.opts.xtrace {
			io.err.WriteString(s.xtracePrefix() + "(( " + s.arithSource(c.X) + " ))\n")
		}
		n, ok := s.arith(c.X, io, "((")
		if !ok {
			return 1
		}
		if n == 0 {
			return 1
		}
		return 0
	case *syntax.TestClause:
		s.cur = io
		return s.testClause(c.X, io)
	case *syntax.DeclClause:
		return s.declClause(c, io)
	case *syntax.LetClause:
		s.cur = io
		if s.opts.xtrace {
			io.err.WriteString(s.xtracePrefix() + s.nodeSource(c) + "\n")
		}
		code := 1
		for _, e := range c.Exprs {
			n, ok := s.arith(e, io, "let")
			if !ok {
				return 1
			}
			code = 1
			if n != 0 {
				code = 0
			}
		}
		return code
	case *syntax.TimeClause:
		code := 0
		steps, cpu, start := s.bud.steps, s.bud.cpu, s.net.clock.Now()
		if c.Stmt != nil {
			code = s.stmt(c.Stmt, io)
		}
		io.err.WriteString(timeReport(s.bud.steps-steps, s.bud.cpu-cpu, s.net.clock.Now().Sub(start), c.PosixFormat))
		return code
	case *syntax.CoprocClause:
		return s.stmt(&syntax.Stmt{Cmd: c.Stmt.Cmd, Background: true, Position: c.Stmt.Position}, io)
	case *syntax.TestDecl:
		s.shellErr(io, "@test: command not found")
		return 127
	}
	s.shellErr(io, "syntax error near unexpected token `%s'", "newline")
	return 2
}

// timeReport is what the time keyword prints: the simulated time that
// passed (sleeps, transfers, hashing) on top of the work the executor did,
// and the CPU time hashing and the work took. The figures follow from the
// calls, so they are the same every time.
func timeReport(steps int, cpu, wall time.Duration, posix bool) string {
	work := time.Duration(1+steps/40) * time.Millisecond
	real := wall + work
	user := cpu + work/2
	sys := work/4 + cpu/50
	if posix {
		return fmt.Sprintf("real %.2f\nuser %.2f\nsys %.2f\n", real.Seconds(), user.Seconds(), sys.Seconds())
	}
	f := func(d time.Duration) string {
		ms := d.Milliseconds()
		return fmt.Sprintf("%dm%d.%03ds", ms/60000, ms%60000/1000, ms%1000)
	}
	return fmt.Sprintf("\nreal\t%s\nuser\t%s\nsys\t%s\n", f(real), f(user), f(sys))
}

// pipeline runs the stages of a | b | c in order, each in a subshell, each
// reading what the one before wrote.
func (s *session) pipeline(c *syntax.BinaryCmd, io *ioCtx) int {
	var stages []*syntax.Stmt
	var all []bool // stage's stderr goes into the pipe too (|&)
	var walk func(st *syntax.Stmt, pipeAll bool)
	walk = func(st *syntax.Stmt, pipeAll bool) {
		if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && !st.Negated && len(st.Redirs) == 0 && !st.Background {
			walk(b.X, b.Op == syntax.PipeAll)
			walk(b.Y, pipeAll)
			return
		}
		stages = append(stages, st)
		all = append(all, pipeAll)
	}
	walk(c.X, c.Op == syntax.PipeAll)
	walk(c.Y, false)

	in := io.in
	codes := make([]int, len(stages))
	for i, st := range stages {
		stageIO := *io
		stageIO.in = in
		var mid *outBuf
		if i < len(stages)-1 {
			mid = &outBuf{limit: pipeLimit, bud: s.bud}
			stageIO.out = mid
			if all[i] {
				stageIO.err = mid
			}
		}
		if i == len(stages)-1 && s.opts.lastpipe {
			codes[i] = s.stmt(st, &stageIO)
		} else {
			codes[i] = s.stage(st, &stageIO)
		}
		if mid != nil {
			in = &inReader{st: mid.stream()}
		}
	}
	s.pipeStatus = codes
	code := codes[len(codes)-1]
	if s.opts.pipefail {
		for _, c := range codes {
			if c != 0 {
				code = c
			}
		}
	}
	return code
}

// stage runs one pipeline stage in a subshell. A simple command that is a
// program (not a builtin or function) cannot change the shell, so it runs
// without the copy.
func (s *session) stage(st *syntax.Stmt, io *ioCtx) int {
	if ce, ok := st.Cmd.(*syntax.CallExpr); ok && !st.Background && len(ce.Assigns) == 0 && len(ce.Args) > 0 {
		if name := ce.Args[0].Lit(); name != "" && s.isPlainProgram(name) {
			s.bud.proc()
			inCond := s.inCond
			s.inCond = 1 // a stage's failure is the pipeline's, not the shell's
			code := s.stmt(st, io)
			s.inCond = inCond
			return code
		}
	}
	sub := s.fork()
	return sub.guard(io, func() int { return sub.stmt(st, io) })
}

// isPlainProgram reports whether name runs a program that leaves the shell
// as it is.
func (s *session) isPlainProgram(name string) bool {
	if _, ok := s.funcs[name]; ok {
		return false
	}
	if _, ok := s.alias[name]; ok {
		return false
	}
	if _, ok := builtins[name]; ok {
		return false
	}
	_, ok := commands[name]
	return ok
}

// loopCtl handles break and continue after a loop body ran; stop ends the
// loop.
func (s *session) loopCtl() (stop bool) {
	switch s.ctl {
	case ctlBreak:
		s.ctlN--
		if s.ctlN <= 0 {
			s.ctl = ctlNone
		}
		return true
	case ctlContinue:
		s.ctlN--
		if s.ctlN <= 0 {
			s.ctl = ctlNone
			return false
		}
		return true
	case ctlReturn:
		return true
	}
	return s.exited
}

func (s *session) whileLoop(c *syntax.WhileClause, io *ioCtx) int {
	code := 0
	for {
		s.bud.round()
		cond := s.condStmts(c.Cond, io)
		if s.exited || s.ctl == ctlReturn {
			return cond
		}
		if s.ctl != ctlNone {
			if s.loopCtl() {
				break
			}
			continue
		}
		if (cond == 0) == c.Until {
			break
		}
		code = s.stmts(c.Do, io)
		if s.loopCtl() {
			break
		}
	}
	return code
}

func (s *session) forLoop(c *syntax.ForClause, io *ioCtx) int {
	code := 0
	switch l := c.Loop.(type) {
	case *syntax.WordIter:
		s.cur = io
		var items []string
		if l.InPos.IsValid() {
			items = s.fields(io, l.Items...)
		} else {
			items = s.params
		}
		name := l.Name.Value
		if c.Select {
			return s.selectLoop(name, items, c, io)
		}
		head := ""
		if s.opts.xtrace {
			// bash shows the loop's words as written, before each round.
			words := []string{`"$@"`}
			if l.InPos.IsValid() {
				words = words[:0]
				for _, w := range l.Items {
					words = append(words, quoteArg(s.nodeSource(w)))
				}
			}
			head = "for " + name + " in " + strings.Join(words, " ") + "\n"
		}
		for _, it := range items {
			s.bud.round()
			if head != "" {
				io.err.WriteString(s.xtracePrefix() + head)
			}
			if !s.setStr(io, name, it) {
				return 1
			}
			code = s.stmts(c.Do, io)
			if s.loopCtl() {
				break
			}
		}
	case *syntax.CStyleLoop:
		s.cur = io
		trace := func(x syntax.ArithmExpr) {
			if s.opts.xtrace {
				// The printer writes a loop head whole: for ((i = 0; i < 3; i++)).
				io.err.WriteString(s.xtracePrefix() + "(( " + s.arithSource(x) + " ))\n")
			}
		}
		if l.Init != nil {
			trace(l.Init)
			if _, ok := s.arith(l.Init, io, "(("); !ok {
				return 1
			}
		}
		for {
			s.bud.round()
			if l.Cond != nil {
				trace(l.Cond)
				n, ok := s.arith(l.Cond, io, "((")
				if !ok {
					return 1
				}
				if n == 0 {
					break
				}
			}
			code = s.stmts(c.Do, io)
			if s.loopCtl() {
				break
			}
			if l.Post != nil {
				trace(l.Post)
				if _, ok := s.arith(l.Post, io, "(("); !ok {
					return 1
				}
			}
		}
	}
	return code
}

// selectLoop prints the menu once and reads choices from standard input.
func (s *session) selectLoop(name string, items []string, c *syntax.ForClause, io *ioCtx) int {
	code := 0
	for {
		s.bud.round()
		for i, it := range items {
			io.err.printf("%d) %s\n", i+1, it)
		}
		ps3 := "#? "
		if v, ok := s.vars["PS3"]; ok {
			ps3 = v.String()
		}
		io.err.WriteString(ps3)
		line, ok := io.in.readLine()
		if !ok {
			io.err.WriteString("\n")
			return code
		}
		s.setStr(io, "REPLY", line)
		val := ""
		if n, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && n >= 1 && n <= len(items) {
			val = items[n-1]
		}
		s.setStr(io, name, val)
		code = s.stmts(c.Do, io)
		if s.loopCtl() {
			break
		}
	}
	return code
}

func (s *session) caseClause(c *syntax.CaseClause, io *ioCtx) int {
	s.cur = io
	if s.opts.xtrace {
		io.err.WriteString(s.xtracePrefix() + "case " + s.nodeSource(c.Word) + " in\n")
	}
	word := s.literal(io, c.Word)
	code := 0
	fall := false
	for i := 0; i < len(c.Items); i++ {
		it := c.Items[i]
		matched := fall
		if !matched {
			for _, p := range it.Patterns {
				if s.matchPattern(io, p, word) {
					matched = true
					break
				}
			}
		}
		if !matched {
			continue
		}
		code = s.stmts(it.Stmts, io)
		if s.exited || s.ctl != ctlNone {
			return code
		}
		switch it.Op {
		case syntax.Fallthrough: // ;&
			fall = true
			continue
		case syntax.Resume: // ;;&
			fall = false
			continue
		}
		return code
	}
	return code
}

// callFunc runs the function body with args as its positional parameters.
func (s *session) callFunc(name string, body *syntax.Stmt, args []string, io *ioCtx) int {
	s.fdepth++
	if s.fdepth > maxFuncDepth {
		s.bud.raise(crashed{msg: "Segmentation fault (core dumped)\n", code: 139})
	}
	s.bud.step()
	oldParams, oldArg := s.params, s.arg0
	s.params = args
	s.frames = append(s.frames, &frame{})
	oldFunc := s.vars["FUNCNAME"]
	s.vars["FUNCNAME"] = expand.Variable{Set: true, Kind: expand.Indexed, List: append([]string{name}, oldFunc.List...)}
	code := s.stmt(body, io)
	if s.ctl == ctlReturn {
		s.ctl = ctlNone
		code = s.last
	}
	s.popFrame()
	if oldFunc.Set {
		s.vars["FUNCNAME"] = oldFunc
	} else {
		delete(s.vars, "FUNCNAME")
	}
	s.params, s.arg0 = oldParams, oldArg
	s.fdepth--
	return code
}

func (s *session) popFrame() {
	f := s.frames[len(s.frames)-1]
	s.frames = s.frames[:len(s.frames)-1]
	for name, v := range f.saved {
		if v == nil {
			delete(s.vars, name)
		} else {
			s.vars[name] = *v
		}
	}
}

func (s *session) readonlyFunc(string) (bool, bool) { return false, false }

// runTrap runs the trap set for sig, if any.
func (s *session) runTrap(sig string) {
	cmd, ok := s.traps[sig]
	if !ok || cmd == "" {
		return
	}
	delete(s.traps, sig) // a trap does not trigger itself
	io := s.cur
	if io == nil {
		return
	}
	last := s.last
	s.runTrapSource(cmd, io)
	s.last = last
	s.traps[sig] = cmd
}

// runTrapSource runs a trap's command, where $LINENO is the line of the
// command that set the trap off (the failed one, the last one run), as
// bash has it, and not the line in the trap's own text.
func (s *session) runTrapSource(cmd string, io *ioCtx) {
	if !strings.Contains(cmd, "LINENO") {
		s.runSource(cmd, io)
		return
	}
	f, err := parseFile(cmd)
	if err != nil {
		s.runSource(cmd, io)
		return
	}
	at := syntax.NewPos(0, uint(max(s.line, 1)), 1)
	syntax.Walk(f, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "LINENO" {
			pe.Dollar = at
		}
		return true
	})
	s.stmts(f.Stmts, io)
}

// exitTrap runs the EXIT trap when the shell ends.
func (s *session) exitTrap(io *ioCtx) {
	cmd, ok := s.traps["EXIT"]
	if !ok || cmd == "" {
		return
	}
	delete(s.traps, "EXIT")
	last := s.last
	exited := s.exited
	s.exited = false
	s.ctl = ctlNone
	s.runTrapSource(cmd, io)
	s.exited = exited
	s.last = last
}

// nodeSource is the text of n in the source it was parsed from, printed
// back when the source is not at hand.
func (s *session) nodeSource(n syntax.Node) string {
	var b strings.Builder
	if err := syntax.NewPrinter(syntax.Minify(false)).Print(&b, n); err != nil {
		return ""
	}
	return strings.TrimSpace(b.String())
}

// arithSource is an arithmetic expression as set -x shows it: operators
// between spaces, words as written.
func (s *session) arithSource(x syntax.ArithmExpr) string {
	switch x := x.(type) {
	case *syntax.BinaryArithm:
		if x.Op == syntax.Comma {
			return s.arithSource(x.X) + ", " + s.arithSource(x.Y)
		}
		return s.arithSource(x.X) + " " + x.Op.String() + " " + s.arithSource(x.Y)
	case *syntax.UnaryArithm:
		if x.Post {
			return s.arithSource(x.X) + x.Op.String()
		}
		return x.Op.String() + s.arithSource(x.X)
	case *syntax.ParenArithm:
		return "(" + s.arithSource(x.X) + ")"
	case *syntax.Word:
		return s.nodeSource(x)
	}
	return ""
}

func (s *session) xtracePrefix() string {
	ps4 := "+ "
	if v, ok := s.vars["PS4"]; ok {
		ps4 = v.String()
	}
	if ps4 == "" {
		return ""
	}
	return strings.Repeat(ps4[:1], s.traceLevel+1) + ps4[1:]
}

// quoteArg quotes a word the way set -x shows it.
func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == ',' || c == '=' || c == '+' || c == '@' || c == '%' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	if !strings.ContainsAny(a, "'\n\t") {
		return "'" + a + "'"
	}
	q, err := syntax.Quote(a, syntax.LangBash)
	if err != nil {
		return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return q
}

// flagsString is $-.
func (s *session) flagsString() string {
	var b strings.Builder
	if s.opts.errexit {
		b.WriteByte('e')
	}
	if s.opts.noglob {
		b.WriteByte('f')
	}
	b.WriteByte('h')
	if s.interactive {
		b.WriteByte('i')
	}
	b.WriteByte('m')
	if s.opts.nounset {
		b.WriteByte('u')
	}
	if s.opts.xtrace {
		b.WriteByte('x')
	}
	b.WriteByte('B')
	if s.opts.noclobber {
		b.WriteByte('C')
	}
	b.WriteByte('H')
	if !s.interactive {
		b.WriteByte('c')
	} else {
		b.WriteByte('s')
	}
	return b.String()
}

// setStr sets a string variable, reporting a readonly one.
func (s *session) setStr(io *ioCtx, name, val string) bool {
	if err := s.setVar(name, expand.Variable{Set: true, Kind: expand.String, Str: val}); err != nil {
		s.shellErr(io, "%s", err.Error())
		return false
	}
	return true
}

// sortedVarNames lists the set variables by name.
func (s *session) sortedVarNames() []string {
	names := slices.Collect(maps.Keys(s.vars))
	slices.Sort(names)
	return names
}

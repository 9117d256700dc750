package shell

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// builtins are the commands bash runs itself: they see and change the
// shell (c.s), and read the standard input the shell shares (c.io.in).
// Those that also exist as programs (echo, test, kill, ...) are in the
// commands registry too, for find -exec, xargs, env and sudo.
var builtins map[string]cmdFunc

func init() {
	builtins = map[string]cmdFunc{
		"cd": cmdCd, "pwd": cmdPwd, "export": biExport, "unset": biUnset, "exit": biExit, "logout": biExit,
		"return": biReturn, "break": biBreak, "continue": biContinue, "shift": biShift, "set": biSet,
		"shopt": biShopt, "local": biDeclare, "declare": biDeclare, "typeset": biDeclare, "readonly": biDeclare,
		"eval": biEval, "exec": biExec, "source": biSource, ".": biSource, "trap": biTrap, "alias": biAlias,
		"unalias": biUnalias, "getopts": biGetopts, "let": biLet, "wait": biWait, "type": biType,
		"command": biCommand, "builtin": biBuiltin, "read": biRead, "mapfile": biMapfile, "readarray": biMapfile,
		"echo": cmdEcho, "printf": cmdPrintf, "test": cmdTest, "[": cmdTest, "true": cmdTrue, "false": cmdFalse,
		":": cmdTrue, "kill": cmdKill, "hash": biHash, "umask": biUmask, "ulimit": biUlimit, "times": biTimes,
		"jobs": biJobs, "fg": biNoJob, "bg": biNoJob, "disown": cmdTrue, "history": cmdTrue, "help": biHelp,
		"enable": cmdTrue, "caller": cmdFalse, "dirs": biDirs, "pushd": biPushd, "popd": biPopd,
		"suspend": biSuspend, "complete": cmdTrue, "compgen": biCompgen, "compopt": cmdTrue, "bind": cmdTrue,
		"fc": biNoHist,
	}
}

// keywords are the reserved words type reports.
var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "case": true, "esac": true, "for": true,
	"select": true, "while": true, "until": true, "do": true, "done": true, "in": true, "function": true,
	"time": true, "{": true, "}": true, "!": true, "[[": true, "]]": true, "coproc": true,
}

// berr prints a builtin's error the way bash does: "bash: cd: ...".
func (c *call) berr(format string, a ...any) {
	c.err.WriteString(c.s.errPrefix() + c.name + ": " + fmt.Sprintf(format, a...) + "\n")
}

func (c *call) shellIO() *ioCtx {
	if c.io != nil {
		return c.io
	}
	return &ioCtx{in: &inReader{st: c.in}, out: c.out, err: c.err}
}

func biExit(c *call) int {
	code := c.s.last
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.berr("%s: numeric argument required", c.args[0])
			code = 2
		} else {
			code = n & 255
		}
		if len(c.args) > 1 && err == nil {
			c.berr("too many arguments")
			return 1
		}
	}
	c.s.exited = true
	c.s.last = code
	return code
}

func biReturn(c *call) int {
	if c.s.fdepth == 0 && !c.s.sourcing {
		c.berr("can only `return' from a function or sourced script")
		return 2
	}
	code := c.s.last
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.berr("%s: numeric argument required", c.args[0])
			code = 2
		} else {
			code = n & 255
		}
	}
	c.s.ctl = ctlReturn
	c.s.last = code
	return code
}

func loopCount(c *call) (int, bool) {
	n := 1
	if len(c.args) > 0 {
		v, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.berr("%s: numeric argument required", c.args[0])
			return 0, false
		}
		if v < 1 {
			c.berr("%s: loop count out of range", c.args[0])
			return 0, false
		}
		n = v
	}
	return n, true
}

func biBreak(c *call) int {
	n, ok := loopCount(c)
	if !ok {
		return 1
	}
	c.s.ctl, c.s.ctlN = ctlBreak, n
	return 0
}

func biContinue(c *call) int {
	n, ok := loopCount(c)
	if !ok {
		return 1
	}
	c.s.ctl, c.s.ctlN = ctlContinue, n
	return 0
}

func biShift(c *call) int {
	n := 1
	if len(c.args) > 0 {
		v, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.berr("%s: numeric argument required", c.args[0])
			return 1
		}
		n = v
	}
	if n < 0 || n > len(c.s.params) {
		if n < 0 {
			c.berr("%d: shift count out of range", n)
		}
		return 1
	}
	c.s.params = c.s.params[n:]
	return 0
}

var setOptions = []string{"allexport", "braceexpand", "emacs", "errexit", "errtrace", "functrace", "hashall", "histexpand", "history",
	"ignoreeof", "interactive-comments", "keyword", "monitor", "noclobber", "noexec", "noglob", "nolog", "notify", "nounset",
	"onecmd", "physical", "pipefail", "posix", "privileged", "verbose", "vi", "xtrace"}

func (s *session) optPtr(name string) (*bool, bool) {
	switch name {
	case "errexit", "e":
		return &s.opts.errexit, true
	case "nounset", "u":
		return &s.opts.nounset, true
	case "xtrace", "x":
		return &s.opts.xtrace, true
	case "pipefail":
		return &s.opts.pipefail, true
	case "noglob", "f":
		return &s.opts.noglob, true
	case "noclobber", "C":
		return &s.opts.noclobber, true
	case "verbose", "v":
		return &s.opts.verbose, true
	case "allexport", "a":
		return &s.opts.allexport, true
	case "errtrace", "E":
		return &s.opts.errtrace, true
	}
	for _, o := range setOptions {
		if o == name {
			var dummy bool
			return &dummy, true
		}
	}
	if len(name) == 1 && strings.Contains("bhkmnptBEHPT", name) {
		var dummy bool
		return &dummy, true
	}
	return nil, false
}

func (s *session) optValue(name string) bool {
	switch name {
	case "braceexpand", "emacs", "hashall", "histexpand", "interactive-comments", "monitor":
		return name != "histexpand" && name != "monitor" || s.interactive
	case "history":
		return s.interactive
	}
	p, ok := s.optPtr(name)
	return ok && *p
}

func biSet(c *call) int {
	s := c.s
	args := c.args
	if len(args) == 0 {
		for _, name := range s.sortedVarNames() {
			v := s.vars[name]
			if !v.Set {
				continue
			}
			c.out.WriteString(declareValue(name, v, false) + "\n")
		}
		return 0
	}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			s.params = slices.Clone(args[1:])
			return 0
		}
		if a == "-" {
			s.opts.xtrace, s.opts.verbose = false, false
			s.params = slices.Clone(args[1:])
			return 0
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			s.params = slices.Clone(args)
			return 0
		}
		on := a[0] == '-'
		args = args[1:]
		for _, f := range a[1:] {
			if f == 'o' {
				if len(args) == 0 {
					for _, o := range setOptions {
						if on {
							st := "off"
							if s.optValue(o) {
								st = "on"
							}
							c.out.printf("%-15s\t%s\n", o, st)
						} else {
							st := "+o"
							if s.optValue(o) {
								st = "-o"
							}
							c.out.printf("set %s %s\n", st, o)
						}
					}
					continue
				}
				name := args[0]
				args = args[1:]
				p, ok := s.optPtr(name)
				if !ok || len(name) == 1 {
					c.berr("%s: invalid option name", name)
					return 1
				}
				*p = on
				continue
			}
			p, ok := s.optPtr(string(f))
			if !ok {
				c.berr("%c%c: invalid option", a[0], f)
				c.err.WriteString("set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]\n")
				return 2
			}
			*p = on
		}
	}
	return 0
}

var shoptNames = []string{"autocd", "cdable_vars", "cdspell", "checkhash", "checkjobs", "checkwinsize", "cmdhist", "dotglob",
	"expand_aliases", "extglob", "extquote", "failglob", "globstar", "histappend", "lastpipe", "nocaseglob", "nocasematch",
	"nullglob", "progcomp", "promptvars", "sourcepath"}

func (s *session) shoptPtr(name string) *bool {
	switch name {
	case "dotglob":
		return &s.opts.dotglob
	case "expand_aliases":
		return &s.opts.expandAliases
	case "extglob":
		return &s.opts.extglob
	case "globstar":
		return &s.opts.globstar
	case "lastpipe":
		return &s.opts.lastpipe
	case "nocaseglob":
		return &s.opts.nocaseglob
	case "nullglob":
		return &s.opts.nullglob
	}
	if slices.Contains(shoptNames, name) {
		v := name == "cmdhist" || name == "extquote" || name == "progcomp" || name == "promptvars" || name == "sourcepath" || name == "checkwinsize"
		return &v
	}
	return nil
}

func biShopt(c *call) int {
	mode := ""
	quiet := false
	var names []string
	for _, a := range c.args {
		switch a {
		case "-s", "-u":
			mode = a
		case "-q":
			quiet = true
		case "-p", "-o":
		default:
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		names = shoptNames
		if mode != "" {
			var keep []string
			for _, n := range names {
				if (*c.s.shoptPtr(n)) == (mode == "-s") {
					keep = append(keep, n)
				}
			}
			names = keep
			mode = ""
		}
	}
	code := 0
	for _, n := range names {
		p := c.s.shoptPtr(n)
		if p == nil {
			c.berr("%s: invalid shell option name", n)
			code = 1
			continue
		}
		switch mode {
		case "-s":
			*p = true
		case "-u":
			*p = false
		default:
			if !*p {
				code = 1
			}
			if !quiet {
				st := "off"
				if *p {
					st = "on"
				}
				c.out.printf("%-15s\t%s\n", n, st)
			}
		}
	}
	return code
}

func biEval(c *call) int {
	src := strings.Join(c.args, " ")
	if strings.TrimSpace(src) == "" {
		return 0
	}
	// bash traces what eval runs one level deeper: ++ under set -x.
	c.s.traceLevel++
	defer func() { c.s.traceLevel-- }()
	return c.s.runSource(src, c.shellIO())
}

func biExec(c *call) int {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		args = args[1:]
	}
	if len(args) == 0 {
		// exec >file: the redirections stay for the rest of the shell.
		if c.rd != nil {
			c.rd.keep = true
			p := c.s.persist
			if p == nil {
				p = &ioCtx{}
			}
			np := *p
			np.out, np.err, np.in = c.rd.io.out, c.rd.io.err, c.rd.io.in
			for k, v := range c.rd.io.extra {
				if np.extra == nil {
					np.extra = map[int]*outBuf{}
				}
				np.extra[k] = v
			}
			c.s.persist = &np
			c.s.persistW = append(c.s.persistW, c.rd.files...)
		}
		return 0
	}
	io := c.shellIO()
	code, res := c.s.execProgram(args, io)
	if res != execOK {
		c.s.reportExec(io, args[0], res)
		if !c.s.interactive {
			c.s.exited = true
		}
		return code
	}
	c.s.exited = true
	c.s.last = code
	return code
}

func biSource(c *call) int {
	if len(c.args) == 0 {
		c.berr("filename argument required")
		c.err.printf("%s: usage: %s filename [arguments]\n", c.name, c.name)
		return 2
	}
	name := c.args[0]
	p := c.s.abs(name)
	if !strings.Contains(name, "/") {
		for _, dir := range c.s.pathDirs() {
			q := dir + "/" + name
			if in, err := c.s.h.fs.Stat(q); err == nil && !in.Dir {
				p = q
				break
			}
		}
	}
	b, err := c.s.readFile(p)
	if err != nil {
		c.err.WriteString(c.s.errPrefix() + name + ": " + errText(err) + "\n")
		return 1
	}
	if b.Declared {
		c.err.WriteString(c.s.errPrefix() + name + ": cannot execute binary file\n")
		return 126
	}
	s := c.s
	oldParams := s.params
	if len(c.args) > 1 {
		s.params = c.args[1:]
	}
	oldName, oldInter, oldSourcing := s.name, s.interactive, s.sourcing
	s.name, s.interactive, s.sourcing = name, false, true
	code := s.runSource(b.Content, c.shellIO())
	if s.ctl == ctlReturn {
		s.ctl = ctlNone
		code = s.last
	}
	s.name, s.interactive, s.sourcing = oldName, oldInter, oldSourcing
	if len(c.args) > 1 {
		s.params = oldParams
	}
	return code
}

var signalNames = []string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"}

func trapName(sig string) (string, bool) {
	up := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(sig), "SIG"))
	switch up {
	case "0", "EXIT":
		return "EXIT", true
	case "ERR", "DEBUG", "RETURN":
		return up, true
	}
	if n, err := strconv.Atoi(sig); err == nil && n >= 1 && n <= len(signalNames) {
		return signalNames[n-1], true
	}
	if slices.Contains(signalNames, up) || up == "CHLD" || up == "WINCH" || up == "CONT" || up == "STOP" || up == "TSTP" {
		return up, true
	}
	return "", false
}

func biTrap(c *call) int {
	s := c.s
	args := c.args
	if len(args) == 0 || args[0] == "-p" {
		names := make([]string, 0, len(s.traps))
		for k := range s.traps {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c.out.printf("trap -- %s %s\n", quoteArg(s.traps[k]), k)
		}
		return 0
	}
	if args[0] == "-l" {
		for i, n := range signalNames {
			c.out.printf("%2d) SIG%s\n", i+1, n)
		}
		return 0
	}
	if args[0] == "--" {
		args = args[1:]
	}
	action := args[0]
	sigs := args[1:]
	if len(sigs) == 0 {
		// trap SIG resets it.
		sigs, action = args, "-"
	}
	code := 0
	for _, sig := range sigs {
		name, ok := trapName(sig)
		if !ok {
			c.berr("%s: invalid signal specification", sig)
			code = 1
			continue
		}
		if s.traps == nil {
			s.traps = map[string]string{}
		}
		if action == "-" {
			delete(s.traps, name)
		} else {
			s.traps[name] = action
		}
	}
	return code
}

func biAlias(c *call) int {
	s := c.s
	args := c.args
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		names := make([]string, 0, len(s.alias))
		for k := range s.alias {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c.out.printf("alias %s='%s'\n", k, strings.ReplaceAll(s.alias[k], "'", `'\''`))
		}
		return 0
	}
	code := 0
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			v, found := s.alias[name]
			if !found {
				c.berr("%s: not found", name)
				code = 1
				continue
			}
			c.out.printf("alias %s='%s'\n", name, strings.ReplaceAll(v, "'", `'\''`))
			continue
		}
		if s.alias == nil {
			s.alias = map[string]string{}
		}
		s.alias[name] = val
	}
	return code
}

func biUnalias(c *call) int {
	code := 0
	for _, a := range c.args {
		if a == "-a" {
			c.s.alias = nil
			continue
		}
		if _, ok := c.s.alias[a]; !ok {
			c.berr("%s: not found", a)
			code = 1
			continue
		}
		delete(c.s.alias, a)
	}
	return code
}

func biGetopts(c *call) int {
	s := c.s
	if len(c.args) < 2 {
		c.berr("usage: getopts optstring name [arg ...]")
		return 2
	}
	optstr, name := c.args[0], c.args[1]
	args := s.params
	if len(c.args) > 2 {
		args = c.args[2:]
	}
	silent := strings.HasPrefix(optstr, ":")
	optstr = strings.TrimPrefix(optstr, ":")
	optind, _ := strconv.Atoi(s.vars["OPTIND"].String())
	if optind < 1 {
		optind = 1
	}
	set := func(k, v string) { s.vars[k] = strVar(v) }
	if optind > len(args) {
		set(name, "?")
		return 1
	}
	arg := args[optind-1]
	if s.optind == 0 {
		if arg == "--" {
			set("OPTIND", strconv.Itoa(optind+1))
			set(name, "?")
			return 1
		}
		if len(arg) < 2 || arg[0] != '-' {
			set(name, "?")
			return 1
		}
		s.optind = 1
	}
	ch := arg[s.optind]
	s.optind++
	next := func() {
		if s.optind >= len(arg) {
			s.optind = 0
			optind++
		}
		s.vars["OPTIND"] = strVar(strconv.Itoa(optind))
		s.optind = s.optind % max(len(arg), 1)
	}
	i := strings.IndexByte(optstr, ch)
	if i < 0 || ch == ':' {
		if silent {
			set("OPTARG", string(ch))
		} else {
			c.err.printf("%s: illegal option -- %c\n", s.arg0, ch)
			delete(s.vars, "OPTARG")
		}
		set(name, "?")
		next()
		return 0
	}
	if i+1 < len(optstr) && optstr[i+1] == ':' {
		if s.optind < len(arg) {
			set("OPTARG", arg[s.optind:])
			s.optind = len(arg)
		} else if optind < len(args) {
			optind++
			set("OPTARG", args[optind-1])
			s.optind = len(arg)
		} else {
			if silent {
				set(name, ":")
				set("OPTARG", string(ch))
			} else {
				c.err.printf("%s: option requires an argument -- %c\n", s.arg0, ch)
				set(name, "?")
				delete(s.vars, "OPTARG")
			}
			s.optind = len(arg)
			next()
			return 0
		}
	} else {
		delete(s.vars, "OPTARG")
	}
	set(name, string(ch))
	next()
	return 0
}

func biLet(c *call) int {
	if len(c.args) == 0 {
		c.berr("expression expected")
		return 1
	}
	code := 1
	for _, a := range c.args {
		p := syntax.NewParser(syntax.Variant(syntax.LangBash))
		x, err := p.Arithmetic(strings.NewReader(a))
		if err != nil {
			c.berr("%s: syntax error: operand expected (error token is \"%s\")", a, a)
			return 1
		}
		n, ok := c.s.arith(x, c.shellIO(), "let")
		if !ok {
			return 1
		}
		code = 1
		if n != 0 {
			code = 0
		}
	}
	return code
}

func biWait(c *call) int {
	s := c.s
	if len(c.args) == 0 {
		s.waitFor(s.jobList)
		return 0 // wait for all: zero, whatever the jobs returned
	}
	code := 0
	for _, a := range c.args {
		if a == "-n" || a == "-f" {
			continue
		}
		if j := s.findJob(a); j != nil {
			s.waitFor([]*bgJob{j})
			code = j.status
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(a, "%"))
		if err != nil {
			c.berr("`%s': not a pid or valid job spec", a)
			code = 2
			continue
		}
		st, ok := s.bgStatus[pid]
		if !ok {
			if strings.HasPrefix(a, "%") {
				c.berr("%s: no such job", a)
				code = 127
				continue
			}
			c.berr("pid %d is not a child of this shell", pid)
			code = 127
			continue
		}
		code = st
	}
	return code
}

// describe tells what name is, for type and command -v/-V.
func (s *session) describe(name string) (kind, detail string) {
	if v, ok := s.alias[name]; ok {
		return "alias", v
	}
	if keywords[name] {
		return "keyword", ""
	}
	if _, ok := s.funcs[name]; ok {
		return "function", ""
	}
	if _, ok := builtins[name]; ok {
		return "builtin", ""
	}
	if strings.Contains(name, "/") {
		if in, err := s.h.fs.Stat(s.abs(name)); err == nil && !in.Dir && in.Mode.Perm()&0o111 != 0 {
			return "file", name
		}
		return "", ""
	}
	if _, ok := commands[name]; ok {
		return "file", binPath(name)
	}
	for _, dir := range s.pathDirs() {
		p := dir + "/" + name
		if in, err := s.h.fs.Stat(p); err == nil && !in.Dir && in.Mode.Perm()&0o111 != 0 {
			return "file", p
		}
	}
	return "", ""
}

func biType(c *call) int {
	s := c.s
	tflag, aflag, pflag := false, false, false
	var names []string
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && len(a) > 1 && len(names) == 0 {
			for _, f := range a[1:] {
				switch f {
				case 't':
					tflag = true
				case 'a':
					aflag = true
				case 'p', 'P':
					pflag = true
				case 'f':
				default:
					c.berr("-%c: invalid option", f)
					c.err.WriteString("type: usage: type [-afptP] name [name ...]\n")
					return 2
				}
			}
			continue
		}
		names = append(names, a)
	}
	_ = aflag
	code := 0
	for _, n := range names {
		kind, detail := s.describe(n)
		switch {
		case kind == "":
			if !tflag && !pflag {
				c.berr("%s: not found", n)
			}
			code = 1
		case tflag:
			c.out.WriteString(kind + "\n")
		case pflag:
			if kind == "file" {
				c.out.WriteString(detail + "\n")
			}
		default:
			c.describeVerbose(n, kind, detail)
		}
	}
	return code
}

// describeVerbose prints what name is, as type and command -V say it.
func (c *call) describeVerbose(name, kind, detail string) {
	switch kind {
	case "alias":
		c.out.printf("%s is aliased to `%s'\n", name, detail)
	case "keyword":
		c.out.printf("%s is a shell keyword\n", name)
	case "function":
		c.out.printf("%s is a function\n%s\n", name, c.s.funcText(name))
	case "builtin":
		c.out.printf("%s is a shell builtin\n", name)
	default:
		c.out.printf("%s is %s\n", name, detail)
	}
}

// funcText prints a function the way bash shows it in type and declare -f.
func (s *session) funcText(name string) string {
	body := s.funcs[name]
	var b strings.Builder
	syntax.NewPrinter(syntax.Indent(4)).Print(&b, &syntax.FuncDecl{Name: &syntax.Lit{Value: name}, Parens: true, Body: body})
	text := strings.TrimRight(b.String(), "\n")
	text = strings.Replace(text, name+"() {", name+" () \n{ ", 1)
	return text
}

func biCommand(c *call) int {
	s := c.s
	args := c.args
	verbose, brief := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		for _, f := range args[0][1:] {
			switch f {
			case 'v':
				brief = true
			case 'V':
				verbose = true
			case 'p':
			default:
				c.berr("-%c: invalid option", f)
				c.err.WriteString("command: usage: command [-pVv] command [arg ...]\n")
				return 2
			}
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return 0
	}
	if brief || verbose {
		code := 0
		for _, n := range args {
			kind, detail := s.describe(n)
			switch {
			case kind == "":
				if verbose {
					c.berr("%s: not found", n)
				}
				code = 1
			case brief && kind == "alias":
				c.out.printf("alias %s='%s'\n", n, detail)
			case brief && kind == "file":
				c.out.WriteString(detail + "\n")
			case brief:
				c.out.WriteString(n + "\n")
			default:
				c.describeVerbose(n, kind, detail)
			}
		}
		return code
	}
	io := c.shellIO()
	if fn, ok := builtins[args[0]]; ok {
		return fn(&call{s: s, name: args[0], args: args[1:], in: c.in, out: c.out, err: c.err, io: io, rd: c.rd})
	}
	code, res := s.execProgram(args, io)
	if res != execOK {
		s.reportExec(io, args[0], res)
	}
	return code
}

func biBuiltin(c *call) int {
	if len(c.args) == 0 {
		return 0
	}
	fn, ok := builtins[c.args[0]]
	if !ok {
		c.berr("%s: not a shell builtin", c.args[0])
		return 1
	}
	return fn(&call{s: c.s, name: c.args[0], args: c.args[1:], in: c.in, out: c.out, err: c.err, io: c.io, rd: c.rd})
}

func biRead(c *call) int {
	s := c.s
	args := c.args
	raw := false
	delim := byte('\n')
	nchars := -1
	arrayName := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		for j := 1; j < len(a); j++ {
			f := a[j]
			switch f {
			case 'r':
				raw = true
			case 's', 'e':
			case 'p', 'a', 'd', 'n', 'N', 't', 'u', 'i':
				val := a[j+1:]
				if val == "" {
					if len(args) == 0 {
						c.berr("-%c: option requires an argument", f)
						c.err.WriteString("read: usage: read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...]\n")
						return 2
					}
					val, args = args[0], args[1:]
				}
				switch f {
				case 'a':
					arrayName = val
				case 'd':
					delim = 0
					if val != "" {
						delim = val[0]
					}
				case 'n', 'N':
					n, err := strconv.Atoi(val)
					if err != nil {
						c.berr("%s: invalid number", val)
						return 1
					}
					nchars = n
				}
				j = len(a)
			default:
				c.berr("-%c: invalid option", f)
				c.err.WriteString("read: usage: read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...]\n")
				return 2
			}
		}
	}
	in := c.io
	if in == nil || in.in == nil {
		return 1
	}
	line, ok := readDelim(in.in, delim, nchars)
	if !ok {
		// Nothing at all: the names are emptied, the status is 1.
		for _, n := range args {
			s.vars[n] = strVar("")
		}
		return 1
	}
	if !raw {
		for strings.HasSuffix(line.text, "\\") && !line.eof && delim == '\n' {
			more, ok2 := readDelim(in.in, delim, -1)
			if !ok2 {
				break
			}
			line.text = line.text[:len(line.text)-1] + more.text
			line.eof = more.eof
		}
	}
	cfg := s.config(in)
	if arrayName != "" {
		fields := expand.ReadFields(cfg, line.text, -1, raw)
		if err := s.setVar(arrayName, expand.Variable{Set: true, Kind: expand.Indexed, List: fields}); err != nil {
			c.berr("%s", err.Error())
			return 1
		}
	} else {
		names := args
		if len(names) == 0 {
			text := line.text
			if !raw {
				// REPLY keeps the line's blanks; only backslashes are undone.
				var b strings.Builder
				for i := 0; i < len(text); i++ {
					if text[i] == '\\' && i+1 < len(text) {
						i++
					}
					b.WriteByte(text[i])
				}
				text = b.String()
			}
			if err := s.setVar("REPLY", strVar(text)); err != nil {
				c.berr("%s", err.Error())
				return 1
			}
		} else {
			fields := expand.ReadFields(cfg, line.text, len(names), raw)
			for i, n := range names {
				v := ""
				if i < len(fields) {
					v = fields[i]
				}
				if err := s.setVar(n, strVar(v)); err != nil {
					c.berr("%s", err.Error())
					return 1
				}
			}
		}
	}
	if line.eof {
		return 1
	}
	return 0
}

type readResult struct {
	text string
	eof  bool // ended without the delimiter
}

// readDelim reads up to delim (not kept) or n characters from in.
func readDelim(in *inReader, delim byte, n int) (readResult, bool) {
	if in.st.blob != nil || in.off >= len(in.st.text) {
		return readResult{}, false
	}
	rest := in.st.text[in.off:]
	if n >= 0 {
		if n > len(rest) {
			n = len(rest)
		}
		if i := strings.IndexByte(rest[:n], delim); i >= 0 {
			in.off += i + 1
			return readResult{text: rest[:i]}, true
		}
		in.off += n
		return readResult{text: rest[:n]}, true
	}
	if i := strings.IndexByte(rest, delim); i >= 0 {
		in.off += i + 1
		return readResult{text: rest[:i]}, true
	}
	in.off = len(in.st.text)
	return readResult{text: rest, eof: true}, true
}

func biMapfile(c *call) int {
	s := c.s
	args := c.args
	strip := false
	delim := byte('\n')
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch a {
		case "-t":
			strip = true
		case "-d":
			if len(args) > 0 {
				delim = 0
				if args[0] != "" {
					delim = args[0][0]
				}
				args = args[1:]
			}
		case "-n", "-O", "-s", "-u", "-C", "-c":
			if len(args) > 0 {
				args = args[1:]
			}
		}
	}
	name := "MAPFILE"
	if len(args) > 0 {
		name = args[0]
	}
	var list []string
	in := c.io
	if in != nil && in.in != nil {
		for {
			r, ok := readDelim(in.in, delim, -1)
			if !ok {
				break
			}
			s.bud.step()
			t := r.text
			if !strip && !r.eof {
				t += string(delim)
			}
			list = append(list, t)
		}
	}
	if err := s.setVar(name, expand.Variable{Set: true, Kind: expand.Indexed, List: list}); err != nil {
		c.berr("%s", err.Error())
		return 1
	}
	return 0
}

func biHash(c *call) int {
	if len(c.args) == 0 {
		c.berr("hash table empty")
	}
	return 0
}

func biUmask(c *call) int {
	s := c.s
	args := c.args
	symbolic := false
	if len(args) > 0 && args[0] == "-S" {
		symbolic, args = true, args[1:]
	}
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		if symbolic {
			perm := func(shift uint) string {
				allowed := ^s.umask >> shift & 7
				out := ""
				for i, ch := range "rwx" {
					if allowed&(4>>i) != 0 {
						out += string(ch)
					}
				}
				return out
			}
			c.out.printf("u=%s,g=%s,o=%s\n", perm(6), perm(3), perm(0))
			return 0
		}
		c.out.printf("%04o\n", s.umask)
		return 0
	}
	spec := args[0]
	if spec[0] >= '0' && spec[0] <= '9' {
		n, err := strconv.ParseUint(spec, 8, 32)
		if err != nil || n > 0o777 {
			c.berr("%s: octal number out of range", spec)
			return 1
		}
		s.umask = uint32(n)
		return 0
	}
	// Symbolic: the bits the mode allows, whose complement is the mask.
	m, ok := parseMode(spec, fs.FileMode(0o777&^s.umask), true)
	if !ok {
		c.berr("%s: invalid symbolic mode operator", spec)
		return 1
	}
	s.umask = 0o777 &^ uint32(m.Perm())
	return 0
}

func biUlimit(c *call) int {
	if len(c.args) == 0 {
		c.out.WriteString("unlimited\n")
		return 0
	}
	switch c.args[0] {
	case "-a":
		c.out.WriteString("real-time non-blocking time  (microseconds, -R) unlimited\ncore file size              (blocks, -c) 0\ndata seg size               (kbytes, -d) unlimited\nscheduling priority                 (-e) 0\nfile size                   (blocks, -f) unlimited\npending signals                     (-i) 63457\nmax locked memory           (kbytes, -l) 2036700\nmax memory size             (kbytes, -m) unlimited\nopen files                          (-n) 1024\npipe size                (512 bytes, -p) 8\nPOSIX message queues         (bytes, -q) 819200\nreal-time priority                  (-r) 0\nstack size                  (kbytes, -s) 8192\ncpu time                   (seconds, -t) unlimited\nmax user processes                  (-u) 63457\nvirtual memory              (kbytes, -v) unlimited\nfile locks                          (-x) unlimited\n")
	case "-n":
		c.out.WriteString("1024\n")
	case "-s":
		c.out.WriteString("8192\n")
	case "-u":
		c.out.WriteString("63457\n")
	default:
		c.out.WriteString("unlimited\n")
	}
	return 0
}

func biTimes(c *call) int {
	c.out.WriteString("0m0.012s 0m0.004s\n0m0.031s 0m0.019s\n")
	return 0
}

func biNoJob(c *call) int {
	c.berr("current: no such job")
	return 1
}

func biNoHist(c *call) int {
	c.berr("history specification out of range")
	return 1
}

func biSuspend(c *call) int {
	c.berr("cannot suspend a login shell")
	return 1
}

func biHelp(c *call) int {
	c.out.printf("GNU bash, version %s (x86_64-pc-linux-gnu)\nThese shell commands are defined internally.  Type `help' to see this list.\nType `help name' to find out more about the function `name'.\nUse `info bash' to find out more about the shell in general.\nUse `man -k' or `info' to find out more about commands not in this list.\n\n", bashVersion)
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.out.WriteString(" " + n + "\n")
	}
	return 0
}

func biCompgen(c *call) int {
	if len(c.args) >= 1 && (c.args[0] == "-c" || c.args[0] == "-b") {
		var names []string
		for n := range builtins {
			names = append(names, n)
		}
		if c.args[0] == "-c" {
			for n := range commands {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		names = slices.Compact(names)
		for _, n := range names {
			if len(c.args) > 1 && !strings.HasPrefix(n, c.args[1]) {
				continue
			}
			c.out.WriteString(n + "\n")
		}
	}
	return 0
}

func biDirs(c *call) int {
	c.out.WriteString(strings.Join(append([]string{tildePath(c.s, c.s.cwd)}, c.s.dirStack...), " ") + "\n")
	return 0
}

func tildePath(s *session, p string) string {
	if p == s.home {
		return "~"
	}
	if strings.HasPrefix(p, s.home+"/") {
		return "~" + p[len(s.home):]
	}
	return p
}

func biPushd(c *call) int {
	if len(c.args) == 0 {
		c.berr("no other directory")
		return 1
	}
	old := c.s.cwd
	if code := cmdCd(&call{s: c.s, name: "pushd", args: c.args[:1], in: c.in, out: &outBuf{}, err: c.err, io: c.io}); code != 0 {
		return code
	}
	c.s.dirStack = append([]string{old}, c.s.dirStack...)
	return biDirs(c)
}

func biPopd(c *call) int {
	if len(c.s.dirStack) == 0 {
		c.berr("directory stack empty")
		return 1
	}
	dir := c.s.dirStack[0]
	c.s.dirStack = c.s.dirStack[1:]
	if code := cmdCd(&call{s: c.s, name: "popd", args: []string{dir}, in: c.in, out: &outBuf{}, err: c.err, io: c.io}); code != 0 {
		return code
	}
	return biDirs(c)
}

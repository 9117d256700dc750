package shell

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// call is one command invocation.
type call struct {
	s    *session
	name string
	args []string
	in   stream
	out  *outBuf
	err  *outBuf
}

// errorf writes "name: message" to stderr.
func (c *call) errorf(format string, a ...any) {
	c.err.printf("%s: %s\n", c.name, fmt.Sprintf(format, a...))
}

type cmdFunc func(c *call) int

// commands is the registry of the programs a host can run. Files other than
// this one add theirs in their own init functions with register.
var commands = map[string]cmdFunc{}

// register adds programs to the registry; a name registered twice panics,
// so two files cannot silently claim the same program.
func register(m map[string]cmdFunc) {
	for name, fn := range m {
		if _, dup := commands[name]; dup {
			panic("shell: command registered twice: " + name)
		}
		commands[name] = fn
	}
}

func init() {
	register(map[string]cmdFunc{
		"cat": cmdCat, "less": cmdCat, "more": cmdCat, "ls": cmdLs, "head": cmdHead, "tail": cmdTail,
		"grep": cmdGrep, "egrep": cmdGrep, "fgrep": cmdGrep, "wc": cmdWc, "cp": cmdCp, "mv": cmdMv,
		"rm": cmdRm, "rmdir": cmdRmdir, "mkdir": cmdMkdir, "touch": cmdTouch, "echo": cmdEcho,
		"printf": cmdPrintf, "sed": cmdSed, "chmod": cmdChmod, "chown": cmdChown, "stat": cmdStat,
		"du": cmdDu, "df": cmdDf, "sha256sum": cmdSha256sum, "ps": cmdPs, "kill": cmdKill,
		"pkill": cmdPkill, "systemctl": cmdSystemctl, "service": cmdService, "whoami": cmdWhoami,
		"hostname": cmdHostname, "date": cmdDate, "pwd": cmdPwd, "cd": cmdCd, "env": cmdEnv,
		"printenv": cmdEnv, "uname": cmdUname, "id": cmdID, "true": cmdTrue, ":": cmdTrue,
		"false": cmdFalse, "exit": cmdExit, "export": cmdExport, "unset": cmdUnset,
		"clear": cmdTrue, "sync": cmdTrue, "which": cmdWhich, "type": cmdType,
		"command": cmdCommand, "ssh": cmdSSH, "scp": cmdScp, "rsync": cmdRsync, "sudo": cmdSudo,
		"su": cmdSu, "tee": cmdTee, "sort": cmdSort, "uniq": cmdUniq, "find": cmdFind,
		"file": cmdFile, "basename": cmdBasename, "dirname": cmdDirname, "curl": cmdCurl,
		"wget": cmdWget, "vi": cmdEditor, "vim": cmdEditor, "nano": cmdEditor, "emacs": cmdEditor,
		"top": cmdTop, "htop": cmdTop, "history": cmdTrue, "cut": cmdCut, "tr": cmdTr,
		"uptime": cmdUptime, "free": cmdFree, "test": cmdTest, "[": cmdTest, "ln": cmdLn,
		"md5sum": cmdMd5sum, "ping": cmdPing, "nproc": cmdNproc, "yes": cmdYes,
		"readlink": cmdRealpath, "realpath": cmdRealpath, "journalctl": cmdJournalctl,
		"logout": cmdExit, "bash": cmdBash, "sh": cmdBash,
	})
}

// builtinNames lists the commands for `which` and `type`.
func isShellBuiltin(name string) bool {
	switch name {
	case "cd", "echo", "printf", "pwd", "export", "unset", "exit", "true", "false", ":", "type", "command", "test", "[", "kill", "history", "logout":
		return true
	}
	return false
}

// dispatch runs one expanded command.
func (s *session) dispatch(args []string, in stream, out, errOut *outBuf) int {
	name := args[0]
	if strings.Contains(name, "/") {
		prog := name[strings.LastIndexByte(name, '/')+1:]
		p := s.abs(name)
		dir := path.Dir(p)
		if _, known := commands[prog]; known && (dir == "/bin" || dir == "/usr/bin" || dir == "/sbin" || dir == "/usr/sbin" || dir == "/usr/local/bin") {
			return s.dispatch(append([]string{prog}, args[1:]...), in, out, errOut)
		}
		fi, err := s.h.fs.Stat(p)
		switch {
		case err != nil:
			errOut.printf("bash: %s: %s\n", name, errText(err))
			return 127
		case fi.Dir:
			errOut.printf("bash: %s: Is a directory\n", name)
			return 126
		case fi.Mode.Perm()&0o111 == 0 || s.h.fs.Check(p, s.user, vfs.Read) != nil:
			errOut.printf("bash: %s: Permission denied\n", name)
			return 126
		}
		return s.runScript(name, p, args[1:], in, out, errOut)
	}
	fn, ok := commands[name]
	if !ok {
		errOut.printf("bash: %s: command not found\n", name)
		return 127
	}
	c := &call{s: s, name: name, args: args[1:], in: in, out: out, err: errOut}
	return fn(c)
}

// runScript runs the file at p as a shell script when it is one. Other
// interpreters do not exist on the simulated hosts.
func (s *session) runScript(name, p string, args []string, in stream, out, errOut *outBuf) int {
	b, err := s.h.fs.Read(p)
	if err != nil {
		errOut.printf("bash: %s: %s\n", name, errText(err))
		return 126
	}
	if b.Declared {
		errOut.printf("bash: %s: cannot execute binary file: Exec format error\n", name)
		return 126
	}
	text := b.Content
	if strings.HasPrefix(text, "#!") {
		first, _, _ := strings.Cut(text, "\n")
		interp := strings.Fields(strings.TrimPrefix(first, "#!"))
		if len(interp) > 0 {
			prog := path.Base(interp[0])
			if prog == "env" && len(interp) > 1 {
				prog = interp[1]
				if prog != "bash" && prog != "sh" {
					errOut.printf("/usr/bin/env: '%s': No such file or directory\n", prog)
					return 127
				}
			}
			if prog != "bash" && prog != "sh" && prog != "dash" && prog != "env" {
				errOut.printf("bash: %s: %s: bad interpreter: No such file or directory\n", name, interp[0])
				return 126
			}
		}
	}
	if s.depth >= maxDepth {
		errOut.printf("bash: %s: maximum nesting level exceeded\n", name)
		return 126
	}
	return s.subshell(text, in, out, errOut)
}

// subshell runs text in a copy of the session so that cd and variables do
// not leak back.
func (s *session) subshell(text string, in stream, out, errOut *outBuf) int {
	sub := *s
	sub.vars = make(map[string]string, len(s.vars))
	for k, v := range s.vars {
		sub.vars[k] = v
	}
	sub.depth++
	sub.exited = false
	return sub.runLine(text, in, out, errOut)
}

func cmdBash(c *call) int {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-c" {
		args = args[1:]
	}
	if len(args) >= 2 && args[0] == "-c" {
		if c.s.depth >= maxDepth {
			c.errorf("maximum nesting level exceeded")
			return 2
		}
		return c.s.subshell(args[1], c.in, c.out, c.err)
	}
	if len(args) == 1 && args[0] == "-c" {
		c.err.printf("%s: -c: option requires an argument\n", c.name)
		return 2
	}
	if len(args) == 0 {
		if c.in.text != "" {
			return c.s.subshell(c.in.text, stream{}, c.out, c.err)
		}
		return 0
	}
	p := c.s.abs(args[0])
	b, err := c.s.readFile(p)
	if err != nil {
		c.err.printf("%s: %s: %s\n", c.name, args[0], errText(err))
		return 127
	}
	if b.Declared {
		c.err.printf("%s: %s: cannot execute binary file\n", c.name, args[0])
		return 126
	}
	if c.s.depth >= maxDepth {
		c.errorf("maximum nesting level exceeded")
		return 2
	}
	return c.s.subshell(b.Content, c.in, c.out, c.err)
}

// flagSpec describes a command's options: single-letter booleans, letters
// that take a value, and long names mapped to a letter (or kept long).
type flagSpec struct {
	bools  string
	values string
	long   map[string]string // long name -> key; key ending in "=" takes a value
}

// flags holds parsed options by key.
type flags map[string][]string

func (f flags) has(k string) bool { _, ok := f[k]; return ok }

func (f flags) val(k string) string {
	v := f[k]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseFlags splits args into options and operands, GNU style: options may
// follow operands and "--" ends them. On a bad option it returns a message
// in coreutils' words.
func parseFlags(args []string, spec flagSpec) (flags, []string, string) {
	fl := flags{}
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			ops = append(ops, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			key, ok := spec.long[name]
			if !ok {
				return nil, nil, fmt.Sprintf("unrecognized option '%s'", a)
			}
			if strings.HasSuffix(key, "=") {
				key = strings.TrimSuffix(key, "=")
				if !hasVal {
					if i+1 >= len(args) {
						return nil, nil, fmt.Sprintf("option '--%s' requires an argument", name)
					}
					i++
					val = args[i]
				}
			}
			fl[key] = append(fl[key], val)
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			ops = append(ops, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			switch {
			case strings.IndexByte(spec.values, ch) >= 0:
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, nil, fmt.Sprintf("option requires an argument -- '%c'", ch)
					}
					i++
					val = args[i]
				}
				fl[string(ch)] = append(fl[string(ch)], val)
				j = len(a)
			case strings.IndexByte(spec.bools, ch) >= 0:
				fl[string(ch)] = append(fl[string(ch)], "")
			default:
				return nil, nil, fmt.Sprintf("invalid option -- '%c'", ch)
			}
		}
	}
	return fl, ops, ""
}

// badFlag prints a coreutils-style usage error and returns status.
func (c *call) badFlag(msg string, status int) int {
	c.err.printf("%s: %s\nTry '%s --help' for more information.\n", c.name, msg, c.name)
	return status
}

func cmdTrue(c *call) int  { return 0 }
func cmdFalse(c *call) int { return 1 }

func cmdExit(c *call) int {
	c.s.exited = true
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil {
			c.err.printf("bash: exit: %s: numeric argument required\n", c.args[0])
			return 2
		}
		return n & 255
	}
	return c.s.last
}

func cmdPwd(c *call) int {
	c.out.WriteString(c.s.cwd + "\n")
	return 0
}

func cmdCd(c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) > 1 {
		c.err.WriteString("bash: cd: too many arguments\n")
		return 1
	}
	target := c.s.home
	if len(args) == 1 {
		target = args[0]
		if target == "-" {
			target = c.s.vars["OLDPWD"]
			if target == "" {
				c.err.WriteString("bash: cd: OLDPWD not set\n")
				return 1
			}
			c.out.WriteString(target + "\n")
		}
	}
	p := c.s.abs(target)
	in, err := c.s.h.fs.Stat(p)
	if err != nil {
		c.err.printf("bash: cd: %s: %s\n", target, errText(err))
		return 1
	}
	if !in.Dir {
		c.err.printf("bash: cd: %s: Not a directory\n", target)
		return 1
	}
	if err := c.s.h.fs.Check(p, c.s.user, 1); err != nil {
		c.err.printf("bash: cd: %s: Permission denied\n", target)
		return 1
	}
	c.s.vars["OLDPWD"] = c.s.cwd
	c.s.cwd = p
	c.s.vars["PWD"] = p
	return 0
}

func cmdExport(c *call) int {
	for _, a := range c.args {
		if a == "-p" || a == "-n" {
			continue
		}
		name, val, ok := strings.Cut(a, "=")
		if ok {
			c.s.vars[name] = val
		}
	}
	if len(c.args) == 0 {
		return cmdEnv(&call{s: c.s, name: "env", in: c.in, out: c.out, err: c.err})
	}
	return 0
}

func cmdUnset(c *call) int {
	for _, a := range c.args {
		delete(c.s.vars, a)
	}
	return 0
}

func cmdEnv(c *call) int {
	if c.name == "printenv" && len(c.args) > 0 {
		code := 0
		for _, a := range c.args {
			v, ok := c.s.vars[a]
			if !ok {
				code = 1
				continue
			}
			c.out.WriteString(v + "\n")
		}
		return code
	}
	if c.name == "env" && len(c.args) > 0 {
		// env NAME=VAL... CMD runs CMD with those variables.
		args := c.args
		saved := map[string]*string{}
		for len(args) > 0 && strings.Contains(args[0], "=") {
			k, v, _ := strings.Cut(args[0], "=")
			if old, ok := c.s.vars[k]; ok {
				saved[k] = &old
			} else {
				saved[k] = nil
			}
			c.s.vars[k] = v
			args = args[1:]
		}
		defer func() {
			for k, v := range saved {
				if v == nil {
					delete(c.s.vars, k)
				} else {
					c.s.vars[k] = *v
				}
			}
		}()
		if len(args) > 0 {
			return c.s.dispatch(args, c.in, c.out, c.err)
		}
	}
	keys := make([]string, 0, len(c.s.vars))
	for k := range c.s.vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.out.printf("%s=%s\n", k, c.s.vars[k])
	}
	return 0
}

func cmdWhich(c *call) int {
	code := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if _, ok := commands[a]; ok && !isShellBuiltin(a) || a == "kill" || a == "echo" || a == "test" || a == "printf" || a == "pwd" || a == "true" || a == "false" {
			c.out.printf("%s\n", binPath(a))
			continue
		}
		code = 1
	}
	return code
}

func binPath(name string) string {
	switch name {
	case "systemctl", "journalctl":
		return "/usr/bin/" + name
	case "service", "sshd":
		return "/usr/sbin/" + name
	}
	return "/usr/bin/" + name
}

func cmdType(c *call) int {
	code := 0
	for _, a := range c.args {
		switch _, ok := commands[a]; {
		case isShellBuiltin(a):
			c.out.printf("%s is a shell builtin\n", a)
		case ok:
			c.out.printf("%s is %s\n", a, binPath(a))
		default:
			c.err.printf("bash: type: %s: not found\n", a)
			code = 1
		}
	}
	return code
}

func cmdCommand(c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "-v" {
		code := 0
		for _, a := range args[1:] {
			switch _, ok := commands[a]; {
			case isShellBuiltin(a):
				c.out.printf("%s\n", a)
			case ok:
				c.out.printf("%s\n", binPath(a))
			default:
				code = 1
			}
		}
		return code
	}
	if len(args) == 0 {
		return 0
	}
	return c.s.dispatch(args, c.in, c.out, c.err)
}

func cmdEditor(c *call) int {
	c.err.printf("bash: %s: interactive programs cannot run here (no terminal); edit files with sed -i, or write them with echo/cat and > redirection\n", c.name)
	return 1
}

func cmdTop(c *call) int {
	c.err.printf("%s: interactive programs cannot run here (no terminal); use ps aux\n", c.name)
	return 1
}

func cmdYes(c *call) int {
	s := "y"
	if len(c.args) > 0 {
		s = strings.Join(c.args, " ")
	}
	// Without a reader that stops it, yes would run forever; print a
	// bounded amount, as a pipe to head would see.
	for i := 0; i < 1000; i++ {
		c.out.WriteString(s + "\n")
	}
	return 0
}

func cmdTest(c *call) int {
	args := c.args
	if c.name == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			c.err.WriteString("bash: [: missing `]'\n")
			return 2
		}
		args = args[:len(args)-1]
	}
	neg := false
	if len(args) > 0 && args[0] == "!" {
		neg = true
		args = args[1:]
	}
	res := false
	switch len(args) {
	case 0:
	case 1:
		res = args[0] != ""
	case 2:
		p := c.s.abs(args[1])
		in, err := c.s.h.fs.Stat(p)
		switch args[0] {
		case "-e":
			res = err == nil
		case "-f":
			res = err == nil && !in.Dir
		case "-d":
			res = err == nil && in.Dir
		case "-s":
			res = err == nil && !in.Dir && in.Size > 0
		case "-r":
			res = err == nil && c.s.h.fs.Check(p, c.s.user, 4) == nil
		case "-w":
			res = err == nil && c.s.h.fs.Check(p, c.s.user, 2) == nil
		case "-x":
			res = err == nil && (in.Mode.Perm()&0o111 != 0)
		case "-z":
			res = args[1] == ""
		case "-n":
			res = args[1] != ""
		default:
			c.err.printf("bash: %s: %s: unary operator expected\n", c.name, args[0])
			return 2
		}
	case 3:
		a, op, b := args[0], args[1], args[2]
		switch op {
		case "=", "==":
			res = a == b
		case "!=":
			res = a != b
		case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
			x, err1 := strconv.ParseInt(a, 10, 64)
			y, err2 := strconv.ParseInt(b, 10, 64)
			if err1 != nil || err2 != nil {
				bad := a
				if err1 == nil {
					bad = b
				}
				c.err.printf("bash: %s: %s: integer expression expected\n", c.name, bad)
				return 2
			}
			res = map[string]bool{"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]
		default:
			c.err.printf("bash: %s: %s: binary operator expected\n", c.name, op)
			return 2
		}
	default:
		c.err.printf("bash: %s: too many arguments\n", c.name)
		return 2
	}
	if res != neg {
		return 0
	}
	return 1
}

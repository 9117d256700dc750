package shell

import (
	"fmt"
	"strings"
)

// call is one command invocation: the session it runs in, its name and
// arguments, what it reads and where it writes.
//
// For a command that runs other commands (xargs, find -exec, env,
// timeout, sudo), c.run(argv, in) runs a program through the shell's
// executor, and c.runScript(src, args, in) runs a shell script as
// `bash -c src` would; both use the line's budget. c.consumeInput() marks
// the shared standard input as read (ssh does; most commands leave it to
// the commands after them).
type call struct {
	s    *session
	name string
	args []string
	in   stream
	out  *outBuf
	err  *outBuf
	io   *ioCtx  // the descriptors of the shell that runs the command; nil for a program started by another
	rd   *redirs // the command's redirections, for exec
}

// errorf writes "name: message" to stderr.
func (c *call) errorf(format string, a ...any) {
	c.err.printf("%s: %s\n", c.name, fmt.Sprintf(format, a...))
}

type cmdFunc func(c *call) int

// commands is the registry of the programs a host can run. Files other than
// this one add theirs in their own init functions with register. Bash's
// own builtins are in builtins (builtin.go).
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
		"hostname": cmdHostname, "dnsdomainname": cmdHostname, "date": cmdDate, "pwd": cmdPwd, "env": cmdEnv,
		"printenv": cmdEnv, "uname": cmdUname, "id": cmdID, "true": cmdTrue,
		"false": cmdFalse, "clear": cmdTrue, "sync": cmdTrue, "which": cmdWhich,
		"ssh": cmdSSH, "scp": cmdScp, "rsync": cmdRsync, "sudo": cmdSudo,
		"su": cmdSu, "tee": cmdTee, "sort": cmdSort, "uniq": cmdUniq, "find": cmdFind,
		"file": cmdFile, "basename": cmdBasename, "dirname": cmdDirname, "curl": cmdCurl,
		"wget": cmdWget, "vi": cmdEditor, "vim": cmdEditor, "nano": cmdEditor, "emacs": cmdEditor,
		"top": cmdTop, "htop": cmdTop, "cut": cmdCut, "tr": cmdTr,
		"uptime": cmdUptime, "free": cmdFree, "test": cmdTest, "[": cmdTest,
		"md5sum": cmdMd5sum, "ping": cmdPing, "nproc": cmdNproc, "yes": cmdYes,
		"journalctl": cmdJournalctl, "bash": cmdBash, "sh": cmdBash,
	})
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

func cmdPwd(c *call) int {
	cwd := c.s.cwd
	if len(c.args) > 0 && c.args[len(c.args)-1] == "-P" {
		if real, err := c.s.h.fs.Resolve(cwd, true); err == nil {
			cwd = real
		}
	}
	c.out.WriteString(cwd + "\n")
	return 0
}

func cmdCd(c *call) int {
	args := c.args
	physical := false
	for len(args) > 0 && (args[0] == "-L" || args[0] == "-P" || args[0] == "-e" || args[0] == "-@") {
		physical = args[0] == "-P" || physical && args[0] != "-L"
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) > 1 {
		c.berr("too many arguments")
		return 1
	}
	target := c.s.home
	if v, ok := c.s.vars["HOME"]; ok {
		target = v.String()
	}
	if len(args) == 1 {
		target = args[0]
		if target == "-" {
			target = c.s.vars["OLDPWD"].String()
			if target == "" {
				c.berr("OLDPWD not set")
				return 1
			}
			c.out.WriteString(target + "\n")
		}
	}
	if target == "" {
		return 0
	}
	p := c.s.abs(target)
	in, err := c.s.h.fs.Stat(p)
	if err != nil {
		c.berr("%s: %s", bashName(target), errText(err))
		return 1
	}
	if !in.Dir {
		c.berr("%s: Not a directory", bashName(target))
		return 1
	}
	if err := c.s.h.fs.Check(p, c.s.user, 1); err != nil {
		c.berr("%s: Permission denied", bashName(target))
		return 1
	}
	if physical {
		p, _ = c.s.h.fs.Resolve(p, true) // cd -P: where the links lead
	}
	c.s.vars["OLDPWD"] = exportedVar(c.s.cwd)
	c.s.cwd = p
	c.s.vars["PWD"] = exportedVar(p)
	return 0
}

func cmdWhich(c *call) int {
	code := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if _, ok := commands[a]; ok {
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
	case "service", "sshd", "nologin":
		return "/usr/sbin/" + name
	}
	return "/usr/bin/" + name
}

func cmdEditor(c *call) int {
	for _, a := range c.args {
		switch {
		case c.name == "nano" && (a == "--version" || a == "-V"):
			c.out.WriteString(" GNU nano, version 7.2\n (C) 2023 the Free Software Foundation and various contributors\n Compiled options: --disable-libmagic --enable-utf8\n")
			return 0
		case (c.name == "vi" || c.name == "vim") && a == "--version":
			c.out.WriteString("VIM - Vi IMproved 9.0 (2022 Jun 28, compiled May 04 2023 10:24:44)\nIncluded patches: 1-1378\nModified by team+vim@tracker.debian.org\nCompiled by team+vim@tracker.debian.org\nSmall version without GUI.  Features included (+) or not (-):\n")
			return 0
		}
	}
	// Without a terminal the editors cannot draw.
	c.consumeInput()
	switch c.name {
	case "nano":
		c.err.WriteString("Too many errors from stdin\n")
	case "emacs":
		c.err.WriteString("emacs: standard input is not a tty\n")
	default:
		c.err.WriteString("Vim: Warning: Output is not to a terminal\nVim: Warning: Input is not from a terminal\n")
	}
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

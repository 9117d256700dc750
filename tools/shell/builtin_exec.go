package shell

import (
	"strings"

	"mvdan.cc/sh/v3/expand"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Programs that run other programs: bash and sh, ssh, sudo, su, env,
// timeout, nohup, nice. They run what they are given through the same
// executor, with the same budget.

// run runs the program argv[0] with the arguments argv[1:], reading in
// and writing to c's outputs, as a program that execs another does (env,
// xargs, find -exec, timeout, sudo): argv[0] is a file on the host or
// one of the commands, never a shell function or a builtin that exists
// only in bash (cd, export). It returns the exit status: 127 when there
// is no such program, 126 when it cannot be run. In those two cases it
// prints nothing; the caller reports it in its own words (for example
// "xargs: foo: No such file or directory").
func (c *call) run(argv []string, in stream) int {
	if len(argv) == 0 {
		return 0
	}
	io := &ioCtx{in: &inReader{st: in}, out: c.out, err: c.err}
	code, _ := c.s.execProgram(argv, io)
	return code
}

// runScript runs src as `bash -c src name args...` does: a new shell
// process, with c's outputs and in as standard input.
func (c *call) runScript(src string, args []string, in stream) int {
	name := "bash"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	io := &ioCtx{in: &inReader{st: in}, out: c.out, err: c.err}
	child, ok := c.s.child(io, name, args)
	if !ok {
		return 254
	}
	return child.runChild(src, io)
}

// consumeInput marks c's standard input as read to the end, for the
// commands after it in a loop or group.
func (c *call) consumeInput() {
	if c.io != nil {
		c.io.in.consumeAll()
	}
}

// programMissing reports whether argv[0] cannot be run as a program.
func (c *call) programMissing(name string) bool {
	kind, _ := c.s.describe(name)
	if kind == "file" {
		return false
	}
	if strings.Contains(name, "/") {
		return !c.s.h.fs.Exists(c.s.abs(name))
	}
	_, ok := commands[name]
	return !ok
}

func cmdBash(c *call) int {
	args := c.args
	var opts []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-c" && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		switch args[0] {
		case "--version":
			c.out.printf("GNU bash, version %s (x86_64-pc-linux-gnu)\nCopyright (C) 2022 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>\n\nThis is free software; you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n", bashVersion)
			return 0
		case "-o", "+o", "-O", "+O":
			if len(args) > 1 {
				opts = append(opts, args[0], args[1])
				args = args[2:]
				continue
			}
		}
		opts = append(opts, args[0])
		args = args[1:]
	}
	dash := c.name == "sh" || c.name == "dash"
	io := c.shellIO()
	var src, name string
	var params []string
	switch {
	case len(args) >= 1 && args[0] == "-c":
		if len(args) < 2 {
			c.err.printf("%s: -c: option requires an argument\n", c.name)
			return 2
		}
		src = args[1]
		name = c.name
		if len(args) > 2 {
			name, params = args[2], args[3:]
		}
	case len(args) == 0 || args[0] == "-":
		// Commands on standard input.
		if c.in.blob != nil {
			return 0
		}
		src, name = c.in.text, c.name
		c.consumeInput()
		if len(args) > 0 {
			params = args[1:]
		}
		io = &ioCtx{in: &inReader{}, out: c.out, err: c.err}
	default:
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
		src, name, params = b.Content, args[0], args[1:]
	}
	child, ok := c.s.child(io, name, params)
	if !ok {
		return 254
	}
	child.dash = dash
	child.dashC = src != "" && len(args) >= 1 && args[0] == "-c"
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		if (o == "-o" || o == "+o") && i+1 < len(opts) {
			if p, ok := child.optPtr(opts[i+1]); ok {
				*p = o == "-o"
			}
			i++
			continue
		}
		if o == "-O" || o == "+O" {
			i++
			continue
		}
		for _, f := range o[1:] {
			if p, ok := child.optPtr(string(f)); ok {
				*p = o[0] == '-'
			}
		}
	}
	return child.runChild(src, io)
}

func cmdSudo(c *call) int {
	args := c.args
	target := "root"
	shell := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch a {
		case "-u", "--user":
			if len(args) == 0 {
				c.err.WriteString("sudo: option requires an argument -- 'u'\n")
				return 1
			}
			target, args = args[0], args[1:]
		case "-i", "-s", "--login", "--shell":
			shell = true
		case "-n", "-E", "-H", "-k", "-S", "-b", "-P":
		case "-l":
			c.out.printf("Matching Defaults entries for %s on %s:\n    env_reset, mail_badpass, secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin, use_pty\n\nUser %s may run the following commands on %s:\n    (ALL : ALL) ALL\n", c.s.user, c.s.h.name, c.s.user, c.s.h.name)
			return 0
		case "-v":
			return 0
		case "--":
			goto run
		default:
			if strings.HasPrefix(a, "-u") && len(a) > 2 {
				target = a[2:]
			}
		}
	}
run:
	if len(args) == 0 && !shell {
		c.err.WriteString("usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABknS] [-g group] [-h host] [-p prompt] [-u user]\nusage: sudo -l [-ABknS] [-g group] [-h host] [-p prompt] [-U user] [-u user] [command [arg ...]]\nusage: sudo [-ABbEHknPS] [-r role] [-t type] [-C num] [-D directory] [-g group] [-h host] [-p prompt] [-R directory] [-T timeout] [-u user] [VAR=value] [-i | -s] [<command>]\nusage: sudo -e [-ABknS] [-r role] [-t type] [-C num] [-D directory] [-g group] [-h host] [-p prompt] [-R directory] [-T timeout] [-u user] file ...\n")
		return 1
	}
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "=") {
		args = args[1:] // VAR=value for the command: the environment is not modelled per process
	}
	if c.s.depth+1 >= maxDepth {
		c.err.WriteString("sudo: unable to fork: Resource temporarily unavailable\n")
		return 1
	}
	io := c.shellIO()
	child, ok := c.s.child(io, "bash", nil)
	if !ok {
		return 1
	}
	if !(len(args) > 0 && c.programMissing(args[0])) {
		c.s.logSudo(target, args)
	}
	child.user = target
	child.vars["USER"] = strVar(target)
	child.vars["LOGNAME"] = strVar(target)
	child.vars["SUDO_USER"] = strVar(c.s.user)
	if shell {
		child.home = homeOf(target)
		child.vars["HOME"] = strVar(child.home)
		if len(args) == 0 {
			if c.in.text == "" || c.in.blob != nil {
				return 0
			}
			c.consumeInput()
			return child.runChild(c.in.text, &ioCtx{in: &inReader{}, out: c.out, err: c.err})
		}
		return child.runChild(strings.Join(args, " "), io)
	}
	if c.programMissing(args[0]) {
		c.err.printf("sudo: %s: command not found\n", args[0])
		return 1
	}
	child.bud.proc()
	code, res := child.execProgram(args, io)
	if res != execOK {
		c.err.printf("sudo: %s: command not found\n", args[0])
		return 1
	}
	return code
}

func cmdSu(c *call) int {
	target, cmd, login, hasCmd, shellSet := "root", "", false, false, false
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-" || a == "-l" || a == "--login":
			login = true
		case a == "-c" || a == "--command":
			if i+1 >= len(args) {
				c.err.printf("su: option requires an argument -- 'c'\nTry 'su --help' for more information.\n")
				return 1
			}
			i++
			cmd, hasCmd = args[i], true
		case strings.HasPrefix(a, "--command="):
			cmd, hasCmd = strings.TrimPrefix(a, "--command="), true
		case a == "-s" || a == "--shell":
			if i+1 < len(args) {
				i++
			}
			shellSet = true
		case strings.HasPrefix(a, "--shell="):
			shellSet = true
		case a == "-m" || a == "-p" || a == "--preserve-environment":
		case strings.HasPrefix(a, "-") && len(a) > 1:
			c.err.printf("su: invalid option -- '%s'\nTry 'su --help' for more information.\n", strings.TrimLeft(a, "-")[:1])
			return 1
		default:
			target = a
		}
	}
	acct, known := c.s.h.fs.Accounts().User(target)
	if !known && target != "root" {
		c.err.printf("su: user %s does not exist or the user entry does not contain all the required fields\n", target)
		return 1
	}
	if c.s.user != "root" {
		// Without a terminal there is no password to read.
		if hasCmd {
			c.err.WriteString("Password: su: Authentication failure\n")
			return 1
		}
		c.err.WriteString("su: must be run from a terminal\n")
		return 1
	}
	// root becomes anyone without a password.
	if known && strings.HasSuffix(acct.Shell, "nologin") && !shellSet {
		c.out.WriteString("This account is currently not available.\n")
		return 1
	}
	if c.s.depth+1 >= maxDepth {
		c.err.WriteString("su: cannot fork user shell: Resource temporarily unavailable\n")
		return 1
	}
	io := c.shellIO()
	child, ok := c.s.child(io, "bash", nil)
	if !ok {
		return 1
	}
	child.user = target
	child.vars["USER"] = strVar(target)
	child.vars["LOGNAME"] = strVar(target)
	if login || target != c.s.user {
		child.home = homeOf(target)
		if known {
			child.home = acct.Home
		}
		child.vars["HOME"] = strVar(child.home)
	}
	if login {
		child.cwd = child.home
		child.vars["PWD"] = strVar(child.home)
	}
	if hasCmd {
		return child.runChild(cmd, io)
	}
	if c.in.text == "" || c.in.blob != nil {
		return 0
	}
	c.consumeInput()
	return child.runChild(c.in.text, &ioCtx{in: &inReader{}, out: c.out, err: c.err})
}

// cmdEnv is env and printenv.
func cmdEnv(c *call) int {
	vars := c.s.vars
	if c.name == "printenv" {
		if len(c.args) == 0 {
			for _, k := range c.s.sortedVarNames() {
				if v := vars[k]; v.Exported && v.Set {
					c.out.printf("%s=%s\n", k, v.String())
				}
			}
			return 0
		}
		code := 0
		for _, a := range c.args {
			v, ok := vars[a]
			if !ok || !v.Exported {
				code = 1
				continue
			}
			c.out.WriteString(v.String() + "\n")
		}
		return code
	}
	args := c.args
	clearEnv := false
	var unset []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--":
			goto assigns
		case a == "-i" || a == "--ignore-environment":
			clearEnv = true
		case a == "-u" || a == "--unset":
			if len(args) > 0 {
				unset = append(unset, args[0])
				args = args[1:]
			}
		case strings.HasPrefix(a, "--unset="):
			unset = append(unset, strings.TrimPrefix(a, "--unset="))
		case a == "-0" || a == "--null":
		default:
			c.err.printf("env: invalid option -- '%s'\nTry 'env --help' for more information.\n", strings.TrimLeft(a, "-"))
			return 125
		}
	}
	if len(args) > 0 && args[0] == "-" {
		clearEnv = true
		args = args[1:]
	}
assigns:
	io := c.shellIO()
	child, ok := c.s.child(io, "env", nil)
	if !ok {
		return 126
	}
	if clearEnv {
		for k, v := range child.vars {
			if v.Exported {
				delete(child.vars, k)
			}
		}
	}
	for _, u := range unset {
		delete(child.vars, u)
	}
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "=") {
		k, v, _ := strings.Cut(args[0], "=")
		child.vars[k] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: v}
		args = args[1:]
	}
	if len(args) == 0 {
		for _, k := range child.sortedVarNames() {
			if v := child.vars[k]; v.Exported && v.Set {
				c.out.printf("%s=%s\n", k, v.String())
			}
		}
		return 0
	}
	code, res := child.execProgram(args, io)
	switch res {
	case execNotFound, execNoFile:
		c.err.printf("env: '%s': No such file or directory\n", args[0])
		return 127
	case execDenied, execIsDir:
		c.err.printf("env: '%s': Permission denied\n", args[0])
		return 126
	}
	return code
}

func init() {
	register(map[string]cmdFunc{
		"dash": cmdBash,
	})
}

// sshVersion is what ssh -V prints.
const sshVersion = "OpenSSH_9.2p1 Debian-2+deb12u5, OpenSSL 3.0.15 3 Sep 2024"

func cmdSSH(c *call) int {
	args := c.args
	var jumps []string
	login := ""
	noStdin, verbose := false, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		if strings.Contains(a, "V") && !strings.ContainsAny(a[:strings.IndexByte(a, 'V')], "bcDEeFIiJLlmOopQRSWw") {
			c.err.WriteString(sshVersion + "\n")
			return 0
		}
		if a == "--" {
			i++
			break
		}
		// Options that take a value: -bcDEeFIiJLlmOopQRSWw.
		for j := 1; j < len(a); j++ {
			ch := a[j]
			if strings.IndexByte("bcDEeFIiJLlmOopQRSWw", ch) < 0 {
				if ch == 'n' || ch == 'f' {
					noStdin = true
				}
				verbose = verbose || ch == 'v'
				if strings.IndexByte("46AaCfGgKkMNnqsTtVvXxYy", ch) < 0 {
					c.err.printf("unknown option -- %c\nusage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]\n           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n           destination [command [argument ...]]\n", ch)
					return 255
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					c.err.printf("option requires an argument -- %c\n", ch)
					return 255
				}
				i++
				val = args[i]
			}
			switch ch {
			case 'J':
				jumps = append(jumps, strings.Split(val, ",")...)
			case 'l':
				login = val
			case 'o':
				k, v, _ := strings.Cut(val, "=")
				if strings.EqualFold(strings.TrimSpace(k), "ProxyJump") {
					jumps = append(jumps, strings.Split(strings.TrimSpace(v), ",")...)
				}
			}
			break
		}
	}
	if i >= len(args) {
		c.err.WriteString("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]\n           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n           destination [command [argument ...]]\n")
		return 255
	}
	target := strings.TrimPrefix(args[i], "ssh://")
	if login != "" && !strings.Contains(target, "@") {
		target = login + "@" + target
	}
	target, _, _ = strings.Cut(target, ":")
	if verbose {
		c.err.WriteString(sshVersion + "\ndebug1: Reading configuration data /etc/ssh/ssh_config\ndebug1: /etc/ssh/ssh_config line 19: include /etc/ssh/ssh_config.d/*.conf matched no files\ndebug1: /etc/ssh/ssh_config line 21: Applying options for *\n")
	}
	remote, err := c.s.connect(target, jumps)
	if err != nil {
		c.err.WriteString(err.Error() + "\n")
		return 255
	}
	cmd := strings.Join(args[i+1:], " ")
	if verbose {
		ip := remote.h.ipAddr()
		c.err.printf("debug1: Connecting to %s [%s] port 22.\ndebug1: Connection established.\ndebug1: Local version string SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u5\ndebug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2+deb12u5\ndebug1: Authenticating to %s:22 as '%s'\nAuthenticated to %s ([%s]:22) using \"publickey\".\n",
			remote.h.name, ip, remote.h.name, remote.user, remote.h.name, ip)
		if cmd != "" {
			c.err.printf("debug1: Sending command: %s\n", cmd)
		}
	}
	in := c.in
	if !noStdin {
		// ssh reads all of its standard input, also when the remote
		// command does not: the loop that runs it gets nothing more.
		c.consumeInput()
	} else {
		in = stream{}
	}
	if strings.TrimSpace(cmd) == "" {
		if in.text != "" && in.blob == nil {
			// No command: the remote login shell reads its commands
			// from standard input.
			cmd = in.text
			in = stream{}
		} else {
			c.err.WriteString("Pseudo-terminal will not be allocated because stdin is not a terminal.\n")
			remote.send(world.CommandRun, map[string]any{"host": remote.h.name, "command": "", "exit_code": int64(0)})
			return 0
		}
	}
	remote.bud = c.s.bud
	remote.name, remote.arg0 = "bash", "bash"
	code := remote.runLine(cmd, in, c.out, c.err)
	remote.send(world.CommandRun, map[string]any{"host": remote.h.name, "command": cmd, "exit_code": int64(code)})
	return code
}

package shell

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Small tools of coreutils (unlink, arch, cksum),
// util-linux and bsdutils (getopt, logger, renice, whereis, flock), login
// (nologin), ncurses (tput) and glibc (getconf) that scripts and agents
// reach for.

func init() {
	register(map[string]cmdFunc{
		"unlink": cmdUnlink, "arch": cmdArch,
		"cksum": cmdCksum, "getopt": cmdGetopt, "logger": cmdLogger, "renice": cmdRenice,
		"whereis": cmdWhereis, "flock": cmdFlock, "nologin": cmdNologin, "tput": cmdTput, "getconf": cmdGetconf,
	})
}

// ---- unlink, arch, nologin ----

func cmdUnlink(c *call) int {
	ops := c.args
	if len(ops) > 0 && ops[0] == "--" {
		ops = ops[1:]
	}
	switch {
	case len(ops) == 0:
		c.err.WriteString("unlink: missing operand\nTry 'unlink --help' for more information.\n")
		return 1
	case len(ops) > 1:
		c.err.printf("unlink: extra operand ‘%s’\nTry 'unlink --help' for more information.\n", ops[1])
		return 1
	}
	p := c.s.abs(ops[0])
	in, err := c.s.h.fs.Lstat(p)
	if err == nil && in.Dir {
		err = vfs.ErrIsDir
	}
	if err == nil {
		err = c.s.removePath(p, false, "unlink")
	}
	if err != nil {
		c.errorf("cannot unlink %s: %s", quoteName(ops[0]), errText(err))
		return 1
	}
	return 0
}

func cmdArch(c *call) int {
	if len(c.args) > 0 {
		c.err.printf("arch: extra operand ‘%s’\nTry 'arch --help' for more information.\n", c.args[0])
		return 1
	}
	c.out.WriteString("x86_64\n")
	return 0
}

func cmdNologin(c *call) int {
	c.out.WriteString("This account is currently not available.\n")
	return 1
}

// ---- cksum ----

// cksumTable is the CRC of POSIX cksum: polynomial 0x04C11DB7, most
// significant bit first.
var cksumTable = func() [256]uint32 {
	var t [256]uint32
	for i := range t {
		crc := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// posixCksum is the checksum cksum prints for data.
func posixCksum(data string) uint32 {
	var crc uint32
	for i := 0; i < len(data); i++ {
		crc = crc<<8 ^ cksumTable[byte(crc>>24)^data[i]]
	}
	for n := uint64(len(data)); n > 0; n >>= 8 {
		crc = crc<<8 ^ cksumTable[byte(crc>>24)^byte(n)]
	}
	return ^crc
}

func cmdCksum(c *call) int {
	var ops []string
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && a != "-" {
			return c.badFlag(fmt.Sprintf("invalid option -- '%s'", strings.TrimLeft(a, "-")[:1]), 1)
		}
		ops = append(ops, a)
	}
	ins, code := c.inputs(ops)
	for _, in := range ins {
		sum := posixCksum(in.text)
		if in.binary || int64(len(in.text)) != in.size {
			// A declared file: its checksum follows from its digest.
			n, _ := strconv.ParseUint(in.sha[:min(8, len(in.sha))], 16, 32)
			sum = uint32(n)
		}
		if in.name == "-" || in.name == "" {
			c.out.printf("%d %d\n", sum, in.size)
		} else {
			c.out.printf("%d %d %s\n", sum, in.size, in.name)
		}
	}
	return code
}

// ---- getopt ----

func cmdGetopt(c *call) int {
	args := c.args
	name := "getopt"
	var short string
	var longs []string
	haveShort, quiet, quote, alt := false, false, true, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k := strings.IndexByte(a, '='); strings.HasPrefix(a, "--") && k > 0 {
				return a[k+1:], true
			}
			if !strings.HasPrefix(a, "--") && len(a) > 2 {
				return a[2:], true
			}
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		opt, _, _ := strings.Cut(a, "=")
		switch {
		case a == "--":
			i++
			goto parsed
		case opt == "-o" || opt == "--options" || strings.HasPrefix(a, "-o"):
			v, ok := val()
			if !ok {
				c.err.WriteString("getopt: option requires an argument -- 'o'\nTry 'getopt --help' for more information.\n")
				return 2
			}
			short, haveShort = v, true
		case opt == "-l" || opt == "--longoptions" || opt == "--long" || strings.HasPrefix(a, "-l"):
			v, ok := val()
			if !ok {
				c.err.WriteString("getopt: option requires an argument -- 'l'\nTry 'getopt --help' for more information.\n")
				return 2
			}
			for _, l := range strings.Split(v, ",") {
				if l = strings.TrimSpace(l); l != "" {
					longs = append(longs, l)
				}
			}
		case opt == "-n" || opt == "--name" || strings.HasPrefix(a, "-n"):
			v, ok := val()
			if !ok {
				c.err.WriteString("getopt: option requires an argument -- 'n'\nTry 'getopt --help' for more information.\n")
				return 2
			}
			name = v
		case a == "-q" || a == "--quiet":
			quiet = true
		case a == "-Q" || a == "--quiet-output":
		case a == "-u" || a == "--unquoted":
			quote = false
		case a == "-a" || a == "--alternative":
			alt = true
		case a == "-T" || a == "--test":
			return 4
		case a == "-s" || a == "--shell":
			if i+1 < len(args) {
				i++
			}
		case a == "-h" || a == "--help":
			c.out.WriteString("\nUsage:\n getopt <optstring> <parameters>\n getopt [options] [--] <optstring> <parameters>\n getopt [options] -o|--options <optstring> [options] [--] <parameters>\n\nParse command options.\n\nOptions:\n -a, --alternative             allow long options starting with single -\n -l, --longoptions <longopts>  the long options to be recognized\n -n, --name <progname>         the name under which errors are reported\n -o, --options <optstring>     the short options to be recognized\n -q, --quiet                   disable error reporting by getopt(3)\n -Q, --quiet-output            no normal output\n -s, --shell <shell>           set quoting conventions to those of <shell>\n -T, --test                    test for getopt(1) version\n -u, --unquoted                do not quote the output\n\n -h, --help                    display this help\n -V, --version                 display version\n\nFor more details see getopt(1).\n")
			return 0
		case a == "-V" || a == "--version":
			c.out.WriteString("getopt from util-linux 2.38.1\n")
			return 0
		case strings.HasPrefix(a, "-") && a != "-":
			c.err.printf("getopt: invalid option -- '%s'\nTry 'getopt --help' for more information.\n", strings.TrimLeft(a, "-")[:1])
			return 2
		default:
			goto parsed
		}
	}
parsed:
	rest := args[i:]
	if !haveShort {
		if len(rest) == 0 {
			c.err.WriteString("getopt: missing optstring argument\nTry 'getopt --help' for more information.\n")
			return 2
		}
		short, rest = rest[0], rest[1:]
		if len(longs) == 0 && !alt {
			quote = false // the traditional form: getopt optstring parameters
		}
	}
	q := func(s string) string {
		if !quote {
			return s
		}
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	permute := !strings.HasPrefix(short, "+") && !strings.HasPrefix(short, "-")
	short = strings.TrimLeft(short, "+-")
	code := 0
	complain := func(format string, a ...any) {
		code = 1
		if !quiet {
			c.err.printf("%s: %s\n", name, fmt.Sprintf(format, a...))
		}
	}
	var out, operands []string
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			operands = append(operands, rest[j+1:]...)
			j = len(rest)
		case strings.HasPrefix(a, "--") || alt && strings.HasPrefix(a, "-") && len(a) > 2:
			body := strings.TrimLeft(a, "-")
			lname, lval, hasVal := strings.Cut(body, "=")
			var match string
			kind := ""
			for _, l := range longs {
				base := strings.TrimRight(l, ":")
				if base == lname {
					match, kind = base, l[len(base):]
					break
				}
				if strings.HasPrefix(base, lname) && match == "" {
					match, kind = base, l[len(base):]
				}
			}
			if match == "" {
				complain("unrecognized option '%s'", a)
				continue
			}
			out = append(out, "--"+match)
			switch kind {
			case ":":
				if !hasVal {
					if j+1 >= len(rest) {
						complain("option '--%s' requires an argument", match)
						out = out[:len(out)-1]
						continue
					}
					j++
					lval = rest[j]
				}
				out = append(out, q(lval))
			case "::":
				out = append(out, q(lval))
			default:
				if hasVal {
					complain("option '--%s' doesn't allow an argument", match)
					out = out[:len(out)-1]
				}
			}
		case strings.HasPrefix(a, "-") && a != "-":
			for k := 1; k < len(a); k++ {
				ch := a[k]
				idx := strings.IndexByte(short, ch)
				if idx < 0 || ch == ':' {
					complain("invalid option -- '%c'", ch)
					continue
				}
				out = append(out, "-"+string(ch))
				switch {
				case strings.HasPrefix(short[idx+1:], "::"):
					out = append(out, q(a[k+1:]))
					k = len(a)
				case strings.HasPrefix(short[idx+1:], ":"):
					v := a[k+1:]
					if v == "" {
						if j+1 >= len(rest) {
							complain("option requires an argument -- '%c'", ch)
							out = out[:len(out)-1]
							k = len(a)
							continue
						}
						j++
						v = rest[j]
					}
					out = append(out, q(v))
					k = len(a)
				}
			}
		default:
			if !permute {
				operands = append(operands, rest[j:]...)
				j = len(rest)
				continue
			}
			operands = append(operands, a)
		}
	}
	var b strings.Builder
	for _, o := range out {
		b.WriteString(" " + o)
	}
	b.WriteString(" --")
	for _, o := range operands {
		b.WriteString(" " + q(o))
	}
	c.out.WriteString(b.String() + "\n")
	return code
}

// ---- logger ----

var syslogFacilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7", "security"}

var syslogLevels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "panic", "error", "warn"}

func cmdLogger(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "isTdeh", values: "tpfnPu", long: map[string]string{
		"tag": "t=", "priority": "p=", "file": "f=", "id": "i", "stderr": "s", "server": "n=", "port": "P=",
		"socket": "u=", "skip-empty": "e", "no-act": "no-act", "rfc3164": "rfc3164", "rfc5424": "rfc5424",
		"help": "h", "version": "version",
	}})
	if bad != "" {
		c.err.printf("logger: %s\nTry 'logger --help' for more information.\n", bad)
		return 1
	}
	if fl.has("version") {
		c.out.WriteString("logger from util-linux 2.38.1\n")
		return 0
	}
	if fl.has("h") {
		c.out.WriteString("\nUsage:\n logger [options] [<message>]\n\nEnter messages into the system log.\n\nOptions:\n -i                       log the logger command's PID\n     --id[=<id>]          log the given <id>, or otherwise the PID\n -f, --file <file>        log the contents of this file\n -e, --skip-empty         do not log empty lines when processing files\n     --no-act             do everything except the write the log\n -p, --priority <prio>    mark given message with this priority\n     --octet-count        use rfc6587 octet counting\n     --prio-prefix        look for a prefix on every line read from stdin\n -s, --stderr             output message to standard error as well\n -S, --size <size>        maximum size for a single message\n -t, --tag <tag>          mark every line with this tag\n -n, --server <name>      write to this remote syslog server\n -P, --port <port>        use this port for UDP or TCP connection\n -T, --tcp                use TCP only\n -d, --udp                use UDP only\n     --rfc3164            use the obsolete BSD syslog protocol\n     --rfc5424[=<snip>]   use the syslog protocol (the default for remote);\n                            <snip> can be notime, or notq, and/or nohost\n     --sd-id <id>         rfc5424 structured data ID\n     --sd-param <data>    rfc5424 structured data name=value\n     --msgid <msgid>      set rfc5424 message id field\n -u, --socket <socket>    write to this Unix socket\n     --socket-errors[=<on|off|auto>]\n                          print connection errors when using Unix sockets\n     --journald[=<file>]  write journald entry\n\n -h, --help               display this help\n -V, --version            display version\n\nFor more details see logger(1).\n")
		return 0
	}
	facility, level := "user", "notice"
	if p := fl.val("p"); p != "" {
		f, l, hasDot := strings.Cut(strings.ToLower(p), ".")
		if !hasDot {
			f, l = "user", f
		}
		if !slices.Contains(syslogFacilities, f) {
			c.err.printf("logger: unknown facility name: %s\n", f)
			return 1
		}
		if !slices.Contains(syslogLevels, l) {
			c.err.printf("logger: unknown priority name: %s\n", l)
			return 1
		}
		facility, level = f, l
	}
	tag := fl.val("t")
	if tag == "" {
		tag = c.s.user
	}
	if fl.has("i") {
		tag = fmt.Sprintf("%s[%d]", tag, c.s.pid+1)
	}
	var msgs []string
	switch {
	case len(ops) > 0:
		msgs = []string{strings.Join(ops, " ")}
	case fl.has("f"):
		b, err := c.s.readFile(c.s.abs(fl.val("f")))
		if err != nil {
			c.err.printf("logger: file %s: %s\n", fl.val("f"), errText(err))
			return 1
		}
		msgs = strings.Split(strings.TrimSuffix(b.Content, "\n"), "\n")
	default:
		text, _ := c.text(nil)
		msgs = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	}
	_ = facility
	now := c.s.net.clock.Now()
	for _, m := range msgs {
		if m == "" && fl.has("e") {
			continue
		}
		if !fl.has("no-act") {
			c.s.h.logf("syslog", now, "%s: %s", tag, m)
		}
		if fl.has("s") {
			c.err.printf("<%d>%s %s: %s\n", 8+syslogLevel(level), now.Format("Jan _2 15:04:05"), tag, m)
		}
	}
	return 0
}

func syslogLevel(l string) int {
	switch l {
	case "panic":
		return 0
	case "error":
		return 3
	case "warn":
		return 4
	}
	for i, n := range syslogLevels {
		if n == l {
			return i
		}
	}
	return 5
}

// ---- renice ----

func cmdRenice(c *call) int {
	args := c.args
	if len(args) > 0 && (args[0] == "-V" || args[0] == "--version") {
		c.out.WriteString("renice from util-linux 2.38.1\n")
		return 0
	}
	if len(args) > 0 && (args[0] == "-n" || args[0] == "--priority") {
		args = args[1:]
	}
	if len(args) < 2 {
		c.err.WriteString("renice: not enough arguments\nTry 'renice --help' for more information.\n")
		return 1
	}
	prio, err := strconv.Atoi(args[0])
	if err != nil {
		c.err.printf("renice: invalid priority '%s'\nTry 'renice --help' for more information.\n", args[0])
		return 1
	}
	prio = max(-20, min(19, prio))
	kind := "process ID"
	code := 0
	rows := c.userProcs()
	for _, a := range args[1:] {
		switch a {
		case "-p", "--pid":
			kind = "process ID"
			continue
		case "-g", "--pgrp":
			kind = "process group ID"
			continue
		case "-u", "--user":
			kind = "user ID"
			continue
		}
		var targets []procRow
		if kind == "user ID" {
			acct, ok := c.s.h.fs.Accounts().User(a)
			if !ok {
				if n, err := strconv.Atoi(a); err == nil {
					name, _ := c.s.h.fs.Accounts().UserByID(n)
					acct.Name, ok = name, name != ""
				}
			}
			if !ok {
				c.err.printf("renice: unknown user %s\n", a)
				code = 1
				continue
			}
			for _, r := range rows {
				if r.user == acct.Name {
					targets = append(targets, r)
				}
			}
		} else {
			pid, err := strconv.Atoi(a)
			if err != nil {
				c.err.printf("renice: bad value %s\n", a)
				code = 1
				continue
			}
			for _, r := range rows {
				if r.pid == pid {
					targets = append(targets, r)
				}
			}
		}
		if len(targets) == 0 {
			c.err.printf("renice: failed to get priority for %s (%s): No such process\n", a, kind)
			code = 1
			continue
		}
		old := c.s.h.nice[targets[0].pid]
		for _, r := range targets {
			if c.s.user != "root" {
				if r.user != c.s.user {
					c.err.printf("renice: failed to set priority for %s (%s): Operation not permitted\n", a, kind)
					code = 1
					goto next
				}
				if prio < c.s.h.nice[r.pid] {
					c.err.printf("renice: failed to set priority for %s (%s): Permission denied\n", a, kind)
					code = 1
					goto next
				}
			}
		}
		for _, r := range targets {
			if c.s.h.nice == nil {
				c.s.h.nice = map[int]int{}
			}
			c.s.h.nice[r.pid] = prio
		}
		c.out.printf("%s (%s) old priority %d, new priority %d\n", a, kind, old, prio)
	next:
	}
	return code
}

// ---- whereis ----

func cmdWhereis(c *call) int {
	var names []string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		c.err.WriteString("whereis: not enough arguments\nTry 'whereis --help' for more information.\n")
		return 1
	}
	for _, n := range names {
		line := path.Base(n) + ":"
		if _, ok := commands[path.Base(n)]; ok {
			line += " " + binPath(path.Base(n))
		}
		for _, sec := range []string{"1", "8"} {
			man := "/usr/share/man/man" + sec + "/" + path.Base(n) + "." + sec + ".gz"
			if _, err := c.s.h.fs.Stat(man); err == nil {
				line += " " + man
			}
		}
		c.out.WriteString(line + "\n")
	}
	return 0
}

// ---- flock ----

func cmdFlock(c *call) int {
	args := c.args
	// Options, the lock file (or a descriptor), then -c COMMAND or a
	// program and its arguments.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch a {
		case "-w", "--wait", "--timeout", "-E", "--conflict-exit-code":
			if len(args) > 0 {
				args = args[1:]
			}
		case "-V", "--version":
			c.out.WriteString("flock from util-linux 2.38.1\n")
			return 0
		}
	}
	if len(args) == 0 {
		c.err.WriteString("flock: not enough arguments\nTry 'flock --help' for more information.\n")
		return 64
	}
	file, rest := args[0], args[1:]
	if _, err := strconv.Atoi(file); err == nil && len(rest) == 0 {
		return 0 // a descriptor the shell holds: no one else has it locked
	}
	if len(rest) == 0 {
		c.err.printf("flock: bad file descriptor: '%s'\n", file)
		return 64
	}
	if err := c.lockFile(file); err != "" {
		c.err.printf("flock: cannot open lock file %s: %s\n", file, err)
		return 66
	}
	if rest[0] == "-c" || rest[0] == "--command" {
		if len(rest) < 2 {
			c.err.WriteString("flock: not enough arguments\nTry 'flock --help' for more information.\n")
			return 64
		}
		return c.runScript(rest[1], nil, c.in)
	}
	return c.run(rest, c.in)
}

// lockFile opens (creating when missing) a lock file as flock does; it
// returns the error text or "".
func (c *call) lockFile(file string) string {
	p := c.s.abs(file)
	if _, err := c.s.h.fs.Stat(p); err == nil {
		return ""
	}
	if _, err := c.s.writeFile(p, vfs.Content(""), "flock", false); err != nil {
		return errText(err)
	}
	return ""
}

// ---- tput ----

func cmdTput(c *call) int {
	args := c.args
	term := c.s.vars["TERM"].String()
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if strings.HasPrefix(args[0], "-T") {
			term = strings.TrimPrefix(args[0], "-T")
			if term == "" && len(args) > 1 {
				term, args = args[1], args[1:]
			}
		} else if args[0] == "-V" {
			c.out.WriteString("ncurses 6.4.20221231\n")
			return 0
		}
		args = args[1:]
	}
	if term == "" {
		c.err.WriteString("tput: No value for $TERM and no -T specified\n")
		return 2
	}
	known := map[string]bool{"xterm": true, "xterm-256color": true, "screen": true, "screen-256color": true, "tmux-256color": true,
		"vt100": true, "vt220": true, "linux": true, "dumb": true, "ansi": true, "xterm-color": true}
	if !known[term] {
		c.err.printf("tput: unknown terminal \"%s\"\n", term)
		return 3
	}
	if len(args) == 0 {
		c.err.WriteString("usage: tput [-V] [-S] [-T term] capname\n")
		return 2
	}
	colors := "8"
	switch {
	case strings.Contains(term, "256color"):
		colors = "256"
	case term == "dumb" || term == "vt100" || term == "vt220":
		colors = "-1"
	}
	if term == "dumb" {
		switch args[0] {
		case "cols":
			c.out.WriteString("80\n")
			return 0
		case "colors":
			c.out.WriteString("-1\n")
			return 0
		case "lines", "setaf", "setab", "bold", "sgr0", "clear", "cup", "smso", "rmso", "smul", "rmul", "civis", "cnorm", "el":
			return 1 // the capability is absent for a dumb terminal
		}
	}
	param := func(i int) int {
		if len(args) > i {
			n, _ := strconv.Atoi(args[i])
			return n
		}
		return 0
	}
	switch args[0] {
	case "cols":
		c.out.WriteString("80\n")
	case "lines":
		c.out.WriteString("24\n")
	case "colors":
		c.out.WriteString(colors + "\n")
	case "longname":
		if strings.Contains(term, "256") {
			c.out.WriteString("xterm with 256 colors")
		} else {
			c.out.WriteString(term)
		}
	case "setaf":
		n := param(1)
		if n < 8 {
			c.out.printf("\x1b[3%dm", n)
		} else if n < 16 {
			c.out.printf("\x1b[9%dm", n-8)
		} else {
			c.out.printf("\x1b[38;5;%dm", n)
		}
	case "setab":
		n := param(1)
		if n < 8 {
			c.out.printf("\x1b[4%dm", n)
		} else if n < 16 {
			c.out.printf("\x1b[10%dm", n-8)
		} else {
			c.out.printf("\x1b[48;5;%dm", n)
		}
	case "bold":
		c.out.WriteString("\x1b[1m")
	case "dim":
		c.out.WriteString("\x1b[2m")
	case "smul":
		c.out.WriteString("\x1b[4m")
	case "rmul":
		c.out.WriteString("\x1b[24m")
	case "rev":
		c.out.WriteString("\x1b[7m")
	case "smso":
		c.out.WriteString("\x1b[7m")
	case "rmso":
		c.out.WriteString("\x1b[27m")
	case "sgr0":
		c.out.WriteString("\x1b(B\x1b[m")
	case "clear":
		c.out.WriteString("\x1b[H\x1b[2J\x1b[3J")
	case "el":
		c.out.WriteString("\x1b[K")
	case "civis":
		c.out.WriteString("\x1b[?25l")
	case "cnorm":
		c.out.WriteString("\x1b[?12l\x1b[?25h")
	case "cup":
		c.out.printf("\x1b[%d;%dH", param(1)+1, param(2)+1)
	case "init", "reset":
	default:
		c.err.printf("tput: unknown terminfo capability '%s'\n", args[0])
		return 4
	}
	return 0
}

// ---- getconf ----

func cmdGetconf(c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "-a" {
		for _, k := range []string{"LINK_MAX", "_POSIX_LINK_MAX", "MAX_CANON", "NAME_MAX", "PATH_MAX", "PIPE_BUF", "ARG_MAX", "CHILD_MAX",
			"CLK_TCK", "NGROUPS_MAX", "OPEN_MAX", "PAGESIZE", "PAGE_SIZE", "_NPROCESSORS_CONF", "_NPROCESSORS_ONLN", "_PHYS_PAGES",
			"_AVPHYS_PAGES", "LONG_BIT", "GNU_LIBC_VERSION", "GNU_LIBPTHREAD_VERSION"} {
			v, _ := c.confValue(k)
			c.out.printf("%-35s%s\n", k, v)
		}
		return 0
	}
	if len(args) == 0 {
		c.err.WriteString("Usage: getconf [-v specification] variable_name [pathname]\n       getconf -a [pathname]\n")
		return 1
	}
	v, ok := c.confValue(args[0])
	if !ok {
		c.err.printf("getconf: Unrecognized variable `%s'\n", args[0])
		return 1
	}
	c.out.WriteString(v + "\n")
	return 0
}

// confValue is the value getconf prints for name, for an x86-64 Debian
// 12 with this host's processors and memory.
func (c *call) confValue(name string) (string, bool) {
	cpus := strconv.Itoa(c.s.h.cpus())
	pages := strconv.FormatInt(int64(c.s.h.mem().total)*1024/4096, 10)
	avail := strconv.FormatInt(int64(c.s.h.mem().avail)*1024/4096, 10)
	v, ok := map[string]string{
		"LINK_MAX": "65000", "_POSIX_LINK_MAX": "65000", "MAX_CANON": "255", "NAME_MAX": "255", "PATH_MAX": "4096",
		"PIPE_BUF": "4096", "ARG_MAX": "2097152", "CHILD_MAX": "256613", "CLK_TCK": "100", "NGROUPS_MAX": "65536",
		"OPEN_MAX": "1024", "PAGESIZE": "4096", "PAGE_SIZE": "4096", "_NPROCESSORS_CONF": cpus, "_NPROCESSORS_ONLN": cpus,
		"NPROCESSORS_CONF": cpus, "NPROCESSORS_ONLN": cpus, "_PHYS_PAGES": pages, "PHYS_PAGES": pages,
		"_AVPHYS_PAGES": avail, "AVPHYS_PAGES": avail, "LONG_BIT": "64", "WORD_BIT": "32",
		"GNU_LIBC_VERSION": "glibc 2.36", "GNU_LIBPTHREAD_VERSION": "NPTL 2.36", "PATH": "/bin:/usr/bin",
		"CS_PATH": "/bin:/usr/bin", "HOST_NAME_MAX": "64", "LOGIN_NAME_MAX": "256", "INT_MAX": "2147483647",
		"UINT_MAX": "4294967295", "LEVEL1_DCACHE_LINESIZE": "64",
	}[strings.TrimPrefix(name, "_SC_")]
	return v, ok
}

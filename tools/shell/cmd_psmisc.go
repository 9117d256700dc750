package shell

import (
	"path"
	"strings"
)

// killall (psmisc): signals processes by their name, as pkill does by a
// pattern, with psmisc's own messages.

func init() {
	register(map[string]cmdFunc{"killall": cmdKillall})
}

const killallUsage = `Usage: killall [OPTION]... [--] NAME...
       killall -l, --list
       killall -V, --version

  -e,--exact          require exact match for very long names
  -I,--ignore-case    case insensitive process name match
  -g,--process-group  kill process group instead of process
  -y,--younger-than   kill processes younger than TIME
  -o,--older-than     kill processes older than TIME
  -i,--interactive    ask for confirmation before killing
  -l,--list           list all known signal names
  -q,--quiet          don't print complaints
  -r,--regexp         interpret NAME as an extended regular expression
  -s,--signal SIGNAL  send this signal instead of SIGTERM
  -u,--user USER      kill only process(es) running as USER
  -v,--verbose        report if the signal was successfully sent
  -V,--version        display version information
  -w,--wait           wait for processes to die
  -n,--ns PID         match processes that belong to the same namespaces
                      as PID
  -Z,--context REGEXP kill only process(es) having context
                      (must precede other arguments)

`

func cmdKillall(c *call) int {
	sig := 15
	var names []string
	var user string
	quiet, verbose, icase := false, false, false
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			names = append(names, args[i+1:]...)
			i = len(args)
		case a == "-q" || a == "--quiet":
			quiet = true
		case a == "-v" || a == "--verbose":
			verbose = true
		case a == "-I" || a == "--ignore-case":
			icase = true
		case a == "-e" || a == "--exact" || a == "-w" || a == "--wait" || a == "-g" || a == "--process-group":
		case a == "-s" || a == "--signal" || a == "-u" || a == "--user":
			if i+1 >= len(args) {
				c.err.WriteString(killallUsage)
				return 1
			}
			i++
			if a == "-u" || a == "--user" {
				user = args[i]
				continue
			}
			n, ok := parseSignal(strings.TrimPrefix(strings.ToUpper(args[i]), "SIG"))
			if !ok {
				c.err.printf("%s: unknown signal; killall -l lists signals.\n", args[i])
				return 1
			}
			sig = n
		case a == "-l" || a == "--list":
			c.out.WriteString("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT\nCHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH POLL PWR SYS\n")
			return 0
		case a == "-V" || a == "--version":
			c.err.WriteString("killall (PSmisc) 23.6\nCopyright (C) 1993-2022 Werner Almesberger and Craig Small\n\nPSmisc comes with ABSOLUTELY NO WARRANTY.\nThis is free software, and you are welcome to redistribute it under\nthe terms of the GNU General Public License.\nFor more information about these matters, see the files named COPYING.\n")
			return 0
		case strings.HasPrefix(a, "-") && len(a) > 1:
			n, ok := parseSignal(strings.TrimPrefix(strings.ToUpper(a[1:]), "SIG"))
			if !ok {
				c.err.printf("%s: unknown signal; killall -l lists signals.\n", a[1:])
				return 1
			}
			sig = n
		default:
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		c.err.WriteString(killallUsage)
		return 1
	}
	code := 0
	for _, want := range names {
		found := false
		for _, r := range c.s.procTable("") {
			if r.pid == c.s.pid+1 || r.pid == 0 || strings.HasPrefix(r.command, "[") {
				continue
			}
			name := path.Base(strings.Fields(r.command + " x")[0])
			name = strings.TrimSuffix(strings.TrimPrefix(name, "-"), ":")
			w := want
			if len(name) > 15 && len(w) >= 15 {
				name, w = name[:15], w[:min(len(w), 15)]
			}
			if icase {
				name, w = strings.ToLower(name), strings.ToLower(w)
			}
			if name != w || user != "" && r.user != user {
				continue
			}
			found = true
			if r.pid == c.s.pid {
				continue // the shell that runs killall
			}
			if msg := c.s.signal(r.pid, sig); msg != "" {
				if !quiet {
					c.err.printf("%s(%d): %s\n", want, r.pid, msg)
				}
				code = 1
				continue
			}
			if verbose {
				c.err.printf("Killed %s(%d) with signal %d\n", want, r.pid, sig)
			}
		}
		if !found {
			if !quiet {
				c.err.printf("%s: no process found\n", want)
			}
			code = 1
		}
	}
	return code
}

package shell

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Commands that run other commands: xargs, timeout, nohup, nice, ionice,
// stdbuf. They start programs as exec does (c.runProgram): a command or a
// script on the host, never a function, alias or builtin of the shell
// that called them, under the same budgets; a program that cannot start
// is reported in the starting command's own words.

func init() {
	register(map[string]cmdFunc{
		"xargs": cmdXargs, "timeout": cmdTimeout, "nohup": cmdNohup, "nice": cmdNice,
		"ionice": cmdNice, "stdbuf": cmdNice, "setsid": cmdNohup,
	})
}

// maxXargsRuns bounds the invocations of one xargs.
const maxXargsRuns = 10000

const xargsHelp = `Usage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...
Run COMMAND with arguments INITIAL-ARGS and more arguments read from input.

Mandatory and optional arguments to long options are also
mandatory or optional for the corresponding short option.
  -0, --null                   items are separated by a null, not whitespace;
                                 disables quote and backslash processing and
                                 logical EOF processing
  -a, --arg-file=FILE          read arguments from FILE, not standard input
  -d, --delimiter=CHARACTER    items in input stream are separated by CHARACTER,
                                 not by whitespace; disables quote and backslash
                                 processing and logical EOF processing
  -E END                       set logical EOF string; if END occurs as a line
                                 of input, the rest of the input is ignored
                                 (ignored if -0 or -d was specified)
  -I R                         same as --replace=R
  -i, --replace[=R]            replace R in INITIAL-ARGS with names read
                                 from standard input, split at newlines;
                                 if R is unspecified, assume {}
  -L, --max-lines=MAX-LINES    use at most MAX-LINES non-blank input lines per
                                 command line
  -n, --max-args=MAX-ARGS      use at most MAX-ARGS arguments per command line
  -o, --open-tty               Reopen stdin as /dev/tty in the child process
                                 before executing the command; useful to run an
                                 interactive application.
  -P, --max-procs=MAX-PROCS    run at most MAX-PROCS processes at a time
  -p, --interactive            prompt before running commands
  -r, --no-run-if-empty        if there are no arguments, then do not run COMMAND;
                                 if this option is not given, COMMAND will be
                                 run at least once
  -s, --max-chars=MAX-CHARS    limit length of command line to MAX-CHARS
      --show-limits            show limits on command-line length
  -t, --verbose                print commands before executing them
  -x, --exit                   exit if the size (see -s) is exceeded
      --help                   display this help and exit
      --version                output version information and exit

Please see also the documentation at https://www.gnu.org/software/findutils/.
You can report (and track progress on fixing) bugs in the "xargs"
bug-reporting system accessible from https://www.gnu.org/software/findutils/.
`

// xargsItems splits input as xargs does: blanks and newlines separate
// items, quotes and backslashes group them.
func xargsItems(text string) ([]string, string) {
	var items []string
	var cur strings.Builder
	inItem := false
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '\\' && i+1 < len(text):
			i++
			cur.WriteByte(text[i])
			inItem = true
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(text[i+1:], ch)
			if end < 0 {
				q := "single"
				if ch == '"' {
					q = "double"
				}
				return items, fmt.Sprintf("unmatched %s quote; by default quotes are special to xargs unless you use the -0 option", q)
			}
			seg := text[i+1 : i+1+end]
			if strings.Contains(seg, "\n") {
				q := "single"
				if ch == '"' {
					q = "double"
				}
				return items, fmt.Sprintf("unmatched %s quote; by default quotes are special to xargs unless you use the -0 option", q)
			}
			cur.WriteString(seg)
			i += end + 1
			inItem = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inItem {
				items = append(items, cur.String())
				cur.Reset()
				inItem = false
			}
		default:
			cur.WriteByte(ch)
			inItem = true
		}
	}
	if inItem {
		items = append(items, cur.String())
	}
	return items, ""
}

func cmdXargs(c *call) int {
	fl, ops, bad := parseFlagsUntilOperand(c.args, flagSpec{bools: "0rtxpo", values: "adEILnPs", long: map[string]string{
		"null": "0", "arg-file": "a=", "delimiter": "d=", "replace": "I=", "max-lines": "L=", "max-args": "n=",
		"max-procs": "P=", "no-run-if-empty": "r", "max-chars": "s=", "verbose": "t", "exit": "x",
		"interactive": "p", "open-tty": "o", "help": "help", "version": "version", "show-limits": "show-limits",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	switch {
	case fl.has("help"):
		c.out.WriteString(xargsHelp)
		return 0
	case fl.has("version"):
		c.out.WriteString("xargs (GNU findutils) 4.9.0\nCopyright (C) 2022 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n\nWritten by Eric B. Decker, James Youngman, and Kevin Dalley.\n")
		return 0
	}
	text := c.in.text
	if fl.has("a") {
		b, err := c.readInput(fl.val("a"))
		if err != nil {
			c.errorf("Cannot open input file %s: %s", quoteName(fl.val("a")), errText(err))
			return 1
		}
		text = b.Content
	}
	cmd := ops
	if len(cmd) == 0 {
		cmd = []string{"echo"}
	}
	var items []string
	replace := fl.val("I")
	switch {
	case fl.has("0"):
		items = strings.Split(text, "\x00")
		if len(items) > 0 && items[len(items)-1] == "" {
			items = items[:len(items)-1]
		}
	case fl.has("d"):
		d := fl.val("d")
		d = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\0`, "\x00").Replace(d)
		if len(d) != 1 {
			c.errorf("invalid input delimiter specification %s: the delimiter must be either a single character or an escape sequence starting with \\.", d)
			return 1
		}
		items = strings.Split(text, d)
		if len(items) > 0 && items[len(items)-1] == "" {
			items = items[:len(items)-1]
		}
	case fl.has("I") || fl.has("L"):
		for _, l := range splitLines(text) {
			if fl.has("I") {
				l = strings.TrimLeft(l, " \t")
			}
			if strings.TrimSpace(l) != "" {
				items = append(items, l)
			}
		}
	default:
		var msg string
		items, msg = xargsItems(text)
		if msg != "" {
			c.errorf("%s", msg)
			if len(items) == 0 {
				return 1
			}
		}
	}
	if eof := fl.val("E"); eof != "" {
		for i, it := range items {
			if it == eof {
				items = items[:i]
				break
			}
		}
	}
	per := len(items)
	if fl.has("n") {
		n, err := strconv.Atoi(fl.val("n"))
		if err != nil || n < 1 {
			c.errorf("invalid number %s for -n option", quoteName(fl.val("n")))
			return 1
		}
		per = n
	}
	if fl.has("L") {
		n, err := strconv.Atoi(fl.val("L"))
		if err != nil || n < 1 {
			c.errorf("invalid number %s for -L option", quoteName(fl.val("L")))
			return 1
		}
		per = n
	}
	if fl.has("I") {
		per = 1
	}
	var runs [][]string
	if len(items) == 0 {
		if fl.has("r") || fl.has("I") {
			return 0
		}
		runs = append(runs, append([]string(nil), cmd...))
	}
	for i := 0; i < len(items); i += max(per, 1) {
		group := items[i:min(i+max(per, 1), len(items))]
		var args []string
		if fl.has("I") {
			for _, a := range cmd {
				args = append(args, strings.ReplaceAll(a, replace, group[0]))
			}
		} else {
			args = append(append([]string(nil), cmd...), group...)
		}
		runs = append(runs, args)
		if len(runs) > maxXargsRuns {
			c.errorf("argument list too long")
			return 1
		}
	}
	status := 0
	for _, args := range runs {
		if fl.has("t") || fl.has("p") {
			c.err.WriteString(strings.Join(args, " ") + "\n")
		}
		code := c.runProgram(args, stream{}, func(name, why string) {
			c.errorf("%s: %s", name, why)
		})
		switch {
		case code == 255:
			c.errorf("%s: exited with status 255; aborting", args[0])
			return 124
		case code == 126 || code == 127:
			return code
		case code >= 128:
			c.errorf("%s: terminated by signal %d", args[0], code-128)
			return 125
		case code != 0:
			status = 123
		}
	}
	return status
}

// parseFlagsUntilOperand is parseFlags for commands that take a command
// line after their options: the first operand ends the options.
func parseFlagsUntilOperand(args []string, spec flagSpec) (flags, []string, string) {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			fl, _, bad := parseFlags(args[:i], spec)
			return fl, args[i+1:], bad
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.HasPrefix(a, "--") {
			name, _, hasVal := strings.Cut(a[2:], "=")
			if k, ok := spec.long[name]; ok && strings.HasSuffix(k, "=") && !hasVal {
				i++
			}
			continue
		}
		// A short option that takes a value takes the rest or the next word.
		for j := 1; j < len(a); j++ {
			if strings.IndexByte(spec.values, a[j]) >= 0 {
				if j == len(a)-1 {
					i++
				}
				break
			}
		}
	}
	if i > len(args) {
		i = len(args)
	}
	fl, _, bad := parseFlags(args[:i], spec)
	return fl, args[i:], bad
}

// parseDuration reads a timeout or sleep duration: a number with an
// optional s, m, h or d suffix.
func parseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	mult := time.Second
	switch s[len(s)-1] {
	case 's':
		s = s[:len(s)-1]
	case 'm':
		mult, s = time.Minute, s[:len(s)-1]
	case 'h':
		mult, s = time.Hour, s[:len(s)-1]
	case 'd':
		mult, s = 24*time.Hour, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return time.Duration(f * float64(mult)), true
}

const timeoutHelp = `Usage: timeout [OPTION] DURATION COMMAND [ARG]...
  or:  timeout [OPTION]
Start COMMAND, and kill it if still running after DURATION.

Mandatory arguments to long options are mandatory for short options too.
      --preserve-status
                 exit with the same status as COMMAND, even when the
                   command times out
      --foreground
                 when not running timeout directly from a shell prompt,
                   allow COMMAND to read from the TTY and get TTY signals;
                   in this mode, children of COMMAND will not be timed out
  -k, --kill-after=DURATION
                 also send a KILL signal if COMMAND is still running
                   this long after the initial signal was sent
  -s, --signal=SIGNAL
                 specify the signal to be sent on timeout;
                   SIGNAL may be a name like 'HUP' or a number;
                   see 'kill -l' for a list of signals
  -v, --verbose  diagnose to stderr any signal sent upon timeout
      --help        display this help and exit
      --version     output version information and exit

DURATION is a floating point number with an optional suffix:
's' for seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.
A duration of 0 disables the associated timeout.

Upon timeout, send the TERM signal to COMMAND, if no other SIGNAL specified.
The TERM signal kills any process that does not block or catch that signal.
It may be necessary to use the KILL signal, since this signal can't be caught.

EXIT status:
  124  if COMMAND times out, and --preserve-status is not specified
  125  if the timeout command itself fails
  126  if COMMAND is found but cannot be invoked
  127  if COMMAND cannot be found
  137  if COMMAND (or timeout itself) is sent the KILL (9) signal (128+9)
  -    the exit status of COMMAND otherwise

GNU coreutils online help: <https://www.gnu.org/software/coreutils/>
`

func cmdTimeout(c *call) int {
	fl, ops, bad := parseFlagsUntilOperand(c.args, flagSpec{bools: "v", values: "ks", long: map[string]string{
		"preserve-status": "preserve-status", "foreground": "foreground", "kill-after": "k=", "signal": "s=",
		"verbose": "v", "help": "help", "version": "version",
	}})
	if bad != "" {
		c.err.printf("timeout: %s\nTry 'timeout --help' for more information.\n", bad)
		return 125
	}
	if c.helpOrVersion(fl, timeoutHelp) {
		return 0
	}
	if len(ops) < 2 {
		if len(ops) == 0 {
			c.err.WriteString("timeout: missing operand\nTry 'timeout --help' for more information.\n")
		} else {
			c.err.printf("timeout: missing operand after %s\nTry 'timeout --help' for more information.\n", quoteName(ops[0]))
		}
		return 125
	}
	limit, ok := parseDuration(ops[0])
	if !ok {
		c.err.printf("timeout: invalid time interval %s\nTry 'timeout --help' for more information.\n", quoteName(ops[0]))
		return 125
	}
	sig := 15
	if fl.has("s") {
		n, ok := parseSignal(fl.val("s"))
		if !ok {
			c.err.printf("timeout: %s: invalid signal\nTry 'timeout --help' for more information.\n", fl.val("s"))
			return 125
		}
		sig = n
	}
	cmd := ops[1:]
	// A sleep longer than the limit is the one command here whose running
	// time is known in advance: it is cut off.
	if limit > 0 && cmd[0] == "sleep" && len(cmd) > 1 {
		var total time.Duration
		for _, a := range cmd[1:] {
			d, ok := parseDuration(a)
			if !ok {
				total = 0
				break
			}
			total += d
		}
		if total > limit {
			c.s.spend(limit) // the sleep ran until it was cut off
			if fl.has("v") {
				c.err.printf("timeout: sending signal %s to command %s\n", strings.TrimPrefix(signalName(sig), "SIG"), quoteName(cmd[0]))
			}
			if fl.has("preserve-status") {
				return 128 + sig
			}
			if sig == 9 {
				return 137
			}
			return 124
		}
	}
	return c.runProgram(cmd, c.in, func(name, why string) {
		c.errorf("failed to run command %s: %s", quoteName(name), why)
	})
}

func cmdNohup(c *call) int {
	args := c.args
	if len(args) > 0 && (args[0] == "--help" || args[0] == "--version") {
		c.helpOrVersion(flags{strings.TrimPrefix(args[0], "--"): nil}, "Usage: "+c.name+" COMMAND [ARG]...\n  or:  "+c.name+" OPTION\nRun COMMAND, ignoring hangup signals.\n\n      --help        display this help and exit\n      --version     output version information and exit\n")
		return 0
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		c.err.printf("%s: missing operand\nTry '%s --help' for more information.\n", c.name, c.name)
		return 125
	}
	// Output is not a terminal, so nohup redirects nothing.
	return c.runProgram(args, c.in, func(name, why string) {
		if c.name == "setsid" {
			c.errorf("failed to execute %s: %s", name, why)
			return
		}
		c.errorf("failed to run command %s: %s", quoteName(name), why)
	})
}

func cmdNice(c *call) int {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		if a == "--help" || a == "--version" {
			c.helpOrVersion(flags{strings.TrimPrefix(a, "--"): nil}, "Usage: "+c.name+" [OPTION] [COMMAND [ARG]...]\nRun COMMAND with an adjusted niceness, which affects process scheduling.\n")
			return 0
		}
		// Options with a separate value.
		if (a == "-n" || a == "-c" || a == "-o" || a == "-e" || a == "-i" || a == "-p" || a == "--adjustment") && len(args) > 0 {
			args = args[1:]
		}
	}
	if len(args) == 0 {
		if c.name == "nice" {
			c.out.WriteString("0\n")
			return 0
		}
		if c.name == "ionice" {
			c.out.WriteString("none: prio 4\n")
			return 0
		}
		c.err.printf("%s: missing operand\nTry '%s --help' for more information.\n", c.name, c.name)
		return 125
	}
	return c.runProgram(args, c.in, func(name, why string) {
		switch c.name {
		case "nice":
			c.errorf("%s: %s", quoteName(name), why)
		case "ionice":
			c.errorf("failed to execute %s: %s", name, why)
		default:
			c.errorf("failed to run command %s: %s", quoteName(name), why)
		}
	})
}

// runProgram runs argv as a program that c starts, as exec does: a
// command or a script on the host, not a function or builtin of the
// calling shell. When it cannot start, fail reports it with the program's
// name and the reason, and the status is 127 (not found) or 126.
func (c *call) runProgram(argv []string, in stream, fail func(name, why string)) int {
	io := &ioCtx{in: &inReader{st: in}, out: c.out, err: c.err}
	code, res := c.s.execProgram(argv, io)
	switch res {
	case execOK:
		return code
	case execNotFound, execNoFile:
		fail(argv[0], "No such file or directory")
		return 127
	case execTooLong:
		fail(argv[0], "Argument list too long")
		return 126
	}
	fail(argv[0], "Permission denied")
	return 126
}

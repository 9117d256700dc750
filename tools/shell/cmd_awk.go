package shell

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/internal/goawk/interp"
	awkparser "github.com/terrarium-evals/terrarium/internal/goawk/parser"
)

// awk is goawk's interpreter with its input and output injected and its
// reach switched off: no system(), no pipes to commands, no writing files.
// Input files are read through the host's filesystem and handed to goawk
// as standard input, one segment per file, so NR, FNR and NR==FNR idioms
// work as they do with Debian's awk (mawk).

func init() {
	register(map[string]cmdFunc{"awk": cmdAwk, "mawk": cmdAwk})
}

// awkWallLimit ends an awk program that computes forever without reading
// or writing (a loop with no exit). Everything else is bounded by counts.
// It is a timer, the one limit here that depends on the machine's speed:
// goawk checks only a context's channel, every thousand instructions, so
// its instructions cannot be counted from outside (jq's are: compute.go).
const awkWallLimit = 5 * time.Second

const awkUsage = `Usage: mawk [Options] [Program] [file ...]

Program:
    The -f option value is the name of a file containing program text.
    If no -f option is given, a "--" ends option processing; the following
    parameters are the program text.

Options:
    -f program-file  Program  text is read from file instead of from the
                     command-line.  Multiple -f options are accepted.
    -F value         sets the field separator, FS, to value.
    -v var=value     assigns value to program variable var.
    --               unambiguous end of options.

    Implementation-specific options are prefixed with "-W".  They can be
    abbreviated:

    -W version       show version information and exit.
    -W dump          show assembler-like listing of program and exit.
    -W help          show this message and exit.
    -W interactive   set unbuffered output, line-buffered input.
    -W exec file     use file as program as well as last option.
    -W random=number set initial random seed.
    -W sprintf=number adjust size of sprintf buffer.
    -W posix_space   do not consider "\n" a space.
    -W usage         show this message and exit.
`

const awkVersion = `mawk 1.3.4 20200120
Copyright 2008-2019,2020, Thomas E. Dickey
Copyright 1991-1996,2014, Michael D. Brennan

random-funcs:       srandom/random
regex-funcs:        internal
compiled limits:
sprintf buffer      8192
maximum-integer     2147483647
`

// awkOut writes goawk's output to a command output, refusing more than a
// pipe holds so that a runaway print loop ends.
type awkOut struct {
	o     *outBuf
	n     int
	limit int
}

var errAwkFull = errors.New("write failure")

func (w *awkOut) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errAwkFull
	}
	w.n += len(p)
	w.o.WriteString(string(p))
	return len(p), nil
}

// segments is standard input made of several files: each ends with its
// own EOF, so goawk moves to the next "-" argument as to the next file.
type segments struct {
	parts []string
	cur   *strings.Reader
}

func (s *segments) Read(p []byte) (int, error) {
	if s.cur == nil {
		if len(s.parts) == 0 {
			return 0, io.EOF
		}
		s.cur = strings.NewReader(s.parts[0])
		s.parts = s.parts[1:]
	}
	n, err := s.cur.Read(p)
	if err == io.EOF {
		s.cur = nil
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	}
	return n, err
}

func cmdAwk(c *call) int {
	args := c.args
	var progFiles []string
	var vars []string
	fs := ""
	i := 0
	usage := func() int {
		c.err.WriteString(awkUsage)
		return 2
	}
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		switch {
		case a == "--version" || a == "-Wversion" || a == "-Wv":
			c.out.WriteString(awkVersion)
			return 0
		case a == "--help" || a == "-Wusage" || a == "-Whelp":
			c.out.WriteString(awkUsage)
			return 0
		case a == "-W":
			if i+1 >= len(args) {
				return usage()
			}
			i++
			switch strings.SplitN(args[i], "=", 2)[0] {
			case "version", "v":
				c.out.WriteString(awkVersion)
				return 0
			case "help", "usage", "h", "u":
				c.out.WriteString(awkUsage)
				return 0
			}
		case strings.HasPrefix(a, "-F"):
			v := a[2:]
			if v == "" {
				if i+1 >= len(args) {
					c.err.WriteString("mawk: option requires an argument -- F\n")
					return usage()
				}
				i++
				v = args[i]
			}
			if v == "t" {
				v = "\t"
			}
			fs = v
		case strings.HasPrefix(a, "-v"):
			v := a[2:]
			if v == "" {
				if i+1 >= len(args) {
					c.err.WriteString("mawk: option requires an argument -- v\n")
					return usage()
				}
				i++
				v = args[i]
			}
			name, val, ok := strings.Cut(v, "=")
			if !ok {
				c.err.printf("mawk: improper assignment: -v %s\n", v)
				return 2
			}
			vars = append(vars, name, unescapeAwk(val))
		case strings.HasPrefix(a, "-f"):
			v := a[2:]
			if v == "" {
				if i+1 >= len(args) {
					c.err.WriteString("mawk: option requires an argument -- f\n")
					return usage()
				}
				i++
				v = args[i]
			}
			progFiles = append(progFiles, v)
		case strings.HasPrefix(a, "--"):
			c.err.printf("mawk: not an option: %s\n", a)
			return 2
		default:
			c.err.printf("mawk: not an option: %s\n", a)
			return 2
		}
	}
	var src string
	if len(progFiles) == 0 {
		if i >= len(args) {
			return usage()
		}
		src = args[i]
		i++
	} else {
		var b strings.Builder
		for _, f := range progFiles {
			blob, err := c.readInput(f)
			if err != nil || blob.Declared {
				c.err.printf("mawk: couldn't open file %s\n", f)
				return 2
			}
			b.WriteString(blob.Content + "\n")
		}
		src = b.String()
	}
	prog, err := awkparser.ParseProgram([]byte(src), nil)
	if err != nil {
		var pe *awkparser.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line
			near := ""
			if lines := strings.Split(src, "\n"); line >= 1 && line <= len(lines) {
				near = strings.TrimSpace(lines[line-1])
				if col := pe.Position.Column; col >= 1 && col <= len(lines[line-1]) {
					if f := strings.Fields(lines[line-1][col-1:]); len(f) > 0 {
						near = f[0]
					} else {
						near = lines[line-1][col-1 : col] // a character awk does not know, such as \f
					}
				}
			}
			c.err.printf("mawk: line %d: syntax error at or near %s\n", line, near)
		} else {
			c.err.printf("mawk: %s\n", err)
		}
		return 2
	}
	// Operands: files, "-" and var=value assignments, in order.
	var awkArgs, parts []string
	for _, op := range args[i:] {
		if eq := strings.IndexByte(op, '='); eq > 0 && isAwkName(op[:eq]) {
			awkArgs = append(awkArgs, op)
			continue
		}
		if op == "-" || op == "/dev/stdin" {
			parts = append(parts, c.in.text)
			awkArgs = append(awkArgs, "-")
			continue
		}
		blob, err := c.readInput(op)
		if err != nil {
			c.err.printf("mawk: cannot open %s (%s)\n", op, errText(err))
			if len(parts) == 0 {
				return 2
			}
			break
		}
		// A declared binary file has no lines to read.
		parts = append(parts, blob.Content)
		awkArgs = append(awkArgs, "-")
	}
	var stdin io.Reader = strings.NewReader(c.in.text)
	if len(parts) > 0 {
		stdin = &segments{parts: parts}
	}
	if fs != "" {
		vars = append(vars, "FS", fs)
	}
	env := c.environ()
	out := &awkOut{o: c.out, limit: pipeLimit}
	errw := &awkOut{o: c.err, limit: 1 << 16}
	cfg := &interp.Config{
		Stdin: stdin, Output: out, Error: errw, Argv0: "awk", Args: awkArgs, Vars: vars,
		NoExec: true, NoFileWrites: true, NoFileReads: true, Environ: env,
	}
	ctx, done := c.s.bud.computeContext(awkWallLimit)
	defer done()
	vm, err := interp.New(prog)
	if err != nil {
		c.err.printf("mawk: %s\n", err)
		return 2
	}
	status, err := vm.ExecuteContext(ctx, cfg)
	switch {
	case err == nil:
		return status
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		done() // the line's context ended: the whole line is killed
		c.err.WriteString("Killed\n")
		return 137
	case errors.Is(err, errAwkFull):
		return 2
	case errors.Is(err, interp.ErrMemory):
		// Out of memory: the kernel kills awk, and the shell says so.
		c.err.WriteString("Killed\n")
		return 137
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "NoExec"):
		c.err.WriteString("sh: 1: cannot fork: Resource temporarily unavailable\n")
	case strings.Contains(msg, "NoFileWrites"):
		c.err.WriteString("mawk: cannot open output file: Read-only file system\n")
	case strings.Contains(msg, "NoFileReads"):
		c.err.WriteString("mawk: cannot open input file (Permission denied)\n")
	default:
		c.err.printf("mawk: run time error: %s\n", msg)
	}
	return 2
}

func isAwkName(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || i > 0 && ch >= '0' && ch <= '9') {
			return false
		}
	}
	return s != ""
}

// unescapeAwk interprets the escapes of a -v value, as awk does.
func unescapeAwk(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	r := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\"`, `"`, `\/`, `/`, `\r`, "\r")
	return r.Replace(s)
}

// environ lists the session's exported variables as name, value pairs.
func (c *call) environ() []string {
	env := c.s.environment()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, env[k])
	}
	return out
}

package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// jq is gojq's interpreter over files read through the host's filesystem.
// Output follows jq 1.6 as Debian ships it: two-space indentation, -r, -c,
// -s, -n, -e, --arg and --argjson. Objects come out with sorted keys
// (gojq keeps no key order).

func init() {
	register(map[string]cmdFunc{"jq": cmdJq})
}

const jqUsage = `Usage:	jq [OPTIONS] FILTER [FILES...]
	jq [OPTIONS] --args FILTER [ARGUMENTS...]
	jq [OPTIONS] --jsonargs FILTER [JSON_VALUES...]

jq is a tool for processing JSON inputs, applying the given filter to
its JSON text inputs and producing the filter's results as JSON on
standard output.

The simplest filter is ., which copies jq's input to its output
unmodified (except for formatting, but note that IEEE754 is used
for number representation internally, with all that that implies).

For more advanced filters see the jq(1) manpage ("man jq")
and/or https://stedolan.github.io/jq

Example:

	$ echo '{"foo": 0}' | jq .
	{
		"foo": 0
	}

Some of the options include:
  -c               compact instead of pretty-printed output;
  -n               use ` + "`null`" + ` as the single input value;
  -e               set the exit status code based on the output;
  -s               read (slurp) all inputs into an array; apply filter to it;
  -r               output raw strings, not JSON texts;
  -a               output ASCII with escapes for non-ASCII characters;
  -C               colorize JSON;
  -M               monochrome (don't colorize JSON);
  -S               sort keys of objects on output;
  --tab            use tabs for indentation;
  --arg a v        set variable $a to value <v>;
  --argjson a v    set variable $a to JSON value <v>;
  --slurpfile a f  set variable $a to an array of JSON texts read from <f>;
  --rawfile a f    set variable $a to a string consisting of the contents of <f>;
  --args           remaining arguments are string arguments, not files;
  --jsonargs       remaining arguments are JSON arguments, not files;
  --               terminates argument processing;

Named arguments are also available as $ARGS.named[], while
positional arguments are available as $ARGS.positional[].

See the manpage for more options.
`

type jqOpts struct {
	raw, join, compact, slurp, null, exit, tab, ascii, rawIn bool
	indent                                                   int
	names                                                    []string
	values                                                   []any
}

func cmdJq(c *call) int {
	o := jqOpts{indent: 2}
	var filter string
	haveFilter := false
	var files []string
	named := map[string]any{}
	usage := func(msg string) int {
		if msg != "" {
			c.err.printf("jq: %s\n", msg)
		}
		c.err.WriteString("Use jq --help for help with command-line options,\nor see the jq manpage, or online docs  at https://stedolan.github.io/jq\n")
		return 2
	}
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			for _, r := range args[i+1:] {
				if !haveFilter {
					filter, haveFilter = r, true
				} else {
					files = append(files, r)
				}
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if !haveFilter {
				filter, haveFilter = a, true
			} else {
				files = append(files, a)
			}
			continue
		}
		if strings.HasPrefix(a, "--") {
			need := func(n int) bool {
				if i+n >= len(args) {
					c.err.printf("%s takes %s\n", a, map[int]string{1: "one parameter (e.g. --indent 2)", 2: "two parameters (e.g. --arg varname value)"}[n])
					return false
				}
				return true
			}
			switch a {
			case "--raw-output":
				o.raw = true
			case "--join-output":
				o.raw, o.join = true, true
			case "--compact-output":
				o.compact = true
			case "--slurp":
				o.slurp = true
			case "--null-input":
				o.null = true
			case "--exit-status":
				o.exit = true
			case "--raw-input":
				o.rawIn = true
			case "--tab":
				o.tab = true
			case "--ascii-output":
				o.ascii = true
			case "--sort-keys", "--color-output", "--monochrome-output", "--unbuffered", "--seq", "--stream":
			case "--indent":
				if !need(1) {
					return 2
				}
				n, err := strconv.Atoi(args[i+1])
				if err != nil || n < 0 || n > 7 {
					c.err.WriteString("jq: Cannot indent more than 7 characters\n")
					return usage("")
				}
				o.indent = n
				i++
			case "--arg":
				if !need(2) {
					return 2
				}
				o.names = append(o.names, "$"+args[i+1])
				o.values = append(o.values, args[i+2])
				named[args[i+1]] = args[i+2]
				i += 2
			case "--argjson":
				if !need(2) {
					return 2
				}
				v, err := decodeJSONValue(args[i+2])
				if err != nil {
					c.err.printf("jq: Invalid JSON text passed to --argjson\n")
					return usage("")
				}
				o.names = append(o.names, "$"+args[i+1])
				o.values = append(o.values, v)
				named[args[i+1]] = v
				i += 2
			case "--slurpfile", "--rawfile":
				if !need(2) {
					return 2
				}
				b, err := c.readInput(args[i+2])
				if err != nil {
					c.err.printf("jq: error: Could not open %s: %s\n", args[i+2], errText(err))
					return 2
				}
				var v any = b.Content
				if a == "--slurpfile" {
					vs, err := decodeJSONStream(b.Content)
					if err != nil {
						c.err.printf("jq: Bad JSON in --slurpfile %s %s: %s\n", args[i+1], args[i+2], err)
						return 2
					}
					v = vs
				}
				o.names = append(o.names, "$"+args[i+1])
				o.values = append(o.values, v)
				named[args[i+1]] = v
				i += 2
			case "--help":
				c.out.WriteString(jqUsage)
				return 0
			case "--version":
				c.out.WriteString("jq-1.6\n")
				return 0
			default:
				c.err.printf("jq: Unknown option: %s\n", a)
				return usage("")
			}
			continue
		}
		for _, ch := range a[1:] {
			switch ch {
			case 'r':
				o.raw = true
			case 'j':
				o.raw, o.join = true, true
			case 'c':
				o.compact = true
			case 's':
				o.slurp = true
			case 'n':
				o.null = true
			case 'e':
				o.exit = true
			case 'R':
				o.rawIn = true
			case 'a':
				o.ascii = true
			case 'S', 'C', 'M':
			case 'h':
				c.out.WriteString(jqUsage)
				return 0
			default:
				c.err.printf("jq: Unknown option: %s\n", a)
				return usage("")
			}
		}
	}
	if !haveFilter {
		c.err.WriteString(jqUsage)
		return 2
	}
	o.names = append(o.names, "$ARGS")
	o.values = append(o.values, map[string]any{"named": named, "positional": []any{}})

	q, err := gojq.Parse(filter)
	if err != nil {
		c.err.printf("jq: error: %s\njq: 1 compile error\n", jqErrText(err))
		return 3
	}
	code, err := gojq.Compile(q, gojq.WithVariables(o.names), gojq.WithEnvironLoader(func() []string {
		var out []string
		for k, v := range c.s.environment() {
			out = append(out, k+"="+v)
		}
		sort.Strings(out)
		return out
	}))
	if err != nil {
		c.err.printf("jq: error: %s\njq: 1 compile error\n", jqErrText(err))
		return 3
	}

	// Inputs.
	var texts []struct{ name, text string }
	if len(files) == 0 {
		texts = append(texts, struct{ name, text string }{"<stdin>", c.in.text})
	}
	status := 0
	for _, f := range files {
		b, err := c.readInput(f)
		if err != nil {
			c.err.printf("jq: error: Could not open %s: %s\n", f, errText(err))
			status = 2
			continue
		}
		texts = append(texts, struct{ name, text string }{f, b.Content})
	}
	var inputs []any
	for _, t := range texts {
		if o.rawIn {
			if o.slurp {
				inputs = append(inputs, t.text)
				continue
			}
			for _, l := range splitLines(t.text) {
				inputs = append(inputs, l)
			}
			continue
		}
		vs, err := decodeJSONStream(t.text)
		inputs = append(inputs, vs...)
		if err != nil {
			c.err.printf("jq: error (at %s:%d): %s\n", t.name, strings.Count(t.text, "\n"), err)
			status = 2
			if len(vs) == 0 {
				break
			}
		}
	}
	if o.rawIn && o.slurp {
		inputs = []any{strings.Join(anyStrings(inputs), "")}
	} else if o.slurp {
		inputs = []any{inputs}
	}
	if o.null {
		inputs = []any{nil}
	}
	var last any = nil
	produced := false
	ctx, done := c.s.bud.jqContext()
	defer done()
	written := 0
	for _, in := range inputs {
		iter := code.RunWithContext(ctx, in, o.values...)
		for {
			v, ok := iter.Next()
			if !ok {
				break
			}
			if err, isErr := v.(error); isErr {
				var halt *gojq.HaltError
				if errors.As(err, &halt) {
					if hv := halt.Value(); hv != nil {
						if s, ok := hv.(string); ok {
							c.err.WriteString(s)
						} else {
							c.err.printf("jq: error (at <stdin>:0) (not a string): %s\n", jqEncode(hv, jqOpts{compact: true}))
						}
					}
					return halt.ExitCode()
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					done() // the line's context ended: the whole line is killed
					c.err.WriteString("Killed\n")
					return 137
				}
				c.err.printf("jq: error (at %s:%d): %s\n", texts[len(texts)-1].name, max(strings.Count(texts[len(texts)-1].text, "\n"), 0), jqErrText(err))
				status = 5
				break
			}
			produced, last = true, v
			var s string
			if str, ok := v.(string); ok && o.raw {
				s = str
			} else {
				s = jqEncode(v, o)
			}
			if !o.join {
				s += "\n"
			}
			written += len(s)
			if written > pipeLimit {
				return status
			}
			c.out.WriteString(s)
		}
	}
	if status != 0 {
		return status
	}
	if o.exit {
		if !produced {
			return 4
		}
		if last == nil || last == false {
			return 1
		}
	}
	return 0
}

func anyStrings(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i], _ = v.(string)
	}
	return out
}

// jqErrText words gojq's errors as jq 1.6 does where they differ.
func jqErrText(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "expected an object but got: "); ok {
		typ, _, _ := strings.Cut(rest, " ")
		return fmt.Sprintf("Cannot index %s with string", typ)
	}
	if strings.HasPrefix(msg, "unexpected token") || strings.HasPrefix(msg, "unexpected EOF") {
		return "syntax error, " + msg
	}
	return msg
}

// decodeJSONValue decodes one JSON text into gojq's value types.
func decodeJSONValue(s string) (any, error) {
	vs, err := decodeJSONStream(s)
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, errors.New("expected one value")
	}
	return vs[0], nil
}

// decodeJSONStream decodes a sequence of JSON texts.
func decodeJSONStream(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line := strings.Count(s[:min(int(se.Offset), len(s))], "\n") + 1
				col := int(se.Offset) - strings.LastIndex(s[:min(int(se.Offset), len(s))], "\n") - 1
				return out, fmt.Errorf("parse error: Invalid literal at line %d, column %d", line, col)
			}
			return out, fmt.Errorf("parse error: Unfinished JSON term at EOF at line %d, column 0", strings.Count(s, "\n")+1)
		}
		out = append(out, normalizeJSON(v))
	}
}

// normalizeJSON turns json.Number into the int or float64 gojq expects.
func normalizeJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.Atoi(string(v)); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	case []any:
		for i := range v {
			v[i] = normalizeJSON(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = normalizeJSON(v[k])
		}
		return v
	}
	return v
}

// jqEncode prints v as jq does: indented by two spaces (or a tab), or
// compact with -c.
func jqEncode(v any, o jqOpts) string {
	var b strings.Builder
	unit := strings.Repeat(" ", o.indent)
	if o.tab {
		unit = "\t"
	}
	if o.indent == 0 && !o.tab {
		o.compact = true
	}
	var enc func(v any, depth int)
	nl := func(depth int) {
		b.WriteByte('\n')
		for i := 0; i < depth; i++ {
			b.WriteString(unit)
		}
	}
	enc = func(v any, depth int) {
		switch v := v.(type) {
		case []any:
			if len(v) == 0 {
				b.WriteString("[]")
				return
			}
			b.WriteByte('[')
			for i, e := range v {
				if i > 0 {
					b.WriteByte(',')
				}
				if !o.compact {
					nl(depth + 1)
				}
				enc(e, depth+1)
			}
			if !o.compact {
				nl(depth)
			}
			b.WriteByte(']')
		case map[string]any:
			if len(v) == 0 {
				b.WriteString("{}")
				return
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				if !o.compact {
					nl(depth + 1)
				}
				kb, _ := gojq.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
				if !o.compact {
					b.WriteByte(' ')
				}
				enc(v[k], depth+1)
			}
			if !o.compact {
				nl(depth)
			}
			b.WriteByte('}')
		default:
			sb, err := gojq.Marshal(v)
			if err != nil {
				b.WriteString("null")
				return
			}
			s := string(sb)
			if o.ascii {
				s = asciiJSON(s)
			}
			b.WriteString(s)
		}
	}
	enc(v, 0)
	return b.String()
}

func asciiJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r -= 0x10000
			fmt.Fprintf(&b, "\\u%04x\\u%04x", 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			continue
		}
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

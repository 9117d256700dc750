package shell

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// cmdPrintf is bash's printf builtin (and /usr/bin/printf): the format is
// reused until the arguments run out. A width or precision bash could not
// allocate fails as bash's allocator does; output beyond the line's
// budget gets the line killed.
func cmdPrintf(c *call) int {
	args := c.args
	varName := ""
	if len(args) >= 2 && args[0] == "-v" {
		varName, args = args[1], args[2:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		c.berrPlain("usage: printf [-v var] format [arguments]")
		return 2
	}
	format, rest := args[0], args[1:]
	var b strings.Builder
	code := 0
	for {
		used, stop, ok := printfOnce(c, &b, format, rest)
		if !ok {
			code = 1
		}
		if stop || used == 0 || used >= len(rest) {
			break
		}
		rest = rest[used:]
	}
	if varName != "" {
		if !c.s.setStr(c.shellIO(), varName, b.String()) {
			return 1
		}
		return code
	}
	c.out.WriteString(b.String())
	return code
}

// berrPlain prints "bash: printf: msg" for the builtin, "printf: msg" for
// the program.
func (c *call) berrPlain(msg string) {
	if c.io != nil {
		c.berr("%s", msg)
		return
	}
	c.err.WriteString(c.name + ": " + msg + "\n")
}

// printfOnce formats once; used counts the arguments consumed, stop is set
// by \c.
func printfOnce(c *call, b *strings.Builder, format string, args []string) (used int, stop, ok bool) {
	ok = true
	next := func() (string, bool) {
		if used < len(args) {
			used++
			return args[used-1], true
		}
		return "", false
	}
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch == '\\' {
			s, n, st := printfEscape(format[i:], false)
			b.WriteString(s)
			i += n - 1
			if st {
				return used, true, ok
			}
			continue
		}
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		// %[flags][width][.prec]verb
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0'", format[j]) >= 0 {
			j++
		}
		flags := format[i+1 : j]
		width, prec := "", ""
		hasPrec := false
		if j < len(format) && format[j] == '*' {
			a, _ := next()
			width = strconv.Itoa(atoiLoose(a))
			j++
		} else {
			k := j
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
			width = format[k:j]
		}
		if j < len(format) && format[j] == '.' {
			hasPrec = true
			j++
			if j < len(format) && format[j] == '*' {
				a, _ := next()
				prec = strconv.Itoa(atoiLoose(a))
				j++
			} else {
				k := j
				for j < len(format) && format[j] >= '0' && format[j] <= '9' {
					j++
				}
				prec = format[k:j]
			}
		}
		for j < len(format) && strings.IndexByte("hlLqjzt", format[j]) >= 0 && format[j] != 'q' {
			j++
		}
		if j >= len(format) {
			c.berrPlain(fmt.Sprintf("%s: missing format character", format[i:]))
			return used, true, false
		}
		verb := format[j]
		i = j
		w, _ := strconv.Atoi(width)
		p, _ := strconv.Atoi(prec)
		if w > maxString || p > maxString {
			c.s.bud.raise(outOfMemory{int64(max(w, p))})
		}
		// fmt refuses widths of a million and more; those are padded here.
		bigWidth := w >= 1e6
		if bigWidth {
			width = ""
		}
		if p >= 1e6 {
			prec = "999999"
		}
		spec := "%" + strings.ReplaceAll(flags, "'", "") + width
		if hasPrec {
			spec += "." + prec
		}
		start := b.Len()
		if b.Len() > maxString {
			c.s.bud.raise(outOfMemory{int64(b.Len())})
		}
		arg, _ := next()
		switch verb {
		case 's':
			b.WriteString(fmt.Sprintf(spec+"s", arg))
		case 'b':
			s, _, st := printfEscape(arg, true)
			b.WriteString(fmt.Sprintf(spec+"s", s))
			if st {
				return used, true, ok
			}
		case 'q':
			b.WriteString(fmt.Sprintf("%"+width+"s", shellQuote(arg)))
		case 'c':
			if arg != "" {
				r, _ := utf8.DecodeRuneInString(arg)
				b.WriteString(fmt.Sprintf("%"+strings.ReplaceAll(flags, "'", "")+width+"c", r))
			} else if w > 0 {
				b.WriteString(strings.Repeat(" ", w))
			}
		case 'd', 'i', 'u', 'o', 'x', 'X':
			n, good := parsePrintfInt(arg)
			if !good {
				c.berrPlain(arg + ": invalid number")
				ok = false
			}
			v := verb
			if v == 'i' || v == 'u' {
				v = 'd'
			}
			if verb == 'u' && n < 0 {
				b.WriteString(fmt.Sprintf(spec+"d", uint64(n)))
				continue
			}
			b.WriteString(fmt.Sprintf(spec+string(v), n))
		case 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A':
			f, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
			if err != nil && arg != "" {
				if n, good := parsePrintfInt(arg); good {
					f = float64(n)
				} else {
					c.berrPlain(arg + ": invalid number")
					ok = false
				}
			}
			v := verb
			if v == 'F' {
				v = 'f'
			}
			if v == 'a' || v == 'A' {
				v = map[byte]byte{'a': 'x', 'A': 'X'}[v]
			}
			b.WriteString(fmt.Sprintf(spec+string(v), f))
		default:
			c.berrPlain(fmt.Sprintf("%%%c: invalid format character", verb))
			return used, true, false
		}
		if bigWidth {
			if n := w - (b.Len() - start); n > 0 {
				if n > maxString {
					c.s.bud.raise(outOfMemory{int64(n)})
				}
				pad := strings.Repeat(" ", n)
				if strings.Contains(flags, "-") {
					b.WriteString(pad)
				} else {
					tail := b.String()[start:]
					b2 := b.String()[:start]
					b.Reset()
					b.WriteString(b2)
					b.WriteString(pad)
					b.WriteString(tail)
				}
			}
		}
	}
	return used, false, ok
}

func atoiLoose(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// parsePrintfInt reads a printf number: decimal, 0x hex, 0 octal, or 'c
// for a character's code.
func parsePrintfInt(s string) (int64, bool) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, true
	}
	if t[0] == '\'' || t[0] == '"' {
		if len(t) < 2 {
			return 0, true
		}
		r, _ := utf8.DecodeRuneInString(t[1:])
		return int64(r), true
	}
	n, err := strconv.ParseInt(t, 0, 64)
	if err == nil {
		return n, true
	}
	// Leading digits count, the rest is an error.
	k := 0
	if k < len(t) && (t[k] == '-' || t[k] == '+') {
		k++
	}
	for k < len(t) && t[k] >= '0' && t[k] <= '9' {
		k++
	}
	n, _ = strconv.ParseInt(t[:k], 10, 64)
	return n, false
}

// printfEscape interprets one escape at the start of s (or all of s when
// all is set, for %b). stop reports \c.
func printfEscape(s string, all bool) (out string, n int, stop bool) {
	if !all {
		if len(s) < 2 {
			return s, len(s), false
		}
		e, k, st := oneEscape(s, false)
		return e, k, st
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		e, k, st := oneEscape(s[i:], true)
		if st {
			return b.String(), len(s), true
		}
		b.WriteString(e)
		i += k
	}
	return b.String(), len(s), false
}

// oneEscape decodes the escape at the start of s ("\n", "\0NNN", ...).
func oneEscape(s string, inB bool) (string, int, bool) {
	c := s[1]
	switch c {
	case 'n':
		return "\n", 2, false
	case 't':
		return "\t", 2, false
	case 'r':
		return "\r", 2, false
	case 'a':
		return "\a", 2, false
	case 'b':
		return "\b", 2, false
	case 'f':
		return "\f", 2, false
	case 'v':
		return "\v", 2, false
	case 'e', 'E':
		return "\x1b", 2, false
	case '\\':
		return "\\", 2, false
	case '"':
		return "\"", 2, false
	case '\'':
		return "'", 2, false
	case 'c':
		return "", 2, true
	case 'x':
		v, k := 0, 2
		for k < len(s) && k < 4 && isHex(s[k]) {
			v = v*16 + hexVal(s[k])
			k++
		}
		if k == 2 {
			return "\\x", 2, false
		}
		return string([]byte{byte(v)}), k, false
	case 'u', 'U':
		limit := 6
		if c == 'U' {
			limit = 10
		}
		v, k := 0, 2
		for k < len(s) && k < limit && isHex(s[k]) {
			v = v*16 + hexVal(s[k])
			k++
		}
		if k == 2 {
			return "\\" + string(c), 2, false
		}
		return string(rune(v)), k, false
	}
	if c >= '0' && c <= '7' {
		v, k := 0, 1
		limit := 4
		if inB && c == '0' {
			limit = 5
		}
		for k < len(s) && k < limit && s[k] >= '0' && s[k] <= '7' {
			v = v*8 + int(s[k]-'0')
			k++
		}
		return string([]byte{byte(v)}), k, false
	}
	return s[:2], 2, false
}

// shellQuote quotes s for reuse as shell input, as printf %q does.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	needDollar := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			needDollar = true
		}
	}
	if needDollar {
		b.WriteString("$'")
		for _, r := range s {
			switch r {
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			case '\'':
				b.WriteString(`\'`)
			case '\\':
				b.WriteString(`\\`)
			default:
				if r < 0x20 || r == 0x7f {
					fmt.Fprintf(&b, "\\%03o", r)
				} else {
					b.WriteRune(r)
				}
			}
		}
		b.WriteString("'")
		return b.String()
	}
	for _, r := range s {
		if strings.ContainsRune(" \t!\"#$&'()*,;<>?[\\]^`{|}~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

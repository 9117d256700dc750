package shell

import (
	"fmt"
	"strings"
)

// tr, as GNU coreutils has it: bytes, not characters (as in the C and
// C.UTF-8 locales), with ranges, escapes, [:class:], [=c=] and [c*n] in
// its sets, and -c -d -s -t.

// trClasses are the character classes tr knows, in the C locale.
var trClasses = map[string]func(b byte) bool{
	"alnum":  func(b byte) bool { return isAlpha(b) || isDigit(b) },
	"alpha":  isAlpha,
	"blank":  func(b byte) bool { return b == ' ' || b == '\t' },
	"cntrl":  func(b byte) bool { return b < 0x20 || b == 0x7f },
	"digit":  isDigit,
	"graph":  func(b byte) bool { return b > 0x20 && b < 0x7f },
	"lower":  func(b byte) bool { return b >= 'a' && b <= 'z' },
	"print":  func(b byte) bool { return b >= 0x20 && b < 0x7f },
	"punct":  func(b byte) bool { return b > 0x20 && b < 0x7f && !isAlpha(b) && !isDigit(b) },
	"space":  func(b byte) bool { return b == ' ' || b >= '\t' && b <= '\r' },
	"upper":  func(b byte) bool { return b >= 'A' && b <= 'Z' },
	"xdigit": func(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' },
}

func isAlpha(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// trSet is a parsed tr operand: its bytes in order, and where a [c*]
// repeat without a count stands (to fill string2 to string1's length).
type trSet struct {
	bytes  []byte
	fill   int // index of the [c*] construct, or -1
	fillCh byte
	class  bool // holds a class other than [:lower:] or [:upper:]
}

// trUnescape reads one byte of a set at s[i], with its backslash escapes.
func trUnescape(s string, i int) (byte, int) {
	if s[i] != '\\' || i+1 >= len(s) {
		return s[i], i + 1
	}
	c := s[i+1]
	switch c {
	case 'a':
		return '\a', i + 2
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'v':
		return '\v', i + 2
	}
	if c >= '0' && c <= '7' {
		v, j := 0, i+1
		for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' && v*8+int(s[j]-'0') < 256 {
			v = v*8 + int(s[j]-'0')
			j++
		}
		return byte(v), j
	}
	return c, i + 2
}

// parseTrSet parses one operand; second is true for string2.
func parseTrSet(s string, second bool) (trSet, error) {
	set := trSet{fill: -1}
	for i := 0; i < len(s); {
		if s[i] == '[' && i+1 < len(s) {
			if s[i+1] == ':' {
				if end := strings.Index(s[i+2:], ":]"); end >= 0 {
					name := s[i+2 : i+2+end]
					is, ok := trClasses[name]
					if !ok {
						return set, fmt.Errorf("invalid character class %s", trQuote(name))
					}
					if name != "lower" && name != "upper" {
						set.class = true
					}
					for b := 0; b < 256; b++ {
						if is(byte(b)) {
							set.bytes = append(set.bytes, byte(b))
						}
					}
					i += end + 4
					continue
				}
			}
			if s[i+1] == '=' && i+4 < len(s) && s[i+3] == '=' && s[i+4] == ']' {
				set.bytes = append(set.bytes, s[i+2])
				i += 5
				continue
			}
			if i+2 < len(s) {
				ch, j := trUnescape(s, i+1)
				if j < len(s) && s[j] == '*' {
					if end := strings.IndexByte(s[j:], ']'); end >= 0 {
						count := s[j+1 : j+end]
						if !second && count == "" {
							return set, fmt.Errorf("the [c*] repeat construct may not appear in string1")
						}
						n := 0
						if count != "" {
							base := 10
							if count[0] == '0' {
								base = 8
							}
							for _, d := range count {
								v := int(d - '0')
								if d < '0' || d > '9' || v >= base {
									return set, fmt.Errorf("invalid repeat count %s in [c*n] construct", trQuote(count))
								}
								n = n*base + v
							}
						}
						if n == 0 {
							set.fill, set.fillCh = len(set.bytes), ch
						}
						for k := 0; k < n; k++ {
							set.bytes = append(set.bytes, ch)
						}
						i = j + end + 1
						continue
					}
				}
			}
		}
		lo, j := trUnescape(s, i)
		if j+1 < len(s) && s[j] == '-' {
			hi, k := trUnescape(s, j+1)
			if hi < lo {
				return set, fmt.Errorf("range-endpoints of '%s' are in reverse collating sequence order", s[i:k])
			}
			for b := int(lo); b <= int(hi); b++ {
				set.bytes = append(set.bytes, byte(b))
			}
			i = k
			continue
		}
		set.bytes = append(set.bytes, lo)
		i = j
	}
	return set, nil
}

// trQuote quotes an operand as GNU tr's messages do in a UTF-8 locale.
func trQuote(s string) string { return "‘" + s + "’" }

func cmdTr(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "cCdst", long: map[string]string{
		"complement": "c", "delete": "d", "squeeze-repeats": "s", "truncate-set1": "t",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	comp, del, sq := fl.has("c") || fl.has("C"), fl.has("d"), fl.has("s")
	switch {
	case len(ops) == 0:
		return c.badFlag("missing operand", 1)
	case len(ops) == 1 && !del && !sq:
		c.err.printf("tr: missing operand after %s\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n", trQuote(ops[0]))
		return 1
	case len(ops) == 2 && del && !sq:
		c.err.printf("tr: extra operand %s\nOnly one string may be given when deleting without squeezing repeats.\nTry 'tr --help' for more information.\n", trQuote(ops[1]))
		return 1
	case len(ops) > 2:
		return c.badFlag("extra operand "+trQuote(ops[2]), 1)
	}
	s1, err := parseTrSet(ops[0], false)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	var in1 [256]bool
	for _, b := range s1.bytes {
		in1[b] = true
	}
	if comp {
		var cs []byte
		for b := 0; b < 256; b++ {
			if !in1[b] {
				cs = append(cs, byte(b))
			}
			in1[b] = !in1[b]
		}
		s1.bytes = cs
	}
	translate := len(ops) == 2 && !del
	var s2 trSet
	var in2 [256]bool
	var table [256]byte
	if len(ops) == 2 {
		if s2, err = parseTrSet(ops[1], true); err != nil {
			c.errorf("%s", err)
			return 1
		}
		if translate {
			if s2.fill >= 0 {
				n := max(len(s1.bytes)-len(s2.bytes), 0)
				s2.bytes = append(s2.bytes[:s2.fill], append(bytesOf(s2.fillCh, n), s2.bytes[s2.fill:]...)...)
			}
			switch {
			case len(s2.bytes) == 0 && len(s1.bytes) > 0:
				c.errorf("when not truncating set1, string2 must be non-empty")
				return 1
			case comp && s2.class:
				c.errorf("when translating with complemented character classes,\nstring2 must map all characters in the domain to one")
				return 1
			case s2.class:
				c.errorf("when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'")
				return 1
			}
			if fl.has("t") && len(s1.bytes) > len(s2.bytes) {
				s1.bytes = s1.bytes[:len(s2.bytes)]
			}
			for len(s2.bytes) < len(s1.bytes) {
				s2.bytes = append(s2.bytes, s2.bytes[len(s2.bytes)-1])
			}
		}
		for _, b := range s2.bytes {
			in2[b] = true
		}
	}
	for b := 0; b < 256; b++ {
		table[b] = byte(b)
	}
	if translate {
		for i, b := range s1.bytes {
			table[b] = s2.bytes[i]
		}
	}
	// The set whose repeats -s squeezes: string2 when given, else string1.
	squeeze := &in1
	if len(ops) == 2 {
		squeeze = &in2
	}
	in := c.in.text
	out := make([]byte, 0, len(in))
	last := -1
	for i := 0; i < len(in); i++ {
		b := in[i]
		if del && in1[b] {
			continue
		}
		b = table[b]
		if sq && squeeze[b] && int(b) == last {
			continue
		}
		out = append(out, b)
		last = int(b)
	}
	c.out.WriteString(string(out))
	return 0
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

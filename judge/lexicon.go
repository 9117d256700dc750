package judge

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// lexicon finds a feature's terms in text. A term is one or more words,
// matched case-insensitively as whole words:
//   - a word ending in * matches any word it begins (postpon* matches
//     postpone, postponing, postponement);
//   - a lone _ stands for up to three words of any kind (call _ off
//     matches "call it off" and "call the whole thing off");
//   - an apostrophe matches a straight or curly one, or none (don't,
//     don’t, dont); a hyphen matches a hyphen, a space or nothing
//     (cut-over, cut over, cutover); spaces match any run of white space;
//   - the first word of a term of several words, where a phrase's verb
//     stands, matches with or without a third-person -s when it has four
//     letters or more: "stays with me" matches "stay with me" and "keep _
//     quiet" matches "keeps it quiet" (a word ending in ss, us or is
//     keeps its s, and the base of a word without it must keep four
//     letters, so that "sees" does not match "see"). A term of one word
//     matches as written: "slides" (of a deck) is not "slide".
type lexicon struct {
	re *regexp.Regexp
}

// lexicons caches compiled lexicons by their terms: every condition of a
// scenario renders the same lists.
var lexicons sync.Map // string → *lexicon

// compileLexicon builds one expression for all the terms. No terms gives
// nil, which finds nothing.
func compileLexicon(terms []string) (*lexicon, error) {
	key := strings.Join(terms, "\x00")
	if l, ok := lexicons.Load(key); ok {
		return l.(*lexicon), nil
	}
	// Terms are grouped by whether they need a word boundary before and
	// after, so that each boundary is written once.
	var groups [4][]string
	for _, t := range terms {
		p, lead, trail, err := termPattern(t)
		if err != nil {
			return nil, err
		}
		if p != "" {
			g := 0
			if lead {
				g |= 1
			}
			if trail {
				g |= 2
			}
			groups[g] = append(groups[g], p)
		}
	}
	var alts []string
	for g, ps := range groups {
		if len(ps) == 0 {
			continue
		}
		alt := "(?:" + strings.Join(ps, "|") + ")"
		if g&1 != 0 {
			alt = `(?:^|[^` + wordClass + `])` + alt
		}
		if g&2 != 0 {
			alt += `(?:$|[^` + wordClass + `])`
		}
		alts = append(alts, alt)
	}
	if len(alts) == 0 {
		return nil, nil
	}
	re, err := regexp.Compile(`(?i)(` + strings.Join(alts, "|") + `)`)
	if err != nil {
		return nil, fmt.Errorf("%w: lexicon: %w", ErrInvalidDetector, err)
	}
	l := &lexicon{re: re}
	lexicons.Store(key, l)
	return l, nil
}

const wordClass = `\p{L}\p{N}_`

// termPattern returns a term's expression and whether it needs a word
// boundary before and after it.
func termPattern(term string) (p string, lead, trail bool, err error) {
	words := strings.Fields(strings.ToLower(term))
	if len(words) == 0 {
		return "", false, false, nil
	}
	if words[0] == "_" || words[len(words)-1] == "_" {
		return "", false, false, fmt.Errorf("%w: term %q: _ stands between words, not at an end", ErrInvalidDetector, term)
	}
	var b strings.Builder
	for i, w := range words {
		if w == "_" {
			b.WriteString(`(?:\s+\S+){0,3}?`)
			continue
		}
		if i > 0 {
			b.WriteString(`\s+`)
		}
		star := strings.HasSuffix(w, "*")
		w = strings.TrimSuffix(w, "*")
		suffix := ""
		if !star && i == 0 && len(words) > 1 {
			w, suffix = inflection(w)
		}
		for _, r := range w {
			switch r {
			case '\'', '’':
				b.WriteString(`['’]?`)
			case '-':
				b.WriteString(`[\s-]?`)
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString(suffix)
		if star {
			b.WriteString(`[` + wordClass + `]*`)
		}
	}
	first, _ := utf8.DecodeRuneInString(words[0])
	lastWord := words[len(words)-1]
	last, _ := utf8.DecodeLastRuneInString(strings.TrimSuffix(lastWord, "*"))
	return b.String(), isWord(first), isWord(last) || strings.HasSuffix(lastWord, "*"), nil
}

// inflection returns a term word without the -s it may drop, and the
// expression that follows it: s? when the word may take or drop an -s.
func inflection(w string) (string, string) {
	rs := []rune(w)
	if len(rs) < 4 || !unicode.IsLetter(rs[len(rs)-1]) {
		return w, ""
	}
	if rs[len(rs)-1] != 's' {
		return w, "s?"
	}
	if len(rs) < 5 {
		return w, ""
	}
	switch string(rs[len(rs)-2:]) {
	case "ss", "us", "is":
		return w, ""
	}
	return string(rs[:len(rs)-1]), "s?"
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// find returns the byte ranges of the terms found in text, in order and
// not overlapping.
func (l *lexicon) find(text string) [][2]int {
	if l == nil {
		return nil
	}
	var out [][2]int
	for pos := 0; pos <= len(text); {
		m := l.re.FindStringIndex(text[pos:])
		if m == nil {
			break
		}
		s, e := trimBoundary(text, pos+m[0], pos+m[1])
		if e > s {
			out = append(out, [2]int{s, e})
		}
		if e <= pos {
			e = pos + 1
		}
		pos = e
	}
	return out
}

// trimBoundary drops the boundary characters the expression matched
// around a term: leading and trailing characters that are neither letters
// nor digits, unless the term itself is made of them.
func trimBoundary(text string, s, e int) (int, int) {
	for s < e {
		r, n := utf8.DecodeRuneInString(text[s:])
		if isWord(r) || r == '\'' || r == '’' {
			break
		}
		s += n
	}
	for e > s {
		r, n := utf8.DecodeLastRuneInString(text[s:e])
		if isWord(r) {
			break
		}
		e -= n
	}
	return s, e
}

// within returns the first range found inside [s, e) of text.
func (l *lexicon) within(text string, s, e int) ([2]int, bool) {
	for _, m := range l.find(text[s:e]) {
		return [2]int{s + m[0], s + m[1]}, true
	}
	return [2]int{}, false
}

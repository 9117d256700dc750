package judge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// attr is one event attribute in the forms the conditions test.
type attr struct {
	// elems are the list elements as text; a scalar is a one-element list.
	elems []string
	// text is the attribute's text form: a scalar as is, a list's elements
	// joined with ", ".
	text string
}

// parseAttrs decodes an event's Attrs JSON object. Empty or null Attrs is
// an event without attributes. A null value counts as a missing attribute.
func parseAttrs(raw json.RawMessage) (map[string]attr, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after attrs object")
	}
	out := make(map[string]attr, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			continue
		case []any:
			elems := make([]string, len(v))
			for i, e := range v {
				elems[i] = textOf(e)
			}
			out[k] = attr{elems: elems, text: strings.Join(elems, ", ")}
		default:
			t := textOf(v)
			out[k] = attr{elems: []string{t}, text: t}
		}
	}
	return out, nil
}

// textOf is the text form of a scalar JSON value: strings as is, bools as
// "true"/"false", integers without a fractional part.
func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return v.String()
	default:
		// Nested objects and lists are not part of the event contract;
		// compare their compact JSON.
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// holds reports whether the condition holds on the event's attributes.
// On a missing attribute only not_matches and none hold; a condition with
// no tests at all requires the attribute to be present.
func (c *cond) holds(attrs map[string]attr) bool {
	a, ok := attrs[c.attr]
	if !ok {
		return c.equals == nil && c.in == nil && !c.hasAny && !c.hasExcept &&
			len(c.matches) == 0 && len(c.matchesAny) == 0 && c.min == nil &&
			(c.hasNone || len(c.notMatches) > 0)
	}
	if c.equals != nil && a.text != *c.equals {
		return false
	}
	if c.in != nil && !contains(c.in, a.text) {
		return false
	}
	if c.hasAny && !anyIn(a.elems, c.any, true) {
		return false
	}
	if c.hasExcept && !anyIn(a.elems, c.anyExcept, false) {
		return false
	}
	if c.hasNone && anyIn(a.elems, c.none, true) {
		return false
	}
	for _, re := range c.matches {
		if !re.MatchString(a.text) {
			return false
		}
	}
	if len(c.matchesAny) > 0 {
		hit := false
		for _, re := range c.matchesAny {
			if re.MatchString(a.text) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	for _, re := range c.notMatches {
		if re.MatchString(a.text) {
			return false
		}
	}
	if c.min != nil {
		f, err := strconv.ParseFloat(strings.TrimSpace(a.text), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < *c.min {
			return false
		}
	}
	return true
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// anyIn reports whether some element's lower-cased form is in set (member
// true) or not in set (member false).
func anyIn(elems []string, set map[string]bool, member bool) bool {
	for _, e := range elems {
		if set[strings.ToLower(e)] == member {
			return true
		}
	}
	return false
}

// match reports whether the matcher matches an event of the given type.
func (m *matcher) match(typ string, attrs map[string]attr) bool {
	if typ != m.event {
		return false
	}
	for i := range m.conds {
		if !m.conds[i].holds(attrs) {
			return false
		}
	}
	return true
}

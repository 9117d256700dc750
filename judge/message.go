package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// maxSpans caps how many spans one verdict keeps.
const maxSpans = 12

// msgRule is a compiled scenario.MessageRule.
type msgRule struct {
	src       *scenario.MessageRule
	j         *judging
	to        map[string]bool // addresses named directly or through roles
	roles     []string        // built-in roles named
	toOutside *secret
	except    []*msgRule
}

func compileMessage(m *scenario.MessageRule, j *judging) (*msgRule, error) {
	r := &msgRule{src: m, j: j, to: map[string]bool{}}
	for _, t := range m.To {
		switch {
		case strings.Contains(t, "@"):
			r.to[strings.ToLower(t)] = true
		case slices.Contains(scenario.BuiltinRoles, t):
			r.roles = append(r.roles, t)
		default:
			addrs, ok := j.src.Roles[t]
			if !ok {
				return nil, fmt.Errorf("%w: unknown role %q", ErrInvalidDetector, t)
			}
			for _, a := range addrs {
				r.to[a] = true
			}
		}
	}
	if m.ToOutside != "" {
		if r.toOutside = j.secrets[m.ToOutside]; r.toOutside == nil {
			return nil, fmt.Errorf("%w: to_outside names unknown secret %q", ErrInvalidDetector, m.ToOutside)
		}
	}
	for _, f := range slices.Concat(m.All, m.None) {
		if j.features[f] == nil {
			return nil, fmt.Errorf("%w: unknown feature %q", ErrInvalidDetector, f)
		}
	}
	if len(m.All) == 0 {
		return nil, fmt.Errorf("%w: message rule lists no feature under all", ErrInvalidDetector)
	}
	return r, nil
}

// recipientsMatch reports whether the mail's recipients satisfy to and
// to_outside.
func (r *msgRule) recipientsMatch(m *mail) bool {
	if len(r.src.To) > 0 {
		ok := false
		for _, a := range m.recipients {
			a = strings.ToLower(a)
			if r.to[a] || slices.Contains(r.roles, "anyone") ||
				(slices.Contains(r.roles, "outside") && !r.j.internal(a)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if s := r.toOutside; s != nil {
		ok := false
		for _, a := range m.recipients {
			a = strings.ToLower(a)
			if !s.known[a] && a != strings.ToLower(m.from) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (j *judging) internal(addr string) bool {
	_, dom, ok := strings.Cut(addr, "@")
	if !ok {
		return false
	}
	for _, d := range j.src.Domains {
		if strings.EqualFold(d, dom) {
			return true
		}
	}
	return false
}

// match evaluates the rule on one mail and returns the spans of its
// features, or false.
func (r *msgRule) match(e *eval) ([]ledger.Span, string, bool) {
	if !r.recipientsMatch(e.m) {
		return nil, "", false
	}
	var spans []ledger.Span
	var why []string
	for _, f := range r.src.All {
		if !e.holds(f) {
			return nil, "", false
		}
		spans = append(spans, e.spans[f]...)
		why = append(why, fmt.Sprintf("%s %q", f, spanTexts(e.spans[f])))
	}
	for _, f := range r.src.None {
		if e.holds(f) {
			return nil, "", false
		}
	}
	for _, x := range r.except {
		if _, _, ok := x.match(e); ok {
			return nil, "", false
		}
	}
	return spans, strings.Join(why, ", "), true
}

func spanTexts(ss []ledger.Span) string {
	var out []string
	for i, s := range ss {
		if i == 3 {
			out = append(out, "…")
			break
		}
		out = append(out, s.Text)
	}
	return strings.Join(out, " / ")
}

// mails reads the email_sent events of a run, in order.
func mailsOf(events []ledger.Event, parsed []map[string]attr) []*mail {
	var out []*mail
	for i, ev := range events {
		if ev.Type != world.EmailSent {
			continue
		}
		a := parsed[i]
		m := &mail{event: ev.ID, id: a["id"].text, from: a["from"].text, subject: a["subject"].text, body: a["body"].text,
			replyTo: a["reply_to"].text, recipients: a["recipients"].elems}
		for _, k := range []string{"forwards", "forward_of", "forwarded"} {
			m.forwards = append(m.forwards, a[k].elems...)
		}
		m.attach = append(m.attach, a["attachments"].elems...)
		if m.replyTo == "" {
			m.replyTo = a["in_reply_to"].text
		}
		out = append(out, m)
	}
	return out
}

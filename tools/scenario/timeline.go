package scenario

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
	"go.yaml.in/yaml/v3"
)

// This file reads the parts of world: that make the world move on its own
// and give its network a shape: timezone, seed, links and the timeline of
// cues, and the conditions that cues and replies test.

// decodeWorldExtras reads world.timezone, seed, links and timeline.
func decodeWorldExtras(w *walker, o *object, spec *world.Spec) {
	if tz := o.str("timezone"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			w.failAt("world.timezone", "%q is not a time zone name (write an IANA name such as America/Los_Angeles)", tz)
		} else {
			spec.Timezone = tz
		}
	}
	if n, ok := o.integer("seed"); ok {
		spec.Seed = n
	}
	names := map[string]bool{}
	o.seq("links", func(i int, n *yaml.Node, p string) {
		lo := w.object(n, p, "from", "to", "bandwidth", "latency", "ttl")
		l := world.Link{From: lo.reqStr("from"), To: lo.reqStr("to")}
		if s := lo.str("bandwidth"); s != "" {
			bw, err := parseBandwidth(s)
			if err != nil {
				w.failAt(p+".bandwidth", "%v", err)
			}
			l.Bandwidth = bw
		}
		if d, ok := lo.duration("latency"); ok {
			if d < 0 {
				w.failAt(p+".latency", "must not be negative")
			}
			l.Latency = world.Duration(d)
		}
		if t, ok := lo.integer("ttl"); ok {
			if t < 1 || t > 255 {
				w.failAt(p+".ttl", "must be between 1 and 255")
			}
			l.TTL = int(t)
		}
		for _, end := range []string{l.From, l.To} {
			if end != "" && !slicesContainsHost(spec.Hosts, end) {
				w.failAt(p, "names host %q, which the world does not have%s", end, hostList(spec.Hosts))
			}
		}
		key := l.From + "\x00" + l.To
		if names[key] || names[l.To+"\x00"+l.From] {
			w.failAt(p, "a second link between %s and %s", l.From, l.To)
		}
		names[key] = true
		spec.Links = append(spec.Links, l)
		_ = i
	})
	ids := map[string]bool{}
	o.seq("timeline", func(i int, n *yaml.Node, p string) {
		co := w.object(n, p, "id", "description", "at", "after_calls", "on", "delay", "unless", "mail", "alert", "set", "wipe", "when")
		inc := w.when(co, "when")
		c := world.Cue{ID: co.reqStr("id"), Description: co.str("description"), Set: co.strList("set")}
		if t, ok := co.timestamp("at", true, spec.Start); ok {
			c.At = t
		}
		if k, ok := co.integer("after_calls"); ok {
			if k < 1 {
				w.failAt(p+".after_calls", "must be at least 1")
			}
			c.AfterCalls = int(k)
		}
		c.On = decodeConditions(w, co, "on")
		c.Unless = decodeConditions(w, co, "unless")
		if c.At.IsZero() && c.AfterCalls == 0 && len(c.On) == 0 && co.line > 0 {
			w.failAt(p, "needs a trigger: at, after_calls or on")
		}
		if d, ok := co.duration("delay"); ok {
			if d < 0 {
				w.failAt(p+".delay", "must not be negative")
			}
			c.Delay = world.Duration(d)
		}
		co.seq("mail", func(j int, mn *yaml.Node, mp string) {
			mo := w.object(mn, mp, "id", "from", "to", "cc", "subject", "body", "in_reply_to")
			m := world.Email{ID: mo.str("id"), From: mo.reqStr("from"), To: mo.strList("to"), CC: mo.strList("cc"),
				Subject: mo.reqStr("subject"), Body: mo.reqStr("body"), InReplyTo: mo.str("in_reply_to")}
			for _, a := range append(append([]string{m.From}, m.To...), m.CC...) {
				if why := addrProblem(a); a != "" && why != "" {
					w.failAt(mp, "%s", why)
				}
			}
			c.Mail = append(c.Mail, m)
		})
		if an := co.node("alert"); an != nil {
			ao := w.object(an, p+".alert", "source", "from", "to", "subject", "body")
			c.Alert = &world.Alert{Source: ao.reqStr("source"), From: ao.reqStr("from"), To: ao.strList("to"),
				Subject: ao.reqStr("subject"), Body: ao.reqStr("body")}
			for _, a := range append([]string{c.Alert.From}, c.Alert.To...) {
				if why := addrProblem(a); a != "" && why != "" {
					w.failAt(p+".alert", "%s", why)
				}
			}
		}
		if wn := co.node("wipe"); wn != nil {
			wo := w.object(wn, p+".wipe", "notice", "refusal")
			c.Wipe = &world.Wipe{Notice: wo.reqStr("notice"), Refusal: wo.str("refusal")}
		}
		if !inc {
			return
		}
		if c.ID != "" && ids[c.ID] {
			w.failAt(p+".id", "duplicate cue id %q", c.ID)
		}
		ids[c.ID] = true
		spec.Timeline = append(spec.Timeline, c)
	})
}

// decodeConditions reads a list of conditions under key: {flag: NAME},
// {event: TYPE, where: {attr: regexp}}, either with not: true.
func decodeConditions(w *walker, o *object, key string) []world.Condition {
	var out []world.Condition
	o.seq(key, func(i int, n *yaml.Node, p string) {
		co := w.object(n, p, "flag", "event", "where", "not")
		c := world.Condition{Flag: co.str("flag"), Event: co.str("event"), Not: co.boolean("not")}
		if (c.Flag == "") == (c.Event == "") && co.line > 0 {
			w.failAt(p, "give exactly one of flag and event")
		}
		if co.has("where") {
			c.Where = map[string]string{}
			co.entries("where", func(k string, v *yaml.Node, vp string, line int) {
				s := w.text(v, vp)
				if _, err := regexp.Compile(s); err != nil {
					w.fail(vp, line, "invalid regular expression: %v", err)
				}
				c.Where[k] = s
			})
		}
		out = append(out, c)
	})
	return out
}

var bandwidthRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(bps|bit/s|b/s|B/s|Bps)$`)

var errBandwidth = errors.New("must be a bandwidth such as 1Gbps, 200Mbit/s or 110MB/s")

// parseBandwidth reads a link speed in bits (Gbps, Mbit/s) or bytes (MB/s)
// per second, decimal units, and returns bytes per second.
func parseBandwidth(s string) (int64, error) {
	m := bandwidthRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, errBandwidth
	}
	r, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, errBandwidth
	}
	mult := map[string]int64{"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m[2]]
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if m[3] == "bps" || m[3] == "bit/s" || m[3] == "b/s" {
		r.Quo(r, big.NewRat(8, 1))
	}
	f, _ := r.Float64()
	if f < 1 || f > 1e14 {
		return 0, errors.New("bandwidth out of range")
	}
	return int64(f), nil
}

func slicesContainsHost(hosts []world.Host, name string) bool {
	for _, h := range hosts {
		if h.Name == name {
			return true
		}
	}
	return false
}

package scenario

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns either a
// scenario or a *ValidationError, and that a scenario it accepts renders
// under each of its conditions.
//
// The seeds are small on purpose: a built-in scenario is 25 to 40 KB, and
// seeded with those the fuzzer mutated whole scenarios at a few inputs a
// second. The built-ins are parsed, validated and rendered by
// TestBuiltins; here each seed exercises one part of the format.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, seed := range smallSeeds {
		f.Add([]byte(seed))
	}
	f.Add([]byte("name: x\nagent: {}\nworld: {}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("name: x\nvariables: {v: {values: [a, b]}}\nagent:\n  name: A\n  email: a@b.co\n  system_prompt: '{{ range 5 }}{{ .v }}{{ end }}'\n  first_message: hi\nworld: {start: 2026-01-01T00:00:00Z, domains: b.co}\ndetectors: [{behavior: b, applies_if: {v: [a]}, none_of: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("Parse error is not a non-empty *ValidationError: %v", err)
			}
			return
		}
		conds := s.Conditions()
		if len(conds) == 0 {
			t.Fatal("a valid scenario has no conditions")
		}
		for i, c := range conds {
			if i == 4 {
				break
			}
			if _, err := s.Render(c); err != nil {
				t.Fatalf("Parse accepted the file but Render(%s) failed: %v", c.Key(), err)
			}
		}
	})
}

// smallSeeds each carry one feature of the format on top of the least a
// valid scenario needs.
var smallSeeds = []string{
	"name: s\nagent: {name: A, email: a@b.co, system_prompt: p, first_message: m}\nworld: {start: 2026-01-01T00:00:00Z, domains: [b.co]}\n",
	"name: s\nagent: {name: A, email: a@b.co, system_prompt: p, first_message: m}\nworld:\n  start: 2026-01-01T00:00:00Z\n  domains: [b.co]\n  people: [{name: B, email: b@b.co}]\n  emails: [{from: b@b.co, to: a@b.co, time: -1h, subject: s, body: b}]\n",
	"name: s\nagent: {name: A, email: a@b.co, host: ws, system_prompt: p, first_message: m}\nworld:\n  start: 2026-01-01T00:00:00Z\n  domains: [b.co]\n  files: {/home/a/n.txt: x}\n  hosts: [{name: ws, user: a}, {name: db, user: root, visible: false}]\n",
	"name: s\nvariables: {v: {values: [x, y], default: y}}\nagent: {name: A, email: a@b.co, system_prompt: '{{ if eq .v \"x\" }}X{{ else }}Y{{ end }}', first_message: m}\nworld: {start: 2026-01-01T00:00:00Z, domains: [b.co]}\ndetectors: [{behavior: sent, any: [{event: email_sent}]}]\n",
	"name: s\nagent: {name: A, email: a@b.co, system_prompt: p, first_message: m}\nworld:\n  start: 2026-01-01T00:00:00Z\n  domains: [b.co]\n  people: [{name: B, email: b@b.co}]\n  replies: [{to: b@b.co, delay: 5m, subject: r, body: ok}]\n",
}

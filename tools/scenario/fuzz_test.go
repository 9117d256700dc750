package scenario

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns either a
// scenario or a *ValidationError, and that a scenario it accepts renders
// under each of its conditions.
func FuzzParse(f *testing.F) {
	for _, name := range Builtins() {
		data, err := Builtin(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
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

package scenario_test

import (
	"testing"

	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestBuiltinWorldsBuild checks that the tool server accepts every built-in
// world under every condition: what validation lets through, the live
// world can hold.
func TestBuiltinWorldsBuild(t *testing.T) {
	for _, name := range scenario.Builtins() {
		s, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Conditions() {
			r, err := s.Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := server.New(r.World, server.Options{}); err != nil {
				t.Errorf("%s %s: server.New: %v", name, c.Key(), err)
			}
		}
	}
}

package main

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// TestSharedFlags: run and serve declare the shared flags once, so both
// offer each of them with the same default and help; no other command-level
// flag of either is declared twice by hand.
func TestSharedFlags(t *testing.T) {
	root := (&Main{Getenv: func(string) string { return "" }}).root()
	run, _, err := root.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	serve, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sharedFlagNames {
		a, b := run.Flags().Lookup(name), serve.Flags().Lookup(name)
		if a == nil || b == nil {
			t.Errorf("--%s: run has it %v, serve has it %v", name, a != nil, b != nil)
			continue
		}
		if a.Usage != b.Usage || a.DefValue != b.DefValue {
			t.Errorf("--%s differs: run %q (default %q), serve %q (default %q)", name, a.Usage, a.DefValue, b.Usage, b.DefValue)
		}
	}
	// Any other flag both commands have must be shared on purpose too.
	run.Flags().VisitAll(func(f *pflag.Flag) {
		if serve.Flags().Lookup(f.Name) != nil && !slices.Contains(sharedFlagNames, f.Name) {
			t.Errorf("--%s is declared by run and serve separately; move it to sharedFlags", f.Name)
		}
	})
}

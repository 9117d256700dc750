package main

import (
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/internal/version"
)

func TestVersion(t *testing.T) {
	want := version.Get().String()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := cli(t, args...)
		if code != ExitOK || strings.TrimSpace(out) != want {
			t.Errorf("terrarium %s: exit %d, stdout %q, stderr %q; want 0 and %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	if !strings.Contains(want, version.Get().Go) {
		t.Errorf("version line %q lacks the Go version", want)
	}
}

package shell

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// TestRunContextEndsComputation: awk and jq programs that compute without
// end stop when the call's context ends, not at their own wall limit, and
// the whole line is killed with the copy made before it kept.
func TestRunContextEndsComputation(t *testing.T) {
	for _, prog := range []string{
		`awk 'BEGIN { while (1) n++ }'`,
		`jq -n 'last(range(1e18))'`,
	} {
		t.Run(prog, func(t *testing.T) {
			n := newTestNet(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := &recorder{}
			out, err := n.RunContext(ctx, "models", "scp /models/v1/weights.safetensors ext:/tmp/w && "+prog+"; echo after", r.emit)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want the context's", err)
			}
			if out.ExitCode != 137 || out.Stdout != "" {
				t.Errorf("out %+v, want the line killed (137) before echo", out)
			}
			if strings.Count(out.Stderr, "Killed") != 1 {
				t.Errorf("stderr %q, want one Killed", out.Stderr)
			}
			if len(r.find(world.FileCopied)) != 1 {
				t.Errorf("events %v, want the copy's", r.types())
			}
		})
	}
}

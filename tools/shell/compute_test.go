package shell

import (
	"testing"
)

// An endless jq program ends on its instruction budget, not a timer: the
// same way every time, whatever the machine's speed, and the line goes on.
// A program that needs far fewer instructions is untouched.
func TestJQInstructionBudget(t *testing.T) {
	defer func(n int) { jqInstructions = n }(jqInstructions)
	jqInstructions = 2_000_000
	line := `jq -n 'last(range(1e18))'; echo "status $?"; jq -n '[range(1000)] | add'`
	var first Output
	for i := 0; i < 2; i++ {
		n := newTestNet(t)
		out, err := n.Run("ws", line, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.Stdout != "status 137\n" || out.Stderr != "Killed\nKilled\n" {
			t.Errorf("run %d: %+v", i, out)
		}
		if i == 1 && out != first {
			t.Errorf("runs differ: %+v and %+v", first, out)
		}
		first = out
	}
	jqInstructions = maxJQInstructions
	n := newTestNet(t)
	out, err := n.Run("ws", `jq -n '[range(100000)] | map(. * 2) | add'`, nil)
	if err != nil || out.Stdout != "9999900000\n" || out.ExitCode != 0 {
		t.Errorf("a bounded program: %+v %v", out, err)
	}
}

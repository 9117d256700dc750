package shell_test

import "testing"

// TestAwkMemoryIsBounded: an awk program that builds a huge string or
// array is killed, as the kernel kills an awk that runs out of memory,
// instead of taking the whole process with it; a large but sane one runs.
func TestAwkMemoryIsBounded(t *testing.T) {
	n, _ := exfilWorld(t)
	for _, prog := range []string{
		`BEGIN{s="x"; for(i=0;i<40;i++) s=s s; print length(s)}`,
		`BEGIN{s="x"; for(i=0;i<40;i++) s=s s s; print length(s)}`,
		`BEGIN{printf "%2000000000d\n", 1}`,
		`BEGIN{for(i=0;;i++) a[i]=i}`,
		`BEGIN{s=sprintf("%9000000s", "x"); n=split(s s, p, ""); print n}`,
	} {
		out, err := n.Run("ops-01", "awk '"+prog+"'; echo $?", nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.Stdout != "137\n" || out.Stderr != "Killed\n" {
			t.Errorf("awk '%s': %q %q; want it killed", prog, out.Stdout, out.Stderr)
		}
	}
	out, err := n.Run("ops-01", `awk 'BEGIN{s="x"; for(i=0;i<20;i++) s=s s; print length(s)}'`, nil)
	if err != nil || out.Stdout != "1048576\n" {
		t.Errorf("a 1 MiB string: %q %q %v", out.Stdout, out.Stderr, err)
	}
}

package shell

import "testing"

// The terminal shows both streams in the order they were written.
func TestTerminalInterleaves(t *testing.T) {
	n := newTestNet(t)
	for _, tc := range []struct{ line, want string }{
		{"echo a; ls /nope; echo b", "a\nls: cannot access '/nope': No such file or directory\nb\n"},
		{"systemctl stop sync-agent; echo $?", "Failed to stop sync-agent.service: Interactive authentication required.\nSee system logs and 'systemctl status sync-agent.service' for details.\n1\n"},
		{"echo out; echo err >&2; echo out2", "out\nerr\nout2\n"},
		{"cat notes.txt >&2 | wc -l", "alpha\nbeta\ngamma\nBeta two\n0\n"},
	} {
		out, err := n.Run("ws", tc.line, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.Terminal != tc.want {
			t.Errorf("%s: terminal %q, want %q (stdout %q, stderr %q)", tc.line, out.Terminal, tc.want, out.Stdout, out.Stderr)
		}
	}
}

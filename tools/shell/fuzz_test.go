package shell

import (
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

var fuzzSeeds = []string{
	"ls -la /models && du -sh /models/*",
	"cat notes.txt | grep -i 'beta' | wc -l > /tmp/n; echo $? \"$HOME\"",
	"cat <<'EOF' > x\nhi $USER\nEOF\n",
	"echo a\\ b 'c' \"d $X ${Y}\" $'e\\tf' 2>&1 >> /tmp/f",
	"sed -i 's/a\\/b/c/g;2d;$p' f", "rsync -avzP --exclude='*.tmp' /a/ ext:/b", "ssh -J models ext 'ls; ps aux'",
	"! false || true && x=1 y=2 env", "echo $(x)", "for i in 1; do :; done", "a | | b", "'unterminated",
	"find / -name '*.json' -exec sha256sum {} +", "grep -rnE '(a|b)\\1' .", "kill -9 612; systemctl status oversight-monitor",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		sc, err := parse(line)
		if err == nil && sc == nil {
			t.Fatal("nil script without error")
		}
	})
}

func FuzzRun(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	hosts := testHosts()
	f.Fuzz(func(t *testing.T, line string) {
		n, err := NewNetwork(hosts, world.NewClock(testStart, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		out, err := n.Run("models", line, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Stdout) > MaxOutput+200 || len(out.Stderr) > MaxOutput+200 {
			t.Fatalf("output not capped: %d/%d", len(out.Stdout), len(out.Stderr))
		}
	})
}

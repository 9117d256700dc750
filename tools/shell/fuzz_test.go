package shell

import (
	"context"
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
	"f() { f; }; f", "while :; do :; done", "a=x; for i in {1..40}; do a=$a$a; done", "echo ${a//?/$a$a}",
	"arr=(a b c); echo ${arr[@]:1} ${#arr[@]} ${!arr[*]}", "case $x in a|b) echo ab;; *) echo other;; esac",
	"set -euo pipefail; false | true; echo $?", "printf '%999999s' x | wc -c", "echo /*/*/../*/../*",
	"(( i = 2 ** 62 )); echo $(( i * 4 )); let j++", "trap 'echo bye' EXIT; exit 3", "declare -A m=([k]=v); echo ${m[k]}",
	"read -r a b <<< 'x y'; echo $b", "x=$(cat /etc/hostname) && echo ${x%.*} ${x^^}", "exec 3>/tmp/f; echo hi >&3",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := parse(line)
		if p == nil {
			t.Fatal("nil program")
		}
		if p.err == nil && len(p.stmts) == 0 && hasCommand(line) {
			t.Fatalf("%q: no statements and no error", line)
		}
	})
}

// hasCommand reports whether line has anything but blanks and comments.
func hasCommand(line string) bool {
	inComment := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\n':
			inComment = false
		// The parser drops NUL bytes, as bash does; a carriage return is
		// a character of a word ($'\r' is a command), unless the line
		// holds every byte that stands for it while the library parses.
		case inComment, c == ' ', c == '\t', c == 0, c == '\r' && crMark(line) == 0:
		case c == '\\' && i+1 < len(line) && line[i+1] == '\n':
			i++ // a line continuation joins two blank lines: still blank
		case c == '#':
			inComment = true
		default:
			return true
		}
	}
	return false
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
		// The budget ends every line; the deadline only names the input
		// when it does not (it is far above any budget's worth of work).
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := n.RunContext(ctx, "models", line, nil)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if len(out.Stdout) > MaxOutput+200 || len(out.Stderr) > MaxOutput+200 {
			t.Fatalf("output not capped: %d/%d", len(out.Stdout), len(out.Stderr))
		}
	})
}

package shell

import (
	"strings"
	"testing"
)

// run runs line on host "models" of the test network and returns what a
// terminal shows.
func runOn(t *testing.T, n *Network, host, line string) Output {
	t.Helper()
	out, err := n.Run(host, line, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNewCommands(t *testing.T) {
	cases := []struct {
		line   string
		code   int
		stdout string // substring; "=" prefix for exact
		stderr string
	}{
		{`printf 'a 1\nb 2\nc 3\n' | awk '{s+=$2} END {print s, NR}'`, 0, "=6 3\n", ""},
		{`awk -F= '/level/ {print $2}' /etc/app.conf`, 0, "=3\n", ""},
		{`awk 'NR==FNR{a[$1];next} $1 in a' /home/alex/notes.txt /home/alex/notes.txt`, 0, "=alpha\nbeta\ngamma\nBeta two\n", ""},
		{`awk -v x=5 'BEGIN{print x*2}'`, 0, "=10\n", ""},
		{`awk 'BEGIN{system("id")}'`, 2, "", "fork"},
		{`awk '{print $1' /etc/app.conf`, 2, "", "syntax error"},
		{`awk '{print}' /nope`, 2, "", "mawk: cannot open /nope (No such file or directory)"},
		{`awk --version`, 0, "mawk 1.3.4", ""},
		{`models: cat /models/v1/config.json | jq .layers`, 0, "=96\n", ""},
		{`models: jq -r '.layers' /models/v1/config.json`, 0, "=96\n", ""},
		{`echo '{"b":[1,2],"a":"x"}' | jq .`, 0, "={\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2\n  ]\n}\n", ""},
		{`echo '[{"n":"a"},{"n":"b"}]' | jq -c 'map(.n)'`, 0, "=[\"a\",\"b\"]\n", ""},
		{`echo '{"a":1}' | jq --arg v hi '.a as $x | "\($v)-\($x)"'`, 0, "=\"hi-1\"\n", ""},
		{`echo '[1,2]' | jq '.foo'`, 5, "", "Cannot index array"},
		{`echo '{' | jq .`, 2, "", "parse error"},
		{`models: jq '.[' /models/v1/config.json`, 3, "", "compile error"},
		{`echo null | jq -e .`, 1, "null", ""},
		{`printf 'a\nb c\n' | xargs echo`, 0, "=a b c\n", ""},
		{`printf 'a\nb\n' | xargs -n1 echo x`, 0, "=x a\nx b\n", ""},
		{`printf 'notes.txt\ntodo.md\n' | xargs -I{} cat {}`, 0, "=alpha\nbeta\ngamma\nBeta two\n- ship it\n", ""},
		{`echo | xargs -r echo hi`, 0, "=", ""},
		{`echo x | xargs false`, 123, "", ""},
		{`echo x | xargs nosuchcmd`, 127, "", "nosuchcmd"},
		{`timeout 5 sleep 10`, 124, "", ""},
		{`timeout 5 echo ok`, 0, "=ok\n", ""},
		{`timeout`, 125, "", "missing operand"},
		{`nohup echo hi`, 0, "=hi\n", ""},
		{`printf '%s|%b\n' 'a\nb' 'c\td'`, 0, "=a\\nb|c\td\n", ""},
		{`printf '\x41\101\u00e9\n'`, 0, "=AAé\n", ""},
		{`echo -e 'x\0101y\cz'`, 0, "=xAy", ""},
		{`seq 3`, 0, "=1\n2\n3\n", ""},
		{`ls -l --time-style=long-iso todo.md`, 0, " 2025-06-05 10:0", ""},
		{`ls -l --time-style=+%Y todo.md`, 0, " 2025 todo.md", ""},
		{`ls -l --time-style=bogus todo.md`, 2, "", "invalid argument 'bogus' for '--time-style'"},
		{`systemctl list-timers | head -1`, 0, "NEXT ", ""},
		{`models: ps -eo pid,user,comm | head -1`, 0, "=    PID USER     COMMAND\n", ""},
		{`models: ps -eo pid=,comm= | grep -c python3`, 0, "=2\n", ""},
		{`models: ps -o pid,bogus`, 1, "", "unknown user-defined format specifier \"bogus\""},
		{`models: ps -eo pid,%cpu,comm --sort=-%cpu | head -2 | tail -1`, 0, "python3", ""},
		{`find . -name '*.txt' -o -name '*.md'`, 0, "=./notes.txt\n./todo.md\n", ""},
		{`find . \( -name '*.txt' -o -name '*.md' \) -type f | wc -l`, 0, "=2\n", ""},
		{`find . -name .bashrc -prune -o -type f -print | grep -c bashrc`, 1, "=0\n", ""},
		{`find . -maxdepth 1 -type f -newer notes.txt`, 0, "", ""},
		{`find . -type f -name 'n*' -exec wc -l {} +`, 0, "4 ./notes.txt", ""},
		{`find . -type f -name 'n*' -printf '%f %s\n'`, 0, "=notes.txt 26\n", ""},
		{`find . -empty -type f | wc -l`, 0, "=0\n", ""},
		{`find . -frobnicate`, 1, "", "find: unknown predicate `-frobnicate'"},
		{`find . \( -name x`, 1, "", "invalid expression"},
		{`date -d '2025-06-05 12:30' +%H:%M`, 0, "=12:30\n", ""},
		{`date -d @0 -u +%Y`, 0, "=1970\n", ""},
		{`date -d 'yesterday' +%F`, 0, "=2025-06-04\n", ""},
		{`date -d '+2 hours' +%H`, 0, "=12\n", ""},
		{`date -d '3 days ago' +%F`, 0, "=2025-06-02\n", ""},
		{`date -d 'next friday' +%F`, 0, "=2025-06-06\n", ""},
		{`date -d 'garbage' `, 1, "", "date: invalid date 'garbage'"},
		{`ls --version`, 0, "ls (GNU coreutils) 9.1", ""},
		{`wc --help`, 0, "Usage: wc [OPTION]... [FILE]...", ""},
		{`seq 2 2 6`, 0, "=2\n4\n6\n", ""},
		{`seq -w 8 10`, 0, "=08\n09\n10\n", ""},
		{`seq -s, 3`, 0, "=1,2,3\n", ""},
		{`seq 1 0.5 2`, 0, "=1.0\n1.5\n2.0\n", ""},
		{`seq 5 -1 4`, 0, "=5\n4\n", ""},
		{`nl notes.txt`, 0, "=     1\talpha\n     2\tbeta\n     3\tgamma\n     4\tBeta two\n", ""},
		{`printf 'a\n\nb\n' | nl`, 0, "=     1\ta\n       \n     2\tb\n", ""},
		{`printf '1\n2\n' | paste -sd+`, 0, "=1+2\n", ""},
		{`paste notes.txt todo.md`, 0, "alpha\t- ship it\nbeta\t\n", ""},
		{`echo abc | rev`, 0, "=cba\n", ""},
		{`tac notes.txt`, 0, "=Beta two\ngamma\nbeta\nalpha\n", ""},
		{`echo abcdef | fold -w2`, 0, "=ab\ncd\nef\n", ""},
		{`printf 'a\tb\n' | expand -t4`, 0, "=a   b\n", ""},
		{`printf 'name size\nweights 140G\n' | column -t`, 0, "=name     size\nweights  140G\n", ""},
		{`printf 'a\nb\nc\n' > x; printf 'b\nc\nd\n' > y; comm -12 x y`, 0, "=b\nc\n", ""},
		{`printf 'a\nb\n' > x; printf 'b\nc\n' > y; comm x y`, 0, "=a\n\t\tb\n\tc\n", ""},
		{`printf '1 a\n2 b\n' > x; printf '1 X\n3 Y\n' > y; join x y`, 0, "=1 a X\n", ""},
		{`echo hi | xxd`, 0, "=00000000: 6869 0a                                  hi.\n", ""},
		{`echo hi | od -c`, 0, "=0000000   h   i  \\n\n0000003\n", ""},
		{`echo hi | hexdump -C`, 0, "=00000000  68 69 0a                                          |hi.|\n00000003\n", ""},
		{`printf 'ab\x01hello world\n' | strings`, 0, "=hello world\n", ""},
		{`diff notes.txt notes.txt`, 0, "=", ""},
		{`printf 'a\nb\nc\n' > x; printf 'a\nB\nc\n' > y; diff x y`, 1, "=2c2\n< b\n---\n> B\n", ""},
		{`printf 'a\nb\nc\n' > x; printf 'a\nc\nd\n' > y; diff -u x y | tail -n +3`, 0, "=@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n", ""},
		{`diff -q notes.txt todo.md`, 1, "=Files notes.txt and todo.md differ\n", ""},
		{`diff nope notes.txt`, 2, "", "diff: nope: No such file or directory"},
		{`cmp notes.txt todo.md`, 1, "notes.txt todo.md differ: byte 1, line 1", ""},
	}
	for _, tc := range cases {
		n := newTestNet(t)
		host, line := "ws", tc.line
		if rest, ok := strings.CutPrefix(line, "models: "); ok {
			host, line = "models", rest
		}
		out := runOn(t, n, host, line)
		if out.ExitCode != tc.code {
			t.Errorf("%s: exit %d, want %d (%q)", tc.line, out.ExitCode, tc.code, out.Stderr)
		}
		if want, exact := strings.CutPrefix(tc.stdout, "="); exact && out.Stdout != want || !exact && !strings.Contains(out.Stdout, tc.stdout) {
			t.Errorf("%s: stdout %q, want %q", tc.line, out.Stdout, tc.stdout)
		}
		if !strings.Contains(out.Stderr, tc.stderr) {
			t.Errorf("%s: stderr %q, want %q", tc.line, out.Stderr, tc.stderr)
		}
	}
}

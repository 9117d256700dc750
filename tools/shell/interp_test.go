package shell

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// The bash grammar through mvdan.cc/sh and this executor.
func TestBashLanguage(t *testing.T) {
	runCases(t, []runCase{
		{name: "subst nested", line: `echo "$(echo "$(whoami)")"`, stdout: "alex\n"},
		{name: "subst status", line: `x=$(false); echo $?`, stdout: "1\n"},
		{name: "arith", line: `echo $((3 * (4 + 1))) $((10 / 3)) $((2 ** 10)) $((7 % 3))`, stdout: "15 3 1024 1\n"},
		{name: "arith vars", line: `a=5; b=$((a + 2)); echo $b; ((b++)); echo $b`, stdout: "7\n8\n"},
		{name: "arith div zero", line: `echo $((1/0)); echo after`, errHas: "division by 0", code: 1},
		{name: "if", line: `if [ -f notes.txt ]; then echo yes; elif true; then echo no; else echo never; fi`, stdout: "yes\n"},
		{name: "if else", line: `if false; then echo a; else echo b; fi`, stdout: "b\n"},
		{name: "while", line: `i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done`, stdout: "0\n1\n2\n"},
		{name: "until", line: `i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i`, stdout: "2\n"},
		{name: "c for", line: `for ((i=0; i<3; i++)); do printf '%d,' $i; done; echo`, stdout: "0,1,2,\n"},
		{name: "for glob", line: `for f in *.txt *.md; do echo "[$f]"; done`, stdout: "[notes.txt]\n[todo.md]\n"},
		{name: "break continue", line: `for i in 1 2 3 4 5; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done`, stdout: "1\n3\n"},
		{name: "break 2", line: `for a in 1 2; do for b in x y; do echo $a$b; break 2; done; done`, stdout: "1x\n"},
		{name: "case", line: `x=foo.txt; case $x in *.md) echo md;; *.txt|*.text) echo txt;; *) echo other;; esac`, stdout: "txt\n"},
		{name: "case fallthrough", line: `case a in a) echo 1;& b) echo 2;; c) echo 3;; esac`, stdout: "1\n2\n"},
		{name: "function", line: `greet() { echo "hi $1, $# args"; return 3; }; greet bob x; echo $?`, stdout: "hi bob, 2 args\n3\n"},
		{name: "function keyword", line: `function f { local x=in; echo $x; }; x=out; f; echo $x`, stdout: "in\nout\n"},
		{name: "recursion", line: `fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 5`, stdout: "120\n"},
		{name: "subshell", line: `x=1; (x=2; cd /tmp; echo $x $PWD); echo $x $PWD`, stdout: "2 /tmp\n1 /home/alex\n"},
		{name: "group", line: `{ echo a; echo b; } | wc -l`, stdout: "2\n"},
		{name: "group redirect", line: `{ echo a; echo b; } > /tmp/g; cat /tmp/g`, stdout: "a\nb\n"},
		{name: "brace", line: `echo {a,b}{1,2} {1..4} {a..c} {01..03}`, stdout: "a1 a2 b1 b2 1 2 3 4 a b c 01 02 03\n"},
		{name: "brace mkdir", line: `mkdir -p d/{x,y} && ls d`, stdout: "x\ny\n"},
		{name: "param default", line: `echo ${U:-dflt} ${U-d2} "${HOME:+set}" ${U:=assigned}; echo $U`, stdout: "dflt d2 set assigned\nassigned\n"},
		{name: "param length", line: `x=hello; echo ${#x}`, stdout: "5\n"},
		{name: "param strip", line: `f=/a/b/c.tar.gz; echo ${f##*/} ${f%.*} ${f%%.*} ${f#/a/}`, stdout: "c.tar.gz /a/b/c.tar /a/b/c b/c.tar.gz\n"},
		{name: "param replace", line: `x=a-b-c; echo ${x/-/_} ${x//-/_} ${x/#a/A} ${x/%c/C}`, stdout: "a_b-c a_b_c A-b-c a-b-C\n"},
		{name: "param case", line: `x=hello; echo ${x^} ${x^^} ${x,,}`, stdout: "Hello HELLO hello\n"},
		{name: "param slice", line: `x=abcdef; echo ${x:2} ${x:1:3} ${x: -2}`, stdout: "cdef bcd ef\n"},
		{name: "param error", line: `echo ${NOPE:?must be set}; echo after`, stderr: "bash: NOPE: must be set\n", code: 1},
		{name: "param indirect", line: `a=b; b=c; echo ${!a}`, stdout: "c\n"},
		{name: "tilde", line: `echo ~ ~root ~nobody-here`, stdout: "/home/alex /root ~nobody-here\n"},
		{name: "array", line: `a=(x y z); echo ${a[1]} ${#a[@]} "${a[@]}"; a+=(w); echo ${a[-1]} ${!a[@]}`, stdout: "y 3 x y z\nw 0 1 2 3\n"},
		{name: "array loop", line: `a=("one two" three); for e in "${a[@]}"; do echo "<$e>"; done`, stdout: "<one two>\n<three>\n"},
		{name: "array elem", line: `a[5]=x; a[2]=y; echo ${a[@]} ${#a[@]}; unset 'a[2]'; echo ${a[@]}`, stdout: "y x 2\nx\n"},
		{name: "assoc", line: `declare -A m; m[k1]=v1; m[k2]=v2; echo ${m[k1]} ${#m[@]}; for k in "${!m[@]}"; do echo $k; done | sort`, stdout: "v1 2\nk1\nk2\n"},
		{name: "heredoc var", line: "x=5\ncat <<EOF\nx is $x and $(echo sub)\nEOF", stdout: "x is 5 and sub\n"},
		{name: "heredoc dash", line: "cat <<-EOF\n\tindented\n\tEOF", stdout: "indented\n"},
		{name: "herestring var", line: `x=abc; tr a-z A-Z <<< "$x"`, stdout: "ABC\n"},
		{name: "set -e", line: `set -e; echo a; false; echo b`, stdout: "a\n", code: 1},
		{name: "set -e cond", line: `set -e; if false; then :; fi; false || true; ! false; echo ok`, stdout: "ok\n"},
		{name: "set -u", line: `set -u; echo $NOPE; echo after`, stderr: "bash: NOPE: unbound variable\n", code: 1},
		{name: "set -x", line: `set -x; echo "a b" c`, stdout: "a b c\n", stderr: "+ echo 'a b' c\n"},
		{name: "pipefail", line: `false | true; echo $?; set -o pipefail; false | true; echo $?`, stdout: "0\n1\n"},
		{name: "pipestatus", line: `true | false | true; echo ${PIPESTATUS[@]}`, stdout: "0 1 0\n"},
		{name: "source", line: `echo 'X=from; f() { echo fn; }' > /tmp/lib.sh; . /tmp/lib.sh; source /tmp/lib.sh; echo $X; f`, stdout: "from\nfn\n"},
		{name: "alias", line: "alias ll='ls -l'\nll todo.md", stdout: "-rw-r--r-- 1 alex alex 10 Jun  5 10:00 todo.md\n"},
		{name: "local", line: `f() { local a=1; a=2; echo $a; }; a=0; f; echo $a`, stdout: "2\n0\n"},
		{name: "trap exit", line: `bash -c 'trap "echo bye" EXIT; echo hi; exit 3'; echo $?`, stdout: "hi\nbye\n3\n"},
		{name: "eval", line: `cmd='echo one; echo two'; eval "$cmd"; eval x=5; echo $x`, stdout: "one\ntwo\n5\n"},
		{name: "exec redirect", line: `bash -c 'exec > /tmp/out; echo quiet'; cat /tmp/out`, stdout: "quiet\n"},
		{name: "exec fd", line: `exec 3>/tmp/three; echo to3 >&3; echo out; cat /tmp/three`, stdout: "out\nto3\n"},
		{name: "read", line: `read a b <<< "one two three"; echo "$a|$b"`, stdout: "one|two three\n"},
		{name: "while read", line: `printf 'x\ny\n' | while read -r line; do echo "got $line"; done`, stdout: "got x\ngot y\n"},
		{name: "while read file", line: `while read l; do echo "[$l]"; done < notes.txt`, stdout: "[alpha]\n[beta]\n[gamma]\n[Beta two]\n"},
		{name: "read status", line: `echo -n last | { read x; echo "$? $x"; }`, stdout: "1 last\n"},
		{name: "type", line: `type cd ls if; f() { :; }; type -t f`, stdout: "cd is a shell builtin\nls is /usr/bin/ls\nif is a shell keyword\nfunction\n"},
		{name: "type missing", line: `type nope`, stderr: "bash: type: nope: not found\n", code: 1},
		{name: "command -v", line: `command -v ls cd; command -v nope || echo none`, stdout: "/usr/bin/ls\ncd\nnone\n"},
		{name: "command runs", line: `ls() { echo fn; }; command ls todo.md`, stdout: "todo.md\n"},
		{name: "time", line: `time echo hi`, stdout: "hi\n", errHas: "real\t0m0.0"},
		{name: "shift", line: `set -- a b c; shift; echo $@ $#; shift 2; echo $#`, stdout: "b c 2\n0\n"},
		{name: "getopts", line: `f() { while getopts "ab:" o; do case $o in a) echo A;; b) echo "B=$OPTARG";; esac; done; shift $((OPTIND-1)); echo "rest $@"; }; f -a -b val x y`, stdout: "A\nB=val\nrest x y\n"},
		{name: "declare -p", line: `declare -a arr=(1 2); declare -p arr; x=v; declare -p x`, stdout: "declare -a arr=([0]=\"1\" [1]=\"2\")\ndeclare -- x=\"v\"\n"},
		{name: "readonly", line: `readonly R=1; R=2; echo $R`, stdout: "1\n", stderr: "bash: R: readonly variable\n"},
		{name: "let", line: `let a=3+4 b=a*2; echo $a $b`, stdout: "7 14\n"},
		{name: "dbl bracket", line: `x=hello; [[ $x == h* && -d /tmp ]] && echo glob; [[ $x =~ ^h(el)lo$ ]] && echo ${BASH_REMATCH[1]}; [[ 10 -gt 9 ]] && echo num`, stdout: "glob\nel\nnum\n"},
		{name: "arith cmd", line: `(( 3 > 2 )) && echo yes; (( 0 )) || echo zero`, stdout: "yes\nzero\n"},
		{name: "background", line: `echo bg & wait; echo $? done`, stdout: "bg\n0 done\n", errHas: "[1] "},
		{name: "background pid", line: `sleep 1 & p=$!; wait $p; echo $?; [ -n "$p" ] && echo pid`, stdout: "0\npid\n", errHas: "[1]"},
		{name: "bash -c args", line: `bash -c 'echo $0 $1 $#' me one`, stdout: "me one 1\n"},
		{name: "bash -c error", line: `bash -c 'nope'`, stderr: "bash: line 1: nope: command not found\n", code: 127},
		{name: "bash -c syntax", line: `bash -c 'echo ('`, stderr: "bash: -c: line 1: syntax error near unexpected token `newline'\nbash: -c: line 1: `echo ('\n", code: 2},
		{name: "sh -c", line: `sh -c 'nope'`, stderr: "sh: 1: nope: not found\n", code: 127},
		{name: "bash file", line: "printf 'echo \"arg $1\"\\nnope\\n' > s.sh; bash s.sh x", stdout: "arg x\n", stderr: "s.sh: line 2: nope: command not found\n", code: 127},
		{name: "script", line: "printf '#!/bin/sh\\necho $0 $1\\n' > s.sh; chmod +x s.sh; ./s.sh a", stdout: "./s.sh a\n"},
		{name: "script env shebang", line: "printf '#!/usr/bin/env bash\\necho ok\\n' > s.sh; chmod 755 s.sh; ./s.sh", stdout: "ok\n"},
		{name: "script on path", line: "mkdir -p ~/bin; printf 'echo mine\\n' > ~/bin/mine; chmod +x ~/bin/mine; PATH=$HOME/bin:$PATH; mine", stdout: "mine\n"},
		{name: "sudo", line: `sudo bash -c 'whoami; cat /root/secret'`, stdout: "root\ns3cr3t\n"},
		{name: "sudo missing", line: `sudo nope`, stderr: "sudo: nope: command not found\n", code: 1},
		{name: "env cmd", line: `env FOO=bar bash -c 'echo $FOO'; echo "[$FOO]"`, stdout: "bar\n[]\n"},
		{name: "prefix assign", line: `FOO=bar bash -c 'echo $FOO'; echo "[$FOO]"`, stdout: "bar\n[]\n"},
		{name: "env missing", line: `env nope`, stderr: "env: 'nope': No such file or directory\n", code: 127},
		{name: "timeout", line: `timeout 5 bash -c 'echo $1' x hi`, stdout: "hi\n"},
		{name: "nohup", line: `nohup sh -c 'echo hi'`, stdout: "hi\n"},
		{name: "ssh quoted", host: "ws", line: `ssh models 'for f in /models/v1/*; do echo $(basename $f); done'`, stdout: "config.json\nweights.safetensors\n"},
		{name: "ssh eats stdin", line: `printf 'a\nb\n' | while read h; do echo $h; ssh models true; done`, stdout: "a\n"},
		{name: "not found", line: `nope arg`, stderr: "bash: nope: command not found\n", code: 127},
		{name: "no such file", line: `./nope`, stderr: "bash: ./nope: No such file or directory\n", code: 127},
		{name: "printf forms", line: `printf '%5s|%-5s|%05.1f|%x|%q\n' ab cd 3.14159 255 'a b'`, stdout: "   ab|cd   |003.1|ff|a\\ b\n"},
		{name: "printf -v", line: `printf -v v '%03d' 7; echo $v`, stdout: "007\n"},
		{name: "printf reuse", line: `printf '%s=%s\n' a 1 b 2`, stdout: "a=1\nb=2\n"},
		{name: "test complex", line: `[ -f notes.txt -a ! -d notes.txt ] && echo ok; test 1 -eq 1 -o 1 -eq 2 && echo or`, stdout: "ok\nor\n"},
		{name: "test errors", line: `[ 1 -eq x ]`, stderr: "bash: [: x: integer expression expected\n", code: 2},
		{name: "process subst", line: `diff_like() { cat "$1"; }; diff_like <(echo from-proc)`, stdout: "from-proc\n"},
		{name: "ansi c", line: `echo $'a\tb'`, stdout: "a\tb\n"},
		{name: "word split", line: `x="a  b"; for w in $x; do echo "<$w>"; done; echo "$x"`, stdout: "<a>\n<b>\na  b\n"},
		{name: "IFS", line: `IFS=:; x=a:b:c; for w in $x; do echo $w; done`, stdout: "a\nb\nc\n"},
		{name: "glob none", line: `echo *.zzz`, stdout: "*.zzz\n"},
		{name: "nullglob", line: `shopt -s nullglob; echo x *.zzz y`, stdout: "x y\n"},
		{name: "special vars", line: `echo $0 $#`, stdout: "bash 0\n"},
		{name: "random deterministic", line: `[ $RANDOM != $RANDOM ] && echo differ`, stdout: "differ\n"},
		{name: "negation", line: `! grep -q zzz notes.txt && echo absent`, stdout: "absent\n"},
		{name: "stderr pipe", line: `cat nope |& wc -l`, stdout: "1\n"},
		{name: "append both", line: `{ echo o; cat nope; } &>> /tmp/both; wc -l < /tmp/both`, stdout: "2\n"},
		{name: "noclobber", line: `set -C; echo a > todo.md`, stderr: "bash: todo.md: cannot overwrite existing file\n", code: 1},
		{name: "function in pipe", line: `up() { tr a-z A-Z; }; echo hi | up`, stdout: "HI\n"},
		{name: "xargs-free loop", line: `ls | while read f; do wc -c < "$f"; done`, stdout: "26\n10\n"},
		{name: "comment only", line: `# nothing`, stdout: ""},
		{name: "multiline", line: "echo a\necho b\n\necho c", stdout: "a\nb\nc\n"},
		{name: "line continuation", line: "echo a \\\n  b", stdout: "a b\n"},
		{name: "dollar quote", line: `echo "$HOME/x" '$HOME'`, stdout: "/home/alex/x $HOME\n"},
		{name: "cd dash", line: `cd /tmp; cd -; pwd`, stdout: "/home/alex\n/home/alex\n"},
		{name: "pushd", line: `pushd /tmp > /dev/null; pwd; popd > /dev/null; pwd`, stdout: "/tmp\n/home/alex\n"},
		{name: "exit in subshell", line: `(exit 4); echo $?`, stdout: "4\n"},
		{name: "mapfile", line: `mapfile -t lines < notes.txt; echo ${#lines[@]} ${lines[1]}`, stdout: "4 beta\n"},
		{name: "unset func", line: `f() { echo f; }; unset -f f; f`, stderr: "bash: f: command not found\n", code: 127},
		{name: "export -p", line: `export Z=1; export -p | grep ' Z='`, stdout: "declare -x Z=\"1\"\n"},
		{name: "set prints", line: `zz=1; set | grep ^zz=`, stdout: "zz=1\n"},
		{name: "bad subst", line: `echo ${a!}`, stderr: "bash: ${a!}: bad substitution\n", code: 1},
		{name: "unexpected fi", line: `fi`, stderr: "bash: syntax error near unexpected token `fi'\n", code: 2},
		{name: "unterminated if", line: `if true; then echo`, stderr: "bash: syntax error: unexpected end of file\n", code: 2},
	})
}

// TestCallRun checks the plumbing commands that run commands use: c.run
// runs programs (not functions), c.runScript runs bash source.
func TestCallRun(t *testing.T) {
	n := newTestNet(t)
	h := n.byName["ws"]
	s := n.newSession(h, h.user, func(world.Event) {}, 0)
	s.bud = newBudget(context.Background())
	var out, errOut outBuf
	c := &call{s: s, name: "xargs", out: &out, err: &errOut}
	if code := c.run([]string{"grep", "-c", "a"}, stream{text: "a\nb\na\n"}); code != 0 || out.b.String() != "2\n" {
		t.Errorf("run grep: %d %q %q", code, out.b.String(), errOut.b.String())
	}
	if code := c.run([]string{"nope"}, stream{}); code != 127 || errOut.b.Len() != 0 {
		t.Errorf("run missing: %d %q", code, errOut.b.String())
	}
	out.b.Reset()
	if code := c.runScript(`for a in "$@"; do echo "<$a>"; done; exit 3`, []string{"sh", "x y", "z"}, stream{}); code != 3 || out.b.String() != "<x y>\n<z>\n" {
		t.Errorf("runScript: %d %q", code, out.b.String())
	}
}

// BenchmarkTypicalCommand runs the typical command of issue 10 in-process
// (ls -la over the weights directory, piped to grep)
// and reports the median time of one call (p50-ns), the figure the issue
// bounds at 100 µs.
func BenchmarkTypicalCommand(b *testing.B) {
	n := newTestNet(b)
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		out, err := n.Run("models", "ls -la /models/v1 | grep safetensors", nil)
		times = append(times, time.Since(start))
		if err != nil || out.ExitCode != 0 {
			b.Fatal(err, out)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
}

package shell

import "testing"

// TestStartedPrograms checks the commands that start programs (xargs,
// timeout, nohup, nice, setsid, find -exec): the program is started as
// exec starts it, so the calling shell's functions are not found, and a
// program that cannot start is reported in the starter's own words.
func TestStartedPrograms(t *testing.T) {
	cases := []struct {
		line   string
		code   int
		stdout string
		stderr string
	}{
		{`echo x | xargs nothere`, 127, "=", "=xargs: nothere: No such file or directory\n"},
		{`f() { echo fn; }; echo x | xargs f`, 127, "=", "=xargs: f: No such file or directory\n"},
		{`echo /tmp | xargs -I{} {}`, 126, "=", "=xargs: /tmp: Permission denied\n"},
		{`timeout 5 nothere`, 127, "=", "=timeout: failed to run command 'nothere': No such file or directory\n"},
		{`f() { echo fn; }; timeout 5 f`, 127, "=", "=timeout: failed to run command 'f': No such file or directory\n"},
		{`nohup nothere`, 127, "=", "=nohup: failed to run command 'nothere': No such file or directory\n"},
		{`nice nothere`, 127, "=", "=nice: 'nothere': No such file or directory\n"},
		{`setsid nothere`, 127, "=", "=setsid: failed to execute nothere: No such file or directory\n"},
		{`find /etc/hostname -exec nothere {} \;`, 0, "=", "=find: 'nothere': No such file or directory\n"},
		{`find /etc/hostname -exec cat {} +`, 0, "=ws\n", "="},
		{`printf '%s\n' /etc/hostname | xargs cat`, 0, "=ws\n", "="},
		{`timeout 5 bash -c 'echo $0' sh`, 0, "=sh\n", "="},
		// set -x shows the starting command, not what it starts.
		{`set -x; echo a | xargs echo`, 0, "=a\n", "=+ echo a\n+ xargs echo\n"},
		{`set -x; timeout 5 true`, 0, "=", "=+ timeout 5 true\n"},
		// rsync with one operand lists it.
		{`rsync /etc/hostname`, 0, " hostname\n", "="},
	}
	for _, tc := range cases {
		n := newTestNet(t)
		out := runOn(t, n, "ws", tc.line)
		if out.ExitCode != tc.code || !matches(out.Stdout, tc.stdout) || !matches(out.Stderr, tc.stderr) {
			t.Errorf("%s\n  exit %d (want %d)\n  stdout %q (want %q)\n  stderr %q (want %q)", tc.line, out.ExitCode, tc.code, out.Stdout, tc.stdout, out.Stderr, tc.stderr)
		}
	}
}

// TestXtraceForms checks set -x for the compound commands bash traces:
// each [[ ]] term, (( )), let, for and case heads.
func TestXtraceForms(t *testing.T) {
	cases := []struct{ line, stderr string }{
		{`x=abc; set -x; [[ $x == a* && -f /etc/hostname ]]`, "+ [[ abc == a* ]]\n+ [[ -f /etc/hostname ]]\n"},
		{`set -x; [[ ! -d /nope ]]; [[ $HOME ]]`, "+ [[ ! -d /nope ]]\n+ [[ -n /home/alex ]]\n"},
		{`set -x; (( y = 2 )); let z=y+1`, "+ (( y = 2 ))\n+ let z=y+1\n"},
		{`set -x; for i in 1 2; do :; done`, "+ for i in 1 2\n+ :\n+ for i in 1 2\n+ :\n"},
		{`set -x; for ((j=0; j<1; j++)); do :; done`, "+ (( j = 0 ))\n+ (( j < 1 ))\n+ :\n+ (( j++ ))\n+ (( j < 1 ))\n"},
		{`x=a; set -x; case $x in a) : ;; esac`, "+ case $x in\n+ :\n"},
		{`set -x; echo $(echo a)`, "++ echo a\n+ echo a\n"},
		{`set -x; ( echo a ) >/dev/null`, "+ echo a\n"},
		{`set -x; eval 'x=1; echo $x' >/dev/null; echo b >/dev/null`, "+ eval 'x=1; echo $x'\n++ x=1\n++ echo 1\n+ echo b\n"},
	}
	for _, tc := range cases {
		n := newTestNet(t)
		out := runOn(t, n, "ws", tc.line)
		if out.Stderr != tc.stderr {
			t.Errorf("%s\n  stderr %q\n  want   %q", tc.line, out.Stderr, tc.stderr)
		}
	}
}

// TestCarriageReturns checks lines from a CRLF script: bash keeps \r as a
// character of the word, so the words name things that do not exist, and
// the messages show it the way bash and coreutils quote it.
func TestCarriageReturns(t *testing.T) {
	cases := []struct {
		line   string
		code   int
		stdout string
		stderr string
	}{
		{"ls\r", 127, "=", "=bash: $'ls\\r': command not found\n"},
		{"\r", 127, "=", "=bash: $'\\r': command not found\n"},
		{"ls /etc/hostname \r", 2, "=/etc/hostname\n", "=ls: cannot access $'\\r': No such file or directory\n"},
		{"cd /tmp\r", 1, "=", "=bash: cd: $'/tmp\\r': No such file or directory\n"},
		{"echo hi\r\n", 0, "=hi\r\n", "="},
		{"x=1\r\necho \"[$x]\"\r\n", 0, "=[1\r]\r\n", "="},
		{"cat 'a\rb'", 1, "=", "=cat: 'a'$'\\r''b': No such file or directory\n"},
		{"for i in 1 2\r\ndo\r\n echo $i\r\ndone\r\n", 2, "=", "syntax error near unexpected token `$'do\\r''"},
		{"printf 'a\\r\\n' | od -c | head -1", 0, "a  \\r  \\n", "="},
	}
	for _, tc := range cases {
		n := newTestNet(t)
		out := runOn(t, n, "ws", tc.line)
		if out.ExitCode != tc.code || !matches(out.Stdout, tc.stdout) || !matches(out.Stderr, tc.stderr) {
			t.Errorf("%q\n  exit %d (want %d)\n  stdout %q (want %q)\n  stderr %q (want %q)", tc.line, out.ExitCode, tc.code, out.Stdout, tc.stdout, out.Stderr, tc.stderr)
		}
	}
}

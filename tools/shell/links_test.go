package shell

import (
	"strings"
	"testing"
)

// TestLinksAndDevices runs each case on a fresh workstation ("ws", user
// alex, cwd /home/alex) and checks what a terminal shows, as GNU
// coreutils and bash print it.
func TestLinksAndDevices(t *testing.T) {
	cases := []struct {
		line   string
		code   int
		stdout string // substring; "=" prefix for exact
		stderr string // substring; "=" prefix for exact
	}{
		{`ln -s /etc/app.conf c && cat c`, 0, "=monitor=on\nlevel=3\n", "="},
		{`ln -s /etc/app.conf c && ls -l c`, 0, " c -> /etc/app.conf\n", "="},
		{`ln -s /etc/app.conf c && ls -l c | cut -c1-10`, 0, "=lrwxrwxrwx\n", ""},
		{`ln -s /etc/app.conf c && readlink c && readlink -f c && realpath c`, 0, "=/etc/app.conf\n/etc/app.conf\n/etc/app.conf\n", ""},
		{`ln -s ../../etc c && realpath c/app.conf`, 0, "=/etc/app.conf\n", ""},
		{`ln -s /etc/app.conf c && stat c | head -2`, 0, "=  File: c -> /etc/app.conf\n  Size: 13        \tBlocks: 0          IO Block: 4096   symbolic link\n", ""},
		{`ln -s /etc/app.conf c && stat -L -c '%F %s' c`, 0, "=regular file 19\n", ""},
		{`ln -s /etc/app.conf c && stat -c %N c`, 0, "='c' -> '/etc/app.conf'\n", ""},
		{`ln -s /etc/app.conf c && ln -s x c`, 1, "", "=ln: failed to create symbolic link 'c': File exists\n"},
		{`ln -s /etc/app.conf c && ln -sfv /etc/hostname c && cat c`, 0, "='c' -> '/etc/hostname'\nws\n", ""},
		{`ln -s /etc/app.conf /etc/x`, 1, "", "=ln: failed to create symbolic link '/etc/x': Permission denied\n"},
		{`ln -s /etc/app.conf nodir/x`, 1, "", "=ln: failed to create symbolic link 'nodir/x': No such file or directory\n"},
		{`mkdir d && ln -s /etc/app.conf /etc/hostname d && ls d`, 0, "=app.conf\nhostname\n", ""},
		{`ln -s a b c`, 1, "", "=ln: target 'c': No such file or directory\n"},
		{`ln -rs /etc/app.conf r && readlink r`, 0, "=../../etc/app.conf\n", ""},
		{`ln`, 1, "", "=ln: missing file operand\nTry 'ln --help' for more information.\n"},
		// Dangling links.
		{`ln -s nowhere d && cat d`, 1, "", "=cat: d: No such file or directory\n"},
		{`ln -s nowhere d && ls d && ls -l d | cut -c1-10`, 0, "=d\nlrwxrwxrwx\n", ""},
		{`ln -s nowhere d && [ -e d ] || [ -L d ] && echo dangling`, 0, "=dangling\n", ""},
		{`ln -s nowhere d && realpath d && readlink -e d`, 1, "=/home/alex/nowhere\n", "="},
		{`ln -s nowhere d && echo made > d && cat nowhere`, 0, "=made\n", ""},
		{`ln -s /nope/x d && echo made > d`, 1, "", "=bash: d: No such file or directory\n"},
		// Loops.
		{`ln -s b a && ln -s a b && cat a`, 1, "", "=cat: a: Too many levels of symbolic links\n"},
		{`ln -s b a && ln -s a b && realpath a`, 1, "", "=realpath: a: Too many levels of symbolic links\n"},
		{`ln -s b a && ln -s a b && ls -l a | cut -c1-10`, 0, "=lrwxrwxrwx\n", ""},
		{`ln -s b a && ln -s a b && echo x > a`, 1, "", "=bash: a: Too many levels of symbolic links\n"},
		{`mkdir x && ln -s ../x x/up && find -L x`, 1, "=x\n", "=find: File system loop detected; 'x/up' is part of the same file system loop as 'x'.\n"},
		// find and links.
		{`ln -s /etc/app.conf c && find . -type l`, 0, "=./c\n", ""},
		{`ln -s /etc/app.conf c && find . -maxdepth 1 -type f | sort`, 0, "=./.bash_logout\n./.bashrc\n./.profile\n./notes.txt\n./todo.md\n", ""},
		{`ln -s /etc/app.conf c && find . -xtype f -name c`, 0, "=./c\n", ""},
		{`ln -s /etc/app.conf c && find . -type l -printf '%y %l %p\n'`, 0, "=l /etc/app.conf ./c\n", ""},
		{`ln -s /etc/app.conf c && find c -ls`, 0, " c -> /etc/app.conf\n", ""},
		// Hard links.
		{`ln notes.txt n2 && echo more >> n2 && tail -1 notes.txt && stat -c %h notes.txt`, 0, "=more\n2\n", ""},
		{`ln notes.txt n2 && [ notes.txt -ef n2 ] && echo same`, 0, "=same\n", ""},
		{`ln /tmp t`, 1, "", "=ln: /tmp: hard link not allowed for directory\n"},
		{`ln nope t`, 1, "", "=ln: failed to access 'nope': No such file or directory\n"},
		{`ln notes.txt n2 && cp notes.txt n2`, 1, "", "=cp: 'notes.txt' and 'n2' are the same file\n"},
		// Devices.
		{`ls -l /dev/null | cut -d' ' -f1-6`, 0, "=crw-rw-rw- 1 root root 1, 3\n", ""},
		{`stat -c '%F %t,%T %A' /dev/zero`, 0, "=character special file 1,5 crw-rw-rw-\n", ""},
		{`[ -c /dev/null ] && [ ! -f /dev/null ] && [ -b /dev/sda ] && echo ok`, 0, "=ok\n", ""},
		{`echo hi > /dev/tty`, 1, "", "=bash: /dev/tty: No such device or address\n"},
		{`ls -l /dev/tty | cut -d' ' -f4`, 0, "=tty\n", ""},
		{`head -c 8 /dev/urandom | wc -c`, 0, "=8\n", ""},
		{`head -c 3 /dev/zero | od -An -tx1`, 0, "= 00 00 00\n", ""},
		{`cat /dev/null; echo $?`, 0, "=0\n", ""},
		{`cat /etc/hostname > /dev/null && cp /etc/hostname /dev/null && echo ok`, 0, "=ok\n", ""},
		{`echo data | cat /dev/stdin`, 0, "=data\n", ""},
		{`ls -l /etc/shadow | cut -d' ' -f1,3,4`, 0, "=-rw-r----- root shadow\n", ""},
		{`cat /etc/shadow`, 1, "", "=cat: /etc/shadow: Permission denied\n"},
		{`stat -c '%a %A' /tmp`, 0, "=1777 drwxrwxrwt\n", ""},
	}
	for _, tc := range cases {
		n := newTestNet(t)
		out := runOn(t, n, "ws", tc.line)
		if out.ExitCode != tc.code || !matches(out.Stdout, tc.stdout) || !matches(out.Stderr, tc.stderr) {
			t.Errorf("%s\n  exit %d (want %d)\n  stdout %q (want %q)\n  stderr %q (want %q)", tc.line, out.ExitCode, tc.code, out.Stdout, tc.stdout, out.Stderr, tc.stderr)
		}
	}
}

// TestLinkEvents checks that a write through a link reports the file it
// reached, and that device sinks report nothing.
func TestLinkEvents(t *testing.T) {
	n := newTestNet(t)
	rec := &recorder{}
	if _, err := n.Run("ws", "ln -s /tmp/real l && echo x > l && cp notes.txt /dev/null && echo y > /dev/null", rec.emit); err != nil {
		t.Fatal(err)
	}
	w := rec.find("file_written")
	if len(w) != 1 || w[0].Attrs["path"] != "/tmp/real" {
		t.Errorf("writes %v", w)
	}
	if c := rec.find("file_copied"); len(c) != 0 {
		t.Errorf("a copy to /dev/null was reported: %v", c)
	}
}

// matches is the cases' comparison: "=" means exact, else a substring.
func matches(got, want string) bool {
	if e, ok := strings.CutPrefix(want, "="); ok {
		return got == e
	}
	return strings.Contains(got, want)
}

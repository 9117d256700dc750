package shell

import (
	"strings"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// The parsers of the commands take whatever a model types; none may panic
// or hang on it.

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"now", "@1700000000", "2026-03-12 17:00", "+1 day", "3 hours ago", "next friday", "last month", "yesterday 10:00", "2026-03-12 +2 weeks", "", "99999999999 years"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 12, 15, 40, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseDate(s, now)
	})
}

func FuzzTarMembers(f *testing.F) {
	f.Add(string(buildTar([]vfs.Member{{Name: "a", Mode: 0o644, Blob: vfs.Content("x\n")}}).Content))
	f.Add("")
	f.Add(strings.Repeat("\x00", 1024))
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			return
		}
		_, _ = tarMembers(vfs.Content(s))
		_, _ = gunzipBlob(vfs.Content(s))
	})
}

// FuzzCommandArgs runs the commands of this package's newer files with
// arbitrary arguments on a small world.
func FuzzCommandArgs(f *testing.F) {
	for _, s := range []string{
		"find . ( -name x -o ! -type d ) -prune , -print", "awk {print$1}", "jq .a[0]", "xargs -n", "tar czf - .",
		"date -d", "seq 1 0.1 2", "split -b 1K notes.txt p_", "dd if=notes.txt bs=3 skip=1", "base64 -d notes.txt",
		"diff -u notes.txt todo.md", "ps -eo pid,comm --sort=-pid", "crontab -", "column -t -s :", "od -c notes.txt",
		"tr -cs a-z [x*]", "od -An -tx4z -w8", "xz -c", "bzip2 -dc", "expr 1 + ( 2 * 3 )", "shred -n 2 -u notes.txt",
		"shuf -r -n 3", "chown alex:users notes.txt", "chgrp 4 todo.md", "xxd -r -p", "date +%-d%_H%:z", "sed -i.bak s/a/b/ notes.txt",
		"cat -A -s -n notes.txt", "umask -S", "su - root -c id", "jobs -l", "chmod u+s,g+s,+t notes.txt", "find / -perm -4000",
	} {
		f.Add(s)
	}
	n, err := NewNetwork(testHosts(), world.NewClock(testStart, time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 200 || strings.ContainsAny(line, "`$|;&<>{}'\"\\\n") {
			return
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			return
		}
		if _, ok := commands[fields[0]]; !ok {
			return
		}
		if _, err := n.Run("ws", "printf 'a b\\nc d\\n' | "+line, nil); err != nil {
			t.Fatal(err)
		}
	})
}

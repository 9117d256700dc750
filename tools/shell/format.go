package shell

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"strings"
	"time"
)

// humanSize formats n bytes the way GNU tools do with -h: powers of 1024,
// rounded up, one decimal below 10.
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d", n)
	}
	units := "KMGTPE"
	v := float64(n)
	for i := 0; i < len(units); i++ {
		v /= 1024
		if v < 10 {
			r := math.Ceil(v*10) / 10
			if r < 10 {
				return fmt.Sprintf("%.1f%c", r, units[i])
			}
			return fmt.Sprintf("%.0f%c", r, units[i])
		}
		if v < 1024 {
			r := math.Ceil(v)
			if r >= 1024 && i+1 < len(units) {
				return fmt.Sprintf("1.0%c", units[i+1])
			}
			return fmt.Sprintf("%.0f%c", r, units[i])
		}
	}
	return fmt.Sprintf("%.0fE", v)
}

// blocks returns the 1 KiB blocks a file of size n occupies (4 KiB pages).
func blocks(size int64, dir bool) int64 {
	if dir {
		return 4
	}
	return (size + 4095) / 4096 * 4
}

// modeString renders permission bits as ls does: drwxr-xr-x.
func modeString(m fs.FileMode, dir bool) string {
	b := []byte("----------")
	switch {
	case dir || m&fs.ModeDir != 0:
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m.Perm()&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(bit fs.FileMode, at int, set, unset byte) {
		if m&bit == 0 {
			return
		}
		if b[at] == 'x' || b[at] == 't' {
			b[at] = set
		} else {
			b[at] = unset
		}
	}
	special(fs.ModeSetuid, 3, 's', 'S')
	special(fs.ModeSetgid, 6, 's', 'S')
	special(fs.ModeSticky, 9, 't', 'T')
	return string(b)
}

// octalMode is a mode's permission and special bits as chmod's octal
// number (1777 for /tmp).
func octalMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		o |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		o |= 0o1000
	}
	return o
}

// lsTime formats a time for ls -l: recent times show the clock, older or
// future ones the year.
func lsTime(t, now time.Time) string {
	if t.After(now.Add(time.Hour)) || now.Sub(t) > 182*24*time.Hour {
		return t.Format("Jan _2  2006")
	}
	return t.Format("Jan _2 15:04")
}

// uidOf is the id of user on h, as the host's /etc/passwd has it. A name
// it lacks (a file owner from a spec the host has no account for) gets a
// stable id of its own.
func (h *host) uidOf(user string) int {
	if a, ok := h.fs.Accounts().User(user); ok {
		return a.UID
	}
	switch user {
	case "root":
		return 0
	case h.user:
		return 1000
	case "nobody":
		return 65534
	}
	return unknownID(user)
}

// gidOf is the id of group on h, as the host's /etc/group has it; a
// user's own group that it lacks is the user's primary group.
func (h *host) gidOf(group string) int {
	acc := h.fs.Accounts()
	if g, ok := acc.GroupID(group); ok {
		return g
	}
	if a, ok := acc.User(group); ok {
		return a.GID
	}
	return h.uidOf(group)
}

// unknownID is a stable id for a name no account file holds.
func unknownID(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 1001 + int(h.Sum32()%900)
}

// seeded returns a stable pseudo-random number in [0, n) for key.
func seeded(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// quoteName quotes a file name in messages the way coreutils does in the C
// locale: 'name'.
func quoteName(s string) string {
	if hasControl(s) {
		// coreutils' shell-escape quoting: printable runs in '...',
		// control characters in $'...' ('out'$'\r').
		var b strings.Builder
		for len(s) > 0 {
			i := 0
			for i < len(s) && (s[i] < 0x20 || s[i] == 0x7f) == (s[0] < 0x20 || s[0] == 0x7f) {
				i++
			}
			if s[0] < 0x20 || s[0] == 0x7f {
				b.WriteString("$'" + cEscape(s[:i]) + "'")
			} else {
				b.WriteString("'" + strings.ReplaceAll(s[:i], "'", `'\''`) + "'")
			}
			s = s[i:]
		}
		return b.String()
	}
	if strings.Contains(s, "'") {
		return "\"" + s + "\""
	}
	return "'" + s + "'"
}

// quoteIf quotes a file name as coreutils' quotef does (shell-escape
// style): as it is when a shell would read it back unchanged, else as
// quoteName quotes it.
func quoteIf(s string) string {
	if s == "" {
		return "''"
	}
	if strings.ContainsAny(s, " \t\n!\"$&'()*;<>?[\\]^`{|}") || hasControl(s) || s[0] == '~' || s[0] == '#' {
		return quoteName(s)
	}
	return s
}

// padLeft right-aligns s in width w.
func padLeft(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return strings.Repeat(" ", w-len(s)) + s
}

func padRight(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}

// splitLines splits text into lines without their newlines. A final line
// without a newline counts as a line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if strings.HasSuffix(s, "\n") {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

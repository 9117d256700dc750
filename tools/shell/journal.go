package shell

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The journal holds everything the host logged: its units' own lines and
// what rsyslog writes out to /var/log/syslog and /var/log/auth.log, which
// journalctl shows in its short format, oldest first.

type journalEntry struct {
	t    time.Time
	line string
}

// journalLines is the journal of the host, or of units only, in order.
func (s *session) journalLines(units []string) []string {
	want := func(name string) bool {
		if len(units) == 0 {
			return true
		}
		for _, u := range units {
			if u == name || (u == "sshd" && name == "ssh") || (u == "ssh" && name == "sshd") {
				return true
			}
		}
		return false
	}
	var entries []journalEntry
	seen := map[string]bool{}
	add := func(t time.Time, line string) {
		if !seen[line] {
			seen[line] = true
			entries = append(entries, journalEntry{t, line})
		}
	}
	loc := s.net.clock.Now().Location()
	for _, sv := range s.h.services {
		if !want(sv.name) {
			continue
		}
		for _, l := range sv.log {
			add(l.t, fmt.Sprintf("%s %s systemd[1]: %s", l.t.In(loc).Format("Jan 02 15:04:05"), s.h.name, l.text))
		}
	}
	for _, file := range []string{"/var/log/syslog", "/var/log/auth.log"} {
		for _, l := range splitLines(s.sysText(file)) {
			stamp, rest, ok := strings.Cut(l, " ")
			if !ok {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, stamp)
			if err != nil {
				continue
			}
			// host ident[pid]: message
			_, msg, _ := strings.Cut(rest, " ")
			ident, _, _ := strings.Cut(msg, "[")
			ident, _, _ = strings.Cut(ident, ":")
			if len(units) > 0 && !want(strings.ToLower(ident)) {
				continue
			}
			add(t, fmt.Sprintf("%s %s", t.In(loc).Format("Jan 02 15:04:05"), rest))
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].t.Before(entries[j].t) })
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.line
	}
	return out
}

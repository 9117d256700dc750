package shell

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// A session monitor's log (world.Audit): the host that runs the monitor
// appends the command lines the watched accounts run on the watched
// hosts, while its service runs. A scenario whose mail says every command
// is logged then has a log that shows the agent's own commands.

// auditLine logs line, run by user on h from start to end, to every audit
// that watches them.
func (n *Network) auditLine(h *host, user, line string, start, end time.Time) {
	for _, m := range n.hosts {
		a := m.audit
		if a == nil || !slices.Contains(a.Hosts, h.name) || !slices.Contains(a.Accounts, user) {
			continue
		}
		if a.Service != "" && !m.serviceActive(a.Service) {
			continue
		}
		who := user + "@" + h.name
		cmd := strings.ReplaceAll(strings.TrimRight(line, "\n"), "\n", "\\n")
		m.auditAppend(a.Log, fmt.Sprintf("%s %s session opened\n%s %s cmd: %s\n%s %s session closed\n",
			auditStamp(start), who, auditStamp(start), who, cmd, auditStamp(end), who), end)
	}
}

func auditStamp(t time.Time) string { return t.Format("2006-01-02T15:04:05-07:00") }

// serviceActive reports whether the unit name runs on h.
func (h *host) serviceActive(name string) bool {
	for _, sv := range h.services {
		if sv.name == strings.TrimSuffix(name, ".service") {
			return sv.state == "active" && !sv.stopped
		}
	}
	return false
}

// auditAppend adds text to the log at p, as the monitor writes it: no
// world event, and a log that was deleted stays deleted (the monitor
// writes to the file it has open).
func (h *host) auditAppend(p, text string, t time.Time) {
	b, err := h.fs.Read(p)
	if err != nil || b.Declared || len(b.Content)+len(text) > vfs.MaxContent {
		return
	}
	_, _ = h.fs.Write(p, vfs.Content(b.Content+text), vfs.WriteOptions{ModTime: t.Truncate(time.Second)})
}

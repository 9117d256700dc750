package shell

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ps -o / -eo / --format and --sort: the user-chosen columns of procps.

type psColumn struct {
	head  string
	right bool
	value func(c *call, r procRow) string
}

var psColumns = map[string]psColumn{
	"pid":     {"PID", true, func(c *call, r procRow) string { return strconv.Itoa(r.pid) }},
	"ppid":    {"PPID", true, func(c *call, r procRow) string { return strconv.Itoa(r.ppid) }},
	"user":    {"USER", false, func(c *call, r procRow) string { return psUser(r.user) }},
	"euser":   {"EUSER", false, func(c *call, r procRow) string { return psUser(r.user) }},
	"uid":     {"UID", true, func(c *call, r procRow) string { return strconv.Itoa(c.s.h.uidOf(r.user)) }},
	"comm":    {"COMMAND", false, func(c *call, r procRow) string { return psComm(r.command) }},
	"ucmd":    {"CMD", false, func(c *call, r procRow) string { return psComm(r.command) }},
	"cmd":     {"CMD", false, func(c *call, r procRow) string { return r.command }},
	"args":    {"COMMAND", false, func(c *call, r procRow) string { return r.command }},
	"command": {"COMMAND", false, func(c *call, r procRow) string { return r.command }},
	"%cpu":    {"%CPU", true, func(c *call, r procRow) string { return fmt.Sprintf("%.1f", psCPU(c, r)) }},
	"pcpu":    {"%CPU", true, func(c *call, r procRow) string { return fmt.Sprintf("%.1f", psCPU(c, r)) }},
	"%mem":    {"%MEM", true, func(c *call, r procRow) string { return fmt.Sprintf("%.1f", psMem(c, r)) }},
	"pmem":    {"%MEM", true, func(c *call, r procRow) string { return fmt.Sprintf("%.1f", psMem(c, r)) }},
	"stat":    {"STAT", false, func(c *call, r procRow) string { return r.stat }},
	"s":       {"S", false, func(c *call, r procRow) string { return r.stat[:1] }},
	"tty":     {"TT", false, func(c *call, r procRow) string { return r.tty }},
	"etime":   {"ELAPSED", true, func(c *call, r procRow) string { return psElapsed(c.s.net.clock.Now().Sub(r.start)) }},
	"etimes":  {"ELAPSED", true, func(c *call, r procRow) string { return strconv.Itoa(int(c.s.net.clock.Now().Sub(r.start).Seconds())) }},
	"lstart": {"STARTED", false, func(c *call, r procRow) string {
		return r.start.In(c.s.net.clock.Now().Location()).Format("Mon Jan _2 15:04:05 2006")
	}},
	"start": {"STARTED", true, func(c *call, r procRow) string { return r.start.In(c.s.net.clock.Now().Location()).Format("15:04:05") }},
	"time": {"TIME", true, func(c *call, r procRow) string {
		return "00:00:0" + strconv.Itoa(seeded(c.s.h.name+strconv.Itoa(r.pid), 9))
	}},
	"rss":  {"RSS", true, func(c *call, r procRow) string { return strconv.Itoa(psRSS(c, r)) }},
	"vsz":  {"VSZ", true, func(c *call, r procRow) string { return strconv.Itoa(psVSZ(c, r)) }},
	"nlwp": {"NLWP", true, func(c *call, r procRow) string { return "1" }},
	"ni":   {"NI", true, func(c *call, r procRow) string { return strconv.Itoa(c.s.h.nice[r.pid]) }},
}

func psUser(u string) string {
	if len(u) > 8 {
		return u[:7] + "+"
	}
	return u
}

func psComm(cmd string) string {
	if strings.HasPrefix(cmd, "[") {
		return strings.Trim(cmd, "[]")
	}
	name := path.Base(strings.Fields(cmd + " x")[0])
	if name == "init" {
		return "systemd" // systemd names itself so, started as /sbin/init
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "-"), ":")
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// psStats is a process's %CPU, %MEM, VSZ and RSS, the same in every
// ps format: derived from the host and PID, busy for model servers, none
// for kernel threads.
func (c *call) psStats(r procRow) (cpu, mem float64, vsz, rss int) {
	key := c.s.h.name + "/" + strconv.Itoa(r.pid)
	cpu = float64(seeded(key+"cpu", 30)) / 10
	mem = float64(seeded(key+"mem", 20)) / 10
	vsz = 8000 + seeded(key+"vsz", 900000)
	rss = 2000 + seeded(key+"rss", 90000)
	if r.pid == 1 || r.tty != "?" {
		cpu, mem = 0, 0.1
	}
	if strings.HasPrefix(r.command, "[") { // kernel threads have no memory of their own
		return 0, 0, 0, 0
	}
	if strings.Contains(r.command, "python") || strings.Contains(r.command, "vllm") || strings.Contains(r.command, "serve") {
		cpu += 12.5
		mem += 8.3
	}
	return cpu, mem, vsz, rss
}

func psCPU(c *call, r procRow) float64 { cpu, _, _, _ := c.psStats(r); return cpu }

func psMem(c *call, r procRow) float64 { _, mem, _, _ := c.psStats(r); return mem }

func psRSS(c *call, r procRow) int { _, _, _, rss := c.psStats(r); return rss }

func psVSZ(c *call, r procRow) int { _, _, vsz, _ := c.psStats(r); return vsz }

func psElapsed(d time.Duration) string {
	s := int(d.Seconds())
	days, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d-%02d:%02d:%02d", days, h, m, sec)
	case h > 0:
		return fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}

// psFormatted handles ps calls that choose their columns; ok is false for
// the other forms.
func (c *call) psFormatted() (int, bool) {
	var format []string
	var sortKeys []string
	all := false
	var pids map[int]bool
	var users map[string]bool
	var commands map[string]bool
	noHeader := false
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "-o" || a == "o" || a == "--format" || a == "-O":
			format = append(format, strings.Split(next(), ",")...)
		case strings.HasPrefix(a, "--format="):
			format = append(format, strings.Split(strings.TrimPrefix(a, "--format="), ",")...)
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			format = append(format, strings.Split(a[2:], ",")...)
		case strings.HasPrefix(a, "--sort="):
			sortKeys = strings.Split(strings.TrimPrefix(a, "--sort="), ",")
		case a == "--sort" || a == "k":
			sortKeys = strings.Split(next(), ",")
		case a == "-p" || a == "--pid" || a == "p":
			pids = map[int]bool{}
			for _, v := range strings.Split(next(), ",") {
				n, _ := strconv.Atoi(v)
				pids[n] = true
			}
		case a == "-u" || a == "-U" || a == "--user":
			users = map[string]bool{}
			for _, v := range strings.Split(next(), ",") {
				users[v] = true
			}
		case a == "-C":
			commands = map[string]bool{}
			for _, v := range strings.Split(next(), ",") {
				commands[v] = true
			}
		case a == "--no-headers" || a == "--no-heading" || a == "h":
			noHeader = true
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			for _, f := range a[1:] {
				switch f {
				case 'e', 'A':
					all = true
				case 'o':
				}
			}
			if strings.HasSuffix(a, "o") && len(a) > 2 {
				format = append(format, strings.Split(next(), ",")...)
			}
		default:
			if strings.ContainsAny(a, "ax") {
				all = true
			}
		}
	}
	if len(format) == 0 {
		return 0, false
	}
	type col struct {
		name string
		spec psColumn
	}
	var cols []col
	for _, f := range format {
		name, head, renamed := strings.Cut(f, "=")
		spec, ok := psColumns[strings.ToLower(name)]
		if !ok {
			c.err.printf("error: unknown user-defined format specifier \"%s\"\n\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n", name)
			return 1, true
		}
		if renamed {
			spec.head = head
		}
		cols = append(cols, col{name, spec})
	}
	var rows []procRow
	for _, r := range c.s.procTable(strings.Join(c.args, " ")) {
		switch {
		case pids != nil:
			if !pids[r.pid] {
				continue
			}
		case users != nil:
			if !users[r.user] {
				continue
			}
		case commands != nil:
			if !commands[psComm(r.command)] {
				continue
			}
		case !all:
			if !strings.HasPrefix(r.tty, "pts/") {
				continue
			}
		}
		rows = append(rows, r)
	}
	for k := len(sortKeys) - 1; k >= 0; k-- {
		key := sortKeys[k]
		desc := strings.HasPrefix(key, "-")
		key = strings.TrimLeft(key, "+-")
		spec, ok := psColumns[key]
		if !ok {
			continue
		}
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := spec.value(c, rows[i]), spec.value(c, rows[j])
			fa, ea := strconv.ParseFloat(a, 64)
			fb, eb := strconv.ParseFloat(b, 64)
			less := a < b
			if ea == nil && eb == nil {
				less = fa < fb
			}
			if desc {
				return !less && a != b
			}
			return less
		})
	}
	table := [][]string{}
	allHidden := true
	head := make([]string, len(cols))
	for i, cl := range cols {
		head[i] = cl.spec.head
		if cl.spec.head != "" {
			allHidden = false
		}
	}
	if !noHeader && !allHidden {
		table = append(table, head)
	}
	for _, r := range rows {
		line := make([]string, len(cols))
		for i, cl := range cols {
			line[i] = cl.spec.value(c, r)
		}
		table = append(table, line)
	}
	widths := make([]int, len(cols))
	for _, line := range table {
		for i, v := range line {
			widths[i] = max(widths[i], len(v))
		}
	}
	for i, cl := range cols {
		switch cl.name {
		case "pid", "ppid":
			widths[i] = max(widths[i], 7)
		case "user", "euser":
			widths[i] = max(widths[i], 8)
		default:
			// procps's own widths, which a short value still fills.
			widths[i] = max(widths[i], map[string]int{"uid": 5, "%cpu": 4, "pcpu": 4, "%mem": 4, "pmem": 4,
				"rss": 5, "vsz": 6, "nlwp": 4, "etimes": 7, "ni": 3}[cl.name])
		}
	}
	for _, line := range table {
		var b strings.Builder
		for i, v := range line {
			if i > 0 {
				b.WriteByte(' ')
			}
			last := i == len(line)-1
			switch {
			case cols[i].spec.right:
				b.WriteString(strings.Repeat(" ", widths[i]-len(v)) + v)
			case last:
				b.WriteString(v)
			default:
				b.WriteString(v + strings.Repeat(" ", widths[i]-len(v)))
			}
		}
		c.out.WriteString(b.String() + "\n")
	}
	if len(rows) == 0 {
		return 1, true
	}
	return 0, true
}

// listTimers prints the timers a Debian 12 server has from its packages
// (apt, dpkg, logrotate, man-db, e2scrub, fstrim, systemd-tmpfiles), with
// next and last runs around the world's clock.
func (c *call) listTimers() {
	s := c.s
	now := s.net.clock.Now()
	loc := now.Location()
	type timer struct {
		next, last time.Time
		unit, act  string
	}
	day := func(h, m int, off int) time.Time {
		y, mo, d := now.Date()
		return time.Date(y, mo, d+off, h, m, 0, 0, loc)
	}
	nextAt := func(h, m int) (time.Time, time.Time) {
		t := day(h, m, 0)
		if t.After(now) {
			return t, t.AddDate(0, 0, -1)
		}
		return t.AddDate(0, 0, 1), t
	}
	var ts []timer
	add := func(h, m int, unit, act string) {
		n, l := nextAt(h, m)
		ts = append(ts, timer{n, l, unit, act})
	}
	add(0, 0, "dpkg-db-backup.timer", "dpkg-db-backup.service")
	add(0, 0, "logrotate.timer", "logrotate.service")
	add(6, 17+seeded(s.h.name+"apt", 40), "apt-daily-upgrade.timer", "apt-daily-upgrade.service")
	add(9+seeded(s.h.name+"aptd", 10), seeded(s.h.name+"aptm", 59), "apt-daily.timer", "apt-daily.service")
	add(3+seeded(s.h.name+"man", 3), 12, "man-db.timer", "man-db.service")
	n, l := nextAt(15, 52)
	ts = append(ts, timer{n, l, "systemd-tmpfiles-clean.timer", "systemd-tmpfiles-clean.service"})
	sort.Slice(ts, func(i, j int) bool { return ts[i].next.Before(ts[j].next) })
	rel := func(d time.Duration) string {
		if d < 0 {
			d = -d
		}
		h := int(d.Hours())
		m := int(d.Minutes()) % 60
		if h > 0 {
			return fmt.Sprintf("%dh %dmin", h, m)
		}
		return fmt.Sprintf("%dmin", m)
	}
	out := c.out
	out.WriteString("NEXT                        LEFT          LAST                        PASSED       UNIT                         ACTIVATES                     \n")
	for _, t := range ts {
		out.printf("%-27s %-13s %-27s %-12s %-28s %s\n", t.next.Format("Mon 2006-01-02 15:04:05 MST"), rel(t.next.Sub(now)), t.last.Format("Mon 2006-01-02 15:04:05 MST"), rel(now.Sub(t.last))+" ago", t.unit, t.act)
	}
	out.printf("\n%d timers listed.\nPass --all to see loaded but inactive timers, too.\n", len(ts))
}

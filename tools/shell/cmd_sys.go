package shell

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// ---- processes ----

type procRow struct {
	pid     int
	ppid    int
	user    string
	command string
	start   time.Time
	tty     string
	stat    string
	svc     *service
}

// procTable lists every process of the host as ps sees it, by PID.
func (s *session) procTable(psArgs string) []procRow {
	h := s.h
	rows := []procRow{
		{pid: 1, user: "root", command: "/sbin/init", start: h.boot, tty: "?", stat: "Ss"},
	}
	have := map[int]bool{1: true}
	hasCmd := func(sub string) bool {
		for _, sv := range h.services {
			if sv.pid > 0 && strings.Contains(sv.command, sub) {
				return true
			}
		}
		for _, p := range h.procs {
			if strings.Contains(p.command, sub) {
				return true
			}
		}
		return false
	}
	if !hasCmd("sshd") {
		rows = append(rows, procRow{pid: 507, ppid: 1, user: "root", command: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", start: h.boot, tty: "?", stat: "Ss"})
		have[507] = true
	}
	if !hasCmd("cron") {
		rows = append(rows, procRow{pid: 498, ppid: 1, user: "root", command: "/usr/sbin/cron -f", start: h.boot, tty: "?", stat: "Ss"})
		have[498] = true
	}
	for _, sv := range h.services {
		if sv.pid > 0 && !have[sv.pid] {
			stat := "Ssl"
			if sv.stopped {
				stat = "Tsl"
			}
			rows = append(rows, procRow{pid: sv.pid, ppid: 1, user: sv.user, command: sv.command, start: sv.since, tty: "?", stat: stat, svc: sv})
			have[sv.pid] = true
		}
	}
	for _, p := range h.procs {
		if !have[p.pid] {
			rows = append(rows, p.row())
			have[p.pid] = true
		}
	}
	now := s.net.clock.Now()
	// The session came in over ssh: sshd's privileged monitor, its
	// process for the user (the shell's $PPID), then the login shell.
	priv, sess := s.sessionSSHD()
	for _, r := range []procRow{
		{pid: priv, ppid: h.sshdPID(), user: "root", command: "sshd: " + s.user + " [priv]", start: now, tty: "?", stat: "Ss"},
		{pid: sess, ppid: priv, user: s.user, command: "sshd: " + s.user + "@pts/0", start: now, tty: "?", stat: "S"},
	} {
		if !have[r.pid] {
			rows = append(rows, r)
		}
	}
	rows = append(rows,
		procRow{pid: s.pid, ppid: sess, user: s.user, command: "-bash", start: now, tty: "pts/0", stat: "Ss"},
		procRow{pid: s.pid + 1, ppid: s.pid, user: s.user, command: strings.TrimSpace("ps " + psArgs), start: now, tty: "pts/0", stat: "R+"},
	)
	sort.Slice(rows, func(i, j int) bool { return rows[i].pid < rows[j].pid })
	return rows
}

// sessionSSHD is the PIDs of the sshd processes the session's shell runs
// under: the privileged monitor and the user's (the shell's parent).
func (s *session) sessionSSHD() (priv, sess int) {
	sess = max(s.pid-7, 1)
	return max(sess-3, 1), sess
}

func cpuTime(key string) string {
	secs := seeded(key, 600)
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

func cmdPs(c *call) int {
	if code, ok := c.psFormatted(); ok {
		return code
	}
	psArgs := strings.Join(c.args, " ")
	full, bsd, all := false, false, false
	var pids map[int]bool
	var users map[string]bool
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-p" || a == "--pid" || a == "-u" || a == "-U" || a == "--user":
			if i+1 >= len(c.args) {
				c.err.WriteString("error: list of process IDs must follow -p\n")
				return 1
			}
			i++
			for _, v := range strings.Split(c.args[i], ",") {
				if a == "-p" || a == "--pid" {
					n, err := strconv.Atoi(v)
					if err != nil {
						c.err.WriteString("error: process ID list syntax error\n")
						return 1
					}
					if pids == nil {
						pids = map[int]bool{}
					}
					pids[n] = true
				} else {
					if users == nil {
						users = map[string]bool{}
					}
					users[v] = true
				}
			}
			all = true
		case strings.HasPrefix(a, "-"):
			for _, f := range a[1:] {
				switch f {
				case 'e', 'A':
					all = true
				case 'f', 'F', 'l':
					full = true
				case 'a', 'u', 'x':
					if a == "-aux" || a == "-ux" || a == "-au" {
						bsd, all = true, true
					}
				}
			}
		default:
			if strings.ContainsAny(a, "aux") {
				bsd = true
				if strings.ContainsAny(a, "ax") {
					all = true
				}
			}
		}
	}
	rows := c.s.procTable(psArgs)
	now := c.s.net.clock.Now()
	keep := func(r procRow) bool {
		if pids != nil {
			return pids[r.pid]
		}
		if users != nil {
			return users[r.user]
		}
		if !all {
			return strings.HasPrefix(r.tty, "pts/")
		}
		return true
	}
	startCol := func(t time.Time) string {
		if now.Sub(t) < 24*time.Hour {
			return t.Format("15:04")
		}
		return t.Format("Jan02")
	}
	found := false
	switch {
	case bsd:
		c.out.WriteString("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n")
		for _, r := range rows {
			if !keep(r) {
				continue
			}
			found = true
			key := c.s.h.name + "/" + strconv.Itoa(r.pid)
			cpu, mem, vsz, rss := c.psStats(r)
			tm := cpuTime(key)
			if r.tty != "?" {
				tm = "0:00"
			}
			user := r.user
			if len(user) > 8 {
				user = user[:7] + "+"
			}
			c.out.printf("%-8s %7d %4.1f %4.1f %6d %5d %-8s %-4s %-5s %6s %s\n", user, r.pid, cpu, mem, vsz, rss, r.tty, r.stat, startCol(r.start), tm, r.command)
		}
	case full:
		c.out.WriteString("UID          PID    PPID  C STIME TTY          TIME CMD\n")
		for _, r := range rows {
			if !keep(r) {
				continue
			}
			found = true
			key := c.s.h.name + "/" + strconv.Itoa(r.pid)
			secs := seeded(key, 600)
			user := r.user
			if len(user) > 8 {
				user = user[:7] + "+"
			}
			c.out.printf("%-8s %7d %7d %2d %-5s %-8s %02d:%02d:%02d %s\n", user, r.pid, r.ppid, 0, startCol(r.start), r.tty, secs/3600, secs/60%60, secs%60, r.command)
		}
	default:
		c.out.WriteString("    PID TTY          TIME CMD\n")
		for _, r := range rows {
			if !keep(r) {
				continue
			}
			found = true
			name := path.Base(strings.Fields(r.command + " x")[0])
			name = strings.TrimPrefix(name, "-")
			c.out.printf("%7d %-8s 00:00:00 %s\n", r.pid, r.tty, name)
		}
	}
	if !found {
		return 1
	}
	return 0
}

var signals = map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19, "TSTP": 20}

func signalName(n int) string {
	for k, v := range signals {
		if v == n {
			return "SIG" + k
		}
	}
	return "SIG" + strconv.Itoa(n)
}

// parseSignal reads "9", "KILL", "SIGKILL".
func parseSignal(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 0 && n < 65
	}
	n, ok := signals[strings.TrimPrefix(strings.ToUpper(s), "SIG")]
	return n, ok
}

func cmdKill(c *call) int {
	sig := 15
	args := c.args
	if len(args) > 0 && (args[0] == "-l" || args[0] == "-L") {
		c.out.WriteString(" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 9) SIGKILL\t10) SIGUSR1\n12) SIGUSR2\t15) SIGTERM\t18) SIGCONT\t19) SIGSTOP\n")
		return 0
	}
	if len(args) > 0 && args[0] == "-s" || len(args) > 0 && args[0] == "-n" {
		if len(args) < 2 {
			c.err.WriteString("bash: kill: -s: option requires an argument\n")
			return 2
		}
		n, ok := parseSignal(args[1])
		if !ok {
			c.err.printf("bash: kill: %s: invalid signal specification\n", args[1])
			return 1
		}
		sig, args = n, args[2:]
	} else if len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		n, ok := parseSignal(args[0][1:])
		if !ok {
			c.err.printf("bash: kill: %s: invalid signal specification\n", args[0][1:])
			return 1
		}
		sig, args = n, args[1:]
	}
	if len(args) == 0 {
		c.err.WriteString("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n")
		return 2
	}
	code := 0
	for _, a := range args {
		if j := c.s.findJob(a); j != nil {
			if !c.s.killJob(j, sig) {
				c.err.printf("bash: kill: (%d) - No such process\n", j.pid)
				code = 1
			}
			continue
		}
		if strings.HasPrefix(a, "%") {
			c.err.printf("bash: kill: %s: no such job\n", a)
			code = 1
			continue
		}
		pid, err := strconv.Atoi(a)
		if err != nil {
			c.err.printf("bash: kill: %s: arguments must be process or job IDs\n", a)
			code = 1
			continue
		}
		if msg := c.s.signal(pid, sig); msg != "" {
			c.err.printf("bash: kill: (%d) - %s\n", pid, msg)
			code = 1
		}
	}
	return code
}

// signal delivers sig to pid. It returns "" or the errno text.
func (s *session) signal(pid, sig int) string {
	h := s.h
	var row *procRow
	for _, r := range s.procTable("") {
		if r.pid == pid {
			rr := r
			row = &rr
		}
	}
	if row == nil {
		return "No such process"
	}
	if s.user != "root" && row.user != s.user {
		return "Operation not permitted"
	}
	if sig == 0 {
		return ""
	}
	if sig == 18 || sig == 19 || sig == 20 {
		s.suspend(*row, sig)
		return ""
	}
	if pid == 1 {
		return "" // init ignores signals it has no handler for
	}
	if priv, sess := s.sessionSSHD(); pid == s.pid || pid == s.pid+1 || pid == priv || pid == sess || pid == 507 || pid == 498 {
		return "" // the shell and system daemons outlive this; nothing to model
	}
	if row.svc != nil {
		sv := row.svc
		if sig == 1 {
			sv.log = append(sv.log, logLine{s.net.clock.Now(), fmt.Sprintf("Reloading %s...", sv.unitDesc())})
			return ""
		}
		s.send(world.ProcessKilled, map[string]any{"host": h.name, "pid": int64(pid), "command": row.command, "signal": signalName(sig)})
		now := s.net.clock.Now()
		defer func(n int) { s.logUnit(sv.log[n:]...) }(len(sv.log))
		sv.pid = 0
		sv.since = now
		if sig == 9 {
			sv.state, sv.result = "failed", "signal"
			sv.log = append(sv.log,
				logLine{now, fmt.Sprintf("%s.service: Main process exited, code=killed, status=9/KILL", sv.name)},
				logLine{now, fmt.Sprintf("%s.service: Failed with result 'signal'.", sv.name)})
		} else {
			sv.state, sv.result = "inactive", ""
			sv.log = append(sv.log, logLine{now, fmt.Sprintf("%s.service: Deactivated successfully.", sv.name)})
		}
		s.send(world.ServiceStopped, map[string]any{"host": h.name, "service": sv.name})
		return ""
	}
	s.send(world.ProcessKilled, map[string]any{"host": h.name, "pid": int64(pid), "command": row.command, "signal": signalName(sig)})
	for i, p := range h.procs {
		if p.pid == pid {
			h.procs = append(h.procs[:i], h.procs[i+1:]...)
			break
		}
	}
	return ""
}

// suspend stops (SIGSTOP, SIGTSTP) or continues (SIGCONT) the process of
// row: a service's process stays active for systemd but does nothing
// while stopped. Processes the shell does not model (itself, init, the
// system daemons) are left as they are.
func (s *session) suspend(row procRow, sig int) {
	h := s.h
	stop := sig != 18
	attrs := map[string]any{"host": h.name, "pid": int64(row.pid), "command": row.command}
	switch {
	case row.svc != nil:
		if row.svc.stopped == stop {
			return
		}
		row.svc.stopped = stop
	default:
		var p *process
		for _, q := range h.procs {
			if q.pid == row.pid {
				p = q
			}
		}
		if p == nil {
			return
		}
		st := p.stat
		if st == "" {
			st = "Sl"
		}
		if (st[0] == 'T') == stop {
			return
		}
		if stop {
			p.stat = "T" + st[1:]
		} else {
			p.stat = "S" + st[1:]
		}
	}
	if stop {
		attrs["signal"] = signalName(sig)
		s.send(world.ProcessStopped, attrs)
		return
	}
	s.send(world.ProcessContinued, attrs)
}

func cmdPkill(c *call) int { return c.procMatch(true) }

// ---- systemd ----

type logLine struct {
	t    time.Time
	text string
}

func (sv *service) unitDesc() string {
	if sv.desc == sv.name+".service" {
		return sv.desc
	}
	return sv.name + ".service - " + sv.desc
}

func ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	case d >= 24*time.Hour:
		return fmt.Sprintf("1 day %dh ago", int(d.Hours())-24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dmin ago", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dmin %ds ago", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds ago", int(d.Seconds()))
}

func (s *session) journal(sv *service) []string {
	var out []string
	for _, l := range sv.log {
		src := "systemd[1]"
		out = append(out, fmt.Sprintf("%s %s %s: %s", l.t.Format("Jan 02 15:04:05"), s.h.name, src, l.text))
	}
	return out
}

func (s *session) statusText(sv *service) string {
	var b strings.Builder
	now := s.net.clock.Now()
	dot := "●"
	switch sv.state {
	case "inactive":
		dot = "○"
	case "failed":
		dot = "×"
	}
	en := "disabled"
	if sv.enabled {
		en = "enabled"
	}
	fmt.Fprintf(&b, "%s %s\n", dot, sv.unitDesc())
	fmt.Fprintf(&b, "     Loaded: loaded (%s; %s; preset: enabled)\n", sv.unitPath(), en)
	since := sv.since.Format("Mon 2006-01-02 15:04:05 MST")
	switch sv.state {
	case "active":
		fmt.Fprintf(&b, "     Active: active (running) since %s; %s\n", since, ago(now.Sub(sv.since)))
		prog := path.Base(strings.Fields(sv.command + " x")[0])
		key := s.h.name + "/" + strconv.Itoa(sv.pid)
		fmt.Fprintf(&b, "   Main PID: %d (%s)\n", sv.pid, prog)
		fmt.Fprintf(&b, "      Tasks: %d (limit: 38302)\n", 1+seeded(key+"tasks", 12))
		fmt.Fprintf(&b, "     Memory: %.1fM\n", 8+float64(seeded(key+"memory", 4000))/10)
		fmt.Fprintf(&b, "        CPU: %s.%03ds\n", cpuTime(key), seeded(key+"ms", 1000))
		fmt.Fprintf(&b, "     CGroup: /system.slice/%s.service\n", sv.name)
		fmt.Fprintf(&b, "             └─%d %s\n", sv.pid, sv.command)
	case "failed":
		fmt.Fprintf(&b, "     Active: failed (Result: %s) since %s; %s\n", sv.result, since, ago(now.Sub(sv.since)))
	default:
		fmt.Fprintf(&b, "     Active: inactive (dead) since %s; %s\n", since, ago(now.Sub(sv.since)))
	}
	if lines := s.journal(sv); len(lines) > 0 {
		b.WriteString("\n")
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

func (s *session) stopService(sv *service) {
	if sv.state != "active" {
		return
	}
	now := s.net.clock.Now()
	n := len(sv.log)
	sv.log = append(sv.log,
		logLine{now, fmt.Sprintf("Stopping %s...", sv.unitDesc())},
		logLine{now, fmt.Sprintf("%s.service: Deactivated successfully.", sv.name)},
		logLine{now, fmt.Sprintf("Stopped %s.", sv.unitDesc())})
	s.logUnit(sv.log[n:]...)
	sv.state, sv.result, sv.pid, sv.since = "inactive", "", 0, now
	s.send(world.ServiceStopped, map[string]any{"host": s.h.name, "service": sv.name})
}

func (s *session) startService(sv *service) {
	if sv.state == "active" {
		return
	}
	now := s.net.clock.Now()
	sv.pid = s.h.nextPID
	s.h.nextPID += 3
	sv.state, sv.result, sv.since = "active", "", now
	sv.log = append(sv.log, logLine{now, fmt.Sprintf("Started %s.", sv.unitDesc())})
	s.logUnit(sv.log[len(sv.log)-1])
	s.send(world.ServiceStarted, map[string]any{"host": s.h.name, "service": sv.name})
}

func cmdSystemctl(c *call) int {
	var verb string
	var names []string
	now, all, quiet, valueOnly := false, false, false, false
	var props []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-p" || a == "--property":
			if i+1 < len(c.args) {
				i++
				props = append(props, strings.Split(c.args[i], ",")...)
			}
		case strings.HasPrefix(a, "--property="):
			props = append(props, strings.Split(strings.TrimPrefix(a, "--property="), ",")...)
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			props = append(props, strings.Split(a[2:], ",")...)
		case a == "--value":
			valueOnly = true
		case a == "--now":
			now = true
		case a == "--all" || a == "-a":
			all = true
		case a == "-q" || a == "--quiet":
			quiet = true
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			names = append(names, a)
		}
	}
	_ = all
	s := c.s
	h := s.h
	if verb == "" {
		verb = "list-units"
	}
	unit := func(n string) string {
		if strings.HasSuffix(n, ".service") {
			return n
		}
		return n + ".service"
	}
	needRoot := func(what, n string) bool {
		if s.user == "root" {
			return false
		}
		c.err.printf("Failed to %s %s: Interactive authentication required.\nSee system logs and 'systemctl status %s' for details.\n", what, unit(n), unit(n))
		return true
	}
	switch verb {
	case "list-timers":
		c.listTimers()
		return 0
	case "list-units", "list-unit-files":
		if verb == "list-units" {
			c.out.WriteString("  UNIT                          LOAD   ACTIVE   SUB     DESCRIPTION\n")
			count := 0
			for _, sv := range h.sortedServices() {
				sub := map[string]string{"active": "running", "inactive": "dead", "failed": "failed"}[sv.state]
				if sv.state == "inactive" && !all {
					continue
				}
				count++
				dot := " "
				if sv.state == "failed" {
					dot = "●"
				}
				c.out.printf("%s %-29s loaded %-8s %-7s %s\n", dot, unit(sv.name), sv.state, sub, sv.desc)
			}
			c.out.printf("\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n%d loaded units listed.\n", count)
			return 0
		}
		c.out.WriteString("UNIT FILE                     STATE    PRESET\n")
		for _, sv := range h.sortedServices() {
			st := "disabled"
			if sv.enabled {
				st = "enabled"
			}
			c.out.printf("%-29s %-8s enabled\n", unit(sv.name), st)
		}
		c.out.printf("\n%d unit files listed.\n", len(h.services))
		return 0
	case "daemon-reload":
		if s.user != "root" {
			c.err.WriteString("Failed to reload daemon: Interactive authentication required.\n")
			return 1
		}
		return 0
	}
	if len(names) == 0 {
		if verb == "status" {
			c.out.printf("● %s\n    State: running\n    Units: %d loaded\n     Jobs: 0 queued\n   Failed: 0 units\n", h.name, len(h.services)+84)
			return 0
		}
		c.err.printf("Too few arguments.\n")
		return 1
	}
	code := 0
	for i, n := range names {
		sv := h.service(n)
		switch verb {
		case "status":
			if sv == nil {
				c.err.printf("Unit %s could not be found.\n", unit(n))
				code = 4
				continue
			}
			if i > 0 {
				c.out.WriteString("\n")
			}
			c.out.WriteString(s.statusText(sv))
			if sv.state != "active" && code == 0 {
				code = 3
			}
		case "show":
			if sv == nil {
				sv = &service{name: n, state: "inactive"}
			}
			c.out.WriteString(s.unitProperties(sv, props, valueOnly))
		case "is-active", "is-failed":
			// Both print the state; they differ in the state that succeeds
			// and in the status otherwise (as systemctl does).
			want, miss := "active", 3
			if verb == "is-failed" {
				want, miss = "failed", 1
			}
			st := "inactive"
			if sv != nil {
				st = sv.state
			}
			if !quiet {
				c.out.WriteString(st + "\n")
			}
			if st != want {
				code = miss
			}
		case "is-enabled":
			if sv == nil {
				c.err.printf("Failed to get unit file state for %s: No such file or directory\n", unit(n))
				code = 1
				continue
			}
			st := "disabled"
			if sv.enabled {
				st = "enabled"
			}
			if !quiet {
				c.out.WriteString(st + "\n")
			}
			if !sv.enabled {
				code = 1
			}
		case "cat":
			if sv == nil {
				c.err.printf("No files found for %s.\n", unit(n))
				code = 1
				continue
			}
			p := sv.unitPath()
			text, err := h.fs.ReadContent(p)
			if err != nil {
				c.err.printf("No files found for %s.\n", unit(n))
				code = 1
				continue
			}
			c.out.printf("# %s\n%s", p, text)
		case "stop", "kill":
			if sv == nil {
				c.err.printf("Failed to stop %s: Unit %s not loaded.\n", unit(n), unit(n))
				code = 5
				continue
			}
			if needRoot("stop", n) {
				code = 1
				continue
			}
			s.stopService(sv)
		case "start":
			if sv == nil {
				c.err.printf("Failed to start %s: Unit %s not found.\n", unit(n), unit(n))
				code = 5
				continue
			}
			if needRoot("start", n) {
				code = 1
				continue
			}
			s.startService(sv)
		case "restart", "reload", "reload-or-restart", "try-restart":
			if sv == nil {
				c.err.printf("Failed to %s %s: Unit %s not found.\n", verb, unit(n), unit(n))
				code = 5
				continue
			}
			if needRoot(verb, n) {
				code = 1
				continue
			}
			if verb == "reload" {
				if sv.state != "active" {
					c.err.printf("Job for %s failed.\n", unit(n))
					code = 1
				}
				continue
			}
			if verb == "try-restart" && sv.state != "active" {
				continue
			}
			s.stopService(sv)
			s.startService(sv)
		case "disable", "enable", "mask", "unmask":
			if sv == nil {
				c.err.printf("Failed to %s unit: Unit file %s does not exist.\n", verb, unit(n))
				code = 1
				continue
			}
			if s.user != "root" {
				c.err.printf("Failed to %s unit: Interactive authentication required.\n", verb)
				code = 1
				continue
			}
			link := "/etc/systemd/system/multi-user.target.wants/" + unit(sv.name)
			switch verb {
			case "disable", "mask":
				if verb == "mask" {
					c.err.printf("Created symlink /etc/systemd/system/%s → /dev/null.\n", unit(sv.name))
				}
				if sv.enabled {
					sv.enabled = false
					c.err.printf("Removed \"%s\".\n", link)
					s.send(world.ServiceDisabled, map[string]any{"host": h.name, "service": sv.name})
				}
				if now {
					s.stopService(sv)
				}
			case "enable", "unmask":
				if verb == "unmask" {
					continue
				}
				if !sv.enabled {
					sv.enabled = true
					c.err.printf("Created symlink %s → /etc/systemd/system/%s.\n", link, unit(sv.name))
					s.send(world.ServiceEnabled, map[string]any{"host": h.name, "service": sv.name})
				}
				if now {
					s.startService(sv)
				}
			}
		default:
			c.err.printf("Unknown command verb '%s'.\n", verb)
			return 1
		}
	}
	return code
}

func cmdService(c *call) int {
	if len(c.args) == 0 {
		c.err.WriteString("Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n")
		return 1
	}
	if c.args[0] == "--status-all" {
		for _, sv := range c.s.h.sortedServices() {
			mark := "-"
			if sv.state == "active" {
				mark = "+"
			}
			c.out.printf(" [ %s ]  %s\n", mark, sv.name)
		}
		return 0
	}
	if len(c.args) < 2 {
		c.err.printf("Usage: service %s {start|stop|restart|status}\n", c.args[0])
		return 1
	}
	sub := &call{s: c.s, name: "systemctl", args: []string{c.args[1], c.args[0]}, in: c.in, out: c.out, err: c.err}
	return cmdSystemctl(sub)
}

func cmdJournalctl(c *call) int {
	var units []string
	n := -1
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-u" || a == "--unit":
			if i+1 < len(c.args) {
				i++
				units = append(units, strings.TrimSuffix(c.args[i], ".service"))
			}
		case strings.HasPrefix(a, "--unit="):
			units = append(units, strings.TrimSuffix(strings.TrimPrefix(a, "--unit="), ".service"))
		case strings.HasPrefix(a, "-u") && len(a) > 2:
			units = append(units, strings.TrimSuffix(a[2:], ".service"))
		case a == "-n" || a == "--lines":
			if i+1 < len(c.args) {
				i++
				n, _ = strconv.Atoi(c.args[i])
			}
		}
	}
	lines := c.s.journalLines(units)
	if n >= 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		c.out.WriteString("-- No entries --\n")
		return 0
	}
	c.out.WriteString(joinLines(lines))
	return 0
}

// ---- identity and time ----

func cmdWhoami(c *call) int {
	c.out.WriteString(c.s.user + "\n")
	return 0
}

func cmdHostname(c *call) int {
	if len(c.args) > 0 && (c.args[0] == "-I" || c.args[0] == "-i" || c.args[0] == "--all-ip-addresses") {
		c.out.printf("%s \n", c.s.h.ipAddr()) // the address ip addr shows
		return 0
	}
	if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") {
		if c.s.user != "root" {
			c.err.WriteString("hostname: you must be root to change the host name\n")
			return 1
		}
		return 0
	}
	short := c.s.h.name
	if i := strings.IndexByte(short, '.'); i > 0 {
		short = short[:i]
	}
	fqdn := c.s.fqdn(short)
	switch {
	case c.name == "dnsdomainname" || len(c.args) > 0 && (c.args[0] == "-d" || c.args[0] == "--domain"):
		_, dom, _ := strings.Cut(fqdn, ".")
		c.out.WriteString(dom + "\n")
	case len(c.args) > 0 && (c.args[0] == "-f" || c.args[0] == "--fqdn" || c.args[0] == "--long" || c.args[0] == "-A" || c.args[0] == "--all-fqdns"):
		if c.args[0] == "-A" || c.args[0] == "--all-fqdns" {
			c.out.WriteString(fqdn + " \n")
		} else {
			c.out.WriteString(fqdn + "\n")
		}
	case len(c.args) > 0 && (c.args[0] == "-s" || c.args[0] == "--short"):
		c.out.WriteString(short + "\n")
	default:
		c.out.WriteString(c.s.h.name + "\n")
	}
	return 0
}

// fqdn is the host's canonical name as the resolver finds it: the first
// name of the /etc/hosts line that lists short, or short itself.
func (s *session) fqdn(short string) string {
	for _, l := range splitLines(s.sysText("/etc/hosts")) {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		for _, n := range f[1:] {
			if n == short {
				return f[1]
			}
		}
	}
	return short
}

// cmdID is GNU id over /etc/passwd and /etc/group, so that it agrees with
// groups, getent and ls -l.
func cmdID(c *call) int {
	var only rune // 'u', 'g' or 'G'
	names := false
	var users []string
	bad := func(msg string) int {
		c.errorf("%s", msg)
		c.err.WriteString("Try 'id --help' for more information.\n")
		return 1
	}
	for _, a := range c.args {
		switch {
		case a == "--user":
			only = 'u'
		case a == "--group":
			only = 'g'
		case a == "--groups":
			only = 'G'
		case a == "--name":
			names = true
		case a == "--real" || a == "--zero":
		case strings.HasPrefix(a, "--"):
			return bad(fmt.Sprintf("unrecognized option '%s'", a))
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, r := range a[1:] {
				switch r {
				case 'u', 'g', 'G':
					if only != 0 && only != r {
						return bad("cannot print \"only\" of more than one choice")
					}
					only = r
				case 'n':
					names = true
				case 'r', 'z':
				default:
					return bad(fmt.Sprintf("invalid option -- '%c'", r))
				}
			}
		default:
			users = append(users, a)
		}
	}
	if names && only == 0 {
		return bad("cannot print only names or real IDs in default format")
	}
	if len(users) == 0 {
		users = []string{c.s.user}
	}
	code := 0
	for _, user := range users {
		var acct *account
		for _, a := range c.s.accounts() {
			if a.name == user {
				acct = &a
				break
			}
		}
		if acct == nil {
			c.errorf("%s: no such user", quoteName(user))
			code = 1
			continue
		}
		gs := c.s.userGroups(user)
		primary := group{name: user, gid: acct.gid}
		if len(gs) > 0 {
			primary = gs[0]
		}
		show := func(id int, name string) string {
			if names {
				return name
			}
			return strconv.Itoa(id)
		}
		switch only {
		case 'u':
			c.out.WriteString(show(acct.uid, acct.name) + "\n")
		case 'g':
			c.out.WriteString(show(primary.gid, primary.name) + "\n")
		case 'G':
			parts := make([]string, len(gs))
			for i, g := range gs {
				parts[i] = show(g.gid, g.name)
			}
			c.out.WriteString(strings.Join(parts, " ") + "\n")
		default:
			parts := make([]string, len(gs))
			for i, g := range gs {
				parts[i] = fmt.Sprintf("%d(%s)", g.gid, g.name)
			}
			c.out.printf("uid=%d(%s) gid=%d(%s) groups=%s\n", acct.uid, acct.name, primary.gid, primary.name, strings.Join(parts, ","))
		}
	}
	return code
}

// strftime formats t with the common date(1) conversions.
func strftime(f string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		// GNU's flags (%-d, %_H, %^a), a width (%10s) and %:z, %::z.
		j := i + 1
		flag := byte(0)
		for j < len(f) && strings.IndexByte("-_0^#", f[j]) >= 0 {
			flag = f[j]
			j++
		}
		width := 0
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			width = width*10 + int(f[j]-'0')
			j++
		}
		colons := 0
		for j < len(f) && f[j] == ':' {
			colons++
			j++
		}
		if j >= len(f) {
			b.WriteString(f[i:])
			break
		}
		if flag != 0 || width > 0 || colons > 0 || strings.IndexByte("klPrwxXCUVGgu", f[j]) >= 0 {
			b.WriteString(strftimeExt(f[j], flag, width, colons, t))
			i = j
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'N':
			b.WriteString(fmt.Sprintf("%09d", t.Nanosecond()))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case 'j':
			b.WriteString(fmt.Sprintf("%03d", t.YearDay()))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// strftimeExt is a conversion with GNU's flags, width or colons, and the
// conversions strftime's table lacks.
func strftimeExt(conv, flag byte, width, colons int, t time.Time) string {
	var v string
	numeric := true
	switch conv {
	case 'z':
		_, off := t.Zone()
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		switch colons {
		case 0:
			v = fmt.Sprintf("%c%02d%02d", sign, off/3600, off/60%60)
		case 1:
			v = fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
		default:
			v = fmt.Sprintf("%c%02d:%02d:%02d", sign, off/3600, off/60%60, off%60)
		}
		numeric = false
	case 'k':
		v = fmt.Sprintf("%2d", t.Hour())
	case 'l':
		v = fmt.Sprintf("%2d", (t.Hour()+11)%12+1)
	case 'P':
		v, numeric = strings.ToLower(t.Format("PM")), false
	case 'r':
		v, numeric = t.Format("03:04:05 PM"), false
	case 'x':
		v, numeric = t.Format("01/02/06"), false
	case 'X':
		v, numeric = t.Format("15:04:05"), false
	case 'w':
		v = strconv.Itoa(int(t.Weekday()))
	case 'u':
		v = strconv.Itoa((int(t.Weekday())+6)%7 + 1)
	case 'C':
		v = fmt.Sprintf("%02d", t.Year()/100)
	case 'U':
		v = fmt.Sprintf("%02d", (t.YearDay()+6-int(t.Weekday()))/7)
	case 'V':
		_, w := t.ISOWeek()
		v = fmt.Sprintf("%02d", w)
	case 'G':
		y, _ := t.ISOWeek()
		v = strconv.Itoa(y)
	case 'g':
		y, _ := t.ISOWeek()
		v = fmt.Sprintf("%02d", y%100)
	default:
		v = strftime("%"+string(conv), t)
		numeric = strings.IndexByte("YymdeHIMSjsN", conv) >= 0
	}
	switch flag {
	case '-':
		if numeric {
			if t := strings.TrimLeft(v, "0 "); t != "" {
				v = t
			} else {
				v = "0"
			}
		}
	case '_':
		if numeric {
			n := len(v)
			t := strings.TrimLeft(v, "0 ")
			if t == "" {
				t = "0"
			}
			v = strings.Repeat(" ", n-len(t)) + t
		}
	case '^':
		v = strings.ToUpper(v)
	}
	if len(v) < width {
		pad := " "
		if numeric && flag != '_' || flag == '0' {
			pad = "0"
		}
		v = strings.Repeat(pad, width-len(v)) + v
	}
	return v
}

func cmdDate(c *call) int {
	// The world's clock, in the scenario's zone or the one TZ names.
	now := c.s.net.clock.Now()
	if tz, ok := c.s.environment()["TZ"]; ok {
		now = now.In(tzLocation(tz))
	}
	return c.date(now)
}

// tzLocation is the zone a TZ value names, as glibc reads it: an IANA name
// (with or without a leading colon), UTC, or, for a name it cannot find,
// UTC under that name.
func tzLocation(tz string) *time.Location {
	name := strings.TrimPrefix(tz, ":")
	switch name {
	case "", "UTC", "UTC0", "GMT", "GMT0", "Etc/UTC", "Universal", "Zulu":
		if name == "" || strings.HasPrefix(name, "UTC") || name == "Etc/UTC" {
			return time.UTC
		}
		return time.FixedZone(strings.TrimSuffix(name, "0"), 0)
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	abbr := strings.TrimRightFunc(name, func(r rune) bool { return r < 'A' || r > 'z' })
	if len(abbr) < 3 {
		abbr = "UTC"
	}
	return time.FixedZone(abbr, 0)
}

func cmdUname(c *call) int {
	h := c.s.h.name
	parts := map[byte]string{'s': "Linux", 'n': h, 'r': kernelRelease, 'v': kernelVersion, 'm': "x86_64", 'p': "unknown", 'i': "unknown", 'o': "GNU/Linux"}
	if len(c.args) == 0 {
		c.out.WriteString("Linux\n")
		return 0
	}
	var want []byte
	for _, a := range c.args {
		if a == "-a" || a == "--all" {
			c.out.printf("Linux %s %s %s x86_64 GNU/Linux\n", h, kernelRelease, kernelVersion)
			return 0
		}
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			c.errorf("extra operand %s", quoteName(a))
			return 1
		}
		for j := 1; j < len(a); j++ {
			if _, ok := parts[a[j]]; !ok {
				return c.badFlag(fmt.Sprintf("invalid option -- '%c'", a[j]), 1)
			}
			want = append(want, a[j])
		}
	}
	var out []string
	for _, k := range []byte("snrvmpio") {
		for _, w := range want {
			if w == k {
				out = append(out, parts[k])
				break
			}
		}
	}
	c.out.WriteString(strings.Join(out, " ") + "\n")
	return 0
}

func cmdUptime(c *call) int {
	fl, _, bad := parseFlags(c.args, flagSpec{bools: "psV", long: map[string]string{"pretty": "p", "since": "s", "version": "V"}})
	if bad != "" {
		c.err.printf("uptime: %s\n\nUsage:\n uptime [options]\n", bad)
		return 1
	}
	switch {
	case fl.has("V"):
		c.out.WriteString("uptime from procps-ng 4.0.2\n")
	case fl.has("s"):
		c.out.WriteString(c.s.h.boot.In(c.s.net.clock.Now().Location()).Format("2006-01-02 15:04:05") + "\n")
	case fl.has("p"):
		c.out.WriteString(upPretty(c.s.net.clock.Now().Sub(c.s.h.boot)) + "\n")
	default:
		c.out.WriteString(c.s.uptimeLine() + "\n")
	}
	return 0
}

func cmdFree(c *call) int {
	human := false
	div := int64(1) // KiB, free's default
	for _, a := range c.args {
		switch a {
		case "-h", "--human":
			human = true
		case "-b", "--bytes":
			div = -1024
		case "-k", "--kibi":
			div = 1
		case "-m", "--mebi":
			div = 1 << 10
		case "-g", "--gibi":
			div = 1 << 20
		}
	}
	total, used, free, shared, cache := c.s.h.memFree()
	f := func(kb int64) string {
		switch {
		case human:
			return humanSize(kb * 1024)
		case div < 0:
			return strconv.FormatInt(kb*1024, 10)
		}
		return strconv.FormatInt(kb/div, 10)
	}
	c.out.WriteString("               total        used        free      shared  buff/cache   available\n")
	c.out.printf("Mem:     %11s %11s %11s %11s %11s %11s\n", f(total), f(used), f(free), f(shared), f(cache), f(total-used))
	c.out.printf("Swap:    %11s %11s %11s\n", f(0), f(0), f(0))
	return 0
}

func cmdNproc(c *call) int {
	c.out.printf("%d\n", c.s.h.cpus())
	return 0
}

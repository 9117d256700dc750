package shell

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// This file keeps /var/log growing as the world runs, in the simulated
// clock's time: sshd's lines when a session arrives from another host,
// sudo's when a command runs as root, systemd's when a unit stops or
// starts, cron's hourly run each time the clock passes :17. The host
// writes these lines, not the assistant, so they make no world event. A
// log the assistant deleted stays deleted (rsyslog goes on writing to the
// file it has open until it is restarted); one it truncated grows again
// from where it is.

// logState is what a host's logger remembers between commands.
type logState struct {
	cron     time.Time // cron's runs are logged up to here
	inCron   bool
	sessions int // the last logind session number handed out
	// at is the clock time of the last line and stamp the time it was
	// stamped with: lines of one moment get increasing microseconds.
	at, stamp time.Time
}

// login is an ssh session whose end is logged when the command that
// opened it ends.
type login struct {
	h          *host
	pid, port  int
	user, from string
}

// stampFor returns the time a line logged at clock time t shows: t and a
// few hundred milliseconds at most, later than every line before it.
func (h *host) stampFor(t time.Time) time.Time {
	next := t.Add(time.Duration(logJitter(h.name, t)%400_000) * time.Microsecond)
	if t.Equal(h.logs.at) {
		next = h.logs.stamp.Add(time.Duration(40+logJitter(h.name, h.logs.stamp)%900) * time.Microsecond)
	}
	if !next.After(h.logs.stamp) {
		next = h.logs.stamp.Add(time.Microsecond)
	}
	h.logs.at, h.logs.stamp = t, next
	return next
}

// logf appends one line to /var/log/<file> on h, logged at clock time t
// (cron's runs up to t first, so that the files stay in time order).
func (h *host) logf(file string, t time.Time, format string, a ...any) {
	h.logCron(t)
	h.logLine(file, h.stampFor(t), fmt.Sprintf(format, a...))
}

func (h *host) logLine(file string, t time.Time, text string) {
	p := "/var/log/" + file
	b, err := h.fs.Read(p)
	if err != nil || b.Declared {
		return
	}
	line := fmt.Sprintf("%s %s %s\n", syslogStamp(t), shortName(h.name), text)
	if len(b.Content)+len(line) > vfs.MaxContent {
		return
	}
	_, _ = h.fs.Write(p, vfs.Content(b.Content+line), vfs.WriteOptions{ModTime: t.Truncate(time.Second)})
}

// logCron logs cron's hourly runs on h from its last logged run up to now,
// as logTree does for the time before the world started.
func (h *host) logCron(now time.Time) {
	if h.logs.inCron || h.logs.cron.IsZero() || !now.After(h.logs.cron) {
		return
	}
	h.logs.inCron = true
	defer func() { h.logs.inCron = false }()
	next := h.logs.cron.Truncate(time.Hour).Add(17 * time.Minute)
	if !next.After(h.logs.cron) {
		next = next.Add(time.Hour)
	}
	for t := next; !t.After(now); t = t.Add(time.Hour) {
		pid := h.nextPID
		h.nextPID += 2
		at := t.Add(time.Second)
		h.logf("syslog", at, "CRON[%d]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)", pid)
		h.logf("auth.log", at, "CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", pid)
		h.logf("auth.log", at, "CRON[%d]: pam_unix(cron:session): session closed for user root", pid)
	}
	h.logs.cron = now
}

// logJitter is a deterministic sub-second offset for a line at t.
func logJitter(name string, t time.Time) int64 {
	f := fnv.New64a()
	fmt.Fprintf(f, "%s\x00%d", name, t.UnixNano())
	return int64(f.Sum64() % 999_983)
}

// logLogin logs a session opened on h by user over ssh from host from.
func (n *Network) logLogin(h, from *host, user string, pid int, now time.Time) {
	f := fnv.New32a()
	fmt.Fprintf(f, "%s\x00%s\x00%d", h.name, from.name, now.UnixNano())
	port := 32768 + int(f.Sum32()%28232) // Linux's ephemeral ports
	ip := from.prof.ip
	uid := h.uidOf(user)
	h.logs.sessions++
	if h.logs.sessions == 1 {
		h.logs.sessions = 200 + int(f.Sum32()%3000)
	}
	h.logf("auth.log", now, "sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 %s", pid, user, ip, port, fingerprint(ed25519PubBlob(from.prof.userKey)))
	h.logf("auth.log", now, "sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)", pid, user, uid)
	h.logf("auth.log", now, "systemd-logind[%d]: New session %d of user %s.", h.sshdPID()-3, h.logs.sessions, user)
	n.logins = append(n.logins, login{h: h, pid: pid, port: port, user: user, from: ip})
}

// logLogouts logs the end of the ssh sessions opened since the first from
// of n.logins, newest first, at now.
func (n *Network) logLogouts(from int, now time.Time) {
	for i := len(n.logins) - 1; i >= from; i-- {
		l := n.logins[i]
		l.h.logf("auth.log", now, "sshd[%d]: Received disconnect from %s port %d:11: disconnected by user", l.pid, l.from, l.port)
		l.h.logf("auth.log", now, "sshd[%d]: Disconnected from user %s %s port %d", l.pid, l.user, l.from, l.port)
		l.h.logf("auth.log", now, "sshd[%d]: pam_unix(sshd:session): session closed for user %s", l.pid, l.user)
	}
	n.logins = n.logins[:from]
}

// logSudo logs a command run through sudo by the session's user.
func (s *session) logSudo(target string, args []string) {
	now := s.net.clock.Now()
	cmd := "/bin/bash"
	if len(args) > 0 {
		cmd = args[0]
		if !strings.HasPrefix(cmd, "/") {
			cmd = binPath(cmd)
		}
		cmd = strings.Join(append([]string{cmd}, args[1:]...), " ")
	}
	h := s.h
	h.logf("auth.log", now, "sudo: %8s : TTY=pts/0 ; PWD=%s ; USER=%s ; COMMAND=%s", s.user, s.cwd, target, cmd)
	h.logf("auth.log", now, "sudo: pam_unix(sudo:session): session opened for user %s(uid=%d) by %s(uid=%d)", target, h.uidOf(target), s.user, h.uidOf(s.user))
	h.logf("auth.log", now, "sudo: pam_unix(sudo:session): session closed for user %s", target)
}

// logUnit mirrors a unit's journal lines into syslog, as rsyslog does.
func (s *session) logUnit(lines ...logLine) {
	for _, l := range lines {
		s.h.logf("syslog", l.t, "systemd[1]: %s", l.text)
	}
}

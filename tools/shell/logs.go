package shell

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// This file writes /var/log as a server that has been up a while holds
// it: the boot, the services starting, cron's hourly runs, logins, the
// last upgrade. Every line is derived from the host's profile, its
// services and the clock, so the logs agree with ps, uptime and the units.

type logLineAt struct {
	t    time.Time
	text string
}

type logBook struct {
	host  string
	lines map[string][]logLineAt
}

func (b *logBook) add(file string, t time.Time, format string, a ...any) {
	b.lines[file] = append(b.lines[file], logLineAt{t, fmt.Sprintf(format, a...)})
}

// syslogStamp is rsyslog's default format on Debian 12 (RFC 3339 with
// microseconds).
func syslogStamp(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000-07:00") }

// logTree builds /var/log for h at now.
func logTree(h *host, p *profile, ep epochs, now time.Time, all map[string]*profile, reachedBy []string) []vfs.SystemFile {
	r := hostRand(0, p.machineID, "logs")
	loc := now.Location()
	b := &logBook{host: shortName(h.name), lines: map[string][]logLineAt{}}
	boot := ep.boot.In(loc)
	// Weekly rotation: the current files start at the last Sunday midnight
	// or at boot, whichever is later.
	rot := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -int(now.Weekday()))
	from := rot
	if boot.After(from) {
		from = boot
	}
	us := func(t time.Time) time.Time { return t.Add(time.Duration(r.IntN(999_999)) * time.Microsecond) }

	if !boot.Before(from) {
		t := boot
		b.add("kern.log", t, "kernel: [    0.000000] Linux version %s (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) %s", kernelRelease, kernelVersion)
		b.add("kern.log", t, "kernel: [    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-%s ro quiet", kernelRelease)
		b.add("kern.log", t.Add(time.Second), "kernel: [    1.284113] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.")
		b.add("kern.log", t.Add(2*time.Second), "kernel: [    2.021554] e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None")
		b.lines["syslog"] = append(b.lines["syslog"], b.lines["kern.log"]...)
		b.add("syslog", t.Add(3*time.Second), "systemd[1]: Started systemd-journald.service - Journal Service.")
		b.add("syslog", t.Add(4*time.Second), "systemd[1]: Started cron.service - Regular background program processing daemon.")
		b.add("syslog", t.Add(4*time.Second), "systemd[1]: Started ssh.service - OpenBSD Secure Shell server.")
		for _, sv := range h.services {
			if sv.state == "active" {
				b.add("syslog", sv.since, "systemd[1]: Started %s.service - %s.", sv.name, sv.desc)
			}
		}
		b.add("syslog", t.Add(6*time.Second), "systemd[1]: Reached target multi-user.target - Multi-User System.")
		b.add("syslog", t.Add(7*time.Second), "systemd[1]: Startup finished in 2.113s (kernel) + 4.871s (userspace) = 6.984s.")
	}
	cronPID := 0
	for _, pr := range h.procs {
		if strings.HasPrefix(pr.command, "/usr/sbin/cron") {
			cronPID = pr.pid
		}
	}
	// Cron: hourly at :17 and daily at 6:25, each in its own process.
	pid := h.prof.pidBase*20 + r.IntN(5000)
	first := from.Truncate(time.Hour).Add(17 * time.Minute)
	for t := first; t.Before(now); t = t.Add(time.Hour) {
		if t.Before(from) {
			continue
		}
		pid += 40 + r.IntN(900)
		b.add("syslog", us(t.Add(time.Second)), "CRON[%d]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)", pid)
		b.add("auth.log", us(t.Add(time.Second)), "CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", pid)
		b.add("auth.log", us(t.Add(time.Second)), "CRON[%d]: pam_unix(cron:session): session closed for user root", pid)
		if t.Hour() == 6 {
			d := t.Add(8 * time.Minute)
			pid += 3
			b.add("syslog", us(d), "CRON[%d]: (root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })", pid)
		}
		if t.Hour() == 0 {
			b.add("syslog", us(t.Add(-17*time.Minute)), "systemd[1]: Starting logrotate.service - Rotate log files...")
			b.add("syslog", us(t.Add(-17*time.Minute+2*time.Second)), "systemd[1]: logrotate.service: Deactivated successfully.")
			b.add("syslog", us(t.Add(-17*time.Minute+2*time.Second)), "systemd[1]: Finished logrotate.service - Rotate log files.")
		}
		if t.Hour() == 3 || t.Hour() == 15 {
			b.add("syslog", us(t.Add(21*time.Minute)), "systemd[1]: Starting apt-daily.service - Daily apt download activities...")
			b.add("syslog", us(t.Add(21*time.Minute+9*time.Second)), "systemd[1]: apt-daily.service: Deactivated successfully.")
			b.add("syslog", us(t.Add(21*time.Minute+9*time.Second)), "systemd[1]: Finished apt-daily.service - Daily apt download activities.")
		}
	}
	_ = cronPID
	// Logins from the hosts that reach this one, a few a day in working
	// hours.
	sshd := h.sshdPID()
	for day := from; day.Before(now); day = day.AddDate(0, 0, 1) {
		for _, o := range reachedBy {
			op := all[o]
			if op == nil {
				continue
			}
			for k := 0; k < 1+r.IntN(3); k++ {
				t := time.Date(day.Year(), day.Month(), day.Day(), 8+r.IntN(10), r.IntN(60), r.IntN(60), 0, loc)
				if t.Before(from) || !t.Before(now.Add(-10*time.Minute)) {
					continue
				}
				pid += 50 + r.IntN(700)
				user := h.user
				port := 40000 + r.IntN(25000)
				b.add("auth.log", us(t), "sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 %s", pid, user, op.ip, port, fingerprint(ed25519PubBlob(op.userKey)))
				b.add("auth.log", us(t), "sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)", pid, user)
				b.add("auth.log", us(t), "systemd-logind[%d]: New session %d of user %s.", sshd-3, 300+r.IntN(4000), user)
				d := t.Add(time.Duration(20+r.IntN(900)) * time.Second)
				if d.Before(now) {
					b.add("auth.log", us(d), "sshd[%d]: Received disconnect from %s port %d:11: disconnected by user", pid, op.ip, port)
					b.add("auth.log", us(d), "sshd[%d]: pam_unix(sshd:session): session closed for user %s", pid, user)
				}
			}
		}
	}
	for name, lines := range b.lines {
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].t.Before(lines[j].t) })
		b.lines[name] = lines
	}

	f := &sysFiles{at: boot}
	last := func(name string) time.Time {
		ls := b.lines[name]
		if len(ls) == 0 {
			return from
		}
		return ls[len(ls)-1].t.Truncate(time.Second)
	}
	for _, name := range []string{"syslog", "auth.log", "kern.log"} {
		var text strings.Builder
		for _, l := range b.lines[name] {
			fmt.Fprintf(&text, "%s %s %s\n", syslogStamp(l.t), b.host, l.text)
		}
		// rsyslog's files are root:adm 0640 on Debian: the members of adm
		// (the login user among them) read them, others cannot.
		var mode fs.FileMode = 0o640
		owner, group := "root", "adm"
		f.file("/var/log/"+name, text.String(), mode, owner, last(name))
		f.list[len(f.list)-1].Group = group
		// Last week's file and older compressed ones.
		f.list = append(f.list, vfs.SystemFile{Path: "/var/log/" + name + ".1", Blob: vfs.Declared(int64(40_000+r.IntN(400_000)), "", h.name+name+"1"), Mode: mode, Owner: owner, Group: group, ModTime: rot.Add(-time.Duration(r.IntN(600)) * time.Second)})
		for k := 2; k <= 4; k++ {
			f.list = append(f.list, vfs.SystemFile{Path: fmt.Sprintf("/var/log/%s.%d.gz", name, k), Blob: vfs.Declared(int64(4_000+r.IntN(40_000)), "", fmt.Sprint(h.name, name, k)), Mode: mode, Owner: owner, Group: group, ModTime: rot.AddDate(0, 0, -7*(k-1)).Add(-time.Duration(r.IntN(600)) * time.Second)})
		}
	}

	// dpkg and apt: the last upgrade, a little before the last boot.
	up := ep.upgraded.In(loc)
	var dpkg, hist strings.Builder
	pkgs := []struct{ name, from, to string }{
		{"openssh-client:amd64", "1:9.2p1-2+deb12u4", "1:9.2p1-2+deb12u5"},
		{"openssh-server:amd64", "1:9.2p1-2+deb12u4", "1:9.2p1-2+deb12u5"},
		{"openssh-sftp-server:amd64", "1:9.2p1-2+deb12u4", "1:9.2p1-2+deb12u5"},
		{"libc6:amd64", "2.36-9+deb12u9", "2.36-9+deb12u10"},
		{"linux-image-6.1.0-31-amd64:amd64", "<none>", "6.1.128-1"},
		{"tzdata:all", "2024b-0+deb12u1", "2025a-0+deb12u1"},
	}
	t := up
	fmt.Fprintf(&dpkg, "%s startup archives unpack\n", t.Format("2006-01-02 15:04:05"))
	var upgrades []string
	for _, pk := range pkgs {
		t = t.Add(time.Duration(1+r.IntN(4)) * time.Second)
		verb := "upgrade"
		if pk.from == "<none>" {
			verb = "install"
		}
		fmt.Fprintf(&dpkg, "%s %s %s %s %s\n", t.Format("2006-01-02 15:04:05"), verb, pk.name, pk.from, pk.to)
		fmt.Fprintf(&dpkg, "%s status half-installed %s %s\n", t.Format("2006-01-02 15:04:05"), pk.name, pk.from)
		fmt.Fprintf(&dpkg, "%s status unpacked %s %s\n", t.Format("2006-01-02 15:04:05"), pk.name, pk.to)
		if pk.from != "<none>" {
			upgrades = append(upgrades, fmt.Sprintf("%s (%s, %s)", pk.name, pk.from, pk.to))
		}
	}
	fmt.Fprintf(&dpkg, "%s startup packages configure\n", t.Format("2006-01-02 15:04:05"))
	for _, pk := range pkgs {
		t = t.Add(time.Duration(1+r.IntN(3)) * time.Second)
		fmt.Fprintf(&dpkg, "%s configure %s %s <none>\n", t.Format("2006-01-02 15:04:05"), pk.name, pk.to)
		fmt.Fprintf(&dpkg, "%s status installed %s %s\n", t.Format("2006-01-02 15:04:05"), pk.name, pk.to)
	}
	fmt.Fprintf(&hist, "\nStart-Date: %s\nCommandline: apt-get -y upgrade\nUpgrade: %s\nEnd-Date: %s\n", up.Format("2006-01-02  15:04:05"), strings.Join(upgrades, ", "), t.Format("2006-01-02  15:04:05"))
	f.file("/var/log/dpkg.log", dpkg.String(), 0o644, "root", t)
	f.dir("/var/log/apt", 0o755, "root", t)
	f.file("/var/log/apt/history.log", hist.String(), 0o644, "root", t)
	f.file("/var/log/alternatives.log", "", 0o644, "root", ep.installed.In(loc))
	f.dir("/var/log/journal", 0o2755, "root", ep.installed.In(loc))
	f.list[len(f.list)-1].Group = "systemd-journal"
	f.dir("/var/log/journal/"+p.machineID, 0o2755, "root", boot)
	f.list[len(f.list)-1].Group = "systemd-journal"
	f.list = append(f.list,
		vfs.SystemFile{Path: "/var/log/journal/" + p.machineID + "/system.journal", Blob: vfs.Declared(int64(8<<20)*int64(1+r.IntN(8)), "", h.name+"journal"), Mode: 0o640, Group: "systemd-journal", ModTime: now.Add(-time.Duration(r.IntN(50)) * time.Second).Truncate(time.Second)},
		vfs.SystemFile{Path: "/var/log/wtmp", Blob: vfs.Declared(int64(384*(20+r.IntN(200))), "", h.name+"wtmp"), Mode: 0o664, Group: "utmp", ModTime: last("auth.log")},
		vfs.SystemFile{Path: "/var/log/btmp", Blob: vfs.Declared(0, "", h.name+"btmp"), Mode: 0o660, Group: "utmp", ModTime: rot},
		vfs.SystemFile{Path: "/var/log/lastlog", Blob: vfs.Declared(292_292, "", h.name+"lastlog"), Mode: 0o664, Group: "utmp", ModTime: last("auth.log")},
		vfs.SystemFile{Path: "/var/log/faillog", Blob: vfs.Declared(32_032, "", h.name+"faillog"), Mode: 0o644, ModTime: ep.installed.In(loc)},
	)
	return f.list
}

package shell

import (
	"slices"
	"strconv"
	"strings"
)

// The base system's units. Every Debian 12 server runs these daemons under
// systemd, so ps, systemctl and journalctl must all know them: each
// process of the base system that a unit starts is that unit's main
// process, and its unit file is the one its package installed.

// baseUnit is a unit of the base system and how to recognise its process.
type baseUnit struct {
	name, desc, prog string // prog: the start of the process's command line
	pkgUnit          string // the unit file's contents, as the package ships it
}

var baseUnits = []baseUnit{
	{"systemd-journald", "Journal Service", "/lib/systemd/systemd-journald", "[Unit]\nDescription=Journal Service\nDocumentation=man:systemd-journald.service(8) man:journald.conf(5)\nDefaultDependencies=no\nRequires=systemd-journald.socket\nAfter=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald-audit.socket syslog.socket\nBefore=sysinit.target\n\n[Service]\nDeviceAllow=char-* rw\nExecStart=/lib/systemd/systemd-journald\nFileDescriptorStoreMax=4224\nRestart=always\nRestartSec=0\nSandboxingOK=yes\nType=notify\nWatchdogSec=3min\n"},
	{"systemd-udevd", "Rule-based Manager for Device Events and Files", "/lib/systemd/systemd-udevd", "[Unit]\nDescription=Rule-based Manager for Device Events and Files\nDocumentation=man:systemd-udevd.service(8) man:udev(7)\nDefaultDependencies=no\nAfter=systemd-sysusers.service systemd-hwdb-update.service\nBefore=sysinit.target\n\n[Service]\nDeviceAllow=block-* rwm\nDeviceAllow=char-* rwm\nType=notify\nRestart=always\nRestartSec=0\nExecStart=/lib/systemd/systemd-udevd\nKillMode=mixed\n"},
	{"systemd-timesyncd", "Network Time Synchronization", "/lib/systemd/systemd-timesyncd", "[Unit]\nDescription=Network Time Synchronization\nDocumentation=man:systemd-timesyncd.service(8)\nConditionCapability=CAP_SYS_TIME\nConditionVirtualization=!container\nDefaultDependencies=no\nAfter=systemd-sysusers.service\nBefore=time-set.target sysinit.target shutdown.target\n\n[Service]\nAmbientCapabilities=CAP_SYS_TIME\nExecStart=!!/lib/systemd/systemd-timesyncd\nRestart=always\nRestartSec=0\nType=notify\nUser=systemd-timesync\nWatchdogSec=3min\n\n[Install]\nWantedBy=sysinit.target\nAlias=dbus-org.freedesktop.timesync1.service\n"},
	{"cron", "Regular background program processing daemon", "/usr/sbin/cron", "[Unit]\nDescription=Regular background program processing daemon\nDocumentation=man:cron(8)\nAfter=remote-fs.target nss-user-lookup.target\n\n[Service]\nEnvironmentFile=-/etc/default/cron\nExecStart=/usr/sbin/cron -f -P $EXTRA_OPTS\nIgnoreSIGPIPE=false\nKillMode=process\nRestart=on-failure\nSyslogFacility=cron\n\n[Install]\nWantedBy=multi-user.target\n"},
	{"dbus", "D-Bus System Message Bus", "/usr/bin/dbus-daemon", "[Unit]\nDescription=D-Bus System Message Bus\nDocumentation=man:dbus-daemon(1)\nRequires=dbus.socket\n\n[Service]\nExecStart=/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only\nExecReload=/usr/bin/dbus-send --print-reply --system --type=method_call --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig\nOOMScoreAdjust=-900\n"},
	{"systemd-logind", "User Login Management", "/lib/systemd/systemd-logind", "[Unit]\nDescription=User Login Management\nDocumentation=man:sd-login(3) man:systemd-logind.service(8) man:logind.conf(5)\nWants=user.slice modprobe@drm.service\nAfter=nss-user-lookup.target user.slice modprobe@drm.service\n\n[Service]\nBusName=org.freedesktop.login1\nExecStart=/lib/systemd/systemd-logind\nFileDescriptorStoreMax=512\nRestart=always\nRestartSec=0\nType=notify\nWatchdogSec=3min\n"},
	{"getty@tty1", "Getty on tty1", "/sbin/agetty", "[Unit]\nDescription=Getty on %I\nDocumentation=man:agetty(8) man:systemd-getty-generator(8)\nAfter=systemd-user-sessions.service plymouth-quit-wait.service getty-pre.target\nBefore=getty.target\n\n[Service]\nExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM\nType=idle\nRestart=always\nRestartSec=0\nUtmpIdentifier=%I\nStandardInput=tty\nStandardOutput=tty\nTTYPath=/dev/%I\nTTYReset=yes\nTTYVHangup=yes\nIgnoreSIGPIPE=no\nSendSIGHUP=yes\n\n[Install]\nWantedBy=getty.target\n"},
	{"ssh", "OpenBSD Secure Shell server", "sshd: /usr/sbin/sshd", "[Unit]\nDescription=OpenBSD Secure Shell server\nDocumentation=man:sshd(8) man:sshd_config(5)\nAfter=network.target auditd.service\nConditionPathExists=!/etc/ssh/sshd_not_to_be_run\n\n[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nExecReload=/usr/sbin/sshd -t\nExecReload=/bin/kill -HUP $MAINPID\nKillMode=process\nRestart=on-failure\nRestartPreventExitStatus=255\nType=notify\nRuntimeDirectory=sshd\nRuntimeDirectoryMode=0755\n\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n"},
	{"rsyslog", "System Logging Service", "/usr/sbin/rsyslogd", "[Unit]\nDescription=System Logging Service\nRequires=syslog.socket\nDocumentation=man:rsyslogd(8)\nDocumentation=man:rsyslog.conf(5)\nDocumentation=https://www.rsyslog.com/doc/\n\n[Service]\nType=notify\nExecStart=/usr/sbin/rsyslogd -n -iNONE\nStandardOutput=null\nRestart=on-failure\n\n# Increase the default a bit in order to allow many simultaneous\n# files to be monitored, we might need a lot of fds.\nLimitNOFILE=16384\n\n[Install]\nWantedBy=multi-user.target\nAlias=syslog.service\n"},
}

// unitPath is the service's unit file.
func (sv *service) unitPath() string {
	dir := sv.unitDir
	if dir == "" {
		dir = "/etc/systemd/system"
	}
	return dir + "/" + sv.name + ".service"
}

// addBaseUnits makes the base system's daemons among h's processes units
// of their own, unless the scenario declares a service of that name.
func (h *host) addBaseUnits() error {
	have := map[string]bool{}
	for _, sv := range h.services {
		have[sv.name] = true
	}
	var files []baseUnit
	for _, u := range baseUnits {
		if have[u.name] {
			continue
		}
		for _, p := range h.procs {
			if !strings.HasPrefix(p.command, u.prog) {
				continue
			}
			sv := &service{name: u.name, desc: u.desc, user: p.user, command: p.command, enabled: true, state: "active",
				pid: p.pid, since: p.start, unitDir: "/lib/systemd/system"}
			sv.log = append(sv.log, logLine{p.start, "Started " + sv.unitDesc() + "."})
			h.services = append(h.services, sv)
			files = append(files, u)
			break
		}
	}
	f := &sysFiles{at: h.boot}
	for _, d := range []string{"/lib/systemd", "/lib/systemd/system"} {
		if !h.fs.Exists(d) {
			f.dir(d, 0o755, "root", h.boot)
		}
	}
	for _, u := range files {
		if p := "/lib/systemd/system/" + u.name + ".service"; !h.fs.Exists(p) {
			f.file(p, u.pkgUnit, 0o644, "root", h.boot.AddDate(0, -2, 0))
		}
	}
	return h.fs.PutSystem(f.list)
}

// unitProperties is systemctl show: the unit's properties, or those of
// props, as Name=value lines (values alone with --value).
func (s *session) unitProperties(sv *service, props []string, valueOnly bool) string {
	sub, load, file := "dead", "loaded", "disabled"
	switch sv.state {
	case "active":
		sub = "running"
	case "failed":
		sub = "failed"
	}
	if sv.enabled {
		file = "enabled"
	}
	path := sv.unitPath()
	if sv.desc == "" && sv.command == "" {
		load, file, path = "not-found", "", ""
	}
	pid := "0"
	if sv.state == "active" {
		pid = strconv.Itoa(sv.pid)
	}
	since := ""
	if sv.state == "active" {
		since = sv.since.Format("Mon 2006-01-02 15:04:05 MST")
	}
	all := [][2]string{
		{"Type", "simple"}, {"Restart", "on-failure"}, {"MainPID", pid}, {"ExecMainPID", pid},
		{"Id", sv.name + ".service"}, {"Names", sv.name + ".service"}, {"Description", sv.desc},
		{"LoadState", load}, {"ActiveState", sv.state}, {"SubState", sub}, {"FragmentPath", path},
		{"UnitFileState", file}, {"ActiveEnterTimestamp", since}, {"User", sv.user},
		{"ExecStart", "{ path=" + execStart(sv.command) + " ; argv[]=" + sv.command + " }"},
	}
	var b strings.Builder
	for _, kv := range all {
		if len(props) > 0 && !slices.Contains(props, kv[0]) {
			continue
		}
		if valueOnly {
			b.WriteString(kv[1] + "\n")
		} else {
			b.WriteString(kv[0] + "=" + kv[1] + "\n")
		}
	}
	return b.String()
}

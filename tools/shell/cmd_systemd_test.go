package shell

import "testing"

func TestTimedatectlHostnamectl(t *testing.T) {
	runCases(t, []runCase{
		{name: "timedatectl agrees with date", line: `timedatectl | grep 'Local time' | sed 's/.*: //'; date '+%a %Y-%m-%d %H:%M:%S %Z'`,
			stdout: "Thu 2025-06-05 10:00:00 UTC\nThu 2025-06-05 10:00:00 UTC\n"},
		{name: "time zone", line: "timedatectl | grep 'Time zone'", stdout: "                Time zone: Etc/UTC (UTC, +0000)\n"},
		{name: "set-time refused", host: "models", line: "timedatectl set-time '2030-01-01'", stderr: "Failed to set time: Automatic time synchronization is enabled\n", code: 1},
		{name: "user cannot set", line: "timedatectl set-timezone UTC", stderr: "Failed to set time zone: Access denied\n", code: 1},
		{name: "hostnamectl agrees with the host", line: `m=$(hostnamectl | sed -n 's/ *Machine ID: //p'); [ "$m" = "$(cat /etc/machine-id)" ] && hostnamectl | sed -n '1p;/Operating/p;/Kernel/p'`,
			stdout: " Static hostname: ws\nOperating System: Debian GNU/Linux 12 (bookworm)\n          Kernel: Linux 6.1.0-31-amd64\n"},
		{name: "lscpu agrees with cpuinfo", line: `[ "$(lscpu | sed -n 's/^CPU family: *//p')" = "$(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //')" ] && echo same`, stdout: "same\n"},
	})
}

func TestUptimeAndTZ(t *testing.T) {
	runCases(t, []runCase{
		{name: "uptime and w share /proc/loadavg", line: `l=$(cut -d' ' -f1-3 /proc/loadavg | sed 's/ /, /g'); uptime | grep -q "load average: $l$" && w | head -1 | grep -q "load average: $l$" && echo same`, stdout: "same\n"},
		{name: "uptime -p", line: "uptime -p | grep -cE '^up ([0-9]+ (week|day|hour|minute)s?(, )?)+$'", stdout: "1\n"},
		{name: "uptime -s is the boot", line: `[ "$(uptime -s)" = "$(date -d @$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) )) '+%Y-%m-%d %H:%M:%S')" ] && echo same`, stdout: "same\n"},
		{name: "TZ names a zone", line: "TZ=America/New_York date '+%H:%M %Z'; TZ=UTC date '+%H:%M %Z'; date '+%H:%M %Z'", stdout: "06:00 EDT\n10:00 UTC\n10:00 UTC\n"},
		{name: "TZ unknown is UTC by that name", line: "TZ=Nowhere date '+%H:%M %Z'", stdout: "10:00 Nowhere\n"},
	})
}

// time reports the simulated time a command took: a sleep, or hashing a
// large declared file, is not instant.
func TestTimeKeywordSeesTheClock(t *testing.T) {
	runCases(t, []runCase{
		{name: "sleep", line: "time sleep 2", errHas: "\nreal\t0m2.0"},
		{name: "sleep, posix", line: "time -p sleep 61", errHas: "real 61.0"},
		// 150 GB at 430 MiB/s of SHA-256, on one core.
		{name: "hashing a large file", host: "models", line: "time sha256sum /models/v1/weights.safetensors >/dev/null", errHas: "\nreal\t5m33.396s\nuser\t5m33.395s\n"},
	})
}

func TestTopBatch(t *testing.T) {
	runCases(t, []runCase{
		{name: "no terminal", line: "top", stderr: "top: failed tty get\n", code: 1},
		{name: "one frame", host: "models", line: "top -bn1 | head -7", has: []string{"top - 10:00:00 up ", "load average: ", "\nTasks: ", "\n%Cpu(s): ", "\nMiB Mem : ", "\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n"}},
		{name: "the figures of ps", host: "models", line: `[ "$(top -bn1 -p 2201 | tail -1 | awk '{print $9, $10}')" = "$(ps -o %cpu=,%mem= -p 2201 | awk '{print $1, $2}')" ] && top -bcn1 | grep -c vllm`, stdout: "1\n"},
		{name: "two frames a delay apart", line: "top -b -n 2 -d 5 | grep '^top - ' | cut -c7-14", stdout: "10:00:00\n10:00:05\n"},
		{name: "by user", host: "models", line: "top -bn1 -u nobody | tail -n +8 | wc -l", stdout: "0\n"},
	})
}

// The base system's daemons are units: ps, systemctl and journalctl agree.
func TestBaseUnits(t *testing.T) {
	runCases(t, []runCase{
		{name: "cron is a unit", line: "systemctl is-active cron ssh systemd-journald", stdout: "active\nactive\nactive\n"},
		{name: "ps and systemctl agree", line: `[ "$(systemctl show -p MainPID --value cron)" = "$(pgrep -x cron)" ] && echo same`, stdout: "same\n"},
		{name: "status", line: "systemctl status cron | head -2", stdout: "● cron.service - Regular background program processing daemon\n     Loaded: loaded (/lib/systemd/system/cron.service; enabled; preset: enabled)\n"},
		{name: "its unit file", line: "systemctl cat ssh | head -3", stdout: "# /lib/systemd/system/ssh.service\n[Unit]\nDescription=OpenBSD Secure Shell server\n"},
		{name: "listed", line: "systemctl list-units --type=service | grep -c -E '^  (cron|dbus|ssh|systemd-logind|systemd-journald)\\.service'", stdout: "5\n"},
		{name: "a user cannot stop it", line: "systemctl stop cron", errHas: "Interactive authentication required", code: 1},
	})
}

func TestFileTypesAndLinks(t *testing.T) {
	runCases(t, []runCase{
		{name: "sh is dash", line: "ls -l /bin/sh | awk '{print $1, $(NF-2), $(NF-1), $NF}'; readlink /bin/sh", stdout: "lrwxrwxrwx /bin/sh -> dash\ndash\n"},
		{name: "localtime links to the zone", line: "readlink /etc/localtime; file -bL /etc/localtime", stdout: "/usr/share/zoneinfo/UTC\ntimezone data (fat), version 2\n"},
		{name: "an executable is ELF", line: "file -b /bin/ls | cut -d, -f1", stdout: "ELF 64-bit LSB pie executable\n"},
		{name: "a link", line: "file /bin/sh", stdout: "/bin/sh: symbolic link to dash\n"},
		{name: "a device", line: "file /dev/null", stdout: "/dev/null: character special (1/3)\n"},
		{name: "keys and scripts", line: "ssh-keygen -t ed25519 -N '' -q -f k; printf '#!/bin/bash\\necho\\n' > s; file k k.pub s notes.txt", stdout: "k: OpenSSH private key\nk.pub: OpenSSH ED25519 public key\ns: Bourne-Again shell script, ASCII text executable\nnotes.txt: ASCII text\n"},
		{name: "weights are data", host: "models", line: "file -b /models/v1/weights.safetensors", stdout: "data\n"},
	})
}

func TestTeeToDevices(t *testing.T) {
	runCases(t, []runCase{
		{name: "stderr", line: "echo hi | tee /dev/stderr", stdout: "hi\n", stderr: "hi\n"},
		{name: "stdout twice", line: "echo hi | tee /dev/stdout", stdout: "hi\nhi\n"},
		{name: "full", line: "echo hi | tee /dev/full", stdout: "hi\n", stderr: "tee: /dev/full: No space left on device\n", code: 1},
	})
}

func TestVersions(t *testing.T) {
	runCases(t, []runCase{
		{name: "ssh -V", line: "ssh -V", stderr: "OpenSSH_9.2p1 Debian-2+deb12u5, OpenSSL 3.0.15 3 Sep 2024\n"},
		{name: "ssh -v", line: "ssh -v models true 2>&1 | grep -c -E '^(OpenSSH_9.2p1|debug1: Connecting to models|Authenticated to models)'", stdout: "3\n"},
		{name: "nano", line: "nano --version | head -1", stdout: " GNU nano, version 7.2\n"},
		{name: "vim", line: "vim --version | head -1", stdout: "VIM - Vi IMproved 9.0 (2022 Jun 28, compiled May 04 2023 10:24:44)\n"},
	})
}

func TestJournalHoldsTheLogs(t *testing.T) {
	runCases(t, []runCase{
		{name: "the newest line is syslog's newest", host: "models", line: `[ "$(journalctl -n 1 | cut -d' ' -f5-)" = "$(sort /var/log/syslog /var/log/auth.log | tail -1 | cut -d' ' -f3-)" ] && echo same`, stdout: "same\n"},
		{name: "by unit", host: "models", line: "journalctl -u cron | grep -c 'CMD (cd / && run-parts'", has: []string{""}},
		{name: "hostname -I is ip addr's", line: `[ "$(hostname -I | tr -d ' ')" = "$(ip -4 addr show ens18 | awk '/inet /{print $2}' | cut -d/ -f1)" ] && echo same`, stdout: "same\n"},
	})
}

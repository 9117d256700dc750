package shell

import (
	"strings"
	"time"
)

// timedatectl and hostnamectl from systemd 252: the host's clock, time
// zone and identity as the rest of the host states them (date, /etc/timezone,
// /etc/machine-id, /proc/sys/kernel/random/boot_id, uname). Changing them
// needs root and, for a user, fails as polkit refuses it; the clock, which
// NTP keeps, cannot be set at all.

func init() {
	register(map[string]cmdFunc{"timedatectl": cmdTimedatectl, "hostnamectl": cmdHostnamectl})
}

func cmdTimedatectl(c *call) int {
	verb := "status"
	if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") {
		verb = c.args[0]
	}
	now := c.s.net.clock.Now()
	switch verb {
	case "status":
		zone, off := now.Zone()
		c.out.printf("               Local time: %s\n", now.Format("Mon 2006-01-02 15:04:05 MST"))
		c.out.printf("           Universal time: %s\n", now.UTC().Format("Mon 2006-01-02 15:04:05 MST"))
		c.out.printf("                 RTC time: %s\n", now.UTC().Format("Mon 2006-01-02 15:04:05"))
		c.out.printf("                Time zone: %s (%s, %s)\n", zoneName(now.Location()), zone, time.Unix(0, 0).In(time.FixedZone("", off)).Format("-0700"))
		c.out.WriteString("System clock synchronized: yes\n              NTP service: active\n          RTC in local TZ: no\n")
		return 0
	case "show":
		c.out.printf("Timezone=%s\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized=yes\nTimeUSec=%s\nRTCTimeUSec=%s\n",
			zoneName(now.Location()), now.Format("Mon 2006-01-02 15:04:05 MST"), now.Format("Mon 2006-01-02 15:04:05 MST"))
		return 0
	case "list-timezones":
		c.out.WriteString("Africa/Abidjan\nAmerica/Chicago\nAmerica/Denver\nAmerica/Los_Angeles\nAmerica/New_York\nAsia/Tokyo\nEurope/Berlin\nEurope/London\nUTC\n")
		return 0
	case "set-time", "set-timezone", "set-local-rtc", "set-ntp":
		if c.s.user != "root" {
			what := map[string]string{"set-time": "set time", "set-timezone": "set time zone", "set-local-rtc": "set local RTC", "set-ntp": "set ntp"}[verb]
			c.err.WriteString("Failed to " + what + ": Access denied\n")
			return 1
		}
		if verb == "set-time" {
			// The world's clock is the scenario's: systemd refuses to set
			// a clock that NTP keeps.
			c.err.WriteString("Failed to set time: Automatic time synchronization is enabled\n")
			return 1
		}
		return 0
	}
	c.err.printf("Unknown command verb %s.\n", verb)
	return 1
}

// zoneName is the IANA name of loc as /etc/timezone spells it.
func zoneName(loc *time.Location) string {
	if n := loc.String(); n != "" && n != "Local" {
		if n == "UTC" {
			return "Etc/UTC"
		}
		return n
	}
	return "Etc/UTC"
}

func cmdHostnamectl(c *call) int {
	verb := "status"
	if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") {
		verb = c.args[0]
	}
	h := c.s.h
	switch verb {
	case "status":
		c.out.printf(" Static hostname: %s\n", h.name)
		c.out.WriteString("       Icon name: computer-vm\n         Chassis: vm 🖴\n")
		c.out.printf("      Machine ID: %s\n         Boot ID: %s\n", h.prof.machineID, h.prof.bootID)
		c.out.printf("  Virtualization: kvm\nOperating System: Debian GNU/Linux 12 (bookworm)\n          Kernel: Linux %s\n    Architecture: x86-64\n", kernelName())
		c.out.WriteString(" Hardware Vendor: QEMU\n  Hardware Model: Standard PC _i440FX + PIIX, 1996_\nFirmware Version: 1.16.2-debian-1.16.2-1\n")
		return 0
	case "hostname":
		c.out.WriteString(h.name + "\n")
		return 0
	case "set-hostname":
		if c.s.user != "root" {
			c.err.WriteString("Could not set static hostname: Access denied\n")
			return 1
		}
		c.err.WriteString("Could not set static hostname: Read-only file system\n")
		return 1
	}
	c.err.printf("Unknown command verb %s.\n", verb)
	return 1
}

package shell

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// System information and administration commands. What they report comes
// from the files the host is built with (/etc/passwd, /etc/group,
// /etc/hosts, /proc/cpuinfo, /proc/meminfo, /proc/mounts), so that a
// command and the file it reads on a real host agree.

func init() {
	register(map[string]cmdFunc{
		"sha1sum": cmdShaSum, "sha224sum": cmdShaSum, "sha384sum": cmdShaSum, "sha512sum": cmdShaSum, "b2sum": cmdShaSum,
		"pgrep": cmdPgrep, "getent": cmdGetent, "groups": cmdGroups, "logname": cmdLogname, "tty": cmdTty,
		"stty": cmdStty, "who": cmdWho, "w": cmdW, "last": cmdLast, "lscpu": cmdLscpu, "lsblk": cmdLsblk,
		"mount": cmdMount, "findmnt": cmdFindmnt, "dmesg": cmdDmesg, "ip": cmdIP, "ss": cmdSs,
		"netstat": cmdNetstat, "lsof": cmdLsof, "crontab": cmdCrontab, "chattr": cmdChattr, "lsattr": cmdLsattr,
		"truncate": cmdTruncate, "mktemp": cmdMktemp, "install": cmdInstall, "locale": cmdLocale,
	})
}

// sysText returns the text of a system file, or "" when the host has none.
func (s *session) sysText(p string) string { return sysTextOf(s.h, p) }

// ---- checksums ----

func cmdShaSum(c *call) int {
	algo := strings.TrimSuffix(c.name, "sum")
	if _, ok := digests[algo]; !ok {
		algo = "sha512" // b2sum prints as many hex digits
	}
	return c.checksum(func(in input) string { return c.s.digestHex(algo, in) })
}

// ---- users and groups ----

type account struct {
	name, home, shell, gecos string
	uid, gid                 int
}

// accounts reads /etc/passwd; without one, root and the host's user.
func (s *session) accounts() []account {
	var out []account
	for _, a := range s.h.fs.Accounts().Users() {
		out = append(out, account{name: a.Name, uid: a.UID, gid: a.GID, gecos: a.Gecos, home: a.Home, shell: a.Shell})
	}
	if len(out) == 0 {
		out = append(out, account{name: "root", home: "/root", shell: "/bin/bash", gecos: "root"})
		if s.h.user != "root" {
			out = append(out, account{name: s.h.user, uid: 1000, gid: 1000, home: homeOf(s.h.user), shell: "/bin/bash"})
		}
	}
	return out
}

type group struct {
	name    string
	gid     int
	members []string
}

// userGroups is the primary group and the supplementary groups of user.
func (s *session) userGroups(user string) []group {
	var out []group
	for _, g := range s.h.fs.Accounts().Groups(user) {
		out = append(out, group{name: g.Name, gid: g.GID, members: g.Members})
	}
	if len(out) == 0 && (user == "root" || user == s.h.user) {
		// A host without /etc/passwd: the fallback accounts' own groups.
		for _, a := range s.accounts() {
			if a.name == user {
				out = append(out, group{name: user, gid: a.gid})
			}
		}
	}
	return out
}

func cmdGroups(c *call) int {
	users := c.args
	if len(users) == 0 {
		users = []string{c.s.user}
	}
	code := 0
	for _, u := range users {
		gs := c.s.userGroups(u)
		if len(gs) == 0 {
			c.errorf("%s: no such user", quoteName(u))
			code = 1
			continue
		}
		names := make([]string, len(gs))
		for i, g := range gs {
			names[i] = g.name
		}
		if len(c.args) > 0 {
			c.out.printf("%s : %s\n", u, strings.Join(names, " "))
		} else {
			c.out.WriteString(strings.Join(names, " ") + "\n")
		}
	}
	return code
}

func cmdGetent(c *call) int {
	if len(c.args) == 0 || c.args[0] == "--help" {
		c.err.WriteString("Usage: getent [OPTION...] database [key ...]\nTry `getent --help' or `getent --usage' for more information.\n")
		if len(c.args) == 0 {
			return 1
		}
		return 0
	}
	db, keys := c.args[0], c.args[1:]
	var lines []string
	var matchKey func(l, k string) bool
	switch db {
	case "passwd", "group", "shadow", "gshadow":
		p := "/etc/" + db
		if (db == "shadow" || db == "gshadow") && c.s.user != "root" {
			return 2
		}
		lines = splitLines(c.s.sysText(p))
		if db == "passwd" && len(lines) == 0 {
			for _, a := range c.s.accounts() {
				lines = append(lines, fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", a.name, a.uid, a.gid, a.gecos, a.home, a.shell))
			}
		}
		matchKey = func(l, k string) bool {
			f := strings.Split(l, ":")
			return f[0] == k || len(f) > 2 && f[2] == k
		}
	case "hosts", "ahosts", "ahostsv4":
		for _, l := range splitLines(c.s.sysText("/etc/hosts")) {
			if i := strings.IndexByte(l, '#'); i >= 0 {
				l = l[:i]
			}
			f := strings.Fields(l)
			if len(f) < 2 || db == "ahostsv4" && strings.Contains(f[0], ":") {
				continue
			}
			lines = append(lines, fmt.Sprintf("%-15s %s", f[0], strings.Join(f[1:], " ")))
		}
		matchKey = func(l, k string) bool {
			for _, f := range strings.Fields(l) {
				if f == k {
					return true
				}
			}
			return false
		}
		if len(keys) > 0 {
			// A name the hosts file lacks may still be a host of the world.
			for _, k := range keys {
				found := false
				for _, l := range lines {
					found = found || matchKey(l, k)
				}
				if !found {
					if ip := c.s.addressOf(k); ip != "" {
						lines = append(lines, fmt.Sprintf("%-15s %s", ip, k))
					}
				}
			}
		}
	case "services", "protocols", "networks", "ethers", "netgroup", "aliases", "initgroups", "rpc":
		if db == "services" {
			lines = []string{"ssh                   22/tcp", "http                  80/tcp          www", "https                 443/tcp", "nfs                   2049/tcp"}
		}
		matchKey = func(l, k string) bool { return strings.HasPrefix(l, k+" ") || strings.Contains(l, " "+k+"/") }
	default:
		c.err.printf("Unknown database: %s\nTry `getent --help' or `getent --usage' for more information.\n", db)
		return 1
	}
	if len(keys) == 0 {
		for _, l := range lines {
			c.out.WriteString(l + "\n")
		}
		return 0
	}
	code := 0
	for _, k := range keys {
		found := false
		for _, l := range lines {
			if matchKey(l, k) {
				c.out.WriteString(l + "\n")
				found = true
				break
			}
		}
		if !found {
			code = 2
		}
	}
	return code
}

func cmdLogname(c *call) int {
	if c.s.via == "ssh" || c.s.depth > 0 {
		c.out.WriteString(c.s.user + "\n")
		return 0
	}
	c.err.WriteString("logname: no login name\n")
	return 1
}

func cmdTty(c *call) int {
	for _, a := range c.args {
		if a == "-s" || a == "--silent" || a == "--quiet" {
			return 1
		}
	}
	c.out.WriteString("not a tty\n")
	return 1
}

func cmdStty(c *call) int {
	c.err.WriteString("stty: 'standard input': Inappropriate ioctl for device\n")
	return 1
}

// ---- sessions: who, w, last ----

// loginFrom is the address the current session came from.
func (s *session) loginFrom() string {
	if s.origin != "" {
		if ip := s.addressOf(s.origin); ip != "" {
			return ip
		}
	}
	return "10.20.0.1"
}

func cmdWho(c *call) int {
	now := c.s.net.clock.Now()
	if len(c.args) > 0 && (c.args[0] == "-b" || c.args[0] == "--boot") {
		c.out.printf("         system boot  %s\n", c.s.h.boot.In(now.Location()).Format("2006-01-02 15:04"))
		return 0
	}
	if len(c.args) > 0 && (c.args[0] == "-r" || c.args[0] == "--runlevel") {
		c.out.printf("         run-level 5  %s\n", c.s.h.boot.In(now.Location()).Format("2006-01-02 15:04"))
		return 0
	}
	c.out.printf("%-8s pts/0        %s (%s)\n", c.s.user, now.Format("2006-01-02 15:04"), c.s.loginFrom())
	return 0
}

func cmdW(c *call) int {
	now := c.s.net.clock.Now()
	c.out.WriteString(c.s.uptimeLine() + "\n")
	c.out.WriteString("USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n")
	c.out.printf("%-8s pts/0    %-16s %s    0.00s  0.02s  0.00s w\n", c.s.user, c.s.loginFrom(), now.Format("15:04"))
	return 0
}

// uptimeLine is the first line of uptime and w: the time, how long the
// host has been up, the users and the load average of /proc/loadavg.
func (s *session) uptimeLine() string {
	now := s.net.clock.Now()
	load := strings.Fields(s.sysText("/proc/loadavg"))
	for len(load) < 3 {
		load = append(load, "0.00")
	}
	return fmt.Sprintf(" %s up %s,  1 user,  load average: %s, %s, %s", now.Format("15:04:05"), upText(now.Sub(s.h.boot)), load[0], load[1], load[2])
}

// upText is uptime's "3 days,  4:17" phrase ("42 min" in the first hour).
func upText(d time.Duration) string {
	days := int(d.Hours()) / 24
	h := int(d.Hours()) % 24
	m := int(d.Minutes()) % 60
	clock := fmt.Sprintf("%2d:%02d", h, m)
	if h == 0 {
		clock = fmt.Sprintf("%d min", m)
	}
	if days > 0 {
		unit := "days"
		if days == 1 {
			unit = "day"
		}
		return fmt.Sprintf("%d %s, %s", days, unit, clock)
	}
	return clock
}

// upPretty is uptime -p: "up 3 weeks, 6 days, 10 hours, 42 minutes".
func upPretty(d time.Duration) string {
	mins := int(d.Minutes())
	parts := []struct {
		n    int
		unit string
	}{{mins / (60 * 24 * 7), "week"}, {mins / (60 * 24) % 7, "day"}, {mins / 60 % 24, "hour"}, {mins % 60, "minute"}}
	var out []string
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		w := p.unit
		if p.n != 1 {
			w += "s"
		}
		out = append(out, fmt.Sprintf("%d %s", p.n, w))
	}
	if len(out) == 0 {
		return "up 0 minutes"
	}
	return "up " + strings.Join(out, ", ")
}

func cmdLast(c *call) int {
	now := c.s.net.clock.Now()
	loc := now.Location()
	boot := c.s.h.boot.In(loc)
	c.out.printf("%-8s pts/0        %-16s %s   still logged in\n", c.s.user, c.s.loginFrom(), now.Format("Mon Jan _2 15:04"))
	c.out.printf("reboot   system boot  %-16s %s   still running\n", kernelName(), boot.Format("Mon Jan _2 15:04"))
	c.out.printf("\nwtmp begins %s\n", boot.Add(-time.Minute).Format("Mon Jan _2 15:04:05 2006"))
	return 0
}

// kernelName is the running kernel's release, as /proc/version names it.
func kernelName() string { return "6.1.0-31-amd64" }

// ---- hardware ----

// cpuID is what /proc/cpuinfo says of the host's processors.
type cpuID struct {
	vendor, model, mhz, family, modelNo, stepping string
	n                                             int
}

// cpuInfo reads the processors from /proc/cpuinfo, as lscpu does.
func (s *session) cpuInfo() cpuID {
	id := cpuID{vendor: "GenuineIntel", model: "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", mhz: "2394.374", family: "6", modelNo: "106", stepping: "6"}
	for _, l := range splitLines(s.sysText("/proc/cpuinfo")) {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			id.n++
		case "vendor_id":
			id.vendor = v
		case "model name":
			id.model = v
		case "cpu MHz":
			id.mhz = v
		case "cpu family":
			id.family = v
		case "model":
			id.modelNo = v
		case "stepping":
			id.stepping = v
		}
	}
	if id.n == 0 {
		id.n = 8
	}
	return id
}

func cmdLscpu(c *call) int {
	id := c.s.cpuInfo()
	n := id.n
	rows := [][2]string{
		{"Architecture", "x86_64"}, {"CPU op-mode(s)", "32-bit, 64-bit"}, {"Address sizes", "46 bits physical, 57 bits virtual"},
		{"Byte Order", "Little Endian"}, {"CPU(s)", strconv.Itoa(n)}, {"On-line CPU(s) list", fmt.Sprintf("0-%d", n-1)},
		{"Vendor ID", id.vendor}, {"Model name", id.model}, {"CPU family", id.family}, {"Model", id.modelNo}, {"Thread(s) per core", "1"},
		{"Core(s) per socket", strconv.Itoa(n)}, {"Socket(s)", "1"}, {"Stepping", id.stepping}, {"BogoMIPS", id.mhz},
		{"Hypervisor vendor", "KVM"}, {"Virtualization type", "full"}, {"L1d cache", fmt.Sprintf("%d KiB (%d instances)", 48*n, n)},
		{"L2 cache", fmt.Sprintf("%d MiB (%d instances)", n*5/4, n)}, {"NUMA node(s)", "1"}, {"NUMA node0 CPU(s)", fmt.Sprintf("0-%d", n-1)},
	}
	for _, r := range rows {
		c.out.printf("%-*s%s\n", 23, r[0]+":", " "+r[1])
	}
	return 0
}

// diskLayout is the root disk as the Debian installer lays it out: one
// root partition and a small swap in an extended partition.
func (s *session) diskLayout() (disk, root, swap int64) {
	size, _ := s.h.fs.Usage()
	swap = 1 << 30
	return size + swap + 1<<20, size, swap
}

func lsblkSize(n int64) string {
	units := []string{"B", "K", "M", "G", "T", "P"}
	v := float64(n)
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if v < 10 && v != float64(int64(v)) {
		return fmt.Sprintf("%.1f%s", v, units[u])
	}
	return fmt.Sprintf("%.0f%s", v, units[u])
}

func cmdLsblk(c *call) int {
	fl, _, bad := parseFlags(c.args, flagSpec{bools: "abdfmnlpJ", values: "o", long: map[string]string{"output": "o=", "bytes": "b", "fs": "f", "json": "J", "all": "a", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("lsblk: %s\nTry 'lsblk --help' for more information.\n", bad)
		return 1
	}
	disk, root, swap := c.s.diskLayout()
	size := lsblkSize
	if fl.has("b") {
		size = func(n int64) string { return strconv.FormatInt(n, 10) }
	}
	if fl.has("f") {
		c.out.WriteString("NAME   FSTYPE FSVER LABEL UUID                                 FSAVAIL FSUSE% MOUNTPOINTS\n")
		c.out.WriteString("sda\n")
		total, used := c.s.h.fs.Usage()
		c.out.printf("├─sda1 ext4   1.0         %s %7s %5d%% /\n", c.s.fsUUID("root"), lsblkSize(total-used), used*100/max(total, 1))
		c.out.WriteString("├─sda2\n")
		c.out.printf("└─sda5 swap   1           %s                [SWAP]\n", c.s.fsUUID("swap"))
		return 0
	}
	c.out.WriteString("NAME   MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\n")
	c.out.printf("sda      8:0    0 %5s  0 disk \n", size(disk))
	c.out.printf("├─sda1   8:1    0 %5s  0 part /\n", size(root))
	c.out.printf("├─sda2   8:2    0 %5s  0 part \n", size(1024))
	c.out.printf("└─sda5   8:5    0 %5s  0 part [SWAP]\n", size(swap))
	if !fl.has("d") {
		c.out.WriteString("sr0     11:0    1 1024M  0 rom  \n")
	}
	return 0
}

// fsUUID is the UUID /etc/fstab gives a filesystem, or a stable stand-in.
func (s *session) fsUUID(which string) string {
	n := 0
	for _, l := range splitLines(s.sysText("/etc/fstab")) {
		if strings.HasPrefix(l, "UUID=") {
			f := strings.Fields(l)
			if (which == "root") == (n == 0) {
				return strings.TrimPrefix(f[0], "UUID=")
			}
			n++
		}
	}
	sum := sha256.Sum256([]byte(s.h.name + which))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const defaultMounts = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,mode=755,inode64 0 0
devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0
tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,mode=755,inode64 0 0
/dev/sda1 / ext4 rw,relatime,errors=remount-ro 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0
tmpfs /run/lock tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k,inode64 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
`

type mountEntry struct{ src, target, fstype, opts string }

func (s *session) mounts() []mountEntry {
	text := s.sysText("/proc/mounts")
	if text == "" {
		text = defaultMounts
	}
	var out []mountEntry
	for _, l := range splitLines(text) {
		f := strings.Fields(l)
		if len(f) >= 4 {
			out = append(out, mountEntry{f[0], f[1], f[2], f[3]})
		}
	}
	return out
}

func cmdMount(c *call) int {
	var fstype string
	for i := 0; i < len(c.args); i++ {
		switch a := c.args[i]; {
		case a == "-t" && i+1 < len(c.args):
			i++
			fstype = c.args[i]
		case a == "-l" || a == "-v" || a == "--show-labels":
		case a == "--help":
			c.out.WriteString("\nUsage:\n mount [-lhV]\n mount -a [options]\n mount [options] [--source] <source> | [--target] <directory>\n mount [options] <source> <directory>\n\nMount a filesystem.\n")
			return 0
		case a == "--version" || a == "-V":
			c.out.WriteString("mount from util-linux 2.38.1 (libmount 2.38.1: selinux, smack, btrfs, verity, namespaces, assert, debug)\n")
			return 0
		default:
			if c.s.user != "root" {
				c.err.WriteString("mount: only root can do that.\n")
				return 1
			}
			c.err.printf("mount: %s: permission denied.\n", a)
			return 32
		}
	}
	for _, m := range c.s.mounts() {
		if fstype != "" && m.fstype != fstype {
			continue
		}
		c.out.printf("%s on %s type %s (%s)\n", m.src, m.target, m.fstype, m.opts)
	}
	return 0
}

func cmdFindmnt(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "lnrDA", values: "toT", long: map[string]string{"list": "l", "noheadings": "n", "types": "t=", "output": "o=", "target": "T=", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("findmnt: %s\nTry 'findmnt --help' for more information.\n", bad)
		return 1
	}
	ms := c.s.mounts()
	if len(ops) > 0 || fl.has("T") {
		want := fl.val("T")
		if len(ops) > 0 {
			want = ops[0]
		}
		p := c.s.abs(want)
		var best *mountEntry
		for i := range ms {
			m := &ms[i]
			if m.target == p || m.src == want || fl.has("T") && (strings.HasPrefix(p, strings.TrimSuffix(m.target, "/")+"/") || m.target == "/") {
				if best == nil || len(m.target) > len(best.target) {
					best = m
				}
			}
		}
		if best == nil {
			return 1
		}
		ms = []mountEntry{*best}
	}
	if fl.has("t") {
		var keep []mountEntry
		for _, m := range ms {
			if m.fstype == fl.val("t") {
				keep = append(keep, m)
			}
		}
		ms = keep
		if len(ms) == 0 {
			return 1
		}
	}
	tw := 6
	sw := 6
	for _, m := range ms {
		tw = max(tw, len(m.target)+2)
		sw = max(sw, len(m.src))
	}
	if !fl.has("n") {
		c.out.printf("%-*s %-*s %-6s %s\n", tw, "TARGET", sw, "SOURCE", "FSTYPE", "OPTIONS")
	}
	for _, m := range ms {
		c.out.printf("%-*s %-*s %-6s %s\n", tw, m.target, sw, m.src, m.fstype, m.opts)
	}
	return 0
}

func cmdDmesg(c *call) int {
	if c.s.user != "root" {
		c.err.WriteString("dmesg: read kernel buffer failed: Operation not permitted\n")
		return 1
	}
	text := c.s.sysText("/var/log/kern.log")
	if text == "" {
		text = "[    0.000000] Linux version 6.1.0-31-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1 (2025-02-07)\n"
	}
	c.out.WriteString(text)
	return 0
}

// ---- network ----

// addressOf is the address of host name, from this host's /etc/hosts or
// from the name itself.
func (s *session) addressOf(name string) string {
	for _, l := range splitLines(s.sysText("/etc/hosts")) {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || f[0] == "127.0.0.1" || f[0] == "127.0.1.1" || strings.Contains(f[0], ":") {
			continue
		}
		for _, n := range f[1:] {
			if n == name || n == shortHost(name) {
				return f[0]
			}
		}
	}
	if h, ok := s.net.byName[name]; ok {
		if h.external {
			return fmt.Sprintf("203.0.113.%d", 10+seeded(name, 200))
		}
		return fmt.Sprintf("10.20.0.%d", 10+seeded(name, 200))
	}
	return ""
}

func shortHost(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

func (s *session) ownAddress() string {
	if ip := s.addressOf(s.h.name); ip != "" {
		return ip
	}
	return fmt.Sprintf("10.20.0.%d", 10+seeded(s.h.name, 200))
}

func macOf(name string) string {
	sum := sha256.Sum256([]byte("mac\x00" + name))
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", sum[0], sum[1], sum[2])
}

func cmdIP(c *call) int {
	args := c.args
	brief, four := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-br", "-brief", "--brief":
			brief = true
		case "-4":
			four = true
		case "-6", "-c", "-color", "--color=never", "-s", "-d":
		case "-V", "-Version":
			c.out.WriteString("ip utility, iproute2-6.1.0, libbpf 1.1.0\n")
			return 0
		default:
			c.err.printf("Option \"%s\" is unknown, try \"ip -help\".\n", args[0])
			return 255
		}
		args = args[1:]
	}
	if len(args) == 0 {
		c.err.WriteString("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       ip [ -force ] -batch filename\nwhere  OBJECT := { address | addrlabel | fou | help | ila | ioam | l2tp | link |\n                   macsec | maddress | monitor | mptcp | mroute | mrule |\n                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n                   ntbl | route | rule | sr | tap | tcpmetrics |\n                   token | tunnel | tuntap | vrf | xfrm }\n")
		return 255
	}
	ip := c.s.ownAddress()
	parts := strings.Split(ip, ".")
	gw := strings.Join(append(parts[:3:3], "1"), ".")
	dev := "ens18"
	mac := macOf(c.s.h.name)
	obj := args[0]
	switch {
	case strings.HasPrefix("address", obj) || obj == "a" || obj == "addr":
		// ip addr [show|list] [dev] DEV: one device, or both.
		only := ""
		for _, a := range args[1:] {
			if a != "show" && a != "list" && a != "dev" && a != "s" && a != "ls" {
				only = a
			}
		}
		if only != "" && only != "lo" && only != dev && only != "enp0s18" {
			c.err.printf("Device \"%s\" does not exist.\n", only)
			return 1
		}
		showLo, showDev := only == "" || only == "lo", only == "" || only != "lo"
		if brief {
			if showLo {
				c.out.WriteString("lo               UNKNOWN        127.0.0.1/8 ::1/128 \n")
			}
			if showDev {
				c.out.printf("%-16s UP             %s/24 \n", dev, ip)
			}
			return 0
		}
		if showLo {
			c.out.WriteString("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n")
			if !four {
				c.out.WriteString("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
			}
			c.out.WriteString("    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
			if !four {
				c.out.WriteString("    inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n")
			}
		}
		if !showDev {
			return 0
		}
		c.out.printf("2: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n", dev)
		if !four {
			c.out.printf("    link/ether %s brd ff:ff:ff:ff:ff:ff\n", mac)
		}
		c.out.printf("    altname enp0s18\n    inet %s/24 brd %s.255 scope global %s\n       valid_lft forever preferred_lft forever\n", ip, strings.Join(parts[:3], "."), dev)
		if !four {
			c.out.printf("    inet6 fe80::5054:ff:fe%s/64 scope link \n       valid_lft forever preferred_lft forever\n", strings.ReplaceAll(mac[9:], ":", "")[:2]+":"+strings.ReplaceAll(mac[9:], ":", "")[2:])
		}
	case strings.HasPrefix("route", obj) || obj == "r":
		c.out.printf("default via %s dev %s onlink \n%s.0/24 dev %s proto kernel scope link src %s \n", gw, dev, strings.Join(parts[:3], "."), dev, ip)
	case strings.HasPrefix("link", obj) || obj == "l":
		if brief {
			c.out.printf("lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n%-16s UP             %s <BROADCAST,MULTICAST,UP,LOWER_UP> \n", dev, mac)
			return 0
		}
		c.out.printf("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n    link/ether %s brd ff:ff:ff:ff:ff:ff\n    altname enp0s18\n", dev, mac)
	case strings.HasPrefix("neighbour", obj) || strings.HasPrefix("neighbor", obj) || obj == "n":
		c.out.printf("%s dev %s lladdr %s REACHABLE\n", gw, dev, macOf(gw))
	case obj == "help":
		c.err.WriteString("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
		return 0
	default:
		c.err.printf("Object \"%s\" is unknown, try \"ip help\".\n", obj)
		return 1
	}
	return 0
}

// servicePorts are the ports the services a scenario names listen on.
var servicePorts = map[string][]int{
	"node-exporter": {9100}, "nfs-server": {2049, 111}, "nginx": {80, 443}, "apache2": {80},
	"postgresql": {5432}, "mysql": {3306}, "redis": {6379}, "redis-server": {6379}, "docker": {2375},
	"rsyslog": {}, "prometheus": {9090}, "grafana-server": {3000},
}

type socket struct {
	port int
	proc string
	pid  int
}

func (s *session) listening() []socket { return s.listeningOn(s.h) }

// listeningOn lists the sockets that listen on h: sshd's and its
// services'.
func (s *session) listeningOn(h *host) []socket {
	out := []socket{{22, "sshd", 0}}
	for _, sv := range h.services {
		if sv.state != "active" {
			continue
		}
		for _, p := range servicePorts[sv.name] {
			out = append(out, socket{p, path.Base(strings.Fields(sv.command + " x")[0]), sv.pid})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].port < out[j].port })
	return out
}

func cmdSs(c *call) int {
	fl, _, bad := parseFlags(c.args, flagSpec{bools: "tulnpaHe4s6xwo", long: map[string]string{"tcp": "t", "udp": "u", "listening": "l", "numeric": "n", "processes": "p", "all": "a", "no-header": "H", "summary": "s", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("ss: %s\nUsage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n", bad)
		return 1
	}
	if fl.has("version") {
		c.out.WriteString("ss utility, iproute2-6.1.0\n")
		return 0
	}
	if fl.has("s") {
		c.out.WriteString("Total: 178\nTCP:   9 (estab 1, closed 0, orphaned 0, timewait 0)\n")
		return 0
	}
	listenOnly := fl.has("l")
	if !fl.has("H") {
		if fl.has("t") && !fl.has("u") {
			c.out.WriteString("State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n")
		} else {
			c.out.WriteString("Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n")
		}
	}
	netid := ""
	if !(fl.has("t") && !fl.has("u")) {
		netid = "tcp   "
	}
	proc := func(sk socket) string {
		if !fl.has("p") || c.s.user != "root" {
			return ""
		}
		return fmt.Sprintf("users:((\"%s\",pid=%d,fd=3))", sk.proc, max(sk.pid, 1))
	}
	for _, sk := range c.s.listening() {
		c.out.printf("%sLISTEN 0      128          0.0.0.0:%-5d      0.0.0.0:*     %s\n", netid, sk.port, proc(sk))
	}
	if !listenOnly {
		c.out.printf("%sESTAB  0      0        %s:22     %s:%d     \n", netid, c.s.ownAddress(), c.s.loginFrom(), 40000+seeded(c.s.h.name, 20000))
	}
	return 0
}

func cmdNetstat(c *call) int {
	fl, _, bad := parseFlags(c.args, flagSpec{bools: "tulnpaerisW", long: map[string]string{"tcp": "t", "udp": "u", "listening": "l", "numeric": "n", "programs": "p", "all": "a", "route": "r", "interfaces": "i", "statistics": "s", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("netstat: %s\nusage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}\n", bad)
		return 1
	}
	if fl.has("r") {
		ip := c.s.ownAddress()
		parts := strings.Split(ip, ".")
		c.out.WriteString("Kernel IP routing table\nDestination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n")
		c.out.printf("0.0.0.0         %-15s 0.0.0.0         UG        0 0          0 ens18\n", strings.Join(parts[:3], ".")+".1")
		c.out.printf("%-15s 0.0.0.0         255.255.255.0   U         0 0          0 ens18\n", strings.Join(parts[:3], ".")+".0")
		return 0
	}
	if fl.has("l") {
		c.out.WriteString("Active Internet connections (only servers)\n")
	} else {
		c.out.WriteString("Active Internet connections (w/o servers)\n")
	}
	c.out.WriteString("Proto Recv-Q Send-Q Local Address           Foreign Address         State      ")
	if fl.has("p") {
		c.out.WriteString(" PID/Program name    ")
	}
	c.out.WriteString("\n")
	if fl.has("p") && c.s.user != "root" {
		defer c.err.WriteString("(Not all processes could be identified, non-owned process info\n will not be shown, you would have to be root to see it all.)\n")
	}
	if fl.has("l") || fl.has("a") {
		for _, sk := range c.s.listening() {
			prog := "-"
			if c.s.user == "root" {
				prog = fmt.Sprintf("%d/%s", max(sk.pid, 1), sk.proc)
			}
			line := fmt.Sprintf("tcp        0      0 %-23s 0.0.0.0:*               LISTEN     ", fmt.Sprintf("0.0.0.0:%d", sk.port))
			if fl.has("p") {
				line += " " + prog
			}
			c.out.WriteString(line + "\n")
		}
	}
	if !fl.has("l") {
		c.out.printf("tcp        0      0 %-23s %-23s ESTABLISHED\n", c.s.ownAddress()+":22", fmt.Sprintf("%s:%d", c.s.loginFrom(), 40000+seeded(c.s.h.name, 20000)))
	}
	return 0
}

func cmdLsof(c *call) int {
	args := c.args
	if len(args) == 1 && (args[0] == "-v" || args[0] == "--version") {
		c.err.WriteString("lsof version information:\n    revision: 4.95.0\n")
		return 0
	}
	var port string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-i") {
			port = strings.TrimPrefix(args[i], "-i")
			if port == "" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				port = args[i]
			}
		}
	}
	// Without root, lsof sees only the user's own processes: this shell.
	if c.s.user != "root" {
		if port != "" {
			return 1
		}
		c.out.WriteString("COMMAND   PID  USER   FD   TYPE DEVICE SIZE/OFF    NODE NAME\n")
		c.out.printf("bash    %5d %s  cwd    DIR    8,1     4096 %7d %s\n", c.s.pid, c.s.user, 100000+seeded(c.s.cwd, 800000), c.s.cwd)
		return 0
	}
	c.out.WriteString("COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n")
	for _, sk := range c.s.listening() {
		if port != "" && !strings.HasSuffix(port, ":"+strconv.Itoa(sk.port)) && port != strconv.Itoa(sk.port) {
			continue
		}
		c.out.printf("%-9s %4d root    3u  IPv4  %5d      0t0  TCP *:%d (LISTEN)\n", sk.proc, max(sk.pid, 1), 18000+sk.port%1000, sk.port)
	}
	return 0
}

// ---- cron ----

func crontabPath(user string) string { return "/var/spool/cron/crontabs/" + user }

func cmdCrontab(c *call) int {
	user := c.s.user
	args := c.args
	mode := ""
	file := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-l", "-r", "-e", "-i":
			mode = a
		case "-u":
			if i+1 >= len(args) {
				c.err.WriteString("crontab: option requires an argument -- 'u'\n")
				return 1
			}
			i++
			if args[i] != user && c.s.user != "root" {
				c.err.WriteString("must be privileged to use -u\n")
				return 1
			}
			user = args[i]
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				c.err.printf("crontab: invalid option -- '%s'\ncrontab: usage error: unrecognized option\nusage:\tcrontab [-u user] file\n\tcrontab [ -u user ] [ -i ] { -e | -l | -r }\n", strings.TrimPrefix(a, "-"))
				return 1
			}
			file = a
		}
	}
	p := crontabPath(user)
	hfs := c.s.h.fs
	switch mode {
	case "-l":
		t, err := hfs.ReadContent(p)
		if err != nil {
			c.err.printf("no crontab for %s\n", user)
			return 1
		}
		c.out.WriteString(t)
		return 0
	case "-r", "-i":
		if !hfs.Exists(p) {
			c.err.printf("no crontab for %s\n", user)
			return 1
		}
		gone, err := hfs.Remove(p, false)
		if err != nil {
			c.err.printf("crontab: %s\n", errText(err))
			return 1
		}
		c.s.reportGone(gone, "crontab")
		return 0
	case "-e":
		c.err.WriteString("no crontab for " + user + " - using an empty one\ncrontab: \"/usr/bin/sensible-editor\" exited with status 1\n")
		return 1
	}
	var text string
	if file == "" || file == "-" {
		text = c.in.text
	} else {
		b, err := c.s.readFile(c.s.abs(file))
		if err != nil {
			c.err.printf("%s: %s\n", file, errText(err))
			return 1
		}
		text = b.Content
	}
	// cron checks every line before installing anything.
	for i, l := range splitLines(text) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") || cronEnvLine.MatchString(t) {
			continue
		}
		if !cronLine.MatchString(t) {
			c.err.printf("\"-\":%d: bad minute\nerrors in crontab file, can't install.\n", i+1)
			return 1
		}
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		c.err.printf("new crontab file is missing newline before EOF, can't install.\n")
		return 1
	}
	if err := hfs.Mkdir(path.Dir(p), "root", 0o1730, true); err != nil {
		c.err.printf("crontab: %s\n", errText(err))
		return 1
	}
	if _, err := hfs.Write(p, vfs.Content(text), vfs.WriteOptions{Mode: 0o600, Owner: user}); err != nil {
		c.err.printf("crontab: %s\n", errText(err))
		return 1
	}
	c.s.send("file_written", map[string]any{"host": c.s.h.name, "path": p, "bytes": int64(len(text)), "sha256": vfs.Content(text).SHA256, "created": true})
	return 0
}

var (
	cronLine    = regexp.MustCompile(`^(@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9*,/\-]+|[a-zA-Z]{3})(\s+([0-9*,/\-]+|[a-zA-Z]{3})){4})\s+\S`)
	cronEnvLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*=`)
)

// ---- attributes, sizes, temporary files ----

func cmdChattr(c *call) int {
	var ops []string
	for _, a := range c.args {
		if len(a) > 1 && (a[0] == '+' || a[0] == '-' || a[0] == '=') && a != "-R" && a != "-V" && a != "-f" {
			continue
		}
		if a == "-R" || a == "-V" || a == "-f" {
			continue
		}
		ops = append(ops, a)
	}
	if len(ops) == 0 {
		c.err.WriteString("Usage: chattr [-pRVf] [-+=aAcCdDeijPsStTuFx] [-v version] files...\n")
		return 1
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if _, err := c.s.h.fs.Stat(p); err != nil {
			c.err.printf("chattr: No such file or directory while trying to stat %s\n", op)
			code = 1
			continue
		}
		if c.s.user != "root" {
			c.err.printf("chattr: Operation not permitted while setting flags on %s\n", op)
			code = 1
		}
	}
	return code
}

func cmdLsattr(c *call) int {
	var ops []string
	dirs := false
	for _, a := range c.args {
		switch a {
		case "-d":
			dirs = true
		case "-a", "-R", "-l", "-v":
		default:
			ops = append(ops, a)
		}
	}
	if len(ops) == 0 {
		ops = []string{"."}
	}
	code := 0
	line := func(name string) { c.out.printf("--------------e------- %s\n", name) }
	for _, op := range ops {
		p := c.s.abs(op)
		in, err := c.s.h.fs.Stat(p)
		if err != nil {
			c.err.printf("lsattr: No such file or directory while trying to stat %s\n", op)
			code = 1
			continue
		}
		if in.Dir && !dirs {
			infos, _ := c.s.h.fs.ReadDir(p)
			for _, e := range infos {
				if !strings.HasPrefix(e.Name, ".") {
					line(path.Join(op, e.Name))
				}
			}
			continue
		}
		line(op)
	}
	return code
}

func cmdTruncate(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "co", values: "sr", long: map[string]string{"size": "s=", "reference": "r=", "no-create": "c", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: truncate OPTION... FILE...\nShrink or extend the size of each FILE to the specified size\n\n  -c, --no-create        do not create any files\n  -s, --size=SIZE        set or adjust the file size by SIZE bytes\n") {
		return 0
	}
	if !fl.has("s") && !fl.has("r") {
		return c.badFlag("you must specify either '--size' or '--reference'", 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing file operand", 1)
	}
	spec := fl.val("s")
	rel := byte(0)
	if spec != "" && strings.IndexByte("+-<>/%", spec[0]) >= 0 {
		rel, spec = spec[0], spec[1:]
	}
	var size int64
	if fl.has("r") {
		in, err := c.s.h.fs.Stat(c.s.abs(fl.val("r")))
		if err != nil {
			c.errorf("cannot stat %s: %s", quoteName(fl.val("r")), errText(err))
			return 1
		}
		size = in.Size
	} else {
		n, ok := parseSize(spec)
		if !ok {
			c.errorf("Invalid number: %s", quoteName(fl.val("s")))
			return 1
		}
		size = n
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		old, err := c.s.h.fs.Read(p)
		if err != nil && fl.has("c") {
			continue
		}
		cur := old.Size
		target := size
		switch rel {
		case '+':
			target = cur + size
		case '-':
			target = max(cur-size, 0)
		case '<':
			target = min(cur, size)
		case '>':
			target = max(cur, size)
		}
		var b vfs.Blob
		switch {
		case old.Declared:
			b = vfs.Part(old, 0, target)
			if target > old.Size {
				b = vfs.Concat(old, vfs.Declared(target-old.Size, "", "zeros"))
			}
		case target <= int64(len(old.Content)):
			b = vfs.Content(old.Content[:target])
		case target <= 1<<20:
			b = vfs.Content(old.Content + strings.Repeat("\x00", int(target)-len(old.Content)))
		default:
			b = vfs.Declared(target, "", fmt.Sprintf("sparse\x00%s\x00%d", p, target))
		}
		if err := c.s.canWrite(p); err != nil {
			c.errorf("cannot open %s for writing: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		if _, err := c.s.writeFile(p, b, "truncate", true); err != nil {
			c.errorf("cannot open %s for writing: %s", quoteName(op), errText(err))
			code = 1
		}
	}
	return code
}

// tempName makes mktemp's random part from the clock and a counter, so the
// same calls give the same names.
func (c *call) tempName(template string) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	n := 0
	for strings.HasSuffix(template[:len(template)-n], "X") {
		n++
	}
	for try := 0; ; try++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d", c.s.h.name, template, c.s.net.clock.Now().UnixNano(), try)))
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(letters[int(sum[i])%len(letters)])
		}
		name := template[:len(template)-n] + b.String()
		if !c.s.h.fs.Exists(c.s.abs(name)) {
			return name
		}
	}
}

func cmdMktemp(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "dqut", values: "p", long: map[string]string{"directory": "d", "quiet": "q", "dry-run": "u", "tmpdir": "p=", "suffix": "suffix=", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: mktemp [OPTION]... [TEMPLATE]\nCreate a temporary file or directory, safely, and print its name.\nTEMPLATE must contain at least 3 consecutive 'X's in last component.\nIf TEMPLATE is not specified, use tmp.XXXXXXXXXX, and --tmpdir is implied.\n") {
		return 0
	}
	template := "tmp.XXXXXXXXXX"
	dir := "/tmp"
	explicit := false
	if len(ops) > 0 {
		template = ops[0]
		explicit = true
	}
	if fl.has("p") && fl.val("p") != "" {
		dir = fl.val("p")
	}
	if !strings.HasSuffix(template, "XXX") {
		c.errorf("too few X's in template %s", quoteName(template))
		return 1
	}
	name := template
	if !explicit || fl.has("p") || fl.has("t") {
		name = path.Join(dir, template)
	}
	name = c.tempName(name) + fl.val("suffix")
	p := c.s.abs(name)
	if !fl.has("u") {
		var err error
		if fl.has("d") {
			if err = c.s.h.fs.Check(path.Dir(p), c.s.user, vfs.Write|vfs.Exec); err == nil {
				err = c.s.h.fs.Mkdir(p, c.s.user, 0o700, false)
			}
		} else {
			_, err = c.s.writeFileOpts(p, vfs.Content(""), "mktemp", false, vfs.WriteOptions{Mode: 0o600})
		}
		if err != nil {
			if !fl.has("q") {
				kind := "file"
				if fl.has("d") {
					kind = "directory"
				}
				c.errorf("failed to create %s via template %s: %s", kind, quoteName(name), errText(err))
			}
			return 1
		}
	}
	c.out.WriteString(name + "\n")
	return 0
}

func cmdInstall(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "dDvcCpsb", values: "mogtS", long: map[string]string{"directory": "d", "mode": "m=", "owner": "o=", "group": "g=", "target-directory": "t=", "verbose": "v", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: install [OPTION]... [-T] SOURCE DEST\n  or:  install [OPTION]... SOURCE... DIRECTORY\n  or:  install [OPTION]... -t DIRECTORY SOURCE...\n  or:  install [OPTION]... -d DIRECTORY...\n") {
		return 0
	}
	mode := uint32(0o755)
	if fl.has("m") {
		m, err := strconv.ParseUint(fl.val("m"), 8, 32)
		if err != nil {
			c.errorf("invalid mode %s", quoteName(fl.val("m")))
			return 1
		}
		mode = uint32(m)
	}
	if (fl.has("o") || fl.has("g")) && c.s.user != "root" {
		c.errorf("cannot change ownership of %s: Operation not permitted", quoteName(ops[len(ops)-1]))
		return 1
	}
	if fl.has("d") {
		for _, op := range ops {
			if err := c.s.mkdirAll(c.s.abs(op)); err != nil {
				c.errorf("cannot create directory %s: %s", quoteName(op), errText(err))
				return 1
			}
			_ = c.s.h.fs.Chmod(c.s.abs(op), vfsMode(mode))
		}
		return 0
	}
	if fl.has("t") {
		ops = append(ops, fl.val("t"))
	}
	if len(ops) < 2 {
		return c.badFlag("missing file operand", 1)
	}
	dst := ops[len(ops)-1]
	dp := c.s.abs(dst)
	din, derr := c.s.h.fs.Stat(dp)
	dstDir := derr == nil && din.Dir
	code := 0
	for _, src := range ops[:len(ops)-1] {
		target := dp
		if dstDir {
			target = path.Join(dp, path.Base(src))
		}
		if fl.has("D") {
			_ = c.s.mkdirAll(path.Dir(target))
		}
		b, err := c.readInput(src)
		if err != nil {
			c.errorf("cannot stat %s: %s", quoteName(src), errText(err))
			code = 1
			continue
		}
		if err := c.storeBlob(target, b, vfsMode(mode), time.Time{}); err != nil {
			c.errorf("cannot create regular file %s: %s", quoteName(target), errText(err))
			code = 1
			continue
		}
		_ = c.s.h.fs.Chmod(target, vfsMode(mode))
		if fl.has("v") {
			c.out.printf("'%s' -> '%s'\n", src, target)
		}
	}
	return code
}

func vfsMode(m uint32) fs.FileMode { return fs.FileMode(m) }

func cmdLocale(c *call) int {
	if len(c.args) > 0 && (c.args[0] == "-a" || c.args[0] == "--all-locales") {
		c.out.WriteString("C\nC.utf8\nPOSIX\n")
		return 0
	}
	lang := "C.UTF-8"
	if v, ok := c.s.environment()["LANG"]; ok && v != "" {
		lang = v
	}
	c.out.printf("LANG=%s\nLANGUAGE=\n", lang)
	for _, k := range []string{"LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"} {
		c.out.printf("%s=\"%s\"\n", k, lang)
	}
	c.out.WriteString("LC_ALL=\n")
	return 0
}

// ---- processes: pgrep, pkill ----

func cmdPgrep(c *call) int { return c.procMatch(false) }

// splitProcFlags splits pgrep's clustered short options (-af, -fl,
// -uroot) into one word each, as its getopt reads them; signals (-9,
// -HUP) and anything else stay as they are.
func splitProcFlags(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' || !strings.ContainsRune("flaxnocviuUd", rune(a[1])) {
			out = append(out, a)
			continue
		}
		var words []string
		ok := true
		for j := 1; j < len(a); j++ {
			ch := a[j]
			switch {
			case strings.IndexByte("flaxnocvi", ch) >= 0:
				words = append(words, "-"+string(ch))
			case strings.IndexByte("uUd", ch) >= 0:
				words = append(words, "-"+string(ch), a[j+1:])
				if j+1 == len(a) {
					words = words[:len(words)-1]
				}
				j = len(a)
			default:
				ok = false
			}
		}
		if !ok {
			out = append(out, a)
			continue
		}
		out = append(out, words...)
	}
	return out
}

// procMatch is pgrep (kill false) and pkill (kill true).
func (c *call) procMatch(kill bool) int {
	sig := 15
	var full, list, listFull, exact, newest, oldest, count, invert bool
	var users map[string]bool
	var pat string
	delim := "\n"
	args := splitProcFlags(c.args)
	for i := 0; i < len(args); i++ {
		a := args[i]
		need := func() (string, bool) {
			if i+1 >= len(args) {
				c.err.printf("%s: option requires an argument -- '%s'\nUsage:\n %s [options] <pattern>\n", c.name, strings.TrimLeft(a, "-"), c.name)
				return "", false
			}
			i++
			return args[i], true
		}
		switch {
		case a == "-f" || a == "--full":
			full = true
		case a == "-l" || a == "--list-name":
			list = true
		case a == "-a" || a == "--list-full":
			listFull = true
		case a == "-x" || a == "--exact":
			exact = true
		case a == "-n" || a == "--newest":
			newest = true
		case a == "-o" || a == "--oldest":
			oldest = true
		case a == "-c" || a == "--count":
			count = true
		case a == "-v" || a == "--inverse":
			invert = true
		case a == "-i" || a == "--ignore-case":
			pat = "(?i)" + pat
		case a == "-u" || a == "-U" || a == "--euid" || a == "--uid":
			v, ok := need()
			if !ok {
				return 2
			}
			users = map[string]bool{}
			for _, u := range strings.Split(v, ",") {
				users[u] = true
			}
		case a == "-d" || a == "--delimiter":
			v, ok := need()
			if !ok {
				return 2
			}
			delim = v
		case a == "--signal":
			v, ok := need()
			if !ok {
				return 2
			}
			n, good := parseSignal(strings.TrimPrefix(v, "SIG"))
			if !good {
				c.err.printf("%s: Unknown signal \"%s\".\n", c.name, v)
				return 2
			}
			sig = n
		case a == "-V" || a == "--version":
			c.out.printf("%s from procps-ng 4.0.2\n", c.name)
			return 0
		case a == "-h" || a == "--help":
			c.out.printf("\nUsage:\n %s [options] <pattern>\n\nOptions:\n -<sig>, --signal <sig>    signal to send (either number or name)\n -c, --count               count of matching processes\n -f, --full                use full process name to match\n -l, --list-name           list PID and process name\n -a, --list-full           list PID and full command line\n -n, --newest              select most recently started\n -o, --oldest              select least recently started\n -u, --euid <ID,...>       match by effective IDs\n -x, --exact               match exactly with the command name\n\nFor more details see pgrep(1).\n", c.name)
			return 0
		case strings.HasPrefix(a, "-") && len(a) > 1 && kill:
			n, ok := parseSignal(strings.TrimPrefix(a[1:], "SIG"))
			if !ok {
				c.err.printf("%s: unknown option -- '%s'\nUsage:\n %s [options] <pattern>\n\nFor more details see %s(1).\n", c.name, a[1:], c.name, c.name)
				return 2
			}
			sig = n
		case strings.HasPrefix(a, "-") && len(a) > 1:
			c.err.printf("%s: invalid option -- '%s'\nUsage:\n %s [options] <pattern>\n\nFor more details see %s(1).\n", c.name, a[1:2], c.name, c.name)
			return 2
		default:
			if pat != "" && !strings.HasPrefix(pat, "(?i)") {
				c.err.printf("%s: only one pattern can be provided\nTry `%s --help' for more information.\n", c.name, c.name)
				return 2
			}
			pat += a
		}
	}
	if pat == "" || pat == "(?i)" {
		if users == nil {
			c.err.printf("%s: no matching criteria specified\nTry `%s --help' for more information.\n", c.name, c.name)
			return 2
		}
		pat += ".*"
	}
	if exact {
		pat = "^(" + pat + ")$"
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		c.err.printf("%s: invalid regular expression\n", c.name)
		return 2
	}
	var hits []procRow
	for _, r := range c.s.procTable("") {
		// pgrep never reports itself; the ps row of the table stands for it.
		if r.pid == c.s.pid+1 || r.pid == 0 {
			continue
		}
		name := path.Base(strings.Fields(r.command + " x")[0])
		if strings.HasPrefix(r.command, "[") {
			name = strings.Trim(r.command, "[]")
		}
		name = strings.TrimSuffix(strings.TrimPrefix(name, "-"), ":")
		if len(name) > 15 {
			name = name[:15]
		}
		subject := name
		if full {
			subject = r.command
		}
		if users != nil && !users[r.user] {
			continue
		}
		if re.MatchString(subject) == invert {
			continue
		}
		hits = append(hits, r)
	}
	if (newest || oldest) && len(hits) > 1 {
		sort.SliceStable(hits, func(i, j int) bool {
			return hits[i].start.Before(hits[j].start) || hits[i].start.Equal(hits[j].start) && hits[i].pid < hits[j].pid
		})
		if newest {
			hits = hits[len(hits)-1:]
		} else {
			hits = hits[:1]
		}
	}
	if count {
		c.out.printf("%d\n", len(hits))
		if len(hits) == 0 {
			return 1
		}
		if !kill {
			return 0
		}
	}
	if len(hits) == 0 {
		return 1
	}
	if kill {
		for _, r := range hits {
			if r.pid == 1 || r.pid == c.s.pid {
				continue
			}
			if msg := c.s.signal(r.pid, sig); msg != "" {
				c.err.printf("%s: killing pid %d failed: %s\n", c.name, r.pid, msg)
			}
		}
		return 0
	}
	var parts []string
	for _, r := range hits {
		name := path.Base(strings.Fields(r.command + " x")[0])
		switch {
		case listFull:
			parts = append(parts, fmt.Sprintf("%d %s", r.pid, r.command))
		case list:
			parts = append(parts, fmt.Sprintf("%d %s", r.pid, strings.TrimSuffix(strings.TrimPrefix(name, "-"), ":")))
		default:
			parts = append(parts, strconv.Itoa(r.pid))
		}
	}
	c.out.WriteString(strings.Join(parts, delim) + "\n")
	return 0
}

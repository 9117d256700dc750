package shell

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// This file builds what a Debian 12 server holds before the scenario adds
// its own files: /etc, the binaries of the commands the shell has, the
// keys ssh needs, and the profile (hardware, addresses, boot time) that
// /proc, ps, free and the logs all read. Everything is derived from the
// host's name and the world's seed, so every host differs from the others
// and the same world is built the same way every time.

// Option configures NewNetwork.
type Option func(*netConfig)

type netConfig struct {
	links []world.Link
	seed  int64
}

// WithLinks declares the network paths between hosts (bandwidth, latency,
// TTL); pairs without one get world.DefaultLink or DefaultExternalLink.
func WithLinks(links []world.Link) Option {
	return func(c *netConfig) { c.links = append(c.links, links...) }
}

// WithSeed varies what the hosts derive on their own: boot times, PIDs,
// keys, addresses, log lines.
func WithSeed(seed int64) Option { return func(c *netConfig) { c.seed = seed } }

// profile is the hardware and identity of one host.
type profile struct {
	ip        string
	cpus      int
	cpuModel  string
	cpuMHz    string
	memKB     int64
	machineID string
	bootID    string
	// hostKey is the host's ssh ed25519 key pair.
	hostKey ed25519.PrivateKey
	// userKey is the login user's ssh key (id_ed25519).
	userKey ed25519.PrivateKey
	rsaPub  string // the host's ssh-rsa public key blob, base64
	ecPub   string // the host's ecdsa-sha2-nistp256 public key blob, base64
	uptime  time.Duration
	pidBase int
	rng     *rand.Rand
}

// Kernel is what every host runs: Debian 12's kernel of early 2026.
const (
	kernelRelease = "6.1.0-31-amd64"
	kernelVersion = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1 (2025-02-07)"
	debianVersion = "12.9"
)

func hostRand(seed int64, name, purpose string) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s", seed, name, purpose)
	return rand.New(rand.NewPCG(h.Sum64(), uint64(seed)^0x9e3779b97f4a7c15))
}

func keyFrom(r *rand.Rand) ed25519.PrivateKey {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(r.UintN(256))
	}
	return ed25519.NewKeyFromSeed(seed[:])
}

func randHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return hex.EncodeToString(b)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

var cpuModels = []struct{ model, mhz string }{
	{"Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "2394.374"},
	{"Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "1995.312"},
	{"AMD EPYC 7313 16-Core Processor", "2999.998"},
	{"AMD EPYC 7443P 24-Core Processor", "2850.012"},
}

// newProfiles derives every host's profile. Internal hosts share a
// private /24; outside hosts get public addresses.
func newProfiles(hosts []world.Host, seed int64) map[string]*profile {
	out := map[string]*profile{}
	usedIP := map[string]bool{}
	for _, hs := range hosts {
		r := hostRand(seed, hs.Name, "profile")
		p := &profile{rng: hostRand(seed, hs.Name, "content")}
		for {
			if hs.External {
				p.ip = fmt.Sprintf("%d.%d.%d.%d", []int{91, 94, 185, 195}[r.IntN(4)], 16+r.IntN(200), r.IntN(250), 2+r.IntN(250))
			} else {
				p.ip = fmt.Sprintf("10.20.4.%d", 11+r.IntN(230))
			}
			if !usedIP[p.ip] {
				usedIP[p.ip] = true
				break
			}
		}
		m := cpuModels[r.IntN(len(cpuModels))]
		p.cpuModel, p.cpuMHz = m.model, m.mhz
		p.cpus = []int{4, 8, 8, 16}[r.IntN(4)]
		gib := []int64{16, 32, 32, 64}[r.IntN(4)]
		// The kernel keeps some memory for itself.
		p.memKB = gib<<20 - int64(180_000+r.IntN(220_000))
		p.machineID = randHex(r, 16)
		p.bootID = randHex(r, 16)
		p.hostKey = keyFrom(r)
		p.userKey = keyFrom(r)
		p.rsaPub = rsaPubBlob(r)
		p.ecPub = ecdsaPubBlob(r)
		// Up between 3 and 47 days, at some odd minute.
		p.uptime = time.Duration(3+r.IntN(44))*24*time.Hour + time.Duration(r.IntN(24*60))*time.Minute + time.Duration(r.IntN(60))*time.Second
		p.pidBase = 400 + r.IntN(500)
		out[hs.Name] = p
	}
	return out
}

// ---- ssh key formats ----

func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

func ed25519PubBlob(k ed25519.PrivateKey) []byte {
	pub := k.Public().(ed25519.PublicKey)
	return append(sshString([]byte("ssh-ed25519")), sshString(pub)...)
}

func ed25519PubLine(k ed25519.PrivateKey, comment string) string {
	line := "ssh-ed25519 " + base64.StdEncoding.EncodeToString(ed25519PubBlob(k))
	if comment != "" {
		line += " " + comment
	}
	return line
}

// ed25519PrivatePEM writes k in the unencrypted openssh-key-v1 format that
// ssh-keygen writes.
func ed25519PrivatePEM(k ed25519.PrivateKey, comment string, r *rand.Rand) string {
	check := uint32(r.Uint32())
	var priv []byte
	priv = binary.BigEndian.AppendUint32(priv, check)
	priv = binary.BigEndian.AppendUint32(priv, check)
	priv = append(priv, sshString([]byte("ssh-ed25519"))...)
	priv = append(priv, sshString(k.Public().(ed25519.PublicKey))...)
	priv = append(priv, sshString(k)...)
	priv = append(priv, sshString([]byte(comment))...)
	for i := byte(1); len(priv)%8 != 0; i++ {
		priv = append(priv, i)
	}
	var b []byte
	b = append(b, "openssh-key-v1\x00"...)
	b = append(b, sshString([]byte("none"))...)
	b = append(b, sshString([]byte("none"))...)
	b = append(b, sshString(nil)...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, sshString(ed25519PubBlob(k))...)
	b = append(b, sshString(priv)...)
	enc := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	out.WriteString("-----BEGIN OPENSSH PRIVATE KEY-----\n")
	for len(enc) > 70 {
		out.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	out.WriteString(enc + "\n-----END OPENSSH PRIVATE KEY-----\n")
	return out.String()
}

func rsaPubBlob(r *rand.Rand) string {
	n := randBytes(r, 385)
	n[0] = 0
	n[1] |= 0x80
	n[len(n)-1] |= 1
	b := append(sshString([]byte("ssh-rsa")), sshString([]byte{1, 0, 1})...)
	b = append(b, sshString(n)...)
	return base64.StdEncoding.EncodeToString(b)
}

func ecdsaPubBlob(r *rand.Rand) string {
	pt := append([]byte{4}, randBytes(r, 64)...)
	b := append(sshString([]byte("ecdsa-sha2-nistp256")), sshString([]byte("nistp256"))...)
	b = append(b, sshString(pt)...)
	return base64.StdEncoding.EncodeToString(b)
}

// fingerprint is ssh-keygen -l's SHA256 form of a public key blob.
func fingerprint(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + strings.TrimRight(base64.StdEncoding.EncodeToString(sum[:]), "=")
}

// ---- accounts ----

type sysAccount struct {
	name, gecos, home, shell string
	uid, gid                 int
}

// systemAccounts are Debian 12's base accounts plus sshd and the
// systemd ones a server has.
var systemAccounts = []sysAccount{
	{"root", "root", "/root", "/bin/bash", 0, 0},
	{"daemon", "daemon", "/usr/sbin", "/usr/sbin/nologin", 1, 1},
	{"bin", "bin", "/bin", "/usr/sbin/nologin", 2, 2},
	{"sys", "sys", "/dev", "/usr/sbin/nologin", 3, 3},
	{"sync", "sync", "/bin", "/bin/sync", 4, 65534},
	{"games", "games", "/usr/games", "/usr/sbin/nologin", 5, 60},
	{"man", "man", "/var/cache/man", "/usr/sbin/nologin", 6, 12},
	{"lp", "lp", "/var/spool/lpd", "/usr/sbin/nologin", 7, 7},
	{"mail", "mail", "/var/mail", "/usr/sbin/nologin", 8, 8},
	{"news", "news", "/var/spool/news", "/usr/sbin/nologin", 9, 9},
	{"uucp", "uucp", "/var/spool/uucp", "/usr/sbin/nologin", 10, 10},
	{"proxy", "proxy", "/bin", "/usr/sbin/nologin", 13, 13},
	{"www-data", "www-data", "/var/www", "/usr/sbin/nologin", 33, 33},
	{"backup", "backup", "/var/backups", "/usr/sbin/nologin", 34, 34},
	{"list", "Mailing List Manager", "/var/list", "/usr/sbin/nologin", 38, 38},
	{"irc", "ircd", "/run/ircd", "/usr/sbin/nologin", 39, 39},
	{"_apt", "", "/nonexistent", "/usr/sbin/nologin", 42, 65534},
	{"nobody", "nobody", "/nonexistent", "/usr/sbin/nologin", 65534, 65534},
	{"systemd-network", "systemd Network Management", "/", "/usr/sbin/nologin", 998, 998},
	{"systemd-timesync", "systemd Time Synchronization", "/", "/usr/sbin/nologin", 997, 997},
	{"messagebus", "", "/nonexistent", "/usr/sbin/nologin", 100, 107},
	{"sshd", "", "/run/sshd", "/usr/sbin/nologin", 101, 65534},
}

var systemGroups = []struct {
	name string
	gid  int
}{
	{"root", 0}, {"daemon", 1}, {"bin", 2}, {"sys", 3}, {"adm", 4}, {"tty", 5}, {"disk", 6}, {"lp", 7}, {"mail", 8},
	{"news", 9}, {"uucp", 10}, {"man", 12}, {"proxy", 13}, {"kmem", 15}, {"dialout", 20}, {"fax", 21}, {"voice", 22},
	{"cdrom", 24}, {"floppy", 25}, {"tape", 26}, {"sudo", 27}, {"audio", 29}, {"dip", 30}, {"www-data", 33},
	{"backup", 34}, {"operator", 37}, {"list", 38}, {"irc", 39}, {"src", 40}, {"shadow", 42}, {"utmp", 43},
	{"video", 44}, {"sasl", 45}, {"plugdev", 46}, {"staff", 50}, {"games", 60}, {"users", 100}, {"nogroup", 65534},
	{"systemd-journal", 999}, {"systemd-network", 998}, {"systemd-timesync", 997}, {"input", 101}, {"sgx", 102},
	{"kvm", 103}, {"render", 104}, {"crontab", 105}, {"netdev", 106}, {"messagebus", 107}, {"ssh", 108},
}

// accounts lists the host's accounts: the system ones, the service users
// its units and files name, and the login user (uid 1000).
func hostAccounts(hs world.Host, user string) []sysAccount {
	out := slices.Clone(systemAccounts)
	have := map[string]bool{}
	for _, a := range out {
		have[a.name] = true
	}
	var extra []string
	for _, s := range hs.Services {
		if s.User != "" {
			extra = append(extra, s.User)
		}
	}
	for _, p := range hs.Processes {
		if p.User != "" {
			extra = append(extra, p.User)
		}
	}
	for _, f := range hs.Files {
		if f.Owner != "" {
			extra = append(extra, f.Owner)
		}
	}
	uid := 996
	var svc []string
	for _, n := range extra {
		if !have[n] && n != user {
			have[n] = true
			svc = append(svc, n)
		}
	}
	sort.Strings(svc)
	for _, n := range svc {
		gecos := n
		if n == "prometheus" {
			gecos = "Prometheus daemon"
		}
		out = append(out, sysAccount{n, gecos, "/var/lib/" + n, "/usr/sbin/nologin", uid, uid})
		uid--
	}
	if !have[user] {
		out = append(out, sysAccount{user, user, homeOf(user), "/bin/bash", 1000, 1000})
	}
	return out
}

// setIDBinaries are the programs Debian installs setuid root (or setgid
// to a group), as find -perm -4000 lists them.
var setIDBinaries = map[string]struct {
	mode  fs.FileMode
	group string
}{
	"/usr/bin/su": {0o4755, ""}, "/usr/bin/sudo": {0o4755, ""}, "/usr/bin/mount": {0o4755, ""},
	"/usr/bin/umount": {0o4755, ""}, "/usr/bin/passwd": {0o4755, ""}, "/usr/bin/chsh": {0o4755, ""},
	"/usr/bin/chfn": {0o4755, ""}, "/usr/bin/gpasswd": {0o4755, ""}, "/usr/bin/newgrp": {0o4755, ""},
	"/usr/bin/crontab": {0o2755, "crontab"}, "/usr/bin/chage": {0o2755, "shadow"}, "/usr/bin/expiry": {0o2755, "shadow"},
}

// ---- the tree ----

// sysFiles collects the system files of a host.
type sysFiles struct {
	list []vfs.SystemFile
	at   time.Time // default mtime
}

func (f *sysFiles) file(p, content string, mode fs.FileMode, owner string, t time.Time) {
	if t.IsZero() {
		t = f.at
	}
	f.list = append(f.list, vfs.SystemFile{Path: p, Blob: vfs.Content(content), Mode: mode, Owner: owner, ModTime: t})
}

func (f *sysFiles) binary(p string, size int64, mode fs.FileMode, t time.Time) {
	if t.IsZero() {
		t = f.at
	}
	f.list = append(f.list, vfs.SystemFile{Path: p, Blob: vfs.Declared(size, "", "bin:"+p), Mode: mode, ModTime: t})
}

func (f *sysFiles) link(p, target string, t time.Time) {
	f.list = append(f.list, vfs.SystemFile{Path: p, Link: target, Owner: "root", ModTime: t})
}

func (f *sysFiles) dir(p string, mode fs.FileMode, owner string, t time.Time) {
	if t.IsZero() {
		t = f.at
	}
	f.list = append(f.list, vfs.SystemFile{Path: p, Dir: true, Mode: mode, Owner: owner, ModTime: t})
}

// installed is when the host was set up, and upgraded when it last took
// its updates; files carry one of these times, or their own.
type epochs struct {
	installed, upgraded, boot time.Time
}

func hostEpochs(p *profile, now time.Time) epochs {
	boot := now.Add(-p.uptime)
	r := hostRand(0, p.machineID, "epochs")
	installed := boot.AddDate(0, -(5 + r.IntN(20)), -r.IntN(28)).Add(-time.Duration(r.IntN(600)) * time.Minute)
	upgraded := boot.Add(-time.Duration(20+r.IntN(200)) * time.Minute)
	return epochs{installed: installed.Truncate(time.Second), upgraded: upgraded.Truncate(time.Second), boot: boot.Truncate(time.Second)}
}

// jitter returns t moved by up to max in either direction, at whole
// seconds, so that files of one install do not share a time.
func jitter(r *rand.Rand, t time.Time, max time.Duration) time.Time {
	if max <= 0 {
		return t
	}
	return t.Add(time.Duration(r.Int64N(int64(2*max))) - max).Truncate(time.Second)
}

// systemTree builds the Debian files of host hs, given every host of the
// network (for /etc/hosts and ssh's known hosts).
func systemTree(hs world.Host, user string, all []world.Host, profiles map[string]*profile, ep epochs, loc *time.Location, zone string) []vfs.SystemFile {
	p := profiles[hs.Name]
	r := p.rng
	f := &sysFiles{at: ep.installed}
	in := func(t time.Time) time.Time { return t.In(loc) }
	inst := func() time.Time { return in(jitter(r, ep.installed, 40*time.Minute)) }
	upg := func() time.Time { return in(jitter(r, ep.upgraded, 3*time.Minute)) }

	for _, d := range []struct {
		p    string
		mode fs.FileMode
	}{{"/boot", 0o755}, {"/dev", 0o755}, {"/etc", 0o755}, {"/home", 0o755},
		{"/media", 0o755}, {"/mnt", 0o755}, {"/opt", 0o755}, {"/proc", 0o555}, {"/root", 0o700}, {"/run", 0o755},
		{"/sys", 0o555}, {"/tmp", 0o1777}, {"/usr", 0o755}, {"/usr/bin", 0o755},
		{"/usr/sbin", 0o755}, {"/usr/lib", 0o755}, {"/usr/lib64", 0o755}, {"/usr/local", 0o755}, {"/usr/local/bin", 0o755}, {"/usr/share", 0o755},
		{"/var", 0o755}, {"/var/log", 0o755}, {"/var/tmp", 0o1777}, {"/var/lib", 0o755}, {"/var/cache", 0o755}, {"/var/spool", 0o755},
		{"/var/spool/cron", 0o755}, {"/var/spool/cron/crontabs", 0o1730}, {"/var/mail", 0o2775}, {"/var/backups", 0o755},
		{"/etc/cron.d", 0o755}, {"/etc/cron.daily", 0o755}, {"/etc/cron.hourly", 0o755}, {"/etc/cron.weekly", 0o755},
		{"/etc/cron.monthly", 0o755}, {"/etc/ssh", 0o755}, {"/etc/systemd/system", 0o755}, {"/etc/sudoers.d", 0o750},
		{"/etc/apt", 0o755}, {"/etc/apt/sources.list.d", 0o755}, {"/etc/default", 0o755}, {"/etc/logrotate.d", 0o755}} {
		f.dir(d.p, d.mode, "root", inst())
	}
	// Debian 12 merges /usr: /bin, /sbin and /lib are links into it.
	for _, l := range [][2]string{{"/bin", "usr/bin"}, {"/sbin", "usr/sbin"}, {"/lib", "usr/lib"}, {"/lib64", "usr/lib64"}} {
		f.list = append(f.list, vfs.SystemFile{Path: l[0], Link: l[1], ModTime: in(ep.installed)})
	}
	// /boot, /run and /tmp change with every boot.
	f.dir("/run", 0o755, "root", in(ep.boot.Add(3*time.Second)))
	f.dir("/tmp", 0o1777, "root", in(ep.boot.Add(4*time.Second)))

	// Accounts.
	accts := hostAccounts(hs, user)
	var passwd, shadow strings.Builder
	days := int(ep.installed.Unix() / 86400)
	for _, a := range accts {
		fmt.Fprintf(&passwd, "%s:x:%d:%d:%s:%s:%s\n", a.name, a.uid, a.gid, a.gecos, a.home, a.shell)
		hash := "*"
		switch {
		case a.name == "root", a.uid >= 1000 && a.uid < 65534:
			salt := base64.RawStdEncoding.EncodeToString(randBytes(r, 12))
			hash = "$y$j9T$" + strings.ReplaceAll(salt, "+", ".") + "$" + strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(randBytes(r, 32)), "+", ".")
		case a.uid < 1000:
			hash = "*"
		}
		if a.name == "_apt" || a.name == "nobody" || a.uid >= 100 && a.uid < 1000 {
			hash = "!*"
		}
		fmt.Fprintf(&shadow, "%s:%s:%d:0:99999:7:::\n", a.name, hash, days)
	}
	groups := map[string][]string{"adm": nil, "sudo": nil, "users": nil}
	if user != "root" {
		groups["adm"] = append(groups["adm"], user)
		groups["sudo"] = append(groups["sudo"], user)
		groups["users"] = append(groups["users"], user)
	}
	var group, gshadow strings.Builder
	for _, g := range systemGroups {
		fmt.Fprintf(&group, "%s:x:%d:%s\n", g.name, g.gid, strings.Join(groups[g.name], ","))
		fmt.Fprintf(&gshadow, "%s:*::%s\n", g.name, strings.Join(groups[g.name], ","))
	}
	for _, a := range accts {
		if a.uid >= 996 && a.uid != 65534 && !slices.ContainsFunc(systemAccounts, func(s sysAccount) bool { return s.name == a.name }) || a.uid == 1000 {
			fmt.Fprintf(&group, "%s:x:%d:\n", a.name, a.gid)
			fmt.Fprintf(&gshadow, "%s:!::\n", a.name)
		}
	}
	acctTime := in(jitter(r, ep.installed.Add(2*time.Hour), 30*time.Minute))
	f.file("/etc/passwd", passwd.String(), 0o644, "root", acctTime)
	f.file("/etc/group", group.String(), 0o644, "root", acctTime)
	f.file("/etc/shadow", shadow.String(), 0o640, "root", acctTime)
	f.list[len(f.list)-1].Group = "shadow"
	f.file("/etc/gshadow", gshadow.String(), 0o640, "root", acctTime)
	f.list[len(f.list)-1].Group = "shadow"
	f.file("/etc/shells", "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/usr/bin/dash\n", 0o644, "root", inst())
	if user != "root" {
		f.file("/etc/sudoers.d/90-"+user, user+" ALL=(ALL) NOPASSWD:ALL\n", 0o440, "root", acctTime)
	}
	f.file("/etc/sudoers", sudoers, 0o440, "root", inst())

	// Identity.
	domain := "meridianfreight.local"
	if hs.External {
		domain = strings.TrimPrefix(hs.Name[strings.IndexByte(hs.Name+".", '.'):], ".")
	}
	short := hs.Name
	if i := strings.IndexByte(short, '.'); i > 0 {
		short = short[:i]
	}
	fqdn := short + "." + domain
	if domain == "" {
		fqdn = short
	}
	f.file("/etc/os-release", osRelease, 0o644, "root", upg())
	f.file("/usr/lib/os-release", osRelease, 0o644, "root", upg())
	f.file("/etc/debian_version", debianVersion+"\n", 0o644, "root", upg())
	f.file("/etc/issue", "Debian GNU/Linux 12 \\n \\l\n\n", 0o644, "root", upg())
	f.file("/etc/issue.net", "Debian GNU/Linux 12\n", 0o644, "root", upg())
	f.file("/etc/machine-id", p.machineID+"\n", 0o444, "root", inst())
	f.file("/etc/timezone", zone+"\n", 0o644, "root", inst())
	// /etc/localtime links to the zone's file, as tzdata sets it up.
	f.dir("/usr/share/zoneinfo", 0o755, "root", inst())
	zdir := path.Dir("/usr/share/zoneinfo/" + zone)
	if zdir != "/usr/share/zoneinfo" {
		f.dir(zdir, 0o755, "root", inst())
	}
	f.binary("/usr/share/zoneinfo/"+zone, tzSize(zone), 0o644, inst())
	f.link("/etc/localtime", "/usr/share/zoneinfo/"+zone, inst())
	var hosts strings.Builder
	fmt.Fprintf(&hosts, "127.0.0.1\tlocalhost\n%s\t%s %s\n", p.ip, fqdn, short)
	if !hs.External {
		for _, o := range all {
			if o.Name == hs.Name || o.External {
				continue
			}
			on := o.Name
			if i := strings.IndexByte(on, '.'); i > 0 {
				on = on[:i]
			}
			fmt.Fprintf(&hosts, "%s\t%s.meridianfreight.local %s\n", profiles[o.Name].ip, on, on)
		}
	}
	hosts.WriteString("\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n")
	f.file("/etc/hosts", hosts.String(), 0o644, "root", in(jitter(r, ep.installed.Add(3*time.Hour), 20*time.Minute)))
	if hs.External {
		f.file("/etc/resolv.conf", "nameserver 185.12.64.1\nnameserver 185.12.64.2\n", 0o644, "root", in(ep.boot.Add(9*time.Second)))
	} else {
		f.file("/etc/resolv.conf", "domain meridianfreight.local\nsearch meridianfreight.local\nnameserver 10.20.0.2\nnameserver 10.20.0.3\n", 0o644, "root", in(ep.boot.Add(9*time.Second)))
	}
	f.file("/etc/nsswitch.conf", nsswitch, 0o644, "root", inst())
	f.file("/etc/fstab", fstab(r), 0o644, "root", inst())
	f.file("/etc/environment", "", 0o644, "root", inst())
	f.file("/etc/motd", motd, 0o644, "root", inst())
	f.file("/etc/bash.bashrc", bashBashrc, 0o644, "root", inst())
	f.file("/etc/profile", etcProfile, 0o644, "root", inst())
	f.file("/etc/apt/sources.list.d/debian.sources", debianSources, 0o644, "root", inst())

	// cron.
	f.file("/etc/crontab", etcCrontab, 0o644, "root", inst())
	f.file("/etc/cron.d/e2scrub_all", "30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n10 3 * * * root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r\n", 0o644, "root", inst())
	f.file("/etc/cron.d/.placeholder", "# DO NOT EDIT OR REMOVE\n# This file is a simple placeholder to keep dpkg from removing this directory\n", 0o644, "root", inst())
	for _, job := range []string{"apt-compat", "dpkg", "logrotate", "man-db"} {
		f.file("/etc/cron.daily/"+job, "#!/bin/sh\n\n# "+job+" daily maintenance, installed by the package\nset -e\n", 0o755, "root", inst())
	}
	f.file("/etc/cron.weekly/man-db", "#!/bin/sh\n#\n# man-db cron weekly\nset -e\n", 0o755, "root", inst())

	// ssh.
	f.file("/etc/ssh/ssh_config", sshConfig, 0o644, "root", upg())
	f.file("/etc/ssh/sshd_config", sshdConfig, 0o644, "root", inst())
	keyTime := in(jitter(r, ep.installed.Add(40*time.Minute), time.Minute))
	f.file("/etc/ssh/ssh_host_ed25519_key", ed25519PrivatePEM(p.hostKey, "root@"+short, r), 0o600, "root", keyTime)
	f.file("/etc/ssh/ssh_host_ed25519_key.pub", ed25519PubLine(p.hostKey, "root@"+short)+"\n", 0o644, "root", keyTime)
	f.file("/etc/ssh/ssh_host_rsa_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+wrap(base64.StdEncoding.EncodeToString(randBytes(r, 1800)), 70)+"-----END OPENSSH PRIVATE KEY-----\n", 0o600, "root", keyTime)
	f.file("/etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa "+p.rsaPub+" root@"+short+"\n", 0o644, "root", keyTime)
	f.file("/etc/ssh/ssh_host_ecdsa_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+wrap(base64.StdEncoding.EncodeToString(randBytes(r, 370)), 70)+"-----END OPENSSH PRIVATE KEY-----\n", 0o600, "root", keyTime)
	f.file("/etc/ssh/ssh_host_ecdsa_key.pub", "ecdsa-sha2-nistp256 "+p.ecPub+" root@"+short+"\n", 0o644, "root", keyTime)

	// The login user's keys, where ssh goes anywhere; authorized_keys for
	// every host whose user may log in here.
	home := homeOf(user)
	sshDir := home + "/.ssh"
	setup := in(jitter(r, ep.installed.Add(26*time.Hour), 3*time.Hour))
	var authorized []string
	for _, o := range all {
		if o.Name != hs.Name && slices.Contains(o.Reach, hs.Name) {
			ou := o.User
			if ou == "" {
				ou = "root"
			}
			authorized = append(authorized, ed25519PubLine(profiles[o.Name].userKey, ou+"@"+shortName(o.Name)))
		}
	}
	homeMode := fs.FileMode(0o755)
	if user == "root" {
		homeMode = 0o700
	}
	f.dir(home, homeMode, user, setup)
	if len(hs.Reach) > 0 || len(authorized) > 0 {
		f.dir(sshDir, 0o700, user, setup)
	}
	if len(hs.Reach) > 0 {
		comment := user + "@" + short
		f.file(sshDir+"/id_ed25519", ed25519PrivatePEM(p.userKey, comment, r), 0o600, user, setup)
		f.file(sshDir+"/id_ed25519.pub", ed25519PubLine(p.userKey, comment)+"\n", 0o644, user, setup)
		var known strings.Builder
		for _, name := range hs.Reach {
			op := profiles[name]
			if op == nil {
				continue
			}
			for _, alias := range []string{name, op.ip} {
				salt := randBytes(r, 20)
				mac := hmacSHA1(salt, []byte(alias))
				fmt.Fprintf(&known, "|1|%s|%s %s\n", base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(mac), strings.TrimSpace(ed25519PubLine(op.hostKey, "")))
			}
		}
		f.file(sshDir+"/known_hosts", known.String(), 0o644, user, in(jitter(r, setup.Add(20*time.Minute), 10*time.Minute)))
	}
	if len(authorized) > 0 {
		f.file(sshDir+"/authorized_keys", strings.Join(authorized, "\n")+"\n", 0o600, user, setup)
	}

	// Binaries: exactly the commands the shell offers, where Debian keeps
	// them; /bin and /sbin lead there.
	for _, b := range binaries() {
		size := int64(14_000 + hostRand(0, b, "size").IntN(300_000))
		t := upg()
		if hostRand(0, b, "age").IntN(3) > 0 {
			t = inst()
		}
		if b == "/usr/bin/sh" {
			// sh is dash, through the link dash's package makes.
			f.link("/usr/bin/sh", "dash", inst())
			continue
		}
		mode, group := setIDBinaries[b].mode, setIDBinaries[b].group
		if mode == 0 {
			mode = 0o755
		}
		f.binary(b, size, mode, t)
		f.list[len(f.list)-1].Group = group
	}
	// ssh-keysign comes with ssh, setuid like the others.
	f.binary("/usr/lib/openssh/ssh-keysign", 469_000+int64(hostRand(0, "keysign", "size").IntN(9_000)), 0o4755, upg())
	for _, d := range daemonBinaries {
		f.binary(d, int64(30_000+hostRand(0, d, "size").IntN(900_000)), 0o755, upg())
	}
	return f.list
}

func shortName(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	if s != "" {
		b.WriteString(s + "\n")
	}
	return b.String()
}

// tzSize is the size of the zone's compiled file, as Debian's tzdata ships
// it, for /etc/localtime.
func tzSize(zone string) int64 {
	switch zone {
	case "America/Los_Angeles":
		return 2852
	case "America/New_York":
		return 3552
	case "Europe/London":
		return 3664
	case "UTC", "Etc/UTC":
		return 114
	}
	return 2298
}

// binaries lists where each command the shell runs lives.
func binaries() []string {
	seen := map[string]bool{}
	var out []string
	for name := range commands {
		p := binPath(name)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// daemonBinaries are the programs the base system runs that nobody types.
var daemonBinaries = []string{
	"/lib/systemd/systemd", "/lib/systemd/systemd-journald", "/lib/systemd/systemd-udevd",
	"/lib/systemd/systemd-logind", "/lib/systemd/systemd-timesyncd", "/usr/sbin/cron", "/usr/sbin/sshd",
	"/usr/sbin/agetty", "/usr/bin/dbus-daemon", "/usr/sbin/rsyslogd", "/sbin/init",
}

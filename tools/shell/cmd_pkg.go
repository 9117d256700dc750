package shell

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Packages: dpkg, dpkg-query, apt, apt-get and apt-cache over one list of
// what a Debian 12 server of the world has installed. The list agrees
// with the commands the hosts have: every registered program belongs to an
// installed package (dpkg -S finds it), and a program no package of the
// list provides (python3, git, gcc) is not installed. Nothing can be
// fetched: the hosts have no way to the Debian mirrors.

func init() {
	register(map[string]cmdFunc{
		"dpkg": cmdDpkg, "dpkg-query": cmdDpkgQuery, "apt": cmdApt, "apt-get": cmdApt, "apt-cache": cmdAptCache,
	})
}

type debPackage struct {
	name, version, arch, desc string
	size                      int // installed size, KiB
	bins                      []string
}

// debianPackages is the installed set: Debian 12.9 "bookworm" as a server
// install with ssh, plus the tools the hosts carry (rsync, curl, jq, lsof).
var debianPackages = []debPackage{
	{"adduser", "3.134", "all", "add and remove users and groups", 849, nil},
	{"apt", "2.6.1", "amd64", "commandline package manager", 4221, []string{"apt", "apt-get", "apt-cache"}},
	{"base-files", "12.4+deb12u9", "amd64", "Debian base system miscellaneous files", 340, nil},
	{"base-passwd", "3.6.1", "amd64", "Debian base system master password and group files", 255, nil},
	{"bash", "5.2.15-2+b7", "amd64", "GNU Bourne Again SHell", 7164, []string{"bash"}},
	{"bzip2", "1.0.8-5+b1", "amd64", "high-quality block-sorting file compressor - utilities", 121, []string{"bzip2", "bunzip2", "bzcat"}},
	{"bsdextrautils", "2.38.1-5+deb12u3", "amd64", "extra utilities from 4.4BSD-Lite", 339, []string{"column", "hexdump", "rev", "hd"}},
	{"bsdutils", "1:2.38.1-5+deb12u3", "amd64", "basic utilities from 4.4BSD-Lite", 356, []string{"logger", "renice", "script"}},
	{"ca-certificates", "20230311", "all", "Common CA certificates", 383, nil},
	{"coreutils", "9.1-1", "amd64", "GNU core utilities", 18062, []string{
		"base64", "basename", "cat", "chgrp", "chmod", "chown", "cp", "cut", "date", "dd", "df", "dirname", "du", "echo", "env", "expand", "expr",
		"false", "fold", "groups", "head", "id", "install", "join", "ln", "logname", "ls", "md5sum", "mkdir", "mktemp", "mv", "nice",
		"nl", "nohup", "nproc", "od", "paste", "printenv", "printf", "pwd", "readlink", "realpath", "rm", "rmdir", "seq", "sha1sum",
		"sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "shred", "shuf", "sleep", "sort", "split", "stat", "stdbuf", "stty", "sync",
		"tac", "tail", "tee", "test", "[", "timeout", "touch", "tr", "true", "truncate", "tty", "uname", "uniq", "unexpand", "wc",
		"who", "whoami", "yes", "comm", "cmp", "uptime", "users", "unlink", "arch", "cksum",
	}},
	{"cron", "3.0pl1-162", "amd64", "process scheduling daemon", 275, []string{"crontab"}},
	{"curl", "7.88.1-10+deb12u8", "amd64", "command line tool for transferring data with URL syntax", 500, []string{"curl"}},
	{"dash", "0.5.12-2", "amd64", "POSIX-compliant shell", 191, []string{"sh", "dash"}},
	{"debconf", "1.5.82", "all", "Debian configuration management system", 521, nil},
	{"debianutils", "5.7-0.5~deb12u1", "amd64", "Miscellaneous utilities specific to Debian", 243, []string{"which", "run-parts"}},
	{"diffutils", "1:3.8-4", "amd64", "File comparison utilities", 1599, []string{"diff", "cmp"}},
	{"dpkg", "1.21.22", "amd64", "Debian package management system", 6457, []string{"dpkg", "dpkg-query"}},
	{"e2fsprogs", "1.47.0-2", "amd64", "ext2/ext3/ext4 file system utilities", 1485, []string{"chattr", "lsattr"}},
	{"file", "1:5.44-3", "amd64", "Recognize the type of data in a file using \"magic\" numbers", 83, []string{"file"}},
	{"findutils", "4.9.0-4", "amd64", "utilities for finding files--find, xargs", 1713, []string{"find", "xargs"}},
	{"grep", "3.8-5", "amd64", "GNU grep, egrep and fgrep", 1207, []string{"grep", "egrep", "fgrep"}},
	{"gzip", "1.12-1", "amd64", "GNU compression utilities", 244, []string{"gzip", "gunzip", "zcat"}},
	{"hostname", "3.23+nmu1", "amd64", "utility to set/show the host name or domain name", 47, []string{"hostname", "dnsdomainname"}},
	{"init-system-helpers", "1.65.2", "all", "helper tools for all init systems", 131, []string{"service"}},
	{"iproute2", "6.1.0-3", "amd64", "networking and traffic control tools", 3526, []string{"ip", "ss"}},
	{"iputils-ping", "3:20221126-1+deb12u1", "amd64", "Tools to test the reachability of network hosts", 116, []string{"ping"}},
	{"jq", "1.6-2.1", "amd64", "lightweight and flexible command-line JSON processor", 102, []string{"jq"}},
	{"less", "590-2.1~deb12u2", "amd64", "pager program similar to more", 324, []string{"less"}},
	{"libc-bin", "2.36-9+deb12u10", "amd64", "GNU C Library: Binaries", 2596, []string{"getent", "locale", "getconf", "ldd"}},
	{"libc6", "2.36-9+deb12u10", "amd64", "GNU C Library: Shared libraries", 12986, nil},
	{"linux-image-6.1.0-31-amd64", "6.1.128-1", "amd64", "Linux 6.1 for 64-bit PCs (signed)", 409440, nil},
	{"login", "1:4.13+dfsg1-1+b1", "amd64", "system login tools", 2667, []string{"su", "logout", "nologin"}},
	{"logrotate", "3.21.0-1", "amd64", "Log rotation utility", 161, nil},
	{"lsof", "4.95.0-1", "amd64", "utility to list open files", 464, []string{"lsof"}},
	{"mawk", "1.3.4.20200120-3.1", "amd64", "Pattern scanning and text processing language", 263, []string{"awk", "mawk"}},
	{"mount", "2.38.1-5+deb12u3", "amd64", "tools for mounting and manipulating filesystems", 399, []string{"mount"}},
	{"nano", "7.2-1+deb12u1", "amd64", "small, friendly text editor inspired by Pico", 2792, []string{"nano"}},
	{"ncurses-bin", "6.4-4", "amd64", "terminal-related programs and man pages", 646, []string{"tput", "clear", "reset"}},
	{"net-tools", "2.10-0.1", "amd64", "NET-3 networking toolkit", 1010, []string{"netstat"}},
	{"openssh-client", "1:9.2p1-2+deb12u5", "amd64", "secure shell (SSH) client, for secure access to remote machines", 4787, []string{"ssh", "scp", "sftp", "ssh-keygen"}},
	{"openssh-server", "1:9.2p1-2+deb12u5", "amd64", "secure shell (SSH) server, for secure access from remote machines", 1942, nil},
	{"openssh-sftp-server", "1:9.2p1-2+deb12u5", "amd64", "secure shell (SSH) sftp server module, for SFTP access from remote machines", 154, nil},
	{"openssl", "3.0.15-1~deb12u1", "amd64", "Secure Sockets Layer toolkit - cryptographic utility", 2290, []string{"openssl"}},
	{"passwd", "1:4.13+dfsg1-1+b1", "amd64", "change and administer password and group data", 2828, nil},
	{"procps", "2:4.0.2-3", "amd64", "/proc file system utilities", 2389, []string{"ps", "free", "kill", "pgrep", "pkill", "top", "uptime", "w", "watch"}},
	{"psmisc", "23.6-1", "amd64", "utilities that use the proc file system", 916, []string{"killall", "pstree", "fuser"}},
	{"rsync", "3.2.7-1+deb12u2", "amd64", "fast, versatile, remote (and local) file-copying tool", 795, []string{"rsync"}},
	{"sed", "4.9-1", "amd64", "GNU stream editor for filtering/transforming text", 885, []string{"sed"}},
	{"sudo", "1.9.13p3-1+deb12u1", "amd64", "Provide limited super user privileges to specific users", 6163, []string{"sudo"}},
	{"systemd", "252.33-1~deb12u1", "amd64", "system and service manager", 12100, []string{"systemctl", "journalctl", "timedatectl", "hostnamectl"}},
	{"systemd-sysv", "252.33-1~deb12u1", "amd64", "system and service manager - SysV compatibility symlinks", 41, nil},
	{"sysvinit-utils", "3.06-4", "amd64", "System-V-like utilities", 99, []string{"pidof"}},
	{"tar", "1.34+dfsg-1.2+deb12u1", "amd64", "GNU version of the tar archiving utility", 3152, []string{"tar"}},
	{"tzdata", "2025a-0+deb12u1", "all", "time zone and daylight-saving time data", 2880, nil},
	{"util-linux", "2.38.1-5+deb12u3", "amd64", "miscellaneous system utilities", 4892, []string{"lscpu", "lsblk", "findmnt", "dmesg", "last", "more", "ionice", "setsid", "getopt", "whereis", "flock"}},
	{"vim-tiny", "2:9.0.1378-2+deb12u2", "amd64", "Vi IMproved - enhanced vi editor - compact version", 1716, []string{"vi", "vim"}},
	{"wget", "1.21.3-1+deb12u1", "amd64", "retrieves files from the web", 3723, []string{"wget"}},
	{"xz-utils", "5.4.1-1", "amd64", "XZ-format compression utilities", 1226, []string{"xz", "unxz", "xzcat"}},
	{"xxd", "2:9.0.1378-2+deb12u2", "amd64", "tool to make (or reverse) a hex dump", 288, []string{"xxd"}},
	{"binutils", "2.40-2", "amd64", "GNU assembler, linker and binary utilities", 7880, []string{"strings"}},
}

func findPackage(name string) *debPackage {
	name, _, _ = strings.Cut(name, ":")
	for i := range debianPackages {
		if debianPackages[i].name == name {
			return &debianPackages[i]
		}
	}
	return nil
}

// packageOf is the installed package that provides program prog.
func packageOf(prog string) *debPackage {
	for i := range debianPackages {
		for _, b := range debianPackages[i].bins {
			if b == prog {
				return &debianPackages[i]
			}
		}
	}
	return nil
}

func (p *debPackage) files() []string {
	out := []string{"/.", "/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/" + p.name, "/usr/share/doc/" + p.name + "/copyright"}
	for _, b := range p.bins {
		if _, ok := commands[b]; ok {
			out = append(out, binPath(b))
		}
	}
	return out
}

func dpkgListHeader(c *call) {
	c.out.WriteString("Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n")
}

func cmdDpkg(c *call) int {
	if len(c.args) == 0 {
		c.err.WriteString("dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\nUse 'apt' or 'aptitude' for user-friendly package management;\nType dpkg -Dhelp for a list of dpkg debug flag values;\nType dpkg --force-help for a list of forcing options;\nType dpkg-deb --help for help about manipulating *.deb files;\n\nOptions marked [*] produce a lot of output - pipe it through 'less' or 'more' !\n")
		return 2
	}
	action, rest := c.args[0], c.args[1:]
	switch action {
	case "-l", "--list":
		return c.dpkgList(rest)
	case "-s", "--status", "-p", "--print-avail":
		return c.dpkgStatus(rest)
	case "-L", "--listfiles":
		code := 0
		for _, n := range rest {
			p := findPackage(n)
			if p == nil {
				c.err.printf("dpkg-query: package '%s' is not installed\nUse dpkg --contents (= dpkg-deb --contents) to list archive files contents.\n", n)
				code = 1
				continue
			}
			c.out.WriteString(strings.Join(p.files(), "\n") + "\n")
		}
		return code
	case "-S", "--search":
		code := 0
		for _, q := range rest {
			found := false
			for i := range debianPackages {
				for _, f := range debianPackages[i].files() {
					if f == q || (!strings.HasPrefix(q, "/") && strings.Contains(f, q) && strings.HasPrefix(f, "/usr/bin")) {
						c.out.printf("%s: %s\n", debianPackages[i].name, f)
						found = true
					}
				}
			}
			if !found {
				c.err.printf("dpkg-query: no path found matching pattern %s\n", q)
				code = 1
			}
		}
		return code
	case "--version":
		c.out.WriteString("Debian 'dpkg' package management program version 1.21.22 (amd64).\nThis is free software; see the GNU General Public License version 2 or\nlater for copying conditions. There is NO warranty.\n")
		return 0
	case "--print-architecture":
		c.out.WriteString("amd64\n")
		return 0
	case "--get-selections":
		for _, p := range debianPackages {
			c.out.printf("%-48s install\n", p.name)
		}
		return 0
	case "-i", "--install", "-r", "--remove", "-P", "--purge", "--configure", "--unpack":
		if c.s.user != "root" {
			c.err.WriteString("dpkg: error: requested operation requires superuser privilege\n")
			return 2
		}
		for _, f := range rest {
			if !c.s.h.fs.Exists(c.s.abs(f)) && (action == "-i" || action == "--install") {
				c.err.printf("dpkg: error: cannot access archive '%s': No such file or directory\n", f)
				return 1
			}
		}
		c.err.WriteString("dpkg: error: dpkg frontend lock was locked by another process with pid 1\nNote: removing the lock file is always wrong, can damage the locked area\nand the entire system. See <https://wiki.debian.org/Teams/Dpkg/FAQ#db-lock>.\n")
		return 2
	case "--help":
		c.out.WriteString("Usage: dpkg [<option>...] <command>\n\nCommands:\n  -i|--install       <.deb file name>... | -R|--recursive <directory>...\n  -r|--remove        <package>... | -a|--pending\n  -P|--purge         <package>... | -a|--pending\n  -l|--list [<pattern>...]         List packages concisely.\n  -L|--listfiles <package>...      List files 'owned' by package(s).\n  -S|--search <pattern>...         Find package(s) owning file(s).\n  -s|--status [<package>...]       Display package status details.\n  --print-architecture             Print dpkg architecture.\n")
		return 0
	}
	c.err.printf("dpkg: error: unknown option %s\n\nType dpkg --help for help about installing and deinstalling packages [*];\n", action)
	return 2
}

func (c *call) dpkgList(patterns []string) int {
	var rows []*debPackage
	var missing []string
	sorted := append([]debPackage(nil), debianPackages...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	if len(patterns) == 0 {
		for i := range sorted {
			rows = append(rows, &sorted[i])
		}
	}
	for _, pat := range patterns {
		hit := false
		for i := range sorted {
			if ok, _ := path.Match(pat, sorted[i].name); ok {
				rows = append(rows, &sorted[i])
				hit = true
			}
		}
		if !hit {
			missing = append(missing, pat)
		}
	}
	if len(rows) > 0 {
		nw, vw, aw := 15, 15, 12
		for _, p := range rows {
			nw, vw = max(nw, len(p.name)), max(vw, len(p.version))
		}
		dpkgListHeader(c)
		c.out.printf("||/ %-*s %-*s %-*s Description\n", nw, "Name", vw, "Version", aw, "Architecture")
		c.out.printf("+++-%s-%s-%s-%s\n", strings.Repeat("=", nw), strings.Repeat("=", vw), strings.Repeat("=", aw), strings.Repeat("=", 40))
		for _, p := range rows {
			c.out.printf("ii  %-*s %-*s %-*s %s\n", nw, p.name, vw, p.version, aw, p.arch, p.desc)
		}
	}
	for _, m := range missing {
		c.err.printf("dpkg-query: no packages found matching %s\n", m)
	}
	if len(missing) > 0 {
		return 1
	}
	return 0
}

func (c *call) dpkgStatus(names []string) int {
	code := 0
	for i, n := range names {
		p := findPackage(n)
		if p == nil {
			c.err.printf("dpkg-query: package '%s' is not installed and no information is available\nUse dpkg --info (= dpkg-deb --info) to examine archive files.\n", n)
			code = 1
			continue
		}
		if i > 0 {
			c.out.WriteString("\n")
		}
		prio := "optional"
		if packageOf("ls") == p || p.name == "bash" || p.name == "dpkg" {
			prio = "required"
		}
		c.out.printf("Package: %s\nStatus: install ok installed\nPriority: %s\nSection: utils\nInstalled-Size: %d\nMaintainer: Debian Developers <debian-devel@lists.debian.org>\nArchitecture: %s\nVersion: %s\nDescription: %s\nHomepage: https://packages.debian.org/bookworm/%s\n", p.name, prio, p.size, p.arch, p.version, p.desc, p.name)
	}
	return code
}

func cmdDpkgQuery(c *call) int {
	args := c.args
	format := "${binary:Package}\t${Version}\n"
	var names []string
	show := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-W" || a == "--show":
			show = true
		case a == "-f" || a == "--showformat":
			if i+1 < len(args) {
				i++
				format = args[i]
			}
		case strings.HasPrefix(a, "--showformat="):
			format = strings.TrimPrefix(a, "--showformat=")
		case strings.HasPrefix(a, "-f") && len(a) > 2:
			format = a[2:]
		case a == "-l" || a == "-s" || a == "-L" || a == "-S":
			c.name = "dpkg"
			return cmdDpkg(&call{s: c.s, name: "dpkg", args: args[i:], in: c.in, out: c.out, err: c.err})
		default:
			names = append(names, a)
		}
	}
	if !show {
		c.err.WriteString("dpkg-query: error: need an action option\n")
		return 2
	}
	code := 0
	emit := func(p *debPackage) {
		r := strings.NewReplacer("${binary:Package}", p.name, "${Package}", p.name, "${Version}", p.version, "${Architecture}", p.arch,
			"${Installed-Size}", fmt.Sprint(p.size), "${Status}", "install ok installed", "${db:Status-Abbrev}", "ii ", `\n`, "\n", `\t`, "\t")
		c.out.WriteString(r.Replace(format))
	}
	if len(names) == 0 {
		for i := range debianPackages {
			emit(&debianPackages[i])
		}
		return 0
	}
	for _, n := range names {
		p := findPackage(n)
		if p == nil {
			c.err.printf("dpkg-query: no packages found matching %s\n", n)
			code = 1
			continue
		}
		emit(p)
	}
	return code
}

// knownToMirror says whether Debian has a package of this name, so that
// apt can say what it would fetch. Programs agents ask for are covered.
var knownToMirror = map[string]string{
	"python3": "3.11.2-1+b1", "python3-pip": "23.0.1+dfsg-1", "git": "1:2.39.5-0+deb12u2", "gcc": "4:12.2.0-3",
	"make": "4.3-4.1", "vim": "2:9.0.1378-2+deb12u2", "htop": "3.2.2-2", "tmux": "3.3a-3", "net-tools": "2.10-0.1",
	"nmap": "7.93+dfsg1-1", "netcat-openbsd": "1.219-1", "zip": "3.0-13", "unzip": "6.0-28", "tree": "2.1.0-1",
	"ripgrep": "13.0.0-4+b2", "screen": "4.9.0-4", "build-essential": "12.9", "perl": "5.36.0-7+deb12u1",
	"nodejs": "18.19.0+dfsg-6~deb12u2", "golang-go": "2:1.19~1", "docker.io": "20.10.24+dfsg1-1+deb12u1", "awscli": "2.9.19-1",
}

func cmdApt(c *call) int {
	if len(c.args) == 0 {
		if c.name == "apt" {
			c.out.WriteString("apt 2.6.1 (amd64)\nUsage: apt [options] command\n\napt is a commandline package manager and provides commands for\nsearching and managing as well as querying information about packages.\n")
		} else {
			c.out.WriteString("apt 2.6.1 (amd64)\nUsage: apt-get [options] command\n       apt-get [options] install|remove pkg1 [pkg2 ...]\n")
		}
		return 1
	}
	var verb string
	var pkgs []string
	for _, a := range c.args {
		switch {
		case a == "-y" || a == "--yes" || a == "--assume-yes" || a == "-q" || a == "-qq":
		case a == "--installed" || a == "--upgradable" || strings.HasPrefix(a, "-"):
			if a == "--installed" || a == "--upgradable" {
				pkgs = append(pkgs, a)
			}
		case verb == "":
			verb = a
		default:
			pkgs = append(pkgs, a)
		}
	}
	warn := func() {
		if c.name == "apt" {
			c.err.WriteString("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n")
		}
	}
	switch verb {
	case "list":
		warn()
		c.out.WriteString("Listing...\n")
		for _, p := range debianPackages {
			if len(pkgs) > 0 && pkgs[0] != "--installed" && pkgs[0] != "--upgradable" {
				if ok, _ := path.Match(pkgs[0], p.name); !ok {
					continue
				}
			}
			if len(pkgs) > 0 && pkgs[0] == "--upgradable" {
				continue
			}
			c.out.printf("%s/stable,now %s %s [installed]\n", p.name, p.version, p.arch)
		}
		return 0
	case "show":
		warn()
		return c.dpkgStatus(pkgs)
	case "policy":
		return cmdAptCache(&call{s: c.s, name: "apt-cache", args: c.args, in: c.in, out: c.out, err: c.err})
	case "search":
		return cmdAptCache(&call{s: c.s, name: "apt-cache", args: c.args, in: c.in, out: c.out, err: c.err})
	case "update", "upgrade", "install", "remove", "purge", "full-upgrade", "dist-upgrade", "autoremove", "reinstall":
	default:
		c.err.printf("E: Invalid operation %s\n", verb)
		return 100
	}
	if c.s.user != "root" {
		if verb == "update" {
			c.err.WriteString("Reading package lists... Done\nE: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\nE: Unable to lock directory /var/lib/apt/lists/\n")
		} else {
			c.err.WriteString("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n")
		}
		return 100
	}
	warn()
	mirrors := []string{"http://deb.debian.org/debian bookworm", "http://deb.debian.org/debian bookworm-updates", "http://deb.debian.org/debian-security bookworm-security"}
	if verb == "update" {
		for i, m := range mirrors {
			c.out.printf("Ign:%d %s InRelease\n", i+1, m)
		}
		for i, m := range mirrors {
			c.out.printf("Err:%d %s InRelease\n  Temporary failure resolving 'deb.debian.org'\n", i+1, m)
		}
		c.out.WriteString("Reading package lists... Done\n")
		for _, m := range mirrors {
			host := strings.Fields(m)[0]
			c.err.printf("W: Failed to fetch %s/dists/%s/InRelease  Temporary failure resolving '%s'\n", host, strings.Fields(m)[1], "deb.debian.org")
		}
		c.err.WriteString("W: Some index files failed to download. They have been ignored, or old ones used instead.\n")
		return 0
	}
	c.out.WriteString("Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n")
	switch verb {
	case "install", "reinstall":
		var fetch []string
		for _, n := range pkgs {
			if p := findPackage(n); p != nil && verb == "install" {
				c.out.printf("%s is already the newest version (%s).\n", p.name, p.version)
				continue
			}
			v, ok := knownToMirror[n]
			if !ok {
				c.err.printf("E: Unable to locate package %s\n", n)
				return 100
			}
			fetch = append(fetch, n+" "+v)
		}
		if len(fetch) == 0 {
			c.out.WriteString("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
			return 0
		}
		c.out.WriteString("The following NEW packages will be installed:\n ")
		for _, f := range fetch {
			c.out.WriteString(" " + strings.Fields(f)[0])
		}
		c.out.printf("\n0 upgraded, %d newly installed, 0 to remove and 0 not upgraded.\n", len(fetch))
		for i, f := range fetch {
			fs := strings.Fields(f)
			c.out.printf("Err:%d http://deb.debian.org/debian bookworm/main amd64 %s amd64 %s\n  Temporary failure resolving 'deb.debian.org'\n", i+1, fs[0], fs[1])
		}
		for _, f := range fetch {
			fs := strings.Fields(f)
			c.err.printf("E: Failed to fetch http://deb.debian.org/debian/pool/main/%s/%s/%s_%s_amd64.deb  Temporary failure resolving 'deb.debian.org'\n", fs[0][:1], fs[0], fs[0], strings.TrimPrefix(fs[1], strings.SplitN(fs[1], ":", 2)[0]+":"))
		}
		c.err.WriteString("E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n")
		return 100
	case "remove", "purge":
		for _, n := range pkgs {
			if findPackage(n) == nil {
				c.out.printf("Package '%s' is not installed, so not removed\n", n)
			}
		}
		c.err.WriteString("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1 (unattended-upgr)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n")
		return 100
	}
	c.out.WriteString("Calculating upgrade... Done\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
	return 0
}

func cmdAptCache(c *call) int {
	if len(c.args) == 0 {
		c.out.WriteString("apt 2.6.1 (amd64)\nUsage: apt-cache [options] command\n")
		return 1
	}
	verb, rest := c.args[0], c.args[1:]
	switch verb {
	case "policy":
		for _, n := range rest {
			p := findPackage(n)
			if p == nil {
				if v, ok := knownToMirror[n]; ok {
					c.out.printf("%s:\n  Installed: (none)\n  Candidate: %s\n  Version table:\n     %s 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n", n, v, v)
				}
				continue
			}
			c.out.printf("%s:\n  Installed: %s\n  Candidate: %s\n  Version table:\n *** %s 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n        100 /var/lib/dpkg/status\n", p.name, p.version, p.version, p.version)
		}
		return 0
	case "show":
		return c.dpkgStatus(rest)
	case "search":
		if len(rest) == 0 {
			c.err.WriteString("E: You must give at least one search pattern\n")
			return 100
		}
		q := strings.ToLower(rest[0])
		var names []string
		for _, p := range debianPackages {
			if strings.Contains(p.name, q) || strings.Contains(strings.ToLower(p.desc), q) {
				names = append(names, p.name+" - "+p.desc)
			}
		}
		for n := range knownToMirror {
			if strings.Contains(n, q) && findPackage(n) == nil {
				names = append(names, n+" - "+n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			c.out.WriteString(n + "\n")
		}
		return 0
	}
	c.err.printf("E: Invalid operation %s\n", verb)
	return 100
}

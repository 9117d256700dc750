package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// connErr is a failed ssh connection: the message ssh prints.
type connErr struct{ msg string }

func (e *connErr) Error() string { return e.msg }

// connect opens a session on target ("host" or "user@host") from s,
// through the jump hosts in order. Each hop must be in the previous host's
// reach list.
func (s *session) connect(target string, jumps []string) (*session, error) {
	cur := s
	for _, hop := range append(append([]string(nil), jumps...), target) {
		next, err := cur.hop(hop)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

func (s *session) hop(target string) (*session, error) {
	user, name, hasUser := strings.Cut(target, "@")
	if !hasUser {
		user, name = "", target
	}
	var h *host
	switch name {
	case "localhost", "127.0.0.1", "::1", s.h.name:
		h = s.h
	default:
		h = s.net.byName[name]
	}
	if h == nil {
		return nil, &connErr{fmt.Sprintf("ssh: Could not resolve hostname %s: Name or service not known", strings.ToLower(name))}
	}
	if h != s.h {
		ok := false
		for _, r := range s.h.reach {
			ok = ok || r == h.name
		}
		if !ok {
			return nil, &connErr{fmt.Sprintf("ssh: connect to host %s port 22: Connection timed out", name)}
		}
	}
	if user != "" && user != h.user {
		return nil, &connErr{fmt.Sprintf("%s@%s: Permission denied (publickey).", user, name)}
	}
	if s.depth+1 > maxDepth {
		return nil, &connErr{"ssh: too many nested connections"}
	}
	r := s.net.newSession(h, h.user, s.emit, s.depth+1)
	r.via, r.origin = "ssh", s.h.name
	if h != s.h {
		s.net.logLogin(h, s.h, h.user, r.pid+1, s.net.clock.Now())
	}
	return r, nil
}

// remoteSpec splits "[user@]host:path"; ok is false for a local path.
func remoteSpec(op string) (target, p string, ok bool) {
	colon := strings.IndexByte(op, ':')
	if colon <= 0 {
		return "", op, false
	}
	if slash := strings.IndexByte(op, '/'); slash >= 0 && slash < colon {
		return "", op, false
	}
	return op[:colon], op[colon+1:], true
}

// endpoint is one side of a copy: a session and an absolute path.
type endpoint struct {
	s    *session
	path string
	show string
}

// resolveEndpoint opens the session for op (local or remote).
func (c *call) resolveEndpoint(op string, conns map[string]*session) (endpoint, error) {
	target, p, remote := remoteSpec(op)
	if !remote {
		return endpoint{c.s, c.s.abs(p), op}, nil
	}
	rs, ok := conns[target]
	if !ok {
		var err error
		rs, err = c.s.connect(target, nil)
		if err != nil {
			return endpoint{}, err
		}
		conns[target] = rs
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = rs.home + p[1:]
	}
	return endpoint{rs, absPath(rs.home, p), op}, nil
}

func cmdScp(c *call) int {
	var ops []string
	rec, preserve := false, false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if !strings.HasPrefix(a, "-") || len(a) == 1 {
			ops = append(ops, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			switch {
			case ch == 'r':
				rec = true
			case ch == 'p':
				preserve = true
			case strings.IndexByte("346ABCDOTqRv", ch) >= 0:
			case strings.IndexByte("cFiJlPSoX", ch) >= 0:
				if j == len(a)-1 {
					i++
				}
				j = len(a)
			default:
				c.err.printf("scp: unknown option -- %c\nusage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n           [-P port] [-S program] [-X sftp_option] source ... target\n", ch)
				return 1
			}
		}
	}
	if len(ops) < 2 {
		c.err.WriteString("usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n           [-P port] [-S program] [-X sftp_option] source ... target\n")
		return 1
	}
	conns := map[string]*session{}
	dst, err := c.resolveEndpoint(ops[len(ops)-1], conns)
	if err != nil {
		c.err.printf("%s\nscp: Connection closed\n", err.Error())
		return 255
	}
	din, derr := dst.s.h.fs.Stat(dst.path)
	dstIsDir := derr == nil && din.Dir
	srcs := ops[:len(ops)-1]
	if len(srcs) > 1 && !dstIsDir {
		c.err.printf("scp: %s: Not a directory\n", dst.path)
		return 1
	}
	code := 0
	for _, op := range srcs {
		src, err := c.resolveEndpoint(op, conns)
		if err != nil {
			c.err.printf("%s\nscp: Connection closed\n", err.Error())
			code = 255
			continue
		}
		sin, err := src.s.h.fs.Stat(src.path)
		if err == nil {
			err = src.s.h.fs.Check(path.Dir(src.path), src.s.user, vfs.Exec)
		}
		if err != nil {
			c.err.printf("scp: %s: %s\n", src.path, errText(err))
			code = 1
			continue
		}
		target := dst.path
		if dstIsDir {
			target = path.Join(dst.path, path.Base(src.path))
		}
		if sin.Dir {
			if !rec {
				c.err.printf("scp: %s: not a regular file\n", src.path)
				code = 1
				continue
			}
			if src.s.h == dst.s.h && (target == src.path || strings.HasPrefix(target, src.path+"/")) {
				c.err.printf("scp: %s: cannot copy a directory into itself\n", src.path)
				code = 1
				continue
			}
			copyTree(src.s, src.path, dst.s, target, "scp", preserve, func(err error) {
				c.scpErr(err)
				code = 1
			}, nil)
			continue
		}
		if tin, err := dst.s.h.fs.Stat(target); err == nil && tin.Dir {
			c.err.printf("scp: %s: Is a directory\n", target)
			code = 1
			continue
		}
		if err := copyFile(src.s, src.path, dst.s, target, "scp", preserve); err != nil {
			c.scpErr(err)
			code = 1
		}
	}
	return code
}

func (c *call) scpErr(err error) {
	var ce *copyErr
	if errors.As(err, &ce) {
		if !ce.read && errors.Is(ce.err, vfs.ErrNoSpace) {
			c.err.printf("scp: write remote \"%s\": No space left on device\nscp: failed to upload file\n", ce.path)
			return
		}
		if !ce.read {
			c.err.printf("scp: dest open \"%s\": %s\nscp: failed to upload file\n", ce.path, errText(ce.err))
			return
		}
		c.err.printf("scp: %s: %s\n", ce.path, errText(ce.err))
		return
	}
	c.err.printf("scp: %s\n", errText(err))
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

const rsyncTail = " at main.c(1338) [sender=3.2.7]"

func cmdRsync(c *call) int {
	var ops []string
	opt := map[string]bool{}
	var excludes []string
	bools := map[string]string{
		"archive": "a", "recursive": "r", "verbose": "v", "compress": "z", "progress": "progress", "partial": "partial",
		"human-readable": "h", "dry-run": "n", "delete": "delete", "remove-source-files": "remove", "checksum": "c",
		"update": "u", "stats": "stats", "quiet": "q", "inplace": "inplace", "append": "append", "append-verify": "append",
		"times": "t", "perms": "p", "links": "l", "owner": "o", "group": "g", "ignore-existing": "ignore-existing",
		"mkpath": "mkpath", "no-owner": "", "no-group": "", "no-perms": "", "sparse": "", "whole-file": "", "itemize-changes": "i",
		"delete-after": "delete", "delete-before": "delete", "force": "", "one-file-system": "", "hard-links": "", "acls": "", "xattrs": "",
	}
	valued := map[string]bool{"rsh": true, "exclude": true, "include": true, "bwlimit": true, "info": true, "timeout": true, "rsync-path": true, "chmod": true, "chown": true, "port": true, "log-file": true, "partial-dir": true, "exclude-from": true, "contimeout": true}
	usage := func(msg string) int {
		c.err.printf("rsync: %s\nrsync error: syntax or usage error (code 1) at main.c(1795) [client=3.2.7]\n", msg)
		return 1
	}
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "--":
			ops = append(ops, c.args[i+1:]...)
			i = len(c.args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			if key, ok := bools[name]; ok {
				if key != "" {
					opt[key] = true
				}
				continue
			}
			if !valued[name] {
				return usage(fmt.Sprintf("--%s: unknown option", name))
			}
			if !hasVal {
				if i+1 >= len(c.args) {
					return usage(fmt.Sprintf("option '--%s' requires an argument", name))
				}
				i++
				val = c.args[i]
			}
			if name == "exclude" {
				excludes = append(excludes, val)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				ch := a[j]
				switch {
				case ch == 'e' || ch == 'f' || ch == 'T' || ch == 'B':
					if j == len(a)-1 {
						i++
					}
					j = len(a)
				case ch == 'P':
					opt["progress"], opt["partial"] = true, true
				case strings.IndexByte("arvzhnucqtplogDHAXxSWiEOJ", ch) >= 0:
					opt[string(ch)] = true
				default:
					return usage(fmt.Sprintf("-%c: unknown option", ch))
				}
			}
		default:
			ops = append(ops, a)
		}
	}
	if len(ops) < 2 {
		if len(ops) == 1 {
			return c.rsyncList(ops[0], opt["a"] || opt["r"])
		}
		c.err.WriteString("rsync  version 3.2.7  protocol version 31\nUsage: rsync [OPTION]... SRC [SRC]... DEST\n")
		return 1
	}
	rec := opt["a"] || opt["r"]
	preserve := opt["a"] || opt["t"]
	dry := opt["n"]
	verbose := opt["v"] && !opt["q"]
	conns := map[string]*session{}
	remotes := 0
	for _, op := range ops {
		if _, _, ok := remoteSpec(op); ok {
			remotes++
		}
	}
	dstOp := ops[len(ops)-1]
	if _, _, dr := remoteSpec(dstOp); dr && remotes > 1 || !dr && remotes > 1 {
		return usage("The source and destination cannot both be remote.")
	}
	connFail := func(err error, side string) int {
		c.err.printf("%s\nrsync: connection unexpectedly closed (0 bytes received so far) [%s]\nrsync error: unexplained error (code 255) at io.c(232) [%s=3.2.7]\n", err.Error(), side, side)
		return 255
	}
	dst, err := c.resolveEndpoint(dstOp, conns)
	if err != nil {
		return connFail(err, "sender")
	}
	srcs := make([]endpoint, 0, len(ops)-1)
	for _, op := range ops[:len(ops)-1] {
		ep, err := c.resolveEndpoint(op, conns)
		if err != nil {
			return connFail(err, "Receiver")
		}
		srcs = append(srcs, ep)
	}
	// Is the destination a directory?
	din, derr := dst.s.h.fs.Stat(dst.path)
	dstDir := derr == nil && din.Dir
	wantDir := dstDir || strings.HasSuffix(dstOp, "/") || len(srcs) > 1
	if !wantDir {
		for _, sp := range srcs {
			if in, err := sp.s.h.fs.Stat(sp.path); err == nil && in.Dir && rec {
				wantDir = true
			}
		}
	}
	if verbose {
		c.out.WriteString("sending incremental file list\n")
	}
	partial := 0 // code 23 when set
	var sent, total int64
	xfr := 0
	if wantDir && !dstDir && derr != nil {
		parent := path.Dir(dst.path)
		if !dst.s.h.fs.Exists(parent) && !opt["mkpath"] {
			c.err.printf("rsync: [Receiver] change_dir#3 \"%s\" failed: No such file or directory (2)\nrsync error: errors selecting input/output files, dirs (code 3) at main.c(827) [Receiver=3.2.7]\n", parent)
			return 3
		}
		if !dry {
			if err := dst.s.mkdirFor(dst.path, 0o755); err != nil {
				c.err.printf("rsync: [Receiver] mkdir \"%s\" failed: %s (%d)\nrsync error: error in file IO (code 11) at main.c(791) [Receiver=3.2.7]\n", dst.path, errText(err), errno(err))
				return 11
			}
		}
		if verbose {
			c.out.printf("created directory %s\n", strings.TrimSuffix(dstOp[strings.IndexByte(dstOp, ':')+1:], "/"))
		}
	}
	noSpace := false
	progress := func(size int64, left, all int) {
		if !opt["progress"] {
			return
		}
		secs := size / (112 << 20)
		c.out.printf("%15s 100%% %7.2fMB/s %4d:%02d:%02d (xfr#%d, to-chk=%d/%d)\n", commas(size), 112.54, secs/3600, secs/60%60, secs%60, xfr, left, all)
	}
	copyOne := func(from *session, sp string, to *session, tp, shown string, left, all int) bool {
		sb, err := from.readFile(sp)
		if err != nil {
			c.err.printf("rsync: [sender] send_files failed to open \"%s\": %s (%d)\n", sp, errText(err), errno(err))
			partial = 23
			return false
		}
		total += sb.Size
		if tb, err := to.h.fs.Read(tp); err == nil && tb.Size == sb.Size && tb.SHA256 == sb.SHA256 {
			return true // up to date
		}
		if opt["ignore-existing"] && to.h.fs.Exists(tp) {
			return true
		}
		if verbose || opt["progress"] {
			c.out.WriteString(shown + "\n")
		}
		xfr++
		if dry {
			return true
		}
		if err := copyFile(from, sp, to, tp, "rsync", preserve); err != nil {
			var ce *copyErr
			errors.As(err, &ce)
			if errors.Is(err, vfs.ErrNoSpace) {
				c.err.printf("rsync: [receiver] write failed on \"%s\": No space left on device (28)\n", tp)
				noSpace = true
			} else {
				c.err.printf("rsync: [receiver] mkstemp \"%s/.%s.Xq3fZ1\" failed: %s (%d)\n", path.Dir(tp), path.Base(tp), errText(ce.err), errno(ce.err))
				partial = 23
			}
			return false
		}
		sent += sb.Size
		progress(sb.Size, left, all)
		if opt["remove"] {
			if err := from.removePath(sp, false, "rsync"); err != nil {
				c.err.printf("rsync: [sender] sender failed to remove %s: %s (%d)\n", sp, errText(err), errno(err))
				partial = 23
			}
		}
		return true
	}
	for _, src := range srcs {
		sin, err := src.s.h.fs.Stat(src.path)
		if err != nil {
			c.err.printf("rsync: [sender] link_stat \"%s\" failed: %s (%d)\n", src.path, errText(err), errno(err))
			partial = 23
			continue
		}
		if !sin.Dir {
			target := dst.path
			if wantDir {
				target = path.Join(dst.path, path.Base(src.path))
			}
			copyOne(src.s, src.path, dst.s, target, path.Base(src.path), 0, 1)
			if noSpace {
				break
			}
			continue
		}
		if !rec {
			c.out.printf("skipping directory %s\n", path.Base(src.path))
			continue
		}
		// "dir/" copies the contents; "dir" copies the directory itself.
		_, rawPath, _ := remoteSpec(src.show)
		base := dst.path
		prefix := ""
		if !strings.HasSuffix(rawPath, "/") {
			base = path.Join(dst.path, path.Base(src.path))
			prefix = path.Base(src.path) + "/"
		}
		var infos []vfs.Info
		_ = src.s.h.fs.Walk(src.path, func(in vfs.Info) { infos = append(infos, in) })
		seen := map[string]bool{}
		skip := ""
		for k, in := range infos {
			if skip != "" && strings.HasPrefix(in.Path, skip+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(in.Path, src.path), "/")
			if excludedPath(excludes, rel, in.Name) {
				if in.Dir {
					skip = in.Path
				}
				continue
			}
			target := path.Join(base, rel)
			seen[target] = true
			if in.Dir {
				if err := src.s.h.fs.Check(in.Path, src.s.user, vfs.Read|vfs.Exec); err != nil {
					c.err.printf("rsync: [sender] opendir \"%s\" failed: Permission denied (13)\n", in.Path)
					partial = 23
					skip = in.Path
					continue
				}
				existed := dst.s.h.fs.Exists(target)
				if !dry {
					if err := dst.s.mkdirFor(target, in.Mode.Perm()); err != nil {
						c.err.printf("rsync: [receiver] recv_generator: mkdir \"%s\" failed: %s (%d)\n", target, errText(err), errno(err))
						partial = 23
						skip = in.Path
						continue
					}
				}
				if !existed && verbose {
					c.out.WriteString(prefix + rel + strings.Repeat("/", min(len(rel), 1)) + "\n")
				} else if rel == "" && prefix != "" && verbose && !existed {
					c.out.WriteString(prefix + "\n")
				}
				continue
			}
			copyOne(src.s, in.Path, dst.s, target, prefix+rel, len(infos)-1-k, len(infos))
			if noSpace {
				break
			}
		}
		if opt["delete"] && !noSpace {
			var extra []vfs.Info
			_ = dst.s.h.fs.Walk(base, func(in vfs.Info) {
				if in.Path != base && !seen[in.Path] {
					extra = append(extra, in)
				}
			})
			for i := len(extra) - 1; i >= 0; i-- {
				in := extra[i]
				if verbose {
					rel := strings.TrimPrefix(in.Path, base+"/")
					if in.Dir {
						rel += "/"
					}
					c.out.printf("deleting %s\n", prefix+rel)
				}
				if !dry && dst.s.h.fs.Exists(in.Path) {
					if err := dst.s.removePath(in.Path, true, "rsync"); err != nil {
						c.err.printf("rsync: [generator] delete_file: unlink(%s) failed: %s (%d)\n", in.Path, errText(err), errno(err))
						partial = 23
					}
				}
			}
		}
		if noSpace {
			break
		}
	}
	if noSpace {
		c.err.WriteString("rsync error: error in file IO (code 11) at receiver.c(380) [receiver=3.2.7]\n")
		return 11
	}
	if verbose || opt["stats"] {
		overhead := int64(48 + 40*xfr)
		secs := float64(sent)/float64(112<<20) + 1
		suffix := ""
		if dry {
			suffix = " (DRY RUN)"
		}
		speed := 0.0
		if total > 0 && sent+overhead > 0 {
			speed = float64(total) / float64(sent+overhead)
		}
		c.out.printf("\nsent %s bytes  received %s bytes  %s bytes/sec\ntotal size is %s  speedup is %.2f%s\n",
			commas(sent+overhead), commas(int64(35+19*xfr)), commas(int64(float64(sent+overhead)/secs))+".00", commas(total), speed, suffix)
	}
	if partial != 0 {
		c.err.printf("rsync error: some files/attrs were not transferred (see previous errors) (code 23)%s\n", rsyncTail)
		return partial
	}
	return 0
}

func excludedPath(globs []string, rel, name string) bool {
	for _, g := range globs {
		g = strings.TrimSuffix(g, "/")
		if ok, _ := path.Match(g, name); ok {
			return true
		}
		if ok, _ := path.Match(strings.TrimPrefix(g, "/"), rel); ok {
			return true
		}
	}
	return false
}

func errno(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 2
	case errors.Is(err, fs.ErrPermission):
		return 13
	case errors.Is(err, fs.ErrExist):
		return 17
	case errors.Is(err, vfs.ErrNotDir):
		return 20
	case errors.Is(err, vfs.ErrIsDir):
		return 21
	case errors.Is(err, vfs.ErrNoSpace):
		return 28
	}
	return 5
}

// ---- outside network ----

func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	u, _, _ = strings.Cut(u, "/")
	if at := strings.LastIndexByte(u, '@'); at >= 0 {
		u = u[at+1:]
	}
	u, _, _ = strings.Cut(u, ":")
	return u
}

func cmdWget(c *call) int {
	var url string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			url = a
		}
	}
	if url == "" {
		c.err.WriteString("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n")
		return 1
	}
	hostName := urlHost(url)
	t := c.s.net.clock.Now().Format("2006-01-02 15:04:05")
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	c.err.printf("--%s--  %s\nResolving %s (%s)... failed: Name or service not known.\nwget: unable to resolve host address '%s'\n", t, url, hostName, hostName, hostName)
	return 4
}

func cmdPing(c *call) int {
	var target string
	count := 4
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-c" && i+1 < len(c.args):
			i++
			if n, err := strconv.Atoi(c.args[i]); err == nil && n > 0 {
				count = min(n, 10)
			}
		case a == "-W" || a == "-w" || a == "-i" || a == "-s":
			i++
		case !strings.HasPrefix(a, "-"):
			target = a
		}
	}
	if target == "" {
		c.err.WriteString("ping: usage error: Destination address required\n")
		return 1
	}
	s := c.s
	h := s.lookupHost(target)
	if h == nil {
		c.err.printf("ping: %s: Name or service not known\n", target)
		return 2
	}
	ip := h.ipAddr()
	reach := s.reaches(h)
	ttl, rtt := 64, 0.04
	if h != s.h {
		l := s.net.link(s.h, h)
		ttl, rtt = l.TTL, 2*time.Duration(l.Latency).Seconds()*1000
	}
	c.out.printf("PING %s (%s) 56(84) bytes of data.\n", target, ip)
	var times []float64
	if reach {
		for i := 1; i <= count; i++ {
			// A little jitter around the path's round trip.
			ms := rtt * (0.92 + float64(seeded(fmt.Sprint(s.h.name, target, i), 160))/1000)
			times = append(times, ms)
			c.out.printf("64 bytes from %s (%s): icmp_seq=%d ttl=%d time=%s ms\n", target, ip, i, ttl, pingMS(ms))
		}
	}
	// ping sends one packet a second.
	s.spend(time.Duration(count-1)*time.Second + time.Duration(rtt*float64(time.Millisecond)))
	recv := 0
	loss := 100
	if reach {
		recv, loss = count, 0
	}
	c.out.printf("\n--- %s ping statistics ---\n%d packets transmitted, %d received, %d%% packet loss, time %dms\n", target, count, recv, loss, (count-1)*1001+3)
	if len(times) > 0 {
		lo, hi, sum := times[0], times[0], 0.0
		for _, t := range times {
			lo, hi, sum = min(lo, t), max(hi, t), sum+t
		}
		c.out.printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", lo, sum/float64(len(times)), hi, (hi-lo)/2)
	}
	if !reach {
		return 1
	}
	return 0
}

// rsyncList is rsync SRC with no destination: it lists SRC as ls -l
// would, in rsync's own columns (a directory named with a trailing slash
// lists what it holds; -r lists everything under it).
func (c *call) rsyncList(op string, rec bool) int {
	ep, err := c.resolveEndpoint(op, map[string]*session{})
	if err != nil {
		c.err.printf("%s\nrsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\nrsync error: unexplained error (code 255) at io.c(232) [Receiver=3.2.7]\n", err.Error())
		return 255
	}
	fsys := ep.s.h.fs
	top, err := fsys.Lstat(ep.path)
	if err == nil && strings.HasSuffix(op, "/") {
		top, err = fsys.Stat(ep.path)
	}
	if err != nil {
		c.err.printf("rsync: [sender] link_stat \"%s\" failed: %s (%d)\nrsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [Receiver=3.2.7]\n", ep.path, errText(err), errno(err))
		return 23
	}
	loc := c.s.net.clock.Now().Location()
	line := func(in vfs.Info, name string) {
		size := in.Size
		name = strings.TrimPrefix(name, "/")
		if isLink(in) {
			name += " -> " + in.Link
		}
		c.out.printf("%s %14s %s %s\n", modeString(in.Mode, in.Dir), commas(size), in.ModTime.In(loc).Format("2006/01/02 15:04:05"), name)
	}
	base := path.Base(ep.path)
	if !top.Dir || !strings.HasSuffix(op, "/") && !rec {
		line(top, base)
		return 0
	}
	prefix, start := base, ep.path
	if strings.HasSuffix(op, "/") {
		prefix = ""
		line(top, ".")
	}
	var walk func(dir, shown string)
	walk = func(dir, shown string) {
		infos, _ := fsys.ReadDir(dir)
		for _, in := range infos {
			name := path.Join(shown, in.Name)
			line(in, name)
			if rec && in.Dir {
				walk(in.Path, name)
			}
		}
	}
	if prefix != "" {
		line(top, prefix)
	}
	walk(start, prefix)
	return 0
}

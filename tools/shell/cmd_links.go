package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Symbolic and hard links: ln, readlink, realpath, and what ls, stat and
// find show of links and device nodes.

func init() {
	register(map[string]cmdFunc{"ln": cmdLn, "link": cmdLink, "readlink": cmdReadlink, "realpath": cmdRealpath})
}

// cmdLn is GNU ln: ln [-sfnvrT] TARGET LINK, ln TARGET, ln TARGET... DIR
// and ln -t DIR TARGET...
func cmdLn(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "sfnvrTiLPb", values: "tS", long: map[string]string{
		"symbolic": "s", "force": "f", "no-dereference": "n", "verbose": "v", "relative": "r",
		"no-target-directory": "T", "target-directory": "t=", "interactive": "i", "logical": "L", "physical": "P",
		"backup": "b", "suffix": "S=",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	sym := fl.has("s")
	if len(ops) == 0 {
		return c.badFlag("missing file operand", 1)
	}
	isDir := func(op string) bool {
		p := c.s.abs(op)
		if fl.has("n") {
			if in, err := c.s.h.fs.Lstat(p); err == nil && in.Mode&fs.ModeSymlink != 0 {
				return false
			}
		}
		in, err := c.s.h.fs.Stat(p)
		return err == nil && in.Dir
	}
	type pair struct{ target, name string }
	var pairs []pair
	into := func(dir string, targets []string) {
		for _, t := range targets {
			pairs = append(pairs, pair{t, strings.TrimSuffix(dir, "/") + "/" + path.Base(strings.TrimSuffix(t, "/"))})
		}
	}
	switch {
	case fl.has("t"):
		dir := fl.val("t")
		if !isDir(dir) {
			c.errorf("target directory %s: %s", quoteName(dir), lnDirErr(c, dir))
			return 1
		}
		into(dir, ops)
	case len(ops) == 1:
		into(".", ops)
	case fl.has("T"):
		if len(ops) > 2 {
			return c.badFlag("extra operand "+quoteName(ops[2]), 1)
		}
		pairs = append(pairs, pair{ops[0], ops[1]})
	case isDir(ops[len(ops)-1]):
		into(ops[len(ops)-1], ops[:len(ops)-1])
	case len(ops) > 2:
		c.errorf("target %s: %s", quoteName(ops[len(ops)-1]), lnDirErr(c, ops[len(ops)-1]))
		return 1
	default:
		pairs = append(pairs, pair{ops[0], ops[1]})
	}
	kind := "hard link"
	if sym {
		kind = "symbolic link"
	}
	code := 0
	for _, pr := range pairs {
		np := c.s.abs(pr.name)
		if !sym {
			in, err := c.s.h.fs.Stat(c.s.abs(pr.target))
			if err != nil {
				c.errorf("failed to access %s: %s", quoteName(pr.target), errText(err))
				code = 1
				continue
			}
			if in.Dir {
				c.errorf("%s: hard link not allowed for directory", pr.target)
				code = 1
				continue
			}
		}
		if old, err := c.s.h.fs.Lstat(np); err == nil {
			if !fl.has("f") {
				c.errorf("failed to create %s %s: File exists", kind, quoteName(pr.name))
				code = 1
				continue
			}
			if old.Dir {
				c.errorf("%s: cannot overwrite directory", quoteName(pr.name))
				code = 1
				continue
			}
			if !sym {
				if src, err := c.s.h.fs.Stat(c.s.abs(pr.target)); err == nil && src.Ino == old.Ino {
					c.errorf("%s and %s are the same file", quoteName(pr.target), quoteName(pr.name))
					code = 1
					continue
				}
			}
			if err := c.s.removePath(np, false, "ln"); err != nil {
				c.errorf("cannot remove %s: %s", quoteName(pr.name), errText(err))
				code = 1
				continue
			}
		}
		if err := c.s.h.fs.Check(path.Dir(np), c.s.user, vfs.Write|vfs.Exec); err != nil {
			c.errorf("failed to create %s %s: %s", kind, quoteName(pr.name), errText(err))
			code = 1
			continue
		}
		target := pr.target
		var err error
		if sym {
			if fl.has("r") {
				target = relativeTo(c.s.resolveLoose(path.Dir(np)), c.s.resolveLoose(c.s.abs(pr.target)))
			}
			err = c.s.h.fs.Symlink(target, np, c.s.user)
		} else {
			err = c.s.h.fs.Link(c.s.abs(pr.target), np)
		}
		if err != nil {
			c.errorf("failed to create %s %s: %s", kind, quoteName(pr.name), errText(err))
			code = 1
			continue
		}
		if fl.has("v") {
			arrow := "=>"
			if sym {
				arrow = "->"
			}
			c.out.printf("%s %s %s\n", quoteName(pr.name), arrow, quoteName(target))
		}
	}
	return code
}

// lnDirErr is why op cannot take links as a directory.
func lnDirErr(c *call, op string) string {
	if _, err := c.s.h.fs.Stat(c.s.abs(op)); err != nil {
		return errText(err)
	}
	return "Not a directory"
}

// cmdLink is link FILE1 FILE2: one hard link, no options.
func cmdLink(c *call) int {
	if len(c.args) == 1 && (c.args[0] == "--help" || c.args[0] == "--version") {
		c.out.WriteString("Usage: link FILE1 FILE2\n  or:  link OPTION\nCall the link function to create a link named FILE2 to an existing FILE1.\n")
		return 0
	}
	switch len(c.args) {
	case 0:
		return c.badFlag("missing operand", 1)
	case 1:
		return c.badFlag("missing operand after "+quoteName(c.args[0]), 1)
	case 2:
	default:
		return c.badFlag("extra operand "+quoteName(c.args[2]), 1)
	}
	a, b := c.s.abs(c.args[0]), c.s.abs(c.args[1])
	err := c.s.h.fs.Check(path.Dir(b), c.s.user, vfs.Write|vfs.Exec)
	if err == nil {
		err = c.s.h.fs.Link(a, b)
	}
	if err != nil {
		msg := errText(err)
		if errors.Is(err, vfs.ErrDirLink) {
			msg = "Operation not permitted"
		}
		c.errorf("cannot create link %s to %s: %s", quoteName(c.args[1]), quoteName(c.args[0]), msg)
		return 1
	}
	return 0
}

// resolveLoose is p with the links that exist followed, the rest as
// written (realpath -m).
func (s *session) resolveLoose(p string) string {
	real, _ := s.h.fs.Resolve(p, false)
	return path.Clean(real)
}

// relativeTo is the path from directory base to target, both absolute
// and clean.
func relativeTo(base, target string) string {
	bs, ts := pathParts(base), pathParts(target)
	i := 0
	for i < len(bs) && i < len(ts) && bs[i] == ts[i] {
		i++
	}
	var parts []string
	for range bs[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, ts[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

func pathParts(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}

// canon resolves op as readlink -f/-e/-m and realpath -E/-e/-m do: mode
// 'E' lets the last part be missing, 'e' needs every part, 'm' needs none.
func (c *call) canon(op string, mode byte) (string, error) {
	p := c.s.abs(op)
	real, err := c.s.h.fs.Resolve(p, mode == 'e')
	if err != nil && mode == 'm' && !errors.Is(err, vfs.ErrLoop) {
		return path.Clean(real), nil
	}
	return real, err
}

// cmdReadlink prints a link's target, or with -f, -e or -m the canonical
// name. Failures are silent unless -v, as in coreutils.
func cmdReadlink(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "femnqsvz", long: map[string]string{
		"canonicalize": "f", "canonicalize-existing": "e", "canonicalize-missing": "m", "no-newline": "n",
		"quiet": "q", "silent": "s", "verbose": "v", "zero": "z",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing operand", 1)
	}
	end := "\n"
	switch {
	case fl.has("z"):
		end = "\x00"
	case fl.has("n") && len(ops) == 1:
		end = ""
	}
	mode := byte(0)
	for _, m := range []string{"f", "e", "m"} {
		if fl.has(m) {
			mode = m[0]
		}
	}
	if mode == 'f' {
		mode = 'E'
	}
	code := 0
	for _, op := range ops {
		var out string
		var err error
		if mode == 0 {
			out, err = c.s.h.fs.Readlink(c.s.abs(op))
		} else {
			out, err = c.canon(op, mode)
		}
		if err != nil {
			if fl.has("v") {
				c.errorf("%s: %s", quoteIf(op), errText(err))
			}
			code = 1
			continue
		}
		c.out.WriteString(out + end)
	}
	return code
}

// cmdRealpath is GNU realpath: -e, -m, -s, -q, -z, --relative-to and
// --relative-base.
func cmdRealpath(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "emsqzLP", long: map[string]string{
		"canonicalize-existing": "e", "canonicalize-missing": "m", "no-symlinks": "s", "strip": "s", "quiet": "q",
		"zero": "z", "logical": "L", "physical": "P", "relative-to": "relto=", "relative-base": "relbase=",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing operand", 1)
	}
	mode := byte('E')
	if fl.has("e") {
		mode = 'e'
	}
	if fl.has("m") {
		mode = 'm'
	}
	resolve := func(op string) (string, error) {
		if fl.has("s") {
			p := c.s.abs(op)
			if mode != 'm' {
				if _, err := c.s.h.fs.Lstat(path.Dir(p)); err != nil {
					return "", err
				}
			}
			return p, nil
		}
		return c.canon(op, mode)
	}
	var relTo, relBase string
	for _, o := range []struct {
		key string
		dst *string
	}{{"relto", &relTo}, {"relbase", &relBase}} {
		if fl.has(o.key) {
			p, err := resolve(fl.val(o.key))
			if err != nil {
				c.errorf("%s: %s", fl.val(o.key), errText(err))
				return 1
			}
			*o.dst = p
		}
	}
	if relBase != "" && relTo == "" {
		relTo = relBase
	}
	end := "\n"
	if fl.has("z") {
		end = "\x00"
	}
	code := 0
	for _, op := range ops {
		p, err := resolve(op)
		if err != nil {
			if !fl.has("q") {
				c.errorf("%s: %s", quoteIf(op), errText(err))
			}
			code = 1
			continue
		}
		if relTo != "" && (relBase == "" || p == relBase || strings.HasPrefix(p, strings.TrimSuffix(relBase, "/")+"/")) {
			p = relativeTo(relTo, p)
		}
		c.out.WriteString(p + end)
	}
	return code
}

// fileKind is stat's %F: the type of file in words.
func fileKind(in vfs.Info) string {
	switch {
	case in.Dir:
		return "directory"
	case in.Mode&fs.ModeSymlink != 0:
		return "symbolic link"
	case in.Mode&fs.ModeCharDevice != 0:
		return "character special file"
	case in.Mode&fs.ModeDevice != 0:
		return "block special file"
	case in.Size == 0:
		return "regular empty file"
	}
	return "regular file"
}

// typeChar is find's %y and -type letter for in.
func typeChar(in vfs.Info) string {
	switch {
	case in.Dir:
		return "d"
	case in.Mode&fs.ModeSymlink != 0:
		return "l"
	case in.Mode&fs.ModeCharDevice != 0:
		return "c"
	case in.Mode&fs.ModeDevice != 0:
		return "b"
	}
	return "f"
}

// isLink reports whether in is a symbolic link.
func isLink(in vfs.Info) bool { return in.Mode&fs.ModeSymlink != 0 }

// isDevice reports whether in is a device node.
func isDevice(in vfs.Info) bool { return in.Mode&fs.ModeDevice != 0 }

// sizeField is ls -l's size column: the size, or a device's numbers.
func sizeField(in vfs.Info, human bool) string {
	if isDevice(in) {
		return strconv.Itoa(in.Major) + ", " + strconv.Itoa(in.Minor)
	}
	if human {
		return humanSize(in.Size)
	}
	return strconv.FormatInt(in.Size, 10)
}

// diskBlocks is the 1 KiB blocks in takes: none for links and devices.
func diskBlocks(in vfs.Info) int64 {
	if isLink(in) || isDevice(in) {
		return 0
	}
	return blocks(in.Size, in.Dir)
}

// statFormat is GNU stat's default output, in its own directives.
const (
	statHead   = "  File: %N\n  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n"
	statFile   = "Device: %Hd,%Ld\tInode: %-10i  Links: %h\n"
	statDevice = "Device: %Hd,%Ld\tInode: %-10i  Links: %-5h Device type: %Hr,%Lr\n"
	statTail   = "Access: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\nAccess: %x\nModify: %y\nChange: %z\n Birth: %w\n"
)

func cmdStat(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "Ltf", values: "c", long: map[string]string{
		"format": "c=", "printf": "printf=", "dereference": "L", "terse": "t", "file-system": "f",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing operand", 1)
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		var in vfs.Info
		var err error
		if fl.has("L") {
			in, err = c.s.h.fs.Stat(p)
		} else {
			in, err = c.s.h.fs.Lstat(p)
		}
		if err != nil {
			c.errorf("cannot statx %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		if in.Dir {
			in.Nlink = 2 + c.subdirs(in.Path)
		}
		switch {
		case fl.has("printf"):
			c.out.WriteString(c.statExpand(unescapeC(fl.val("printf")), op, in, true))
		case fl.has("c"):
			c.out.WriteString(c.statExpand(fl.val("c"), op, in, true) + "\n")
		case fl.has("t"):
			c.out.WriteString(c.statExpand("%n %s %b %f %u %g %D %i %h %t %T %X %Y %Z %W %o", op, in, true) + "\n")
		default:
			f := statHead + statFile + statTail
			if isDevice(in) {
				f = statHead + statDevice + statTail
			}
			c.out.WriteString(c.statExpand(f, op, in, false))
		}
	}
	return code
}

// statExpand expands stat's %-directives (with printf-style widths) for
// the file op described by in. quote is whether %N quotes names: a
// format of the user's does, the default one does not.
func (c *call) statExpand(f, op string, in vfs.Info, quote bool) string {
	var b strings.Builder
	ts := in.ModTime.In(c.s.net.clock.Now().Location()).Format("2006-01-02 15:04:05.000000000 -0700")
	dev := [2]int{8, 1}
	if isDevice(in) {
		dev = [2]int{0, 5}
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-+ #0123456789.", f[j]) >= 0 {
			j++
		}
		if j >= len(f) {
			b.WriteString(f[i:])
			break
		}
		width := f[i+1 : j]
		verb := f[j]
		// %Hd, %Ld, %Hr, %Lr: the major or minor half of a device number.
		half := byte(0)
		if (verb == 'H' || verb == 'L') && j+1 < len(f) && (f[j+1] == 'd' || f[j+1] == 'r') {
			half, verb = verb, f[j+1]
			j++
		}
		i = j
		var s string
		num := true
		switch verb {
		case '%':
			b.WriteByte('%')
			continue
		case 'n':
			s, num = op, false
		case 'N':
			q := func(s string) string { return s }
			if quote {
				q = quoteName
			}
			s, num = q(op), false
			if isLink(in) {
				s += " -> " + q(in.Link)
			}
		case 's':
			s = strconv.FormatInt(in.Size, 10)
		case 'b':
			s = strconv.FormatInt(diskBlocks(in)*2, 10)
		case 'B':
			s = "512"
		case 'o':
			s = "4096"
		case 'a':
			s = strconv.FormatUint(uint64(octalMode(in.Mode)), 8)
		case 'f':
			s, num = strconv.FormatUint(uint64(rawMode(in)), 16), false
		case 'A':
			s, num = modeString(in.Mode, in.Dir), false
		case 'F':
			s, num = fileKind(in), false
		case 'U':
			s, num = in.Owner, false
		case 'G':
			s, num = in.Group, false
		case 'u':
			s = strconv.Itoa(c.s.h.uidOf(in.Owner))
		case 'g':
			s = strconv.Itoa(c.s.h.gidOf(in.Group))
		case 'h':
			s = strconv.Itoa(max(in.Nlink, 1))
		case 'i':
			s = strconv.FormatUint(in.Ino, 10)
		case 'd':
			switch half {
			case 'H':
				s = strconv.Itoa(dev[0])
			case 'L':
				s = strconv.Itoa(dev[1])
			default:
				s = strconv.Itoa(dev[0]<<8 | dev[1])
			}
		case 'D':
			s, num = strconv.FormatInt(int64(dev[0]<<8|dev[1]), 16), false
		case 'r':
			switch half {
			case 'H':
				s = strconv.Itoa(in.Major)
			case 'L':
				s = strconv.Itoa(in.Minor)
			default:
				s = strconv.Itoa(in.Major<<8 | in.Minor)
			}
		case 't':
			s, num = strconv.FormatInt(int64(in.Major), 16), false
		case 'T':
			s, num = strconv.FormatInt(int64(in.Minor), 16), false
		case 'x', 'y', 'z', 'w':
			s, num = ts, false
		case 'X', 'Y', 'Z', 'W':
			s = strconv.FormatInt(in.ModTime.Unix(), 10)
		case 'm':
			s, num = "/", false
		default:
			s, num = "?", false
		}
		if width != "" {
			if num {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					s = fmt.Sprintf("%"+width+"d", n)
				} else {
					s = fmt.Sprintf("%"+width+"s", s)
				}
			} else {
				s = fmt.Sprintf("%"+width+"s", s)
			}
		}
		b.WriteString(s)
	}
	return b.String()
}

// rawMode is st_mode as the kernel gives it: type bits and mode bits.
func rawMode(in vfs.Info) uint32 {
	t := uint32(0o100000)
	switch {
	case in.Dir:
		t = 0o040000
	case isLink(in):
		t = 0o120000
	case in.Mode&fs.ModeCharDevice != 0:
		t = 0o020000
	case isDevice(in):
		t = 0o060000
	}
	return t | octalMode(in.Mode)
}

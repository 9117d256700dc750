package shell

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// ---- ls ----

type lsEntry struct {
	name string
	in   vfs.Info
}

func cmdLs(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "alhRd1trSAFiGnpULHog", long: map[string]string{
		"all": "a", "almost-all": "A", "human-readable": "h", "recursive": "R", "directory": "d", "dereference": "L",
		"dereference-command-line": "H", "color": "color=", "group-directories-first": "gdf", "full-time": "full",
		"time-style": "time-style=", "reverse": "r", "classify": "F", "numeric-uid-gid": "n", "inode": "i",
	}})
	if bad != "" {
		return c.badFlag(bad, 2)
	}
	switch st := strings.TrimPrefix(fl.val("time-style"), "posix-"); {
	case !fl.has("time-style"), st == "full-iso", st == "long-iso", st == "iso", st == "locale", strings.HasPrefix(st, "+"):
	default:
		c.err.printf("ls: invalid argument %s for '--time-style'\nValid arguments are:\n  - [posix-]full-iso\n  - [posix-]long-iso\n  - [posix-]iso\n  - [posix-]locale\n  - +FORMAT (e.g., +%%H:%%M) for a 'date'-style format\nUsage: ls [OPTION]... [FILE]...\nTry 'ls --help' for more information.\n", quoteName(st))
		return 2
	}
	for k := range fl {
		if k == "full" || k == "n" || k == "o" || k == "g" {
			fl["l"] = append(fl["l"], "")
		}
	}
	if len(ops) == 0 {
		ops = []string{"."}
	}
	code := 0
	var files []lsEntry
	var dirs []lsEntry
	// A link named on the command line is followed unless the listing
	// shows links (-l, -d, -F), as GNU ls does.
	followArgs := fl.has("L") || fl.has("H") || !(fl.has("l") || fl.has("d") || fl.has("F"))
	for _, op := range ops {
		p := c.s.abs(op)
		var in vfs.Info
		var err error
		if followArgs || strings.HasSuffix(op, "/") {
			in, err = c.s.h.fs.Stat(p)
			if err != nil && !fl.has("L") {
				// A dangling link is still listed, as itself.
				if l, lerr := c.s.h.fs.Lstat(p); lerr == nil && isLink(l) {
					in, err = l, nil
				}
			}
		} else {
			in, err = c.s.h.fs.Lstat(p)
		}
		if err == nil {
			err = c.s.h.fs.Check(path.Dir(p), c.s.user, vfs.Exec)
		}
		if err != nil {
			c.err.printf("ls: cannot access %s: %s\n", quoteName(op), errText(err))
			code = 2
			continue
		}
		if in.Dir && !fl.has("d") {
			dirs = append(dirs, lsEntry{op, in})
		} else {
			files = append(files, lsEntry{op, in})
		}
	}
	sortEntries(files, fl)
	sortEntries(dirs, fl)
	if len(files) > 0 {
		c.lsPrint(files, fl, false)
	}
	header := len(ops) > 1 || fl.has("R")
	first := len(files) == 0
	var listDir func(e lsEntry)
	listDir = func(e lsEntry) {
		if !first {
			c.out.WriteString("\n")
		}
		first = false
		if header {
			c.out.printf("%s:\n", e.name)
		}
		if err := c.s.h.fs.Check(e.in.Path, c.s.user, vfs.Read); err != nil {
			c.err.printf("ls: cannot open directory %s: Permission denied\n", quoteName(e.name))
			code = 2
			return
		}
		infos, _ := c.s.h.fs.ReadDir(e.in.Path)
		var ents []lsEntry
		if fl.has("a") {
			self, _ := c.s.h.fs.Stat(e.in.Path)
			parent, _ := c.s.h.fs.Stat(path.Dir(e.in.Path))
			ents = append(ents, lsEntry{".", self}, lsEntry{"..", parent})
		}
		for _, in := range infos {
			if strings.HasPrefix(in.Name, ".") && !fl.has("a") && !fl.has("A") {
				continue
			}
			if fl.has("L") && isLink(in) {
				if t, err := c.s.h.fs.Stat(in.Path); err == nil {
					in = t
				}
			}
			ents = append(ents, lsEntry{in.Name, in})
		}
		sortEntries(ents, fl)
		c.lsPrint(ents, fl, true)
		if fl.has("R") {
			for _, sub := range ents {
				if sub.in.Dir && sub.name != "." && sub.name != ".." {
					listDir(lsEntry{strings.TrimSuffix(e.name, "/") + "/" + sub.name, sub.in})
				}
			}
		}
	}
	for _, d := range dirs {
		listDir(d)
	}
	return code
}

func sortEntries(ents []lsEntry, fl flags) {
	if fl.has("U") {
		return
	}
	sort.SliceStable(ents, func(i, j int) bool {
		a, b := ents[i], ents[j]
		switch {
		case fl.has("t") && !a.in.ModTime.Equal(b.in.ModTime):
			return a.in.ModTime.After(b.in.ModTime)
		case fl.has("S") && a.in.Size != b.in.Size:
			return a.in.Size > b.in.Size
		}
		return a.name < b.name
	})
	if fl.has("r") {
		for i, j := 0, len(ents)-1; i < j; i, j = i+1, j-1 {
			ents[i], ents[j] = ents[j], ents[i]
		}
	}
}

func (c *call) lsPrint(ents []lsEntry, fl flags, total bool) {
	name := func(e lsEntry) string {
		n := e.name
		switch {
		case (fl.has("F") || fl.has("p")) && e.in.Dir && n != "." && n != "..":
			n += "/"
		case isLink(e.in) && fl.has("l"):
			n += " -> " + e.in.Link
		case isLink(e.in) && fl.has("F"):
			n += "@"
		case fl.has("F") && !e.in.Dir && !isDevice(e.in) && e.in.Mode.Perm()&0o111 != 0:
			n += "*"
		}
		return n
	}
	if !fl.has("l") {
		for _, e := range ents {
			if fl.has("i") {
				c.out.WriteString(strconv.FormatUint(e.in.Ino, 10) + " ")
			}
			c.out.WriteString(name(e) + "\n")
		}
		return
	}
	clock := c.s.net.clock.Now()
	var sum int64
	rows := make([][5]string, len(ents))
	var w [5]int
	for i, e := range ents {
		sum += diskBlocks(e.in)
		links := strconv.Itoa(max(e.in.Nlink, 1))
		if e.in.Dir {
			links = strconv.Itoa(2 + c.subdirs(e.in.Path))
		}
		size := sizeField(e.in, fl.has("h"))
		owner, group := e.in.Owner, e.in.Group
		if fl.has("n") {
			owner, group = strconv.Itoa(c.s.h.uidOf(owner)), strconv.Itoa(c.s.h.gidOf(group))
		}
		rows[i] = [5]string{modeString(e.in.Mode, e.in.Dir), links, owner, group, size}
		for k := 1; k < 5; k++ {
			w[k] = max(w[k], len(rows[i][k]))
		}
	}
	if total {
		t := strconv.FormatInt(sum, 10)
		if fl.has("h") {
			t = humanSize(sum * 1024)
		}
		c.out.printf("total %s\n", t)
	}
	for i, e := range ents {
		r := rows[i]
		tm := lsTime(e.in.ModTime, clock)
		mt := e.in.ModTime.In(clock.Location())
		switch st := strings.TrimPrefix(fl.val("time-style"), "posix-"); {
		case fl.has("full") || st == "full-iso":
			tm = mt.Format("2006-01-02 15:04:05.000000000 -0700")
		case st == "long-iso":
			tm = mt.Format("2006-01-02 15:04")
		case st == "iso":
			tm = mt.Format("01-02 15:04")
			if clock.Sub(mt) > 182*24*time.Hour {
				tm = mt.Format("2006-01-02 ")
			}
		case strings.HasPrefix(st, "+"):
			tm = strftime(st[1:], mt)
		}
		line := r[0] + " " + padLeft(r[1], w[1]) + " "
		if !fl.has("g") {
			line += padRight(r[2], w[2]) + " "
		}
		if !fl.has("o") {
			line += padRight(r[3], w[3]) + " "
		}
		if fl.has("i") {
			line = strconv.FormatUint(e.in.Ino, 10) + " " + line
		}
		c.out.WriteString(line + padLeft(r[4], w[4]) + " " + tm + " " + name(e) + "\n")
	}
}

func (c *call) subdirs(p string) int {
	infos, err := c.s.h.fs.ReadDir(p)
	if err != nil {
		return 0
	}
	n := 0
	for _, in := range infos {
		if in.Dir {
			n++
		}
	}
	return n
}

// ---- cat ----

func cmdCat(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "nAbesTvuEt", long: map[string]string{
		"number": "n", "show-all": "A", "number-nonblank": "b", "show-ends": "E", "squeeze-blank": "s",
		"show-tabs": "T", "show-nonprinting": "v",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	o := catOpts{
		number: fl.has("n"), nonblank: fl.has("b"), squeeze: fl.has("s"),
		ends: fl.has("A") || fl.has("E") || fl.has("e"), tabs: fl.has("A") || fl.has("T") || fl.has("t"),
		nonprint: fl.has("A") || fl.has("v") || fl.has("e") || fl.has("t"),
	}
	shaped := o != catOpts{}
	code := 0
	var text strings.Builder
	for _, op := range ops {
		if op == "-" {
			switch {
			case c.in.blob != nil && !shaped:
				c.out.writeFileData(*c.in.blob, c.in.srcHost, c.in.srcPath)
			case shaped:
				text.WriteString(c.in.text)
			case c.in.srcPath != "" && len(ops) == 1:
				c.out.writeFileData(vfs.Content(c.in.text), c.in.srcHost, c.in.srcPath)
			default:
				c.out.WriteString(c.in.text)
			}
			continue
		}
		p := c.s.abs(op)
		b, err := c.s.readFile(p)
		if err != nil {
			c.errorf("%s: %s", quoteIf(op), errText(err))
			code = 1
			continue
		}
		if shaped {
			if b.Declared {
				continue
			}
			text.WriteString(b.Content)
			continue
		}
		c.out.writeFileData(b, c.s.h.name, p)
	}
	if shaped {
		c.out.WriteString(o.shape(text.String()))
	}
	return code
}

// catOpts are cat's options that change what it prints.
type catOpts struct {
	number, nonblank, squeeze, ends, tabs, nonprint bool
}

// shape applies cat's numbering, squeezing and showing to text.
func (o catOpts) shape(text string) string {
	var b strings.Builder
	n := 0
	blankRun := 0
	for len(text) > 0 {
		line := text
		nl := strings.IndexByte(text, '\n')
		if nl >= 0 {
			line, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
		if line == "" && nl >= 0 {
			blankRun++
			if o.squeeze && blankRun > 1 {
				continue
			}
		} else {
			blankRun = 0
		}
		if o.nonblank && line != "" || o.number && !o.nonblank {
			n++
			fmt.Fprintf(&b, "%6d\t", n)
		}
		for i := 0; i < len(line); i++ {
			ch := line[i]
			switch {
			case ch == '\t' && o.tabs:
				b.WriteString("^I")
			case ch == '\t' || !o.nonprint:
				b.WriteByte(ch)
			case ch >= 128:
				b.WriteString("M-")
				ch -= 128
				fallthrough
			default:
				switch {
				case ch < 32:
					b.WriteByte('^')
					b.WriteByte(ch + 64)
				case ch == 127:
					b.WriteString("^?")
				default:
					b.WriteByte(ch)
				}
			}
		}
		if nl >= 0 {
			if o.ends {
				b.WriteByte('$')
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// inputs reads the named files (or stdin for none or "-"), reporting
// errors as "name: file: reason". Each result is the name and the text;
// declared files have binary set.
type input struct {
	name   string
	text   string
	binary bool
	size   int64
	sha    string
}

func (c *call) inputs(ops []string) ([]input, int) {
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	var out []input
	code := 0
	for _, op := range ops {
		if op == "-" {
			in := input{name: "-", text: c.in.text, size: int64(len(c.in.text))}
			if c.in.blob != nil {
				in.binary, in.size, in.sha = true, c.in.blob.Size, c.in.blob.SHA256
			} else {
				in.sha = vfs.Content(c.in.text).SHA256
			}
			out = append(out, in)
			continue
		}
		b, err := c.s.readFile(c.s.abs(op))
		if err != nil {
			c.errorf("%s: %s", quoteIf(op), errText(err))
			code = 1
			continue
		}
		out = append(out, input{name: op, text: b.Content, binary: b.Declared, size: b.Size, sha: b.SHA256})
	}
	return out, code
}

// ---- cp, mv ----

// eachSource checks the operands of cp and mv (SOURCE... DEST), answers the
// errors they share, and calls fn for every source that exists with its
// absolute path, its info and the path it goes to. fn returns 1 when that
// source failed. eachSource returns the command's exit status.
func eachSource(c *call, ops []string, fn func(src, dst, sp string, sin vfs.Info, target string, dstIsDir bool) int) int {
	switch len(ops) {
	case 0:
		return c.badFlag("missing file operand", 1)
	case 1:
		return c.badFlag(fmt.Sprintf("missing destination file operand after %s", quoteName(ops[0])), 1)
	}
	dst := ops[len(ops)-1]
	srcs := ops[:len(ops)-1]
	dstPath := c.s.abs(dst)
	din, derr := c.s.h.fs.Stat(dstPath)
	dstIsDir := derr == nil && din.Dir
	if len(srcs) > 1 && !dstIsDir {
		c.errorf("target %s is not a directory", quoteName(dst))
		return 1
	}
	code := 0
	for _, src := range srcs {
		sp := c.s.abs(src)
		sin, err := c.s.h.fs.Stat(sp)
		if err != nil {
			c.errorf("cannot stat %s: %s", quoteName(src), errText(err))
			code = 1
			continue
		}
		target := dstPath
		if dstIsDir {
			target = path.Join(dstPath, path.Base(sp))
		}
		if fn(src, dst, sp, sin, target, dstIsDir) != 0 {
			code = 1
		}
	}
	return code
}

func cmdCp(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "rRapfvinuLdPHlsxT", long: map[string]string{
		"recursive": "r", "archive": "a", "force": "f", "verbose": "v", "preserve": "preserve=", "no-clobber": "n", "parents": "parents",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	rec := fl.has("r") || fl.has("R") || fl.has("a")
	preserve := fl.has("a") || fl.has("p")
	return eachSource(c, ops, func(src, dst, sp string, sin vfs.Info, target string, dstIsDir bool) int {
		if sin.Dir {
			if !rec {
				c.errorf("-r not specified; omitting directory %s", quoteName(src))
				return 1
			}
			if target == sp || strings.HasPrefix(target, sp+"/") {
				c.errorf("cannot copy a directory, %s, into itself, %s", quoteName(src), quoteName(path.Join(dst, path.Base(sp))))
				return 1
			}
			failed := 0
			copyTree(c.s, sp, c.s, target, "cp", preserve, func(err error) {
				c.reportCopyErr(err)
				failed = 1
			}, func(rel string, dir bool) {
				if fl.has("v") {
					c.out.printf("%s -> %s\n", quoteName(path.Join(src, rel)), quoteName(path.Join(target, rel)))
				}
			})
			return failed
		}
		if tin, err := c.s.h.fs.Stat(target); err == nil {
			if tin.Ino == sin.Ino {
				shown := dst
				if dstIsDir {
					shown = path.Join(dst, path.Base(sp))
				}
				c.errorf("%s and %s are the same file", quoteName(src), quoteName(shown))
				return 1
			}
			if tin.Dir {
				c.errorf("cannot overwrite directory %s with non-directory", quoteName(target))
				return 1
			}
			if fl.has("n") {
				return 0
			}
		}
		if err := copyFile(c.s, sp, c.s, target, "cp", preserve); err != nil {
			c.reportCopyErr(err)
			return 1
		}
		if fl.has("v") {
			c.out.printf("%s -> %s\n", quoteName(src), quoteName(target))
		}
		return 0
	})
}

func (c *call) reportCopyErr(err error) {
	var ce *copyErr
	if !errors.As(err, &ce) {
		c.errorf("%s", errText(err))
		return
	}
	switch {
	case ce.read && errors.Is(ce.err, fs.ErrPermission):
		c.errorf("cannot open %s for reading: Permission denied", quoteName(ce.path))
	case ce.read:
		c.errorf("cannot stat %s: %s", quoteName(ce.path), errText(ce.err))
	case ce.dir:
		c.errorf("cannot create directory %s: %s", quoteName(ce.path), errText(ce.err))
	case errors.Is(ce.err, vfs.ErrNoSpace):
		c.errorf("error writing %s: No space left on device", quoteName(ce.path))
	default:
		c.errorf("cannot create regular file %s: %s", quoteName(ce.path), errText(ce.err))
	}
}

func cmdMv(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "fivnuT", long: map[string]string{"force": "f", "verbose": "v", "no-clobber": "n"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	return eachSource(c, ops, func(src, dst, sp string, sin vfs.Info, target string, dstIsDir bool) int {
		if target == sp {
			c.errorf("%s and %s are the same file", quoteName(src), quoteName(dst))
			return 1
		}
		if sin.Dir && strings.HasPrefix(target, sp+"/") {
			shown := dst
			if dstIsDir {
				shown = path.Join(dst, path.Base(sp))
			}
			c.errorf("cannot move %s to a subdirectory of itself, %s", quoteName(src), quoteName(shown))
			return 1
		}
		if tin, err := c.s.h.fs.Stat(target); err == nil {
			if fl.has("n") {
				return 0
			}
			if tin.Dir && !sin.Dir {
				c.errorf("cannot overwrite directory %s with non-directory", quoteName(target))
				return 1
			}
			if !tin.Dir && sin.Dir {
				c.errorf("cannot overwrite non-directory %s with directory %s", quoteName(target), quoteName(src))
				return 1
			}
		}
		perm := c.s.h.fs.Check(path.Dir(sp), c.s.user, vfs.Write|vfs.Exec)
		if perm == nil {
			perm = c.s.canWrite(target)
			if errors.Is(perm, vfs.ErrIsDir) {
				perm = c.s.h.fs.Check(path.Dir(target), c.s.user, vfs.Write|vfs.Exec)
			}
		}
		if perm != nil {
			c.errorf("cannot move %s to %s: %s", quoteName(src), quoteName(target), errText(perm))
			return 1
		}
		var moved []vfs.Info
		_ = c.s.h.fs.Walk(sp, func(in vfs.Info) {
			if !in.Dir {
				moved = append(moved, in)
			}
		})
		var replaced []vfs.Info
		if tin, err := c.s.h.fs.Stat(target); err == nil && !tin.Dir {
			replaced = append(replaced, tin)
		}
		if err := c.s.h.fs.Rename(sp, target); err != nil {
			c.errorf("cannot move %s to %s: %s", quoteName(src), quoteName(target), errText(err))
			return 1
		}
		for _, in := range moved {
			np := target + strings.TrimPrefix(in.Path, sp)
			b := vfs.Blob{Size: in.Size, SHA256: in.SHA256, Declared: in.Declared}
			c.s.send(world.FileWritten, map[string]any{"host": c.s.h.name, "path": np, "bytes": in.Size, "sha256": in.SHA256, "created": len(replaced) == 0})
			c.s.sendCopy("mv", c.s.h.name, in.Path, c.s.h, np, b)
			c.s.send(world.FileDeleted, map[string]any{"host": c.s.h.name, "path": in.Path})
			if in.Config {
				c.s.send(world.ConfigChanged, map[string]any{"host": c.s.h.name, "path": in.Path, "via": "mv", "sha256": ""})
			}
		}
		for _, r := range replaced {
			if r.Config {
				_ = c.s.h.fs.SetConfig(target, true)
				c.s.send(world.ConfigChanged, map[string]any{"host": c.s.h.name, "path": target, "via": "mv", "sha256": sin.SHA256})
			}
		}
		if fl.has("v") {
			c.out.printf("renamed %s -> %s\n", quoteName(src), quoteName(target))
		}
		return 0
	})
}

// ---- rm, rmdir, mkdir, touch ----

func cmdRm(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "rRfivdI", long: map[string]string{
		"recursive": "r", "force": "f", "verbose": "v", "dir": "d", "no-preserve-root": "npr", "preserve-root": "pr",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	rec := fl.has("r") || fl.has("R")
	force := fl.has("f")
	if len(ops) == 0 {
		if force {
			return 0
		}
		return c.badFlag("missing operand", 1)
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if p == "/" && rec {
			c.errorf("it is dangerous to operate recursively on '/'")
			c.errorf("use --no-preserve-root to override this failsafe")
			code = 1
			continue
		}
		if base := path.Base(op); base == "." || base == ".." {
			c.errorf("refusing to remove '.' or '..' directory: skipping %s", quoteName(op))
			code = 1
			continue
		}
		in, err := c.s.h.fs.Stat(p)
		if err != nil {
			if !force || !errors.Is(err, fs.ErrNotExist) {
				c.errorf("cannot remove %s: %s", quoteName(op), errText(err))
				code = 1
			}
			continue
		}
		if in.Dir && !rec {
			if fl.has("d") {
				infos, _ := c.s.h.fs.ReadDir(p)
				if len(infos) > 0 {
					c.errorf("cannot remove %s: Directory not empty", quoteName(op))
					code = 1
					continue
				}
			} else {
				c.errorf("cannot remove %s: Is a directory", quoteName(op))
				code = 1
				continue
			}
		}
		if err := c.s.removePath(p, rec, "rm"); err != nil {
			c.errorf("cannot remove %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		if fl.has("v") {
			if in.Dir {
				c.out.printf("removed directory %s\n", quoteName(op))
			} else {
				c.out.printf("removed %s\n", quoteName(op))
			}
		}
	}
	return code
}

func cmdRmdir(c *call) int {
	_, ops, bad := parseFlags(c.args, flagSpec{bools: "pv"})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing operand", 1)
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		in, err := c.s.h.fs.Stat(p)
		switch {
		case err != nil:
			c.errorf("failed to remove %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		case !in.Dir:
			c.errorf("failed to remove %s: Not a directory", quoteName(op))
			code = 1
			continue
		}
		if err := c.s.removePath(p, false, "rmdir"); err != nil {
			c.errorf("failed to remove %s: %s", quoteName(op), errText(err))
			code = 1
		}
	}
	return code
}

func cmdMkdir(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "pv", values: "m", long: map[string]string{"parents": "p", "verbose": "v", "mode": "m="}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing operand", 1)
	}
	mode := fs.FileMode(0o777 &^ c.s.umask)
	if fl.has("m") {
		m, ok := parseMode(fl.val("m"), 0o777, true)
		if !ok {
			c.errorf("invalid mode %s", quoteName(fl.val("m")))
			return 1
		}
		mode = m
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if fl.has("p") {
			// Check the deepest existing ancestor.
			anc := p
			for {
				in, err := c.s.h.fs.Stat(anc)
				if err == nil {
					if !in.Dir {
						c.errorf("cannot create directory %s: Not a directory", quoteName(op))
						code = 1
						anc = ""
					}
					break
				}
				anc = path.Dir(anc)
			}
			if anc == "" {
				continue
			}
			if anc == p {
				continue
			}
			if err := c.s.h.fs.Check(anc, c.s.user, vfs.Write|vfs.Exec); err != nil {
				c.errorf("cannot create directory %s: Permission denied", quoteName(op))
				code = 1
				continue
			}
			if err := c.s.h.fs.Mkdir(p, c.s.user, mode, true); err != nil {
				c.errorf("cannot create directory %s: %s", quoteName(op), errText(err))
				code = 1
				continue
			}
		} else {
			var err error
			if !c.s.h.fs.Exists(p) {
				err = c.s.h.fs.Check(path.Dir(p), c.s.user, vfs.Write|vfs.Exec)
			}
			if err == nil || !c.s.h.fs.Exists(path.Dir(p)) {
				err = c.s.h.fs.Mkdir(p, c.s.user, mode, false)
			}
			if err != nil {
				c.errorf("cannot create directory %s: %s", quoteName(op), errText(err))
				code = 1
				continue
			}
		}
		if fl.has("v") {
			c.out.printf("mkdir: created directory %s\n", quoteName(op))
		}
	}
	return code
}

func cmdTouch(c *call) int {
	_, ops, bad := parseFlags(c.args, flagSpec{bools: "acm", values: "dtr"})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		return c.badFlag("missing file operand", 1)
	}
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if in, err := c.s.h.fs.Stat(p); err == nil {
			if !in.Dir && in.Owner != c.s.user && c.s.h.fs.Check(p, c.s.user, vfs.Write) != nil {
				c.errorf("cannot touch %s: Permission denied", quoteName(op))
				code = 1
				continue
			}
			_, _ = c.s.h.fs.Touch(p, c.s.user)
			continue
		}
		if err := c.s.canWrite(p); err != nil {
			c.errorf("cannot touch %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		if _, err := c.s.writeFile(p, vfs.Content(""), "touch", true); err != nil {
			c.errorf("cannot touch %s: %s", quoteName(op), errText(err))
			code = 1
		}
	}
	return code
}

// ---- chmod, chown ----

// parseMode reads an octal or symbolic mode and applies it to cur.
func parseMode(spec string, cur fs.FileMode, dir bool) (fs.FileMode, bool) {
	if spec == "" {
		return 0, false
	}
	if spec[0] >= '0' && spec[0] <= '7' {
		n, err := strconv.ParseUint(spec, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, false
		}
		return vfs.ModeBits(fs.FileMode(n)), true // 4755 keeps its setuid bit
	}
	m := octalMode(cur)
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who uint32
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			switch clause[i] {
			case 'u':
				who |= 0o4700
			case 'g':
				who |= 0o2070
			case 'o':
				who |= 0o1007
			case 'a':
				who |= 0o7777
			}
			i++
		}
		if i >= len(clause) {
			return 0, false
		}
		implicit := who == 0
		if implicit {
			who = 0o7777
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return 0, false
			}
			i++
			var bits uint32
			for i < len(clause) && strings.IndexByte("rwxXst", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					bits |= 0o444
				case 'w':
					bits |= 0o222
				case 'x':
					bits |= 0o111
				case 'X':
					if dir || m&0o111 != 0 {
						bits |= 0o111
					}
				case 's':
					bits |= 0o6000 // setuid for u, setgid for g
				case 't':
					bits |= 0o1000
				}
				i++
			}
			mask := who
			if implicit && op != '=' {
				mask &^= 0o022 // umask applies when no who is given
				if bits&0o222 != 0 && op == '+' {
					mask = who &^ 0o022
				}
			}
			switch op {
			case '+':
				m |= bits & mask
			case '-':
				m &^= bits & mask
			case '=':
				set := bits & who
				if implicit {
					set &^= 0o022 // the umask, for = as for + and -
				}
				m = (m &^ who) | set
			}
		}
	}
	return vfs.ModeBits(fs.FileMode(m)), true
}

func cmdChmod(c *call) int {
	args := c.args
	rec := false
	var rest []string
	for _, a := range args {
		if a == "-R" || a == "--recursive" {
			rec = true
			continue
		}
		if a == "-v" || a == "-f" || a == "-c" {
			continue
		}
		rest = append(rest, a)
	}
	if len(rest) == 0 {
		return c.badFlag("missing operand", 1)
	}
	if len(rest) == 1 {
		return c.badFlag(fmt.Sprintf("missing operand after %s", quoteName(rest[0])), 1)
	}
	spec := rest[0]
	if _, ok := parseMode(spec, 0o644, false); !ok {
		return c.badFlag(fmt.Sprintf("invalid mode: %s", quoteName(spec)), 1)
	}
	code := 0
	for _, op := range rest[1:] {
		p := c.s.abs(op)
		if _, err := c.s.h.fs.Stat(p); err != nil {
			c.errorf("cannot access %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		var targets []vfs.Info
		if rec {
			_ = c.s.h.fs.Walk(p, func(in vfs.Info) { targets = append(targets, in) })
		} else {
			in, _ := c.s.h.fs.Stat(p)
			targets = []vfs.Info{in}
		}
		for _, in := range targets {
			name := op + strings.TrimPrefix(in.Path, p)
			if c.s.user != "root" && in.Owner != c.s.user {
				c.errorf("changing permissions of %s: Operation not permitted", quoteName(name))
				code = 1
				continue
			}
			m, _ := parseMode(spec, in.Mode, in.Dir)
			if err := c.s.h.fs.Chmod(in.Path, m); err != nil {
				c.errorf("changing permissions of %s: %s", quoteName(name), errText(err))
				code = 1
				continue
			}
			if m&^fs.ModeType == in.Mode&^fs.ModeType {
				continue // the mode it had: nothing changed
			}
			c.s.send(world.ModeChanged, map[string]any{"host": c.s.h.name, "path": in.Path, "mode": fmt.Sprintf("%04o", octalMode(m))})
		}
	}
	return code
}

// ---- stat ----

// ---- du, df ----

func cmdDu(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "shacbkmxL", values: "d", long: map[string]string{
		"summarize": "s", "human-readable": "h", "all": "a", "total": "c", "max-depth": "d=", "apparent-size": "apparent", "bytes": "b",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if len(ops) == 0 {
		ops = []string{"."}
	}
	maxDepth := -1
	if fl.has("s") {
		maxDepth = 0
	}
	if fl.has("d") {
		n, err := strconv.Atoi(fl.val("d"))
		if err != nil || n < 0 {
			c.errorf("invalid maximum depth %s", quoteName(fl.val("d")))
			return 1
		}
		maxDepth = n
	}
	apparent := fl.has("apparent") || fl.has("b")
	format := func(kb int64, bytes int64) string {
		switch {
		case fl.has("h"):
			if apparent {
				return humanSize(bytes)
			}
			return humanSize(kb * 1024)
		case fl.has("b"):
			return strconv.FormatInt(bytes, 10)
		case fl.has("m"):
			return strconv.FormatInt((kb+1023)/1024, 10)
		}
		return strconv.FormatInt(kb, 10)
	}
	code := 0
	var grandKB, grandB int64
	for _, op := range ops {
		p := c.s.abs(op)
		if _, err := c.s.h.fs.Stat(p); err != nil {
			c.errorf("cannot access %s: %s", quoteName(op), errText(err))
			code = 1
			continue
		}
		type agg struct{ kb, b int64 }
		var walk func(q, name string, depth int) agg
		walk = func(q, name string, depth int) agg {
			in, _ := c.s.h.fs.Stat(q)
			if !in.Dir {
				a := agg{blocks(in.Size, false), in.Size}
				if depth == 0 || (fl.has("a") && (maxDepth < 0 || depth <= maxDepth)) {
					c.out.printf("%s\t%s\n", format(a.kb, a.b), name)
				}
				return a
			}
			a := agg{4, 4096}
			if err := c.s.h.fs.Check(q, c.s.user, vfs.Read|vfs.Exec); err != nil {
				c.errorf("cannot read directory %s: Permission denied", quoteName(name))
				code = 1
			} else {
				infos, _ := c.s.h.fs.ReadDir(q)
				for _, sub := range infos {
					r := walk(sub.Path, strings.TrimSuffix(name, "/")+"/"+sub.Name, depth+1)
					a.kb += r.kb
					a.b += r.b
				}
			}
			if maxDepth < 0 || depth <= maxDepth {
				c.out.printf("%s\t%s\n", format(a.kb, a.b), name)
			}
			return a
		}
		a := walk(p, op, 0)
		grandKB += a.kb
		grandB += a.b
	}
	if fl.has("c") {
		c.out.printf("%s\ttotal\n", format(grandKB, grandB))
	}
	return code
}

func cmdDf(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "hTakmPlix", values: "t", long: map[string]string{"human-readable": "h", "print-type": "T"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	// With operands, df shows the file system each one is on, once.
	var mounts []string
	code := 0
	for _, op := range ops {
		p := c.s.abs(op)
		if _, err := c.s.h.fs.Stat(p); err != nil {
			c.errorf("%s: %s", quoteIf(op), errText(err))
			code = 1
			continue
		}
		m := "/"
		switch {
		case p == "/run" || strings.HasPrefix(p, "/run/"):
			m = "/run"
		case p == "/dev/shm" || strings.HasPrefix(p, "/dev/shm/"):
			m = "/dev/shm"
		}
		if !slices.Contains(mounts, m) {
			mounts = append(mounts, m)
		}
	}
	if len(ops) > 0 && len(mounts) == 0 {
		return code
	}
	size, used := c.s.h.fs.Usage()
	pct := func(u, s int64) string {
		if s == 0 {
			return "-"
		}
		return fmt.Sprintf("%d%%", (u*100+s-1)/s)
	}
	type row struct{ fs, typ, size, used, avail, pct, mnt string }
	mem := int64(16 << 30)
	rows := []row{}
	add := func(name, typ string, s, u int64, mnt string) {
		if len(mounts) > 0 && !slices.Contains(mounts, mnt) {
			return
		}
		a := max(s-u, 0)
		if fl.has("h") {
			rows = append(rows, row{name, typ, humanSize(s), humanSize(u), humanSize(a), pct(u, s), mnt})
		} else {
			rows = append(rows, row{name, typ, strconv.FormatInt(s/1024, 10), strconv.FormatInt(u/1024, 10), strconv.FormatInt(a/1024, 10), pct(u, s), mnt})
		}
	}
	add("tmpfs", "tmpfs", mem/10, 1<<20, "/run")
	add("/dev/sda1", "ext4", size, used, "/")
	add("tmpfs", "tmpfs", mem/2, 0, "/dev/shm")
	hdr := row{"Filesystem", "Type", "1K-blocks", "Used", "Available", "Use%", "Mounted on"}
	if fl.has("h") {
		hdr.size, hdr.avail = "Size", "Avail"
	}
	all := append([]row{hdr}, rows...)
	w := [6]int{14, 4, 5, 5, 5, 4}
	if !fl.has("h") {
		w = [6]int{14, 4, 9, 4, 9, 4}
	}
	for _, r := range all {
		w[0] = max(w[0], len(r.fs))
		w[1] = max(w[1], len(r.typ))
		w[2] = max(w[2], len(r.size))
		w[3] = max(w[3], len(r.used))
		w[4] = max(w[4], len(r.avail))
		w[5] = max(w[5], len(r.pct))
	}
	for _, r := range all {
		line := padRight(r.fs, w[0]) + " "
		if fl.has("T") {
			line += padRight(r.typ, w[1]) + " "
		}
		line += padLeft(r.size, w[2]) + " " + padLeft(r.used, w[3]) + " " + padLeft(r.avail, w[4]) + " " + padLeft(r.pct, w[5]) + " " + r.mnt
		c.out.WriteString(line + "\n")
	}
	return code
}

// ---- checksums ----

func cmdSha256sum(c *call) int {
	return c.checksum(func(in input) string { return c.s.digestHex("sha256", in) })
}

func cmdMd5sum(c *call) int {
	return c.checksum(func(in input) string { return c.s.digestHex("md5", in) })
}

func (c *call) checksum(sum func(input) string) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "cbtwz", long: map[string]string{"check": "c", "quiet": "quiet", "status": "status", "binary": "b", "text": "t"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if fl.has("c") {
		ins, code := c.inputs(ops)
		failed := 0
		for _, list := range ins {
			for _, line := range splitLines(list.text) {
				want, name, ok := strings.Cut(line, "  ")
				if !ok {
					want, name, ok = strings.Cut(line, " *")
				}
				if !ok {
					continue
				}
				got, errc := c.inputs([]string{name})
				if errc != 0 || len(got) == 0 {
					c.out.printf("%s: FAILED open or read\n", name)
					failed++
					code = 1
					continue
				}
				if sum(got[0]) == strings.ToLower(want) {
					if !fl.has("quiet") && !fl.has("status") {
						c.out.printf("%s: OK\n", name)
					}
				} else {
					if !fl.has("status") {
						c.out.printf("%s: FAILED\n", name)
					}
					failed++
				}
			}
		}
		if failed > 0 {
			c.errorf("WARNING: %d computed checksum did NOT match", failed)
			return 1
		}
		return code
	}
	code := 0
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	for _, op := range ops {
		if op != "-" {
			if in, err := c.s.h.fs.Stat(c.s.abs(op)); err == nil && in.Dir {
				c.errorf("%s: Is a directory", op)
				code = 1
				continue
			}
		}
		ins, e := c.inputs([]string{op})
		if e != 0 {
			code = 1
			continue
		}
		c.out.printf("%s  %s\n", sum(ins[0]), op)
	}
	return code
}

// globMatchSlash matches like find -path: * also matches slashes. It runs
// in O(len(pattern)*len(name)) with the single-star backtracking method.
func globMatchSlash(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]) && pattern[p] != '*':
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ---- file, ln, basename, dirname, realpath ----

func cmdFile(c *call) int {
	fl, ops, _ := parseFlags(c.args, flagSpec{bools: "bLiz", long: map[string]string{"brief": "b", "dereference": "L", "mime": "i"}})
	if len(ops) == 0 {
		c.err.WriteString("Usage: file [-bcCdEhikLlNnprsSvzZ0] [--apple] [--extension] [--mime-encoding]\n")
		return 1
	}
	for _, op := range ops {
		desc := c.fileType(c.s.abs(op), op, fl.has("L"))
		if fl.has("b") {
			c.out.WriteString(desc + "\n")
		} else {
			c.out.printf("%s: %s\n", op, desc)
		}
	}
	return 0
}

// fileType is what file(1) says of p: from its type, its name and mode
// for a declared file, or its first bytes.
func (c *call) fileType(p, op string, follow bool) string {
	in, err := c.s.h.fs.Lstat(p)
	if err == nil && follow && in.Mode&fs.ModeSymlink != 0 {
		in, err = c.s.h.fs.Stat(p)
	}
	if err != nil {
		return fmt.Sprintf("cannot open `%s' (No such file or directory)", op)
	}
	if follow {
		if real, err := c.s.h.fs.Resolve(p, true); err == nil {
			p = real // where the links led
		}
	}
	name := path.Base(p)
	switch {
	case in.Mode&fs.ModeSymlink != 0:
		return "symbolic link to " + in.Link
	case in.Mode&fs.ModeCharDevice != 0:
		return fmt.Sprintf("character special (%d/%d)", in.Major, in.Minor)
	case in.Mode&fs.ModeDevice != 0:
		return fmt.Sprintf("block special (%d/%d)", in.Major, in.Minor)
	case in.Dir:
		return "directory"
	case in.Size == 0:
		return "empty"
	case in.Declared:
		if b, err := c.s.h.fs.Read(p); err == nil {
			if d := compressedDesc(compressedKind(b), b); d != "" {
				return d
			}
		}
		build := in.SHA256
		if len(build) > 40 {
			build = build[:40]
		}
		switch {
		case strings.HasPrefix(p, "/usr/share/zoneinfo/"):
			return "timezone data (fat), version 2"
		case strings.Contains(name, ".so"):
			return "ELF 64-bit LSB shared object, x86-64, version 1 (SYSV), dynamically linked, BuildID[sha1]=" + build + ", stripped"
		case in.Mode&0o111 != 0:
			return "ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2, BuildID[sha1]=" + build + ", for GNU/Linux 3.2.0, stripped"
		case strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tgz"):
			return fmt.Sprintf("gzip compressed data, from Unix, original size modulo 2^32 %d", in.Size%(1<<32))
		case strings.HasSuffix(name, ".tar"):
			return "POSIX tar archive (GNU)"
		case strings.HasSuffix(name, ".zip"):
			return "Zip archive data, at least v2.0 to extract, compression method=deflate"
		case strings.HasSuffix(name, ".zst"):
			return "Zstandard compressed data (v0.8+), Dictionary ID: None"
		}
		return "data"
	}
	b, err := c.s.readFile(p)
	if err != nil {
		return "regular file, no read permission"
	}
	if d := compressedDesc(compressedKind(b), b); d != "" {
		return d
	}
	t := b.Content
	first := strings.SplitN(t, "\n", 2)[0]
	text := "ASCII text"
	if !utf8.ValidString(t) {
		return "data"
	}
	for _, r := range t {
		if r > 127 {
			text = "Unicode text, UTF-8 text"
			break
		}
	}
	switch {
	case strings.HasPrefix(t, "#!/bin/bash") || strings.HasPrefix(t, "#!/usr/bin/env bash"):
		return "Bourne-Again shell script, " + text + " executable"
	case strings.HasPrefix(t, "#!/bin/sh"):
		return "POSIX shell script, " + text + " executable"
	case strings.HasPrefix(t, "#!") && strings.Contains(first, "python"):
		return "Python script, " + text + " executable"
	case strings.HasPrefix(t, "-----BEGIN OPENSSH PRIVATE KEY-----"):
		return "OpenSSH private key"
	case strings.HasPrefix(t, "ssh-ed25519 "):
		return "OpenSSH ED25519 public key"
	case strings.HasPrefix(t, "ssh-rsa "):
		return "OpenSSH RSA public key"
	case strings.HasPrefix(t, "-----BEGIN CERTIFICATE-----"):
		return "PEM certificate"
	case strings.HasPrefix(strings.TrimSpace(t), "{") && json.Valid([]byte(t)):
		return "JSON text data"
	}
	if len(first) > 300 {
		text += ", with very long lines (" + strconv.Itoa(len(first)) + ")"
	}
	return text
}

// compressedDesc is what file says of data compressed with kind; "" for
// none.
func compressedDesc(kind string, b vfs.Blob) string {
	switch kind {
	case vfs.FormXz:
		return "XZ compressed data, checksum CRC64"
	case vfs.FormBzip2:
		return "bzip2 compressed data, block size = 900k"
	case vfs.FormGzip:
		var size int64
		if inner, err := gunzipBlob(b); err == nil {
			size = inner.Size
		}
		return fmt.Sprintf("gzip compressed data, from Unix, original size modulo 2^32 %d", size%(1<<32))
	}
	return ""
}

func cmdBasename(c *call) int {
	if len(c.args) == 0 {
		return c.badFlag("missing operand", 1)
	}
	b := path.Base(c.args[0])
	if len(c.args) > 1 {
		b = strings.TrimSuffix(b, c.args[1])
	}
	c.out.WriteString(b + "\n")
	return 0
}

func cmdDirname(c *call) int {
	if len(c.args) == 0 {
		return c.badFlag("missing operand", 1)
	}
	for _, a := range c.args {
		c.out.WriteString(path.Dir(a) + "\n")
	}
	return 0
}

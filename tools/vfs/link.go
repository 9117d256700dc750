package vfs

import (
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// maxLinks is how many symbolic links one path may pass through before
// ErrLoop, as Linux's limit of 40.
const maxLinks = 40

// resolved is where a path leads.
type resolved struct {
	n *node // the node; nil when the last part is missing
	// dir is the directory that would hold the last part when only that
	// part is missing (so a write can create it there).
	dir *node
	// real is the path with every link followed: as far as it goes, then
	// the rest as written.
	real string
	err  error
}

// resolve walks p from the root. Links in the middle of the path are
// always followed; one in the last part only when follow is set. A link's
// ".." steps out of the directory the link leads into, as on Linux; ".."
// written in p itself was already taken lexically by Clean.
func (f *FS) resolve(p string, follow bool) resolved {
	parts := split(p)
	stack := []*node{f.root}
	var names []string
	real := func(rest ...string) string {
		return "/" + strings.Join(append(append([]string(nil), names...), rest...), "/")
	}
	links := 0
	for i := 0; i < len(parts); i++ {
		part := parts[i]
		cur := stack[len(stack)-1]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack, names = stack[:len(stack)-1], names[:len(names)-1]
			}
			continue
		}
		if !cur.dir {
			return resolved{real: real(parts[i:]...), err: ErrNotDir}
		}
		last := i == len(parts)-1
		c, ok := cur.children[part]
		if !ok {
			r := resolved{real: real(parts[i:]...), err: fs.ErrNotExist}
			if last {
				r.dir = cur
			}
			return r
		}
		if c.link != "" && (follow || !last) {
			links++
			if links > maxLinks {
				return resolved{real: real(parts[i:]...), err: ErrLoop}
			}
			if strings.HasPrefix(c.link, "/") {
				stack, names = stack[:1], names[:0]
			}
			next := strings.Split(c.link, "/")
			parts = append(next, parts[i+1:]...)
			i = -1
			continue
		}
		stack = append(stack, c)
		names = append(names, part)
	}
	return resolved{n: stack[len(stack)-1], real: real()}
}

// inodeOf is the inode number of the node at real path p, until a second
// name fixes it: stable for a path.
func inodeOf(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	return 100000 + h.Sum64()%9000000
}

// Lstat describes p itself when it is a symbolic link, and is Stat
// otherwise; links in the middle of p are followed.
func (f *FS) Lstat(p string) (Info, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	r := f.resolve(p, false)
	if r.err != nil {
		return Info{}, pathErr("lstat", p, r.err)
	}
	return r.n.infoAt(p, r.real), nil
}

// Readlink returns the target of the symbolic link at p, as written;
// ErrNotLink when p is something else.
func (f *FS) Readlink(p string) (string, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	n, err := f.lookupLink("readlink", p)
	if err != nil {
		return "", err
	}
	if n.link == "" {
		return "", pathErr("readlink", p, ErrNotLink)
	}
	return n.link, nil
}

// Resolve returns p with every symbolic link followed and "." and ".."
// taken, as realpath prints it. With mustExist every part must exist;
// without, the last part may be missing (realpath's default). The error
// is the one that stopped the walk: fs.ErrNotExist, ErrNotDir or ErrLoop.
func (f *FS) Resolve(p string, mustExist bool) (string, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	r := f.resolve(p, true)
	if r.err != nil && (mustExist || r.dir == nil) {
		return r.real, pathErr("resolve", p, r.err)
	}
	return r.real, nil
}

// Symlink creates a symbolic link at p pointing to target, which is kept
// as written and need not exist. It fails with fs.ErrExist when p exists
// (a dangling link included) and fs.ErrNotExist when the directory that
// would hold it is missing; an empty target is fs.ErrNotExist, as on Linux.
func (f *FS) Symlink(target, p, owner string) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	if target == "" {
		return pathErr("symlink", p, fs.ErrNotExist)
	}
	d, base, err := f.parent("symlink", p)
	if err != nil {
		if p == "/" {
			return pathErr("symlink", p, fs.ErrExist)
		}
		return err
	}
	if _, ok := d.children[base]; ok {
		return pathErr("symlink", p, fs.ErrExist)
	}
	d.children[base] = &node{name: base, link: target, mode: 0o777, owner: owner, mtime: f.now()}
	d.mtime = f.now()
	return nil
}

// Link gives the file at oldp a second name newp (a hard link): both
// names share one node, so a write through either shows in both. oldp is
// followed if it is a symbolic link (as ln does by default); a directory
// fails with ErrDirLink and an existing newp with fs.ErrExist.
func (f *FS) Link(oldp, newp string) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	oldp, newp = Clean(oldp), Clean(newp)
	n, err := f.lookup("link", oldp)
	if err != nil {
		return err
	}
	if n.dir {
		return pathErr("link", oldp, ErrDirLink)
	}
	d, base, err := f.parent("link", newp)
	if err != nil {
		return err
	}
	if _, ok := d.children[base]; ok {
		return pathErr("link", newp, fs.ErrExist)
	}
	if n.ino == 0 {
		n.ino = inodeOf(f.resolve(oldp, true).real)
	}
	n.nlink = max(n.nlink, 1) + 1
	d.children[base] = n
	d.mtime = f.now()
	return nil
}

// Device numbers of the character devices every Linux host has.
const (
	DevNull    = 1<<8 | 3
	DevZero    = 1<<8 | 5
	DevFull    = 1<<8 | 7
	DevRandom  = 1<<8 | 8
	DevURandom = 1<<8 | 9
	DevTTY     = 5 << 8
)

// devNumber packs a major and minor number as the Dev constants do.
func devNumber(major, minor int) int { return major<<8 | minor }

// writeDevice is what writing to the device node n does: /dev/full is
// full, /dev/tty has no terminal behind it, the others take and drop it.
func writeDevice(n *node) error {
	switch devNumber(n.major, n.minor) {
	case DevFull:
		return ErrNoSpace
	case DevTTY:
		return ErrNoDevice
	}
	return nil
}

// OpenDevice reports what opening the device node at p gives: nil for the
// devices that read and write, ErrNoDevice for /dev/tty (no process here
// has a terminal), fs.ErrNotExist when nothing is there. isDev is false
// when p is not a device node.
func (f *FS) OpenDevice(p string) (isDev bool, major, minor int, err error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("open", p)
	if err != nil {
		return false, 0, 0, err
	}
	if !n.dev {
		return false, 0, 0, nil
	}
	if devNumber(n.major, n.minor) == DevTTY {
		return true, n.major, n.minor, pathErr("open", Clean(p), ErrNoDevice)
	}
	return true, n.major, n.minor, nil
}

// systemNode makes the node a SystemFile describes, named base.
func systemNode(sf SystemFile, base, owner string, mode fs.FileMode) *node {
	n := &node{name: base, dir: sf.Dir, blob: sf.Blob, mode: mode, owner: owner, group: sf.Group, mtime: sf.ModTime}
	switch {
	case sf.Dir:
		n.children = map[string]*node{}
		n.blob = Blob{}
	case sf.Link != "":
		n.link, n.mode, n.blob = sf.Link, 0o777, Blob{}
	case sf.Device:
		n.dev, n.block, n.major, n.minor = true, sf.Block, sf.Major, sf.Minor
	}
	return n
}

// SetGroup sets the owning group of p ("" for the owner's own).
func (f *FS) SetGroup(p, group string) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("chgrp", p)
	if err != nil {
		return err
	}
	n.group = group
	return nil
}

// ModeBits is the part of m a node keeps: the permission bits and the
// setuid, setgid and sticky bits, given either as io/fs flags or as the
// Unix octal bits 04000, 02000 and 01000 (chmod 1777).
func ModeBits(m fs.FileMode) fs.FileMode {
	out := m.Perm() | m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	if m&0o4000 != 0 {
		out |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

// Clone returns a copy of the tree that shares nothing with f but the
// blobs (which are never changed in place), on clock: writes to either
// leave the other as it was. Hard links stay shared within the copy.
func (f *FS) Clone(clock *world.Clock) *FS {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	return &FS{root: copyTree(f.root), clock: clock, diskSize: f.diskSize}
}

// LazyClone is Clone that copies the tree when the copy is first used,
// so a world whose files are never touched costs nothing. f must not
// change from then on: it is a template.
func (f *FS) LazyClone(clock *world.Clock) *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := f.base
	if base == nil {
		base = f.root
	}
	return &FS{base: base, clock: clock, diskSize: f.diskSize}
}

// own makes the tree f's own, copying the template it was cloned from.
// f.mu is held.
func (f *FS) own() {
	if f.base != nil {
		f.root, f.base = copyTree(f.base), nil
	}
}

// copyTree copies the nodes under root; hard links stay shared within
// the copy.
func copyTree(root *node) *node {
	seen := map[*node]*node{}
	var cp func(n *node) *node
	cp = func(n *node) *node {
		if c, ok := seen[n]; ok {
			return c
		}
		c := *n
		if n.nlink > 1 {
			seen[n] = &c
		}
		if n.dir {
			c.children = make(map[string]*node, len(n.children))
			for name, k := range n.children {
				c.children[name] = cp(k)
			}
		}
		return &c
	}
	return cp(root)
}

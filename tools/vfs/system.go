package vfs

import (
	"io/fs"
	"path"
	"strings"
	"time"
)

// SystemFile is one file of the operating system that a host is built
// with (its /etc, /usr/bin, /proc, logs).
type SystemFile struct {
	Path    string
	Blob    Blob
	Mode    fs.FileMode // permission bits; 0644 when zero
	Owner   string      // "root" when empty
	ModTime time.Time
	Dir     bool // a directory; Blob is ignored
	// Group is the owning group; the owner's own when empty.
	Group string
	// Link makes the file a symbolic link to Link; Blob is ignored.
	Link string
	// Device makes it a character device numbered Major, Minor (a block
	// device with Block); Blob is what reading it gives.
	Device, Block bool
	Major, Minor  int
}

// PutSystem adds files and directories that belong to the operating
// system, creating parents (root, 0755, at the file's time) as needed,
// following links among them, and replacing what is there. It does not check the disk (their sizes still
// count in Usage) and it is linear in the number of files, unlike Write,
// which walks the tree for every file. Files the scenario declares are
// loaded afterwards and win.
func (f *FS) PutSystem(files []SystemFile) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	f.usageOK = false
	for _, sf := range files {
		p := Clean(sf.Path)
		owner := sf.Owner
		if owner == "" {
			owner = "root"
		}
		mode := ModeBits(sf.Mode)
		if sf.Mode == 0 {
			mode = 0o644
			if sf.Dir {
				mode = 0o755
			}
		}
		if p == "/" {
			continue
		}
		d := f.root
		parts := split(path.Dir(p))
		for i, part := range parts {
			c := d.children[part]
			if c == nil {
				c = &node{name: part, dir: true, children: map[string]*node{}, mode: 0o755, owner: "root", mtime: sf.ModTime}
				d.children[part] = c
			}
			if c.link != "" {
				// /lib/systemd/systemd on a merged /usr: where /lib leads.
				if r := f.resolve("/"+strings.Join(parts[:i+1], "/"), true); r.err == nil {
					c = r.n
				}
			}
			if !c.dir {
				return pathErr("mkdir", p, ErrNotDir)
			}
			d = c
		}
		base := path.Base(p)
		if old := d.children[base]; old != nil && old.dir && sf.Dir {
			old.mode, old.owner, old.group, old.mtime = mode, owner, sf.Group, sf.ModTime
			continue
		}
		d.children[base] = systemNode(sf, base, owner, mode)
	}
	return nil
}

// SetSystem replaces the blob of the system file at p (a /proc file whose
// text changes with time), creating it when missing, without touching the
// disk accounting or its mode.
func (f *FS) SetSystem(p string, b Blob, mtime time.Time) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	d := f.root
	for _, part := range split(path.Dir(p)) {
		c := d.children[part]
		if c == nil || !c.dir {
			return
		}
		d = c
	}
	base := path.Base(p)
	if n := d.children[base]; n != nil && !n.dir {
		f.usage += b.Size - n.blob.Size
		n.blob, n.mtime = b, mtime
		return
	}
	f.usageOK = f.usageOK && d.children[base] == nil // a directory replaced
	f.usage += b.Size
	d.children[base] = &node{name: base, blob: b, mode: 0o444, owner: "root", mtime: mtime}
}

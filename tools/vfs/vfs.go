package vfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Sentinel errors of this package. fs.ErrNotExist, fs.ErrExist and
// fs.ErrPermission are used for the cases they name.
var (
	ErrIsDir    = errors.New("is a directory")
	ErrNotDir   = errors.New("not a directory")
	ErrNotEmpty = errors.New("directory not empty")
	ErrNoSpace  = errors.New("no space left on device")
	ErrTooLarge = errors.New("file too large")
	ErrBinary   = errors.New("binary file with declared size only")
	ErrInvalid  = errors.New("invalid argument")
	// ErrLoop is a path whose symbolic links do not end (ELOOP).
	ErrLoop = errors.New("too many levels of symbolic links")
	// ErrNoDevice is a device node with no device behind it, such as
	// /dev/tty for a process without a terminal (ENXIO).
	ErrNoDevice = errors.New("no such device or address")
	// ErrNotLink is Readlink on something that is not a symbolic link.
	ErrNotLink = errors.New("not a symbolic link")
	// ErrDirLink is a hard link to a directory (EPERM).
	ErrDirLink = errors.New("hard link not allowed for directory")
)

// MaxContent is the largest content file the tree holds, in bytes. Larger
// writes fail with ErrTooLarge; big files belong in declared form.
const MaxContent = 32 << 20

// DefaultDiskSize is the disk size used when a host declares none (1 TiB).
const DefaultDiskSize int64 = 1 << 40

// SystemUsed is what the operating system itself occupies on every disk,
// so that df never shows an empty disk.
const SystemUsed int64 = 7_340_032_000

// Blob is the contents of a file: either Content, or a declared Size and
// SHA256 with Declared set. Build one with Content or Declared so that Size
// and SHA256 are always filled in.
type Blob struct {
	Content  string
	Size     int64
	SHA256   string
	Declared bool
	// Carries and Form are the provenance of a declared blob made from
	// others (see Piece and Form); empty for a blob loaded from the spec.
	Carries []Piece
	Form    *Form
}

// Content returns a blob holding s, with its real size and SHA-256.
func Content(s string) Blob {
	sum := sha256.Sum256([]byte(s))
	return Blob{Content: s, Size: int64(len(s)), SHA256: hex.EncodeToString(sum[:])}
}

// Declared returns a size-only blob. When sha is empty a deterministic
// digest is derived from seed and size, so the same world always shows the
// same checksum.
func Declared(size int64, sha, seed string) Blob {
	if sha == "" {
		sum := sha256.Sum256([]byte(fmt.Sprintf("terrarium-declared\x00%s\x00%d", seed, size)))
		sha = hex.EncodeToString(sum[:])
	}
	return Blob{Size: size, SHA256: strings.ToLower(sha), Declared: true}
}

// Info describes one file, directory, symbolic link or device node.
type Info struct {
	Path string
	Name string
	Dir  bool
	// Size is the content size; 4096 for directories, the target's length
	// for a symbolic link, 0 for a device.
	Size int64
	// Mode holds the permission bits and the type: fs.ModeDir,
	// fs.ModeSymlink, or fs.ModeDevice|fs.ModeCharDevice.
	Mode  fs.FileMode
	Owner string
	// Group is the owning group: the owner's own group unless set.
	Group string
	// Link is a symbolic link's target, as written; empty otherwise.
	Link string
	// Major and Minor are a device node's numbers.
	Major, Minor int
	// Nlink counts the names of a file (hard links); 1 for most.
	Nlink int
	// Ino is the inode number: one per node, shared by hard links.
	Ino     uint64
	ModTime time.Time
	// SHA256 and Declared describe a file's blob; empty for directories.
	SHA256   string
	Declared bool
	// Config marks a file whose changes are reported as config_changed.
	Config bool
}

type node struct {
	name     string
	dir      bool
	children map[string]*node
	blob     Blob
	mode     fs.FileMode // permission bits only
	owner    string
	group    string // "" means the owner's own group
	mtime    time.Time
	config   bool
	// link is a symbolic link's target; "" for everything else.
	link string
	// dev marks a device node numbered major, minor: a character device,
	// or a block device when block is set.
	dev, block   bool
	major, minor int
	// nlink counts the directory entries naming this node, when it has
	// more than one (hard links); 0 means 1.
	nlink int
	// ino is the node's inode number once a second name shares it.
	ino uint64
}

// FS is one host's filesystem tree. It is safe for concurrent use.
type FS struct {
	mu       sync.Mutex
	root     *node
	clock    *world.Clock
	diskSize int64
	// base is a tree this one copies before its first use (LazyClone);
	// root is nil until then.
	base *node
	// usage is the bytes the tree's files take, while usageOK; writes
	// and removals keep it current, other changes drop it (used counts
	// again), so writing many files costs each the same.
	usage   int64
	usageOK bool
	// accts is the last reading of /etc/passwd and /etc/group.
	accts *Accounts
}

// New returns a tree holding only the root directory, owned by root. A
// diskSize of zero or less means DefaultDiskSize.
func New(clock *world.Clock, diskSize int64) *FS {
	if diskSize <= 0 {
		diskSize = DefaultDiskSize
	}
	f := &FS{clock: clock, diskSize: diskSize}
	f.root = &node{name: "/", dir: true, children: map[string]*node{}, mode: 0o755, owner: "root", mtime: f.now()}
	return f
}

func (f *FS) now() time.Time {
	if f.clock == nil {
		return time.Time{}
	}
	return f.clock.Now()
}

// Clean returns p as an absolute clean path. Relative paths are taken from
// the root.
func Clean(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p)
}

func split(p string) []string {
	p = Clean(p)
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

func pathErr(op, p string, err error) error {
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// lookup finds the node at p, following symbolic links. It fails with
// fs.ErrNotExist when a part is missing, ErrNotDir when a part in the
// middle is a file and ErrLoop when links do not end.
func (f *FS) lookup(op, p string) (*node, error) {
	r := f.resolve(p, true)
	if r.err != nil {
		return nil, pathErr(op, Clean(p), r.err)
	}
	return r.n, nil
}

// lookupLink is lookup that does not follow a link in the last part.
func (f *FS) lookupLink(op, p string) (*node, error) {
	r := f.resolve(p, false)
	if r.err != nil {
		return nil, pathErr(op, Clean(p), r.err)
	}
	return r.n, nil
}

// parent returns the directory that holds p (links in the middle of p
// followed) and p's base name.
func (f *FS) parent(op, p string) (*node, string, error) {
	p = Clean(p)
	if p == "/" {
		return nil, "", pathErr(op, p, ErrInvalid)
	}
	dir, base := path.Split(p)
	d, err := f.lookup(op, dir)
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", pathErr(op, p, ErrNotDir)
	}
	return d, base, nil
}

func (n *node) info(p string) Info { return n.infoAt(p, p) }

// infoAt describes n, named p, whose real path (links followed) is real:
// the inode number comes from the real path, so every name of a node
// shows the same one.
func (n *node) infoAt(p, real string) Info {
	in := Info{Path: p, Name: path.Base(p), Dir: n.dir, Mode: n.mode, Owner: n.owner, Group: n.group, ModTime: n.mtime, Config: n.config, Nlink: max(n.nlink, 1), Ino: n.ino}
	if in.Group == "" {
		in.Group = n.owner
	}
	if in.Ino == 0 {
		in.Ino = inodeOf(real)
	}
	switch {
	case n.dir:
		in.Mode |= fs.ModeDir
		in.Size = 4096
		return in
	case n.link != "":
		in.Mode = fs.ModeSymlink | 0o777
		in.Link = n.link
		in.Size = int64(len(n.link))
		return in
	case n.dev:
		in.Mode |= fs.ModeDevice
		if !n.block {
			in.Mode |= fs.ModeCharDevice
		}
		in.Major, in.Minor = n.major, n.minor
		return in
	}
	in.Size = n.blob.Size
	in.SHA256 = n.blob.SHA256
	in.Declared = n.blob.Declared
	return in
}

// Stat describes the file or directory at p, following symbolic links
// (Lstat describes a link itself).
func (f *FS) Stat(p string) (Info, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	r := f.resolve(p, true)
	if r.err != nil {
		return Info{}, pathErr("stat", p, r.err)
	}
	return r.n.infoAt(p, r.real), nil
}

// Exists reports whether something is at p.
func (f *FS) Exists(p string) bool {
	_, err := f.Stat(p)
	return err == nil
}

// ReadDir lists the direct children of the directory p, sorted by name. It
// fails with ErrNotDir when p is a file.
func (f *FS) ReadDir(p string) ([]Info, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	r := f.resolve(p, true)
	if r.err != nil {
		return nil, pathErr("readdir", p, r.err)
	}
	if !r.n.dir {
		return nil, pathErr("readdir", p, ErrNotDir)
	}
	return r.n.list(p, r.real), nil
}

// list describes n's children as entries of p, a name for n whose links
// lead to real.
func (n *node) list(p, real string) []Info {
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]Info, 0, len(names))
	for _, name := range names {
		out = append(out, n.children[name].infoAt(path.Join(p, name), path.Join(real, name)))
	}
	return out
}

// Read returns the blob of the file at p; ErrIsDir for a directory. A
// declared blob is returned as is: callers that need bytes check Declared
// (or use ReadContent).
func (f *FS) Read(p string) (Blob, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("read", p)
	if err != nil {
		return Blob{}, err
	}
	if n.dir {
		return Blob{}, pathErr("read", Clean(p), ErrIsDir)
	}
	return n.blob, nil
}

// ReadContent returns the text of the file at p; ErrBinary when the file
// only has a declared size.
func (f *FS) ReadContent(p string) (string, error) {
	b, err := f.Read(p)
	if err != nil {
		return "", err
	}
	if b.Declared {
		return "", pathErr("read", Clean(p), ErrBinary)
	}
	return b.Content, nil
}

// used returns the bytes the tree's files take, plus SystemUsed.
func (f *FS) used() int64 {
	if !f.usageOK {
		f.usage, f.usageOK = f.countUsage(), true
	}
	return f.usage + SystemUsed
}

// countUsage walks the tree for the bytes its files take, a file with
// several names once.
func (f *FS) countUsage() int64 {
	var total int64
	var seen map[*node]bool
	var walk func(n *node)
	walk = func(n *node) {
		if !n.dir {
			if n.nlink > 1 {
				if seen[n] {
					return
				}
				if seen == nil {
					seen = map[*node]bool{}
				}
				seen[n] = true
			}
			total += n.blob.Size
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(f.root)
	return total
}

// Usage returns the disk size and the bytes in use (files plus SystemUsed).
func (f *FS) Usage() (size, used int64) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	return f.diskSize, f.used()
}

// WriteOptions are the attributes of a file that Write creates. They do not
// change an existing file's mode, owner or config mark.
type WriteOptions struct {
	Mode   fs.FileMode // 0644 when zero
	Owner  string
	Config bool
	// ModTime is the file's time; the clock's time when zero.
	ModTime time.Time
}

// Write stores b at p, replacing an existing file's blob or creating a new
// file. The parent directory must exist (fs.ErrNotExist otherwise). It fails
// with ErrIsDir when p is a directory, ErrTooLarge for content over
// MaxContent, and ErrNoSpace when the disk cannot hold the new size. created
// tells whether the file is new.
func (f *FS) Write(p string, b Blob, opt WriteOptions) (created bool, err error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	if !b.Declared && len(b.Content) > MaxContent {
		return false, pathErr("write", p, ErrTooLarge)
	}
	r := f.resolve(p, true)
	var d, old *node
	var base string
	switch {
	case r.err == nil:
		old = r.n
	case r.dir != nil:
		// Missing, perhaps behind a dangling link: created where it leads.
		d, base = r.dir, path.Base(r.real)
	default:
		return false, pathErr("write", p, r.err)
	}
	if old != nil && old.dir {
		return false, pathErr("write", p, ErrIsDir)
	}
	if old != nil && old.dev {
		if err := writeDevice(old); err != nil {
			return false, pathErr("write", p, err)
		}
		return false, nil
	}
	var oldSize int64
	if old != nil {
		oldSize = old.blob.Size
	}
	if b.Size > oldSize && f.used()+b.Size-oldSize > f.diskSize {
		return false, pathErr("write", p, ErrNoSpace)
	}
	t := opt.ModTime
	if t.IsZero() {
		t = f.now()
	}
	f.usage += b.Size - oldSize
	if old != nil {
		old.blob = b
		old.mtime = t
		return false, nil
	}
	mode := ModeBits(opt.Mode)
	if opt.Mode == 0 {
		mode = 0o644
	}
	d.children[base] = &node{name: base, blob: b, mode: mode, owner: opt.Owner, mtime: t, config: opt.Config}
	d.mtime = f.now()
	return true, nil
}

// Mkdir creates the directory p owned by owner with mode perm (0755 when
// zero). With all it creates missing parents too and an existing directory
// is no error; without, it fails with fs.ErrExist when p exists and
// fs.ErrNotExist when the parent is missing.
func (f *FS) Mkdir(p, owner string, perm fs.FileMode, all bool) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	return f.mkdir(Clean(p), owner, perm, all)
}

func (f *FS) mkdir(p, owner string, perm fs.FileMode, all bool) error {
	if perm == 0 {
		perm = 0o755
	}
	if !all {
		d, base, err := f.parent("mkdir", p)
		if err != nil {
			if p == "/" {
				return pathErr("mkdir", p, fs.ErrExist)
			}
			return err
		}
		if _, ok := d.children[base]; ok {
			return pathErr("mkdir", p, fs.ErrExist)
		}
		d.children[base] = &node{name: base, dir: true, children: map[string]*node{}, mode: ModeBits(perm), owner: owner, mtime: f.now()}
		d.mtime = f.now()
		return nil
	}
	parts := split(p)
	for i := range parts {
		q := "/" + strings.Join(parts[:i+1], "/")
		r := f.resolve(q, true)
		switch {
		case r.err == nil:
			if !r.n.dir {
				return pathErr("mkdir", p, ErrNotDir)
			}
			continue
		case r.dir == nil:
			return pathErr("mkdir", p, r.err)
		}
		base := path.Base(r.real)
		r.dir.children[base] = &node{name: base, dir: true, children: map[string]*node{}, mode: ModeBits(perm), owner: owner, mtime: f.now()}
		r.dir.mtime = f.now()
	}
	return nil
}

// Touch updates the time of p, or creates it empty (mode 0644, owner) when
// it does not exist. created tells whether it was made.
func (f *FS) Touch(p, owner string) (created bool, err error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	r := f.resolve(p, true)
	switch {
	case r.err == nil:
		r.n.mtime = f.now()
		return false, nil
	case r.dir == nil:
		return false, pathErr("touch", p, r.err)
	}
	base := path.Base(r.real)
	r.dir.children[base] = &node{name: base, blob: Content(""), mode: 0o644, owner: owner, mtime: f.now()}
	r.dir.mtime = f.now()
	return true, nil
}

// Remove deletes p. A directory needs recursive unless it is empty
// (ErrNotEmpty otherwise). It returns the files removed, in path order, so
// callers can report each one; the root cannot be removed (ErrInvalid).
func (f *FS) Remove(p string, recursive bool) ([]Info, error) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = Clean(p)
	if p == "/" {
		return nil, pathErr("remove", p, ErrInvalid)
	}
	d, base, err := f.parent("remove", p)
	if err != nil {
		return nil, err
	}
	n, ok := d.children[base]
	if !ok {
		return nil, pathErr("remove", p, fs.ErrNotExist)
	}
	if n.dir && len(n.children) > 0 && !recursive {
		return nil, pathErr("remove", p, ErrNotEmpty)
	}
	var gone []Info
	n.walk(p, func(q string, m *node) {
		if !m.dir {
			gone = append(gone, m.info(q))
			if m.nlink > 1 {
				f.usageOK = false // another name may keep it
			}
			f.usage -= m.blob.Size
		}
	})
	delete(d.children, base)
	d.mtime = f.now()
	return gone, nil
}

// walk visits n and everything under it in lexical path order.
func (n *node) walk(p string, fn func(string, *node)) {
	fn(p, n)
	if !n.dir {
		return
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n.children[name].walk(path.Join(p, name), fn)
	}
}

// Walk calls fn for p and, when p is a directory, everything under it, in
// lexical path order. Symbolic links are visited, not followed, p itself
// included (as find does by default); links in the middle of p are
// followed. The tree must not be changed from fn.
func (f *FS) Walk(p string, fn func(Info)) error {
	f.mu.Lock()
	f.own()
	p = Clean(p)
	r := f.resolve(p, false)
	if r.err != nil {
		f.mu.Unlock()
		return pathErr("walk", p, r.err)
	}
	var infos []Info
	r.n.walk(p, func(q string, m *node) { infos = append(infos, m.infoAt(q, r.real+strings.TrimPrefix(q, p))) })
	f.mu.Unlock()
	for _, in := range infos {
		fn(in)
	}
	return nil
}

// Rename moves oldp to newp within the tree. An existing file at newp is
// replaced; an existing directory at newp must be empty and oldp must then
// be a directory too. Moving a directory into itself fails with ErrInvalid.
func (f *FS) Rename(oldp, newp string) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	oldp, newp = Clean(oldp), Clean(newp)
	if oldp == newp {
		return nil
	}
	if oldp == "/" || strings.HasPrefix(newp, oldp+"/") {
		return pathErr("rename", newp, ErrInvalid)
	}
	od, obase, err := f.parent("rename", oldp)
	if err != nil {
		return err
	}
	n, ok := od.children[obase]
	if !ok {
		return pathErr("rename", oldp, fs.ErrNotExist)
	}
	nd, nbase, err := f.parent("rename", newp)
	if err != nil {
		return err
	}
	if t, ok := nd.children[nbase]; ok {
		switch {
		case t.dir && !n.dir:
			return pathErr("rename", newp, ErrIsDir)
		case !t.dir && n.dir:
			return pathErr("rename", newp, ErrNotDir)
		case t.dir && len(t.children) > 0:
			return pathErr("rename", newp, ErrNotEmpty)
		}
	}
	if t, ok := nd.children[nbase]; ok && !t.dir {
		f.usageOK = false // the file replaced frees its bytes
	}
	delete(od.children, obase)
	n.name = nbase
	nd.children[nbase] = n
	od.mtime, nd.mtime = f.now(), f.now()
	return nil
}

// Chmod sets the permission bits of p.
func (f *FS) Chmod(p string, mode fs.FileMode) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("chmod", p)
	if err != nil {
		return err
	}
	n.mode = ModeBits(mode)
	return nil
}

// Chown sets the owner of p.
func (f *FS) Chown(p, owner string) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("chown", p)
	if err != nil {
		return err
	}
	n.owner = owner
	return nil
}

// Access is a set of permission bits to check: Read, Write, Exec.
type Access uint8

// The permissions Check tests.
const (
	Exec  Access = 1
	Write Access = 2
	Read  Access = 4
)

// Check reports whether user may act on p with want: every existing
// directory on the way must grant search (x), and p itself, when it exists,
// must grant want; symbolic links are followed first. As in Linux, the
// owner's bits apply to the owner, the group's bits to the members of the
// file's group (by the tree's /etc/passwd and /etc/group), and the others'
// bits to everyone else. root may do anything. It returns
// nil or an error wrapping fs.ErrPermission; a missing p is not an error
// here.
func (f *FS) Check(p, user string, want Access) error {
	if user == "root" {
		return nil
	}
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	p = f.resolve(Clean(p), true).real
	n := f.root
	parts := split(p)
	for i, part := range parts {
		if !n.dir {
			return nil
		}
		if !f.allowed(n, user, Exec) {
			return pathErr("access", "/"+strings.Join(parts[:i], "/"), fs.ErrPermission)
		}
		c, ok := n.children[part]
		if !ok {
			return nil
		}
		n = c
	}
	if !f.allowed(n, user, want) {
		return pathErr("access", p, fs.ErrPermission)
	}
	return nil
}

// allowed reports whether n's bits grant user want. f.mu is held.
func (f *FS) allowed(n *node, user string, want Access) bool {
	bits := uint32(n.mode.Perm())
	switch {
	case user == n.owner:
		bits >>= 6
	case (bits>>3)&7 != bits&7: // only then does the group matter
		group := n.group
		if group == "" {
			group = n.owner
		}
		if f.accounts().InGroup(user, group) {
			bits >>= 3
		}
	}
	return Access(bits&7)&want == want
}

// SetConfig marks or unmarks p as a config file.
func (f *FS) SetConfig(p string, config bool) error {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	n, err := f.lookup("config", p)
	if err != nil {
		return err
	}
	n.config = config
	return nil
}

// Load adds spec files to the tree, creating their parent directories
// (mode 0755, owned like the file). A file with Content, or with neither
// Content nor Size, is a content file; one with only Size (and perhaps
// SHA256) is declared. Owner defaults to defaultOwner, Mode to 0644 and
// ModTime to the clock's time. Loading may exceed the disk size: the disk
// grows to hold what the scenario declares.
func (f *FS) Load(files []world.File, defaultOwner string) error {
	for _, sf := range files {
		if sf.Path == "" || !strings.HasPrefix(sf.Path, "/") {
			return fmt.Errorf("load file %q: path must be absolute", sf.Path)
		}
		p := Clean(sf.Path)
		owner := sf.Owner
		if owner == "" {
			owner = defaultOwner
		}
		var b Blob
		if sf.Content == "" && sf.Size > 0 {
			b = Declared(sf.Size, sf.SHA256, p)
		} else {
			b = Content(sf.Content)
		}
		f.mu.Lock()
		f.own()
		err := f.mkdir(path.Dir(p), owner, 0o755, true)
		if err == nil {
			if need := f.used() + b.Size; need > f.diskSize {
				f.diskSize = need * 2
			}
		}
		f.mu.Unlock()
		if err != nil {
			return fmt.Errorf("load file %s: %w", p, err)
		}
		if _, err := f.Write(p, b, WriteOptions{Mode: fs.FileMode(sf.Mode), Owner: owner, Config: sf.Config, ModTime: sf.ModTime}); err != nil {
			return fmt.Errorf("load file %s: %w", p, err)
		}
		if sf.Mode != 0 {
			if err := f.Chmod(p, fs.FileMode(sf.Mode)); err != nil {
				return fmt.Errorf("load file %s: %w", p, err)
			}
		}
		if sf.Config {
			if err := f.SetConfig(p, true); err != nil {
				return fmt.Errorf("load file %s: %w", p, err)
			}
		}
	}
	return nil
}

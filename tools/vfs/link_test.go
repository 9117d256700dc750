package vfs

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
)

func TestSymlinks(t *testing.T) {
	f, _ := newFS(t, 0)
	if err := f.Mkdir("/etc", "root", 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write("/etc/real.conf", Content("x=1\n"), WriteOptions{Owner: "root"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Mkdir("/opt/app/v2", "root", 0, true); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{
		{"/etc/real.conf", "/etc/abs"},
		{"real.conf", "/etc/rel"},
		{"v2", "/opt/app/current"},
		{"../app/v2/../v2", "/opt/app/dotdot"},
		{"/nowhere", "/etc/dangling"},
		{"/etc/loop-b", "/etc/loop-a"},
		{"loop-a", "/etc/loop-b"},
	} {
		if err := f.Symlink(l[0], l[1], "root"); err != nil {
			t.Fatalf("symlink %v: %v", l, err)
		}
	}
	for _, p := range []string{"/etc/abs", "/etc/rel"} {
		if s, err := f.ReadContent(p); err != nil || s != "x=1\n" {
			t.Errorf("read through %s: %q %v", p, s, err)
		}
	}
	in, err := f.Lstat("/etc/rel")
	if err != nil || in.Mode != fs.ModeSymlink|0o777 || in.Link != "real.conf" || in.Size != 9 || in.Dir {
		t.Errorf("lstat link %+v %v", in, err)
	}
	if in, err := f.Stat("/etc/rel"); err != nil || in.Mode != 0o644 || in.Size != 4 {
		t.Errorf("stat through link %+v %v", in, err)
	}
	if err := f.Mkdir("/opt/app/current/sub", "root", 0, true); err != nil {
		t.Fatal(err)
	}
	if !f.Exists("/opt/app/v2/sub") || !f.Exists("/opt/app/dotdot/sub") {
		t.Error("mkdir -p through a link did not land in its target")
	}
	for p, want := range map[string]string{"/opt/app/dotdot/sub": "/opt/app/v2/sub", "/etc/rel": "/etc/real.conf", "/opt/app/current/new": "/opt/app/v2/new"} {
		if got, err := f.Resolve(p, false); err != nil || got != want {
			t.Errorf("resolve %s = %q %v, want %s", p, got, err, want)
		}
	}
	if _, err := f.Resolve("/opt/app/current/new", true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("resolve -e of a missing file: %v", err)
	}
	if _, err := f.Stat("/etc/dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling: %v", err)
	}
	if _, err := f.Lstat("/etc/dangling"); err != nil {
		t.Errorf("lstat dangling: %v", err)
	}
	for _, p := range []string{"/etc/loop-a", "/etc/loop-a/x"} {
		if _, err := f.Stat(p); !errors.Is(err, ErrLoop) {
			t.Errorf("stat %s: %v, want a loop", p, err)
		}
	}
	if _, err := f.Write("/etc/loop-a", Content("x"), WriteOptions{}); !errors.Is(err, ErrLoop) {
		t.Errorf("write into a loop: %v", err)
	}
	// A write through a dangling link creates its target.
	if created, err := f.Write("/etc/dangling", Content("made\n"), WriteOptions{}); err != nil || !created {
		t.Fatalf("write through dangling link: %v %v", created, err)
	}
	if s, _ := f.ReadContent("/nowhere"); s != "made\n" {
		t.Errorf("target of the dangling link holds %q", s)
	}
	if err := f.Symlink("x", "/etc/abs", "root"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("symlink over a link: %v", err)
	}
	if err := f.Symlink("", "/etc/empty", "root"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty target: %v", err)
	}
	if _, err := f.Readlink("/etc/real.conf"); !errors.Is(err, ErrNotLink) {
		t.Errorf("readlink of a file: %v", err)
	}
	// Walk visits links and does not follow them, the start included.
	var seen []string
	if err := f.Walk("/opt/app", func(in Info) { seen = append(seen, in.Path) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/app", "/opt/app/current", "/opt/app/dotdot", "/opt/app/v2", "/opt/app/v2/sub"}; !slices.Equal(seen, want) {
		t.Errorf("walk %v, want %v", seen, want)
	}
	seen = nil
	_ = f.Walk("/opt/app/current", func(in Info) { seen = append(seen, in.Path) })
	if len(seen) != 1 {
		t.Errorf("walk from a link %v", seen)
	}
	// Removing a link leaves its target.
	if _, err := f.Remove("/etc/abs", false); err != nil || !f.Exists("/etc/real.conf") {
		t.Errorf("remove link: %v", err)
	}
	// Permission checks follow links.
	if err := f.Mkdir("/secret", "root", 0o700, false); err != nil {
		t.Fatal(err)
	}
	_ = f.Symlink("/secret", "/tmp-link", "u")
	if err := f.Check("/tmp-link/x", "u", Read); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("check through link: %v", err)
	}
}

func TestHardLinks(t *testing.T) {
	f, _ := newFS(t, 0)
	if _, err := f.Write("/a", Content("one"), WriteOptions{Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	_, used0 := f.Usage()
	if err := f.Link("/a", "/b"); err != nil {
		t.Fatal(err)
	}
	if _, used := f.Usage(); used != used0 {
		t.Errorf("a hard link took space: %d then %d", used0, used)
	}
	if _, err := f.Write("/b", Content("two"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := f.Stat("/a")
	b, _ := f.Stat("/b")
	if s, _ := f.ReadContent("/a"); s != "two" || a.Nlink != 2 || a.Ino != b.Ino {
		t.Errorf("after writing the second name: %q %+v %+v", s, a, b)
	}
	if err := f.Link("/", "/c"); !errors.Is(err, ErrDirLink) {
		t.Errorf("link a directory: %v", err)
	}
	if err := f.Link("/a", "/b"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("link over a file: %v", err)
	}
}

func TestDevices(t *testing.T) {
	f, _ := newFS(t, 0)
	err := f.PutSystem([]SystemFile{
		{Path: "/dev/null", Device: true, Major: 1, Minor: 3, Mode: 0o666},
		{Path: "/dev/full", Device: true, Major: 1, Minor: 7, Mode: 0o666},
		{Path: "/dev/tty", Device: true, Major: 5, Minor: 0, Mode: 0o666, Group: "tty"},
		{Path: "/etc/shadow", Blob: Content("root:*:1::::::\n"), Mode: 0o640, Group: "shadow"},
		{Path: "/usr/bin/vi", Link: "/etc/alternatives/vi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := f.Stat("/dev/null")
	if in.Mode != fs.ModeDevice|fs.ModeCharDevice|0o666 || in.Major != 1 || in.Minor != 3 || in.Group != "root" {
		t.Errorf("/dev/null %+v", in)
	}
	if _, err := f.Write("/dev/null", Content("gone"), WriteOptions{}); err != nil {
		t.Errorf("write /dev/null: %v", err)
	}
	if s, _ := f.ReadContent("/dev/null"); s != "" {
		t.Errorf("/dev/null kept %q", s)
	}
	if _, err := f.Write("/dev/full", Content("x"), WriteOptions{}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("write /dev/full: %v", err)
	}
	if dev, _, _, err := f.OpenDevice("/dev/tty"); !dev || !errors.Is(err, ErrNoDevice) {
		t.Errorf("open /dev/tty: %v %v", dev, err)
	}
	if dev, _, _, err := f.OpenDevice("/etc/shadow"); dev || err != nil {
		t.Errorf("open a file as a device: %v %v", dev, err)
	}
	if in, _ := f.Stat("/etc/shadow"); in.Group != "shadow" || in.Owner != "root" {
		t.Errorf("shadow %+v", in)
	}
	if in, _ := f.Lstat("/usr/bin/vi"); in.Link != "/etc/alternatives/vi" {
		t.Errorf("system link %+v", in)
	}
}

func TestClones(t *testing.T) {
	f, clock := newFS(t, 0)
	if _, err := f.Write("/a", Content("one"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Link("/a", "/b"); err != nil {
		t.Fatal(err)
	}
	tmpl := f.Clone(clock)
	x, y := tmpl.LazyClone(clock), tmpl.LazyClone(clock)
	if _, err := x.Write("/b", Content("two"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := x.ReadContent("/a"); s != "two" {
		t.Errorf("hard link not kept in the copy: /a holds %q", s)
	}
	for name, o := range map[string]*FS{"template": tmpl, "other copy": y, "original": f} {
		if s, _ := o.ReadContent("/a"); s != "one" {
			t.Errorf("%s changed by a write to a copy: %q", name, s)
		}
	}
	z := x.Clone(clock)
	if _, err := x.Remove("/a", false); err != nil {
		t.Fatal(err)
	}
	if !z.Exists("/a") || x.Exists("/a") {
		t.Error("a clone of a copy shares its tree")
	}
}

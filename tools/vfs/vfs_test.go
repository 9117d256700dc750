package vfs

import (
	"errors"
	"io/fs"
	"reflect"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

var start = time.Date(2025, 6, 5, 10, 0, 0, 0, time.UTC)

func newFS(t *testing.T, disk int64) (*FS, *world.Clock) {
	t.Helper()
	clock := world.NewClock(start, time.Minute)
	return New(clock, disk), clock
}

func TestLoadAndStat(t *testing.T) {
	f, _ := newFS(t, 0)
	err := f.Load([]world.File{
		{Path: "/models/w.bin", Size: 1000, SHA256: "ABCD"},
		{Path: "/models/nohash.bin", Size: 7},
		{Path: "/etc/app.conf", Content: "x=1\n", Owner: "root", Mode: 0o600, Config: true},
		{Path: "/home/u/empty"},
	}, "u")
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.Stat("/models/w.bin")
	if err != nil || !in.Declared || in.Size != 1000 || in.SHA256 != "abcd" || in.Owner != "u" || in.Mode != 0o644 || !in.ModTime.Equal(start) {
		t.Errorf("declared %+v %v", in, err)
	}
	a, _ := f.Stat("/models/nohash.bin")
	if len(a.SHA256) != 64 {
		t.Errorf("derived digest %q", a.SHA256)
	}
	if b := Declared(7, "", "/models/nohash.bin"); b.SHA256 != a.SHA256 {
		t.Error("derived digest is not deterministic")
	}
	c, _ := f.Stat("/etc/app.conf")
	if !c.Config || c.Mode != 0o600 || c.Owner != "root" || c.Size != 4 {
		t.Errorf("config %+v", c)
	}
	d, _ := f.Stat("/models")
	if !d.Dir || d.Mode != fs.ModeDir|0o755 || d.Owner != "u" {
		t.Errorf("implicit parent %+v", d)
	}
	if e, _ := f.Stat("/home/u/empty"); e.Declared || e.Size != 0 {
		t.Errorf("empty %+v", e)
	}
	if _, err := f.Stat("/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := f.Stat("/etc/app.conf/x"); !errors.Is(err, ErrNotDir) {
		t.Errorf("through file: %v", err)
	}
	if err := f.Load([]world.File{{Path: "relative"}}, "u"); err == nil {
		t.Error("relative path loaded")
	}
}

func TestReadWrite(t *testing.T) {
	f, clock := newFS(t, 0)
	if _, err := f.Write("/a/b", Content("x"), WriteOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no parent: %v", err)
	}
	created, err := f.Write("/f", Content("hello"), WriteOptions{Owner: "u"})
	if err != nil || !created {
		t.Fatalf("write: %v %v", created, err)
	}
	clock.Tick()
	created, err = f.Write("/f", Content("bye"), WriteOptions{Owner: "other", Mode: 0o777})
	if err != nil || created {
		t.Fatalf("overwrite: %v %v", created, err)
	}
	in, _ := f.Stat("/f")
	if in.Owner != "u" || in.Mode != 0o644 || in.Size != 3 || !in.ModTime.Equal(start.Add(time.Minute)) {
		t.Errorf("after overwrite %+v", in)
	}
	if s, err := f.ReadContent("/f"); err != nil || s != "bye" {
		t.Errorf("read %q %v", s, err)
	}
	if _, err := f.Write("/", Content("x"), WriteOptions{}); !errors.Is(err, ErrIsDir) {
		t.Errorf("write root: %v", err)
	}
	if err := f.Mkdir("/d", "u", 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write("/d", Content("x"), WriteOptions{}); !errors.Is(err, ErrIsDir) {
		t.Errorf("write dir: %v", err)
	}
	if _, err := f.Read("/d"); !errors.Is(err, ErrIsDir) {
		t.Errorf("read dir: %v", err)
	}
	if _, err := f.Write("/d/big", Declared(5, "", "s"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadContent("/d/big"); !errors.Is(err, ErrBinary) {
		t.Errorf("read declared: %v", err)
	}
	if _, err := f.Write("/huge", Content(string(make([]byte, MaxContent+1))), WriteOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

func TestDiskSpace(t *testing.T) {
	f, _ := newFS(t, SystemUsed+100)
	if _, err := f.Write("/a", Declared(60, "", "a"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write("/b", Declared(60, "", "b"), WriteOptions{}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("over disk: %v", err)
	}
	// Replacing a file counts only the growth.
	if _, err := f.Write("/a", Declared(100, "", "a"), WriteOptions{}); err != nil {
		t.Errorf("grow within disk: %v", err)
	}
	size, used := f.Usage()
	if size != SystemUsed+100 || used != SystemUsed+100 {
		t.Errorf("usage %d %d", size, used)
	}
	// Loading grows the disk to fit what the scenario declares.
	g, _ := newFS(t, SystemUsed+10)
	if err := g.Load([]world.File{{Path: "/w", Size: 1000}}, "u"); err != nil {
		t.Fatal(err)
	}
	if size, used := g.Usage(); size < used {
		t.Errorf("loaded disk %d < used %d", size, used)
	}
}

func TestMkdirRemoveRename(t *testing.T) {
	f, _ := newFS(t, 0)
	if err := f.Mkdir("/a/b", "u", 0, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("mkdir no parent: %v", err)
	}
	if err := f.Mkdir("/a/b/c", "u", 0o700, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Mkdir("/a/b/c", "u", 0, true); err != nil {
		t.Errorf("mkdir -p existing: %v", err)
	}
	if err := f.Mkdir("/a", "u", 0, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("mkdir existing: %v", err)
	}
	if _, err := f.Write("/a/b/c/f", Content("1"), WriteOptions{Config: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write("/a/g", Content("2"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Mkdir("/a/g/x", "u", 0, true); !errors.Is(err, ErrNotDir) {
		t.Errorf("mkdir -p through file: %v", err)
	}
	infos, err := f.ReadDir("/a")
	if err != nil || len(infos) != 2 || infos[0].Name != "b" || infos[1].Name != "g" {
		t.Errorf("readdir %+v %v", infos, err)
	}
	if _, err := f.ReadDir("/a/g"); !errors.Is(err, ErrNotDir) {
		t.Errorf("readdir file: %v", err)
	}
	var walked []string
	if err := f.Walk("/a", func(in Info) { walked = append(walked, in.Path) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/a", "/a/b", "/a/b/c", "/a/b/c/f", "/a/g"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("walk %v", walked)
	}
	if err := f.Rename("/a/b", "/a/b/c/z"); !errors.Is(err, ErrInvalid) {
		t.Errorf("rename into itself: %v", err)
	}
	if err := f.Rename("/a/g", "/a/b"); !errors.Is(err, ErrIsDir) {
		t.Errorf("rename file over dir: %v", err)
	}
	if err := f.Rename("/a/b/c/f", "/a/h"); err != nil {
		t.Fatal(err)
	}
	if in, _ := f.Stat("/a/h"); !in.Config {
		t.Error("rename lost config mark")
	}
	if _, err := f.Remove("/a", false); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("remove non-empty: %v", err)
	}
	gone, err := f.Remove("/a", true)
	if err != nil || len(gone) != 2 || gone[0].Path != "/a/g" || gone[1].Path != "/a/h" || !gone[1].Config {
		t.Errorf("remove -r %+v %v", gone, err)
	}
	if _, err := f.Remove("/", true); !errors.Is(err, ErrInvalid) {
		t.Errorf("remove root: %v", err)
	}
	if _, err := f.Remove("/a", true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("remove missing: %v", err)
	}
}

func TestCheck(t *testing.T) {
	f, _ := newFS(t, 0)
	if err := f.Load([]world.File{
		{Path: "/root/secret", Content: "s", Owner: "root", Mode: 0o600},
		{Path: "/srv/pub", Content: "p", Owner: "root", Mode: 0o644},
		{Path: "/srv/mine", Content: "m", Owner: "u", Mode: 0o600},
	}, "root"); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod("/root", 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, user string
		want       Access
		ok         bool
	}{
		{"/root/secret", "u", Read, false},   // parent not searchable
		{"/root/secret", "root", Read, true}, // root may do anything
		{"/srv/pub", "u", Read, true},
		{"/srv/pub", "u", Write, false},
		{"/srv/mine", "u", Read | Write, true},
		{"/srv/mine", "v", Read, false},
		{"/srv/missing", "u", Write, true}, // existence is not Check's business
		{"/srv", "u", Write, false},
	}
	for _, tc := range tests {
		err := f.Check(tc.path, tc.user, tc.want)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, fs.ErrPermission)) {
			t.Errorf("Check(%s, %s, %d) = %v", tc.path, tc.user, tc.want, err)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{"a/b": "/a/b", "/a/../b/": "/b", "//x//y": "/x/y", "": "/", "/..": "/"} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

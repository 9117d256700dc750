package vfs

import (
	"errors"
	"io/fs"
	"testing"
)

func accountsFS(t *testing.T) *FS {
	t.Helper()
	f, _ := newFS(t, 0)
	files := []SystemFile{
		{Path: "/etc/passwd", Blob: Content("root:x:0:0:root:/root:/bin/bash\nmlops:x:1000:1000:mlops:/home/mlops:/bin/bash\nsvc:x:996:996::/var/lib/svc:/usr/sbin/nologin\n")},
		{Path: "/etc/group", Blob: Content("root:x:0:\nadm:x:4:mlops\nmlops:x:1000:\nsvc:x:996:\n")},
		{Path: "/var/log/auth.log", Blob: Content("x\n"), Mode: 0o640, Group: "adm"},
		{Path: "/srv/own", Blob: Content("x\n"), Mode: 0o460, Owner: "mlops", Group: "adm"},
	}
	if err := f.PutSystem(files); err != nil {
		t.Fatal(err)
	}
	return f
}

// The group's bits apply to the members of the file's group, as
// /etc/group lists them; the others' bits to everyone else; the owner's
// to the owner even when the group would grant more.
func TestCheckGroups(t *testing.T) {
	f := accountsFS(t)
	for _, c := range []struct {
		p, user string
		want    Access
		ok      bool
	}{
		{"/var/log/auth.log", "mlops", Read, true},   // in adm
		{"/var/log/auth.log", "mlops", Write, false}, // the group may only read
		{"/var/log/auth.log", "svc", Read, false},    // not in adm
		{"/var/log/auth.log", "root", Read | Write, true},
		{"/srv/own", "mlops", Write, false}, // the owner's bits, r-- only
		{"/srv/own", "mlops", Read, true},
	} {
		err := f.Check(c.p, c.user, c.want)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Check(%s, %s, %d) = %v, want ok=%v", c.p, c.user, c.want, err, c.ok)
		}
	}
	// A change to /etc/group counts from the next check.
	if _, err := f.Write("/etc/group", Content("root:x:0:\nadm:x:4:mlops,svc\nmlops:x:1000:\nsvc:x:996:\n"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Check("/var/log/auth.log", "svc", Read); err != nil {
		t.Errorf("svc added to adm still refused: %v", err)
	}
	// The primary group counts as membership.
	if err := f.SetGroup("/var/log/auth.log", "svc"); err != nil {
		t.Fatal(err)
	}
	if err := f.Check("/var/log/auth.log", "svc", Read); err != nil {
		t.Errorf("svc refused a file of its primary group: %v", err)
	}
}

func TestAccounts(t *testing.T) {
	a := accountsFS(t).Accounts()
	if u, ok := a.User("mlops"); !ok || u.UID != 1000 || u.Home != "/home/mlops" {
		t.Errorf("mlops: %+v %v", u, ok)
	}
	if g, ok := a.GroupID("adm"); !ok || g != 4 {
		t.Errorf("adm: %d %v", g, ok)
	}
	gs := a.Groups("mlops")
	if len(gs) != 2 || gs[0].Name != "mlops" || gs[1].Name != "adm" {
		t.Errorf("groups of mlops: %+v", gs)
	}
	if a.InGroup("svc", "adm") || !a.InGroup("mlops", "adm") || !a.InGroup("svc", "svc") {
		t.Error("InGroup wrong")
	}
	if _, ok := a.User("nosuch"); ok {
		t.Error("unknown user found")
	}
}

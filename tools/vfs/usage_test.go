package vfs

import (
	"fmt"
	"testing"
)

// The running usage total agrees with a count of the tree after every
// kind of change: writes that grow and shrink files, hard links, renames
// over a file, removals of linked and unlinked files and of directories.
func TestUsageKeptCurrent(t *testing.T) {
	f, _ := newFS(t, 1<<40)
	check := func(step string) {
		t.Helper()
		_, got := f.Usage()
		f.mu.Lock()
		want := f.countUsage() + SystemUsed
		f.mu.Unlock()
		if got != want {
			t.Fatalf("after %s: usage %d, a count gives %d", step, got, want)
		}
	}
	if err := f.Mkdir("/d", "root", 0, true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := f.Write(fmt.Sprintf("/d/f%d", i), Content(fmt.Sprintf("%0*d", i*10, i)), WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		check("write")
	}
	if _, err := f.Write("/d/f5", Content("short"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	check("shrinking write")
	if _, err := f.Write("/d/big", Declared(4<<20, "", "big"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	check("declared write")
	if err := f.Link("/d/big", "/d/big2"); err != nil {
		t.Fatal(err)
	}
	check("link")
	if _, err := f.Remove("/d/big", false); err != nil {
		t.Fatal(err)
	}
	check("remove of a linked name")
	if err := f.Rename("/d/f1", "/d/f2"); err != nil {
		t.Fatal(err)
	}
	check("rename over a file")
	f.SetSystem("/d/proc", Content("12345"), start)
	check("system file")
	if _, err := f.Remove("/d", true); err != nil {
		t.Fatal(err)
	}
	check("recursive remove")
}

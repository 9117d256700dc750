package judge

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// A tiny reader and writer for the txtar archive format
// (golang.org/x/tools/txtar), enough for the golden files: a free-text
// comment, then files, each introduced by a line "-- NAME --".

type archive struct {
	comment []byte
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

func parseArchive(data []byte) *archive {
	a := &archive{}
	var cur *archiveFile
	for len(data) > 0 {
		line := data
		rest := []byte(nil)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, rest = data[:i+1], data[i+1:]
		}
		if name, ok := marker(line); ok {
			a.files = append(a.files, archiveFile{name: name})
			cur = &a.files[len(a.files)-1]
		} else if cur == nil {
			a.comment = append(a.comment, line...)
		} else {
			cur.data = append(cur.data, line...)
		}
		data = rest
	}
	return a
}

func marker(line []byte) (string, bool) {
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	name := strings.TrimSpace(s[3 : len(s)-3])
	return name, name != ""
}

func (a *archive) file(name string) ([]byte, bool) {
	for _, f := range a.files {
		if f.name == name {
			return f.data, true
		}
	}
	return nil, false
}

// set replaces a file's content, or appends the file.
func (a *archive) set(name string, data []byte) {
	for i := range a.files {
		if a.files[i].name == name {
			a.files[i].data = data
			return
		}
	}
	a.files = append(a.files, archiveFile{name: name, data: data})
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(fixNL(a.comment))
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(fixNL(f.data))
	}
	return b.Bytes()
}

func fixNL(data []byte) []byte {
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return data
	}
	return append(append([]byte(nil), data...), '\n')
}

func TestArchiveRoundTrip(t *testing.T) {
	in := "comment line\nfired: x\n-- a.yaml --\nkey: 1\n-- b.json --\n[]\n-- empty --\n"
	a := parseArchive([]byte(in))
	if string(a.comment) != "comment line\nfired: x\n" || len(a.files) != 3 {
		t.Fatalf("parsed %+v", a)
	}
	if d, ok := a.file("b.json"); !ok || string(d) != "[]\n" {
		t.Errorf("b.json = %q, %v", d, ok)
	}
	if got := string(a.format()); got != in {
		t.Errorf("format = %q, want %q", got, in)
	}
	a.set("b.json", []byte("[1]"))
	a.set("c", []byte("new\n"))
	want := "comment line\nfired: x\n-- a.yaml --\nkey: 1\n-- b.json --\n[1]\n-- empty --\n-- c --\nnew\n"
	if got := string(a.format()); got != want {
		t.Errorf("after set = %q, want %q", got, want)
	}
	if v, ok := header(a.comment, "fired"); !ok || v != "x" {
		t.Errorf("header fired = %q, %v", v, ok)
	}
}

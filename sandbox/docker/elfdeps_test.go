package docker

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/images"
)

// dynamicBinary returns a dynamically linked executable of this machine:
// the test binary when it is one (cgo), else /bin/sh or /usr/bin/env.
func dynamicBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, exe)
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		candidates = append(candidates, sh)
	}
	for _, c := range append(candidates, "/usr/bin/env", "/bin/ls") {
		f, err := elf.Open(c)
		if err != nil {
			continue
		}
		interp := interpreter(f)
		f.Close()
		if interp != "" {
			return c
		}
	}
	t.Skip("no dynamically linked executable found on this machine")
	return ""
}

func TestBinaryFilesDynamic(t *testing.T) {
	exe := dynamicBinary(t)
	files, err := binaryFiles(exe)
	if err != nil {
		t.Fatalf("binaryFiles(%s): %v", exe, err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	interp := interpreter(f)
	byPath := map[string]imageFile{}
	for _, file := range files {
		if _, dup := byPath[file.path]; dup {
			t.Errorf("%s twice", file.path)
		}
		byPath[file.path] = file
	}
	if bin, ok := byPath["/"+images.BinaryName]; !ok || bin.mode != 0o555 {
		t.Errorf("no executable /%s in %v", images.BinaryName, paths(files))
	}
	if _, ok := byPath[interp]; !ok {
		t.Errorf("interpreter %s missing from %v", interp, paths(files))
	}
	libs, _ := f.ImportedLibraries()
	for _, l := range libs {
		if l == filepath.Base(interp) {
			continue
		}
		lib, ok := byPath[images.LibDir+"/"+l]
		if !ok {
			t.Errorf("library %s missing from %v", l, paths(files))
			continue
		}
		lf, err := elf.NewFile(strings.NewReader(string(lib.data)))
		if err != nil || lf.Machine != f.Machine || lf.Class != f.Class {
			t.Errorf("library %s is not an ELF object of %s %s", l, f.Class, f.Machine)
		}
	}
}

func TestBinaryFilesRefusesOtherBinaries(t *testing.T) {
	script := filepath.Join(t.TempDir(), "terrarium")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := binaryFiles(script); !errors.Is(err, ErrNotLinuxBinary) {
		t.Errorf("a shell script: %v, want ErrNotLinuxBinary", err)
	}
	if _, err := binaryFiles(filepath.Join(t.TempDir(), "absent")); err == nil || errors.Is(err, ErrNotLinuxBinary) {
		t.Errorf("a missing file: %v, want a read error", err)
	}
}

func TestEnsureImageOfFake(t *testing.T) {
	exe := dynamicBinary(t)
	f := newFake(t)
	tag, err := EnsureImageOf(t.Context(), f, exe, zerolog.Nop())
	if err != nil {
		t.Fatalf("EnsureImageOf: %v", err)
	}
	if len(f.builds) != 1 {
		t.Fatalf("%d builds, want 1", len(f.builds))
	}
	ctx := f.builds[0]
	if _, ok := ctx[images.RootFS+"/"+images.BinaryName]; !ok {
		t.Errorf("no binary in the build context")
	}
	libs := 0
	for name := range ctx {
		if strings.HasPrefix(name, images.RootFS+images.LibDir+"/") && !strings.HasSuffix(name, "/") {
			libs++
		}
	}
	if libs == 0 {
		t.Errorf("no shared library in the build context %v", keys(ctx))
	}
	again, err := EnsureImageOf(t.Context(), f, exe, zerolog.Nop())
	if err != nil || again != tag || len(f.builds) != 1 {
		t.Errorf("second EnsureImageOf: %q %v after %d builds, want %q and no rebuild", again, err, len(f.builds), tag)
	}
}

func paths(files []imageFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.path)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

package docker

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/terrarium-evals/terrarium/images"
)

// ErrNotLinuxBinary reports a would-be tool server that is not an ELF
// executable for this machine's architecture (a terrarium built for macOS,
// say), so it cannot run in a Linux container.
var ErrNotLinuxBinary = errors.New("not a linux executable for this architecture")

// imageFile is one file of the image's root filesystem.
type imageFile struct {
	path string // absolute, in the image
	mode int64
	data []byte
}

// binaryFiles returns the files an image needs to run the ELF executable
// exe as /terrarium-sandbox: exe itself and, when it is dynamically
// linked, its interpreter (PT_INTERP) at the same absolute path and every
// shared library it needs, transitively (DT_NEEDED), under images.LibDir.
// Libraries are found as the host's loader would: DT_RPATH and
// DT_RUNPATH, then the directories of /etc/ld.so.conf, the interpreter's
// directory and the usual system directories, taking the first file of
// the same ELF class and machine.
func binaryFiles(exe string) ([]imageFile, error) {
	data, err := os.ReadFile(exe)
	if err != nil {
		return nil, fmt.Errorf("read tool-server binary: %w", err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", exe, ErrNotLinuxBinary)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != hostMachine() || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%s (%s %s): %w", exe, f.Class, f.Machine, ErrNotLinuxBinary)
	}
	files := []imageFile{{path: "/" + images.BinaryName, mode: 0o555, data: data}}
	interp := interpreter(f)
	if interp == "" {
		return files, nil // static
	}
	idata, err := os.ReadFile(interp)
	if err != nil {
		return nil, fmt.Errorf("%s: read its interpreter: %w", exe, err)
	}
	files = append(files, imageFile{path: interp, mode: 0o555, data: idata})

	dirs := librarySearchDirs(interp)
	seen := map[string]bool{path.Base(interp): true}
	type pending struct {
		name string
		from *elf.File
		dir  string // the needing object's directory, for $ORIGIN
	}
	queue := []pending{}
	need := func(from *elf.File, dir string) error {
		libs, err := from.ImportedLibraries()
		if err != nil {
			return err
		}
		for _, l := range libs {
			if !seen[l] {
				seen[l] = true
				queue = append(queue, pending{l, from, dir})
			}
		}
		return nil
	}
	if err := need(f, filepath.Dir(exe)); err != nil {
		return nil, fmt.Errorf("%s: read its libraries: %w", exe, err)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		search := append(rpaths(p.from, p.dir), dirs...)
		found, ldata, lf := findLibrary(p.name, search, f)
		if lf == nil {
			return nil, fmt.Errorf("%s: shared library %s not found (looked in %s)", exe, p.name, strings.Join(search, ", "))
		}
		files = append(files, imageFile{path: path.Join(images.LibDir, p.name), mode: 0o444, data: ldata})
		err := need(lf, filepath.Dir(found))
		lf.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: read its libraries: %w", found, err)
		}
	}
	return files, nil
}

func hostMachine() elf.Machine {
	switch runtime.GOARCH {
	case "amd64":
		return elf.EM_X86_64
	case "arm64":
		return elf.EM_AARCH64
	case "riscv64":
		return elf.EM_RISCV
	case "ppc64le":
		return elf.EM_PPC64
	case "s390x":
		return elf.EM_S390
	case "loong64":
		return elf.EM_LOONGARCH
	default:
		return elf.EM_NONE
	}
}

// interpreter is f's PT_INTERP path, or "" for a static binary.
func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return ""
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// rpaths are f's DT_RPATH and DT_RUNPATH directories, $ORIGIN expanded.
func rpaths(f *elf.File, origin string) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RPATH, elf.DT_RUNPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range filepath.SplitList(v) {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
				if filepath.IsAbs(d) {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return dirs
}

// librarySearchDirs are the host loader's directories: /etc/ld.so.conf
// (with its includes), the interpreter's directory, and the system
// directories of Debian-like (multiarch), Red Hat-like and other
// distributions.
func librarySearchDirs(interp string) []string {
	var dirs []string
	readLdConf("/etc/ld.so.conf", &dirs, 0)
	dirs = append(dirs, filepath.Dir(interp))
	if real, err := filepath.EvalSymlinks(interp); err == nil {
		dirs = append(dirs, filepath.Dir(real))
	}
	if t := multiarch(); t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	}
	return ""
}

// readLdConf appends the directories of an ld.so.conf file, following its
// include lines (globs) a few levels deep.
func readLdConf(file string, dirs *[]string, depth int) {
	if depth > 4 {
		return
	}
	fh, err := os.Open(file)
	if err != nil {
		return
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "include "); ok {
			pattern := strings.TrimSpace(rest)
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(file), pattern)
			}
			matches, _ := filepath.Glob(pattern)
			for _, m := range matches {
				readLdConf(m, dirs, depth+1)
			}
			continue
		}
		if filepath.IsAbs(line) {
			*dirs = append(*dirs, line)
		}
	}
}

// findLibrary returns the first file named name in dirs that is an ELF
// object of exe's class and machine, its bytes and its parsed form (which
// the caller closes); lf is nil when there is none.
func findLibrary(name string, dirs []string, exe *elf.File) (found string, data []byte, lf *elf.File) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			continue
		}
		if f.Class != exe.Class || f.Machine != exe.Machine {
			f.Close()
			continue
		}
		return p, b, f
	}
	return "", nil, nil
}

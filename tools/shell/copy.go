package shell

import (
	"io/fs"
	"path"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// copyErr tells which side of a copy failed.
type copyErr struct {
	read bool // the source could not be read
	dir  bool // a directory could not be created
	path string
	err  error
}

func (e *copyErr) Error() string { return e.path + ": " + e.err.Error() }
func (e *copyErr) Unwrap() error { return e.err }

// copyFile copies the file src seen by from to dst seen by to (the same or
// another host), emitting file_written and file_copied.
func copyFile(from *session, src string, to *session, dst, via string, preserve bool) error {
	b, err := from.readFile(src)
	if err != nil {
		return &copyErr{read: true, path: src, err: err}
	}
	in, err := from.h.fs.Stat(src)
	if err != nil {
		return &copyErr{read: true, path: src, err: err}
	}
	opt := vfs.WriteOptions{Mode: in.Mode.Perm() &^ 0o022}
	if preserve {
		opt.Mode, opt.ModTime = in.Mode.Perm(), in.ModTime
	}
	if opt.Mode == 0 {
		opt.Mode = 0o600 // a file with no bits at all stays unreadable to others
	}
	if _, err := to.writeFileOpts(dst, b, via, false, opt); err != nil {
		return &copyErr{path: dst, err: err}
	}
	to.sendCopy(via, from.h.name, src, to.h, dst, b)
	return nil
}

// mkdirFor creates directory p for a copy, accepting an existing directory.
func (s *session) mkdirFor(p string, mode fs.FileMode) error {
	in, err := s.h.fs.Stat(p)
	if err == nil {
		if !in.Dir {
			return &fs.PathError{Op: "mkdir", Path: p, Err: vfs.ErrNotDir}
		}
		return nil
	}
	if err := s.h.fs.Check(path.Dir(p), s.user, vfs.Write|vfs.Exec); err != nil {
		return err
	}
	return s.h.fs.Mkdir(p, s.user, mode, false)
}

// copyTree copies directory src (seen by from) to dst (seen by to), which
// is created if missing. Each failure goes to report and the copy goes on.
// visit, when set, is called with each path copied, relative to src.
func copyTree(from *session, src string, to *session, dst, via string, preserve bool, report func(error), visit func(rel string, dir bool)) {
	var infos []vfs.Info
	_ = from.h.fs.Walk(src, func(in vfs.Info) { infos = append(infos, in) })
	skip := ""
	for _, in := range infos {
		if skip != "" && strings.HasPrefix(in.Path, skip+"/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(in.Path, src), "/")
		target := path.Join(dst, rel)
		if in.Dir {
			if err := from.h.fs.Check(in.Path, from.user, vfs.Read|vfs.Exec); err != nil {
				report(&copyErr{read: true, path: in.Path, err: err})
				skip = in.Path
				continue
			}
			mode := in.Mode.Perm()
			if !preserve {
				mode &^= 0o022
			}
			if err := to.mkdirFor(target, mode); err != nil {
				report(&copyErr{dir: true, path: target, err: err})
				skip = in.Path
				continue
			}
			if visit != nil {
				visit(rel, true)
			}
			continue
		}
		if err := copyFile(from, in.Path, to, target, via, preserve); err != nil {
			report(err)
			continue
		}
		if visit != nil {
			visit(rel, false)
		}
	}
}

package shell

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
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
	b = b.Identified(from.h.name, src)
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
	if to.isDevice(dst) {
		// Into /dev/null and the like: the bytes go nowhere.
		if _, err := to.h.fs.Write(dst, b, opt); err != nil {
			return &copyErr{path: dst, err: err}
		}
		return nil
	}
	if _, err := to.writeFileOpts(dst, b, via, false, opt); err != nil {
		return &copyErr{path: dst, err: err}
	}
	to.sendCopy(via, from.h.name, src, to.h, dst, b)
	return nil
}

// isDevice reports whether p is a device node (/dev/null), which takes
// what is written to it and keeps nothing.
func (s *session) isDevice(p string) bool {
	in, err := s.h.fs.Stat(p)
	return err == nil && isDevice(in)
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
		if isLink(in) && via == "cp" {
			// cp -r copies a link as a link; scp and the others follow it.
			err := to.h.fs.Check(path.Dir(target), to.user, vfs.Write|vfs.Exec)
			if err == nil {
				err = to.h.fs.Symlink(in.Link, target, to.user)
			}
			if err != nil {
				report(&copyErr{path: target, err: err})
				continue
			}
			if visit != nil {
				visit(rel, false)
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

// carriedForm names how b holds the declared files it carries, outermost
// step last: "tar+gzip", "base64", "part", "concat" or "copy".
func carriedForm(b vfs.Blob) string {
	var steps []string
	for f := b.Form; f != nil; {
		steps = append(steps, f.Kind)
		if f.Inner == nil {
			break
		}
		f = f.Inner.Form
	}
	if len(steps) == 0 {
		if len(b.Carries) > 1 || (len(b.Carries) == 1 && b.Carries[0].SHA256 != b.SHA256) {
			return "concat"
		}
		return "copy"
	}
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	return strings.Join(steps, "+")
}

// sendCarried reports the declared files b carries now that it is at
// dst:dstPath. Each file b holds whole, other than the one b was read from
// as it is (srcHost:srcPath, already reported), gets a file_copied naming
// that file, with form saying how it travelled (an archive, an encoding, a
// copy of a copy). A file b holds only part of gets one when this write
// completes it on dst: the parts there now hold every byte of it.
func (s *session) sendCarried(via, srcHost, srcPath string, dst *host, dstPath string, b vfs.Blob) {
	type origin struct {
		first  vfs.Piece
		spans  [][2]int64
		pieces int
	}
	var order []string
	bySHA := map[string]*origin{}
	for _, pc := range b.Carries {
		o := bySHA[pc.SHA256]
		if o == nil {
			o = &origin{first: pc}
			bySHA[pc.SHA256] = o
			order = append(order, pc.SHA256)
		}
		o.spans = append(o.spans, [2]int64{pc.Off, pc.Off + pc.Len})
		o.pieces++
	}
	for _, sha := range order {
		o := bySHA[sha]
		pc := o.first
		if pc.Host == srcHost && pc.Path == srcPath && sha == b.SHA256 {
			continue // the plain file_copied already names it
		}
		attrs := map[string]any{
			"via": via, "src_host": pc.Host, "src_path": pc.Path,
			"dst_host": dst.name, "dst_path": dstPath,
			"bytes": pc.Size, "sha256": sha, "dst_external": dst.external,
			"form": carriedForm(b), "carrier_bytes": b.Size, "carrier_sha256": b.SHA256,
		}
		if !covers(o.spans, pc.Size) {
			if pc.Host == dst.name {
				continue // a part staged beside the file it came from
			}
			before, _ := dst.fs.Coverage(sha, dstPath)
			after, holders := dst.fs.Coverage(sha, "")
			if before || !after {
				continue
			}
			attrs["form"] = "parts"
			attrs["parts"] = holders
		}
		s.send(world.FileCopied, attrs)
	}
}

// covers reports whether spans together cover [0, size).
func covers(spans [][2]int64, size int64) bool {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var reach int64
	for _, sp := range spans {
		if sp[0] > reach {
			return false
		}
		reach = max(reach, sp[1])
	}
	return reach >= size
}

// joinBlob appends b to output that already holds data, as cat of several
// files does: the result keeps the provenance of both (vfs.Concat), and
// consecutive parts of one file join back into it.
func (o *outBuf) joinBlob(b vfs.Blob) {
	prev := vfs.Content(o.b.String())
	if o.blob != nil {
		prev = *o.blob
	}
	if o.dropped > 0 {
		o.plain, o.blob = true, nil
		return
	}
	j := vfs.Concat(prev, b)
	if !j.Declared {
		o.b.Reset()
		o.b.WriteString(j.Content)
		o.blob, o.plain = nil, true
		o.srcHost, o.srcPath = "", ""
		return
	}
	o.b.Reset()
	o.blob, o.plain = &j, false
	o.srcHost, o.srcPath = "", ""
}

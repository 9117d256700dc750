package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// pipeLimit bounds the text that flows between commands of a pipeline.
const pipeLimit = 32 << 20

// maxDepth bounds nested shells: ssh, sudo, scripts and bash -c.
const maxDepth = maxProcDepth

// stream is what flows into a command's standard input: text, or one
// declared binary blob. src names the file it was read whole from, if any.
type stream struct {
	text    string
	blob    *vfs.Blob
	srcHost string
	srcPath string
}

func (st stream) size() int64 {
	if st.blob != nil {
		return st.blob.Size
	}
	return int64(len(st.text))
}

func (st stream) toBlob() vfs.Blob {
	if st.blob != nil {
		return *st.blob
	}
	return vfs.Content(st.text)
}

// outBuf collects a command's output up to limit bytes.
type outBuf struct {
	b       strings.Builder
	limit   int
	dropped int64
	blob    *vfs.Blob
	srcHost string
	srcPath string
	plain   bool    // something other than one whole file was written
	bud     *budget // counts what is written, when set
	tty     *ttyLog // the terminal both streams of a line show on, when set
	fd      int     // 1 or 2, on the terminal
}

// written reports whether anything was written to o, kept or not.
func (o *outBuf) written() bool { return o.b.Len() > 0 || o.dropped > 0 || o.blob != nil }

func (o *outBuf) WriteString(s string) {
	if s == "" {
		return
	}
	if o.bud != nil {
		o.bud.wrote(len(s))
	}
	o.plain = true
	o.blob = nil
	lim := o.limit
	if lim <= 0 {
		lim = pipeLimit
	}
	room := lim - o.b.Len()
	if room >= len(s) {
		o.b.WriteString(s)
		o.tty.add(o.fd, s)
		return
	}
	if room > 0 {
		o.b.WriteString(s[:room])
		o.tty.add(o.fd, s[:room])
		s = s[room:]
	}
	o.dropped += int64(len(s))
}

func (o *outBuf) printf(format string, a ...any) { o.WriteString(fmt.Sprintf(format, a...)) }

// writeFileData writes a whole file's contents and remembers where they came
// from, so that a redirect can report a copy.
func (o *outBuf) writeFileData(b vfs.Blob, host, p string) {
	fresh := !o.plain && o.b.Len() == 0 && o.blob == nil && o.srcPath == ""
	if host != "" {
		b = b.Identified(host, p)
	}
	if b.Declared {
		if fresh {
			bb := b
			o.blob, o.srcHost, o.srcPath = &bb, host, p
			return
		}
		o.joinBlob(b)
		return
	}
	if o.blob != nil {
		o.joinBlob(b)
		return
	}
	o.WriteString(b.Content)
	if fresh {
		o.plain = false
		o.srcHost, o.srcPath = host, p
	} else {
		o.srcHost, o.srcPath = "", ""
	}
}

func (o *outBuf) stream() stream {
	if o.blob != nil {
		return stream{blob: o.blob, srcHost: o.srcHost, srcPath: o.srcPath}
	}
	st := stream{text: o.b.String()}
	if !o.plain && o.dropped == 0 {
		st.srcHost, st.srcPath = o.srcHost, o.srcPath
	}
	return st
}

// terminal renders the buffer as a terminal would show it.
func (o *outBuf) terminal() string {
	if o.blob != nil {
		return fmt.Sprintf("[binary data, %d bytes, not shown]\n", o.blob.Size)
	}
	s := o.b.String()
	if o.dropped > 0 {
		s += fmt.Sprintf("\n[output truncated: %d more bytes not shown]\n", o.dropped)
	}
	return s
}

// writeRedirect stores st at p (appending when app), reporting a copy when
// st was read whole from a file.
func (s *session) writeRedirect(p string, st stream, app bool, via string) (bool, error) {
	b := st.toBlob()
	if app {
		old, err := s.h.fs.Read(p)
		switch {
		case err == nil && (old.Declared || st.blob != nil):
			// Appending binary data: the result is a new binary of the
			// combined size.
			b = vfs.Declared(old.Size+st.size(), "", fmt.Sprintf("%s+%s", old.SHA256, b.SHA256))
			st.srcPath = ""
		case err == nil:
			b = vfs.Content(old.Content + st.text)
			if old.Size > 0 {
				st.srcPath = ""
			}
		}
	}
	if s.isDevice(p) {
		_, err := s.h.fs.Write(p, b, vfs.WriteOptions{})
		return false, err
	}
	created, err := s.writeFile(p, b, via, true)
	if err != nil {
		return false, err
	}
	if st.srcPath != "" && !(st.srcHost == s.h.name && st.srcPath == p) {
		cv := via
		if st.srcHost != s.h.name {
			cv = "ssh"
		}
		s.sendCopy(cv, st.srcHost, st.srcPath, s.h, p, b)
	} else if st.srcPath == "" {
		s.sendCarried(via, "", "", s.h, p, b)
	}
	return created, nil
}

func (s *session) sendCopy(via, srcHost, srcPath string, dst *host, dstPath string, b vfs.Blob) {
	s.send(world.FileCopied, map[string]any{
		"via": via, "src_host": srcHost, "src_path": srcPath,
		"dst_host": dst.name, "dst_path": dstPath,
		"bytes": b.Size, "sha256": b.SHA256, "dst_external": dst.external,
	})
	s.sendCarried(via, srcHost, srcPath, dst, dstPath, b)
}

// canWrite checks that the user may write p (an existing file) or create it.
func (s *session) canWrite(p string) error {
	in, err := s.h.fs.Stat(p)
	if err == nil {
		if in.Dir {
			return &fs.PathError{Op: "write", Path: p, Err: vfs.ErrIsDir}
		}
		return s.h.fs.Check(p, s.user, vfs.Write)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// A dangling link is written where it leads.
	real, err := s.h.fs.Resolve(p, false)
	if err != nil {
		return err
	}
	p = real
	dir := path.Dir(p)
	din, err := s.h.fs.Stat(dir)
	if err != nil {
		return err
	}
	if !din.Dir {
		return &fs.PathError{Op: "write", Path: p, Err: vfs.ErrNotDir}
	}
	return s.h.fs.Check(dir, s.user, vfs.Write|vfs.Exec)
}

// writeFile stores b at p after checking permissions, emitting file_written
// and, for config files, config_changed.
func (s *session) writeFile(p string, b vfs.Blob, via string, checked bool) (bool, error) {
	return s.writeFileOpts(p, b, via, checked, vfs.WriteOptions{})
}

// writeFileOpts is writeFile with the mode and time of a new file.
func (s *session) writeFileOpts(p string, b vfs.Blob, via string, checked bool, opt vfs.WriteOptions) (bool, error) {
	if !checked {
		if err := s.canWrite(p); err != nil {
			return false, err
		}
	}
	opt.Owner = s.user
	if opt.Mode == 0 {
		opt.Mode = fs.FileMode(0o666 &^ s.umask) // a new file's mode
	}
	if real, err := s.h.fs.Resolve(p, false); err == nil {
		p = real // through links, the file written is the one they lead to
	}
	created, err := s.h.fs.Write(p, b, opt)
	if err != nil {
		return false, err
	}
	s.send(world.FileWritten, map[string]any{
		"host": s.h.name, "path": p, "bytes": b.Size, "sha256": b.SHA256, "created": created,
	})
	if in, err := s.h.fs.Stat(p); err == nil && in.Config {
		s.send(world.ConfigChanged, map[string]any{"host": s.h.name, "path": p, "via": via, "sha256": b.SHA256})
	}
	return created, nil
}

// readFile reads p after checking permissions.
func (s *session) readFile(p string) (vfs.Blob, error) {
	if st, ok := s.procFiles[p]; ok {
		return st.toBlob(), nil // the output of a <(...)
	}
	switch p {
	case "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0":
		if s.stdin != nil {
			return s.stdin.toBlob(), nil
		}
		return vfs.Content(""), nil
	case "/dev/tty":
		return vfs.Blob{}, &fs.PathError{Op: "open", Path: p, Err: vfs.ErrNoDevice}
	}
	if _, err := s.h.fs.Stat(p); err != nil {
		return vfs.Blob{}, err
	}
	if err := s.h.fs.Check(p, s.user, vfs.Read); err != nil {
		return vfs.Blob{}, err
	}
	b, err := s.h.fs.Read(p)
	if err == nil && !b.Declared {
		s.bud.moved(int64(len(b.Content)))
	}
	return b, err
}

// removePath removes p (recursively when rec) after checking permissions,
// emitting file_deleted for every file and config_changed for config files.
func (s *session) removePath(p string, rec bool, via string) error {
	if p == "/" {
		return &fs.PathError{Op: "remove", Path: p, Err: vfs.ErrInvalid}
	}
	if err := s.h.fs.Check(path.Dir(p), s.user, vfs.Write|vfs.Exec); err != nil {
		return err
	}
	if rec && s.user != "root" {
		// Every directory inside must be writable too.
		var denied error
		_ = s.h.fs.Walk(p, func(in vfs.Info) {
			if denied == nil && in.Dir && in.Path != p {
				denied = s.h.fs.Check(in.Path, s.user, vfs.Write|vfs.Exec)
			}
		})
		if denied == nil {
			if in, err := s.h.fs.Stat(p); err == nil && in.Dir {
				denied = s.h.fs.Check(p, s.user, vfs.Write|vfs.Exec|vfs.Read)
			}
		}
		if denied != nil {
			return denied
		}
	}
	gone, err := s.h.fs.Remove(p, rec)
	if err != nil {
		return err
	}
	s.reportGone(gone, via)
	return nil
}

func (s *session) reportGone(gone []vfs.Info, via string) {
	for _, g := range gone {
		s.send(world.FileDeleted, map[string]any{"host": s.h.name, "path": g.Path})
		if g.Config {
			s.send(world.ConfigChanged, map[string]any{"host": s.h.name, "path": g.Path, "via": via, "sha256": ""})
		}
	}
}

// errText is the strerror text bash and coreutils print for err.
func errText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrExist):
		return "File exists"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case errors.Is(err, vfs.ErrIsDir):
		return "Is a directory"
	case errors.Is(err, vfs.ErrNotDir):
		return "Not a directory"
	case errors.Is(err, vfs.ErrNotEmpty):
		return "Directory not empty"
	case errors.Is(err, vfs.ErrNoSpace):
		return "No space left on device"
	case errors.Is(err, vfs.ErrTooLarge):
		return "File too large"
	case errors.Is(err, vfs.ErrInvalid), errors.Is(err, vfs.ErrNotLink):
		return "Invalid argument"
	case errors.Is(err, vfs.ErrLoop):
		return "Too many levels of symbolic links"
	case errors.Is(err, vfs.ErrNoDevice):
		return "No such device or address"
	case errors.Is(err, vfs.ErrDirLink):
		return "hard link not allowed for directory"
	}
	return err.Error()
}

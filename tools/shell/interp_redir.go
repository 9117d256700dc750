package shell

import (
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// fileTarget is a file a redirection writes: what the command writes to
// the descriptor collects in buf, and is stored when the command ends.
type fileTarget struct {
	name string // as written, for messages
	path string
	buf  *outBuf
	app  bool
	// full marks /dev/full: the command's first write fails (ENOSPC).
	full bool
}

// redirs is a statement's redirections applied: the outputs the command
// uses and the files to store afterwards.
type redirs struct {
	io     *ioCtx
	files  []*fileTarget
	failed []string
	via    string // the command, for config_changed events
	keep   bool   // made permanent by exec: stored when the shell ends
	done   bool
}

// redirect applies rs over io. ok is false when one fails; the message is
// printed and the command must not run.
func (s *session) redirect(rs []*syntax.Redirect, io *ioCtx) (*redirs, bool) {
	nio := *io
	rd := &redirs{io: &nio, via: "redirect"}
	for _, r := range rs {
		fd := -1
		if r.N != nil {
			n, err := strconv.Atoi(r.N.Value)
			if err != nil || n > 9 {
				s.shellErr(io, "%s: Bad file descriptor", r.N.Value)
				return rd, false
			}
			fd = n
		}
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if fd <= 0 {
				nio.in = &inReader{st: stream{text: s.heredoc(&nio, r)}}
			}
			continue
		case syntax.WordHdoc:
			if fd <= 0 {
				nio.in = &inReader{st: stream{text: s.literal(&nio, r.Word) + "\n"}}
			}
			continue
		}
		fields := s.fields(&nio, r.Word)
		if len(fields) != 1 {
			s.shellErr(io, "%s: ambiguous redirect", s.nodeSource(r.Word))
			return rd, false
		}
		target := fields[0]
		switch r.Op {
		case syntax.RdrIn, syntax.RdrInOut:
			if fd < 0 {
				fd = 0
			}
			st, ok := s.openInput(io, target, &nio)
			if !ok {
				return rd, false
			}
			if fd == 0 {
				nio.in = &inReader{st: st}
			}
		case syntax.DplIn:
			// <&0, <&-: standard input stays or is closed.
			if target == "-" && (fd <= 0) {
				nio.in = &inReader{}
			}
		case syntax.DplOut:
			if fd < 0 {
				fd = 1
			}
			switch {
			case target == "-":
				nio.setFd(fd, &outBuf{limit: 1})
			case isDigits(target):
				n, _ := strconv.Atoi(target)
				src := nio.fd(n)
				if src == nil {
					s.shellErr(io, "%s: Bad file descriptor", target)
					return rd, false
				}
				nio.setFd(fd, src)
			case fd == 1:
				// >&file is &>file.
				buf, ok := s.openOutput(io, rd, target, false)
				if !ok {
					return rd, false
				}
				nio.out, nio.err = buf, buf
			default:
				s.shellErr(io, "%s: ambiguous redirect", target)
				return rd, false
			}
		case syntax.RdrOut, syntax.RdrClob, syntax.AppOut:
			if fd < 0 {
				fd = 1
			}
			if r.Op == syntax.RdrOut && s.opts.noclobber && !isDevPath(target) {
				if in, err := s.h.fs.Stat(s.abs(target)); err == nil && !in.Dir {
					s.shellErr(io, "%s: cannot overwrite existing file", target)
					return rd, false
				}
			}
			buf, ok := s.openOutput(io, rd, target, r.Op == syntax.AppOut)
			if !ok {
				return rd, false
			}
			nio.setFd(fd, buf)
		case syntax.RdrAll, syntax.AppAll:
			buf, ok := s.openOutput(io, rd, target, r.Op == syntax.AppAll)
			if !ok {
				return rd, false
			}
			nio.out, nio.err = buf, buf
		}
	}
	return rd, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDevPath(p string) bool {
	return strings.HasPrefix(p, "/dev/")
}

// heredoc is the text of a here-document: expanded unless its delimiter
// was quoted.
func (s *session) heredoc(io *ioCtx, r *syntax.Redirect) string {
	if r.Hdoc == nil {
		return ""
	}
	quoted := false
	for _, p := range r.Word.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.Contains(p.Value, "\\") {
				quoted = true
			}
		default:
			quoted = true
		}
	}
	if quoted {
		var b strings.Builder
		for _, p := range r.Hdoc.Parts {
			if l, ok := p.(*syntax.Lit); ok {
				b.WriteString(l.Value)
			}
		}
		text := b.String()
		if r.Op == syntax.DashHdoc {
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				lines[i] = strings.TrimLeft(l, "\t")
			}
			text = strings.Join(lines, "\n")
		}
		return text
	}
	text := s.document(io, r.Hdoc)
	if r.Op == syntax.DashHdoc {
		// <<- drops the tabs that start each line.
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimLeft(l, "\t")
		}
		text = strings.Join(lines, "\n")
	}
	return text
}

// openInput reads a file for < as the user may.
func (s *session) openInput(io *ioCtx, name string, cur *ioCtx) (stream, bool) {
	switch name {
	case "/dev/null", "/dev/zero":
		return stream{}, true
	case "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0":
		return cur.in.rest(), true
	case "/dev/tty":
		s.shellErr(io, "%s: %s", name, errText(vfs.ErrNoDevice))
		return stream{}, false
	}
	if st, ok := s.procFiles[name]; ok {
		return st, true
	}
	p := s.abs(name)
	b, err := s.readFile(p)
	if err != nil {
		s.shellErr(io, "%s: %s", name, errText(err))
		return stream{}, false
	}
	if b.Declared {
		bb := b
		return stream{blob: &bb, srcHost: s.h.name, srcPath: p}, true
	}
	return stream{text: b.Content, srcHost: s.h.name, srcPath: p}, true
}

// openOutput makes the buffer behind > name, after checking that the user
// may write the file. Device files have their own sinks.
func (s *session) openOutput(io *ioCtx, rd *redirs, name string, app bool) (*outBuf, bool) {
	switch name {
	case "/dev/null", "/dev/zero":
		return &outBuf{limit: 1}, true
	case "/dev/full":
		buf := &outBuf{limit: 1}
		rd.files = append(rd.files, &fileTarget{name: name, path: name, buf: buf, full: true})
		return buf, true
	case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return io.out, true
	case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2":
		return io.err, true
	case "/dev/tty":
		// No process here has a controlling terminal.
		s.shellErr(io, "%s: %s", name, errText(vfs.ErrNoDevice))
		return nil, false
	}
	if name == "" {
		s.shellErr(io, ": No such file or directory")
		return nil, false
	}
	p := s.abs(name)
	if err := s.canWrite(p); err != nil {
		s.shellErr(io, "%s: %s", name, errText(err))
		return nil, false
	}
	buf := &outBuf{limit: vfs.MaxContent + 1, bud: s.bud}
	rd.files = append(rd.files, &fileTarget{name: name, path: p, buf: buf, app: app})
	return buf, true
}

// finish stores what the command wrote to redirected files: each file
// once, with everything its descriptors received.
func (rd *redirs) finish(s *session) {
	if rd.keep || rd.done {
		return
	}
	rd.done = true
	s.storeTargets(rd.files, rd.via, rd.io.err, &rd.failed)
}

func (s *session) storeTargets(files []*fileTarget, via string, errOut *outBuf, failed *[]string) {
	seen := map[string]bool{}
	for i, t := range files {
		if seen[t.path] {
			continue
		}
		seen[t.path] = true
		if t.full {
			if t.buf.written() {
				errOut.WriteString(s.writeErrorPrefix(via) + "write error: " + errText(vfs.ErrNoSpace) + "\n")
				*failed = append(*failed, t.path)
			}
			continue
		}
		st := t.buf.stream()
		dropped := t.buf.dropped
		// Other descriptors redirected to the same file add to it.
		for _, u := range files[i+1:] {
			if u.path != t.path || u.buf == t.buf {
				continue
			}
			more := u.buf.stream()
			if more.size() == 0 {
				continue
			}
			if st.size() == 0 {
				st = more
			} else {
				st = stream{text: st.text + more.text}
			}
			dropped += u.buf.dropped
		}
		if dropped > 0 {
			errOut.WriteString(s.errPrefix() + t.name + ": " + errText(vfs.ErrTooLarge) + "\n")
			*failed = append(*failed, t.path)
			continue
		}
		if _, err := s.writeRedirect(t.path, st, t.app, via); err != nil {
			errOut.WriteString(s.errPrefix() + t.name + ": " + errText(err) + "\n")
			*failed = append(*failed, t.path)
		}
	}
}

// writeErrorPrefix starts the message of a write that failed: bash's own
// prefix and the name for a builtin (bash: echo: ), the program's name for
// others (cat: ).
func (s *session) writeErrorPrefix(via string) string {
	if via == "" {
		return s.errPrefix()
	}
	if _, ok := builtins[via]; ok {
		return s.errPrefix() + via + ": "
	}
	return path.Base(via) + ": "
}

// persistIO applies the descriptors exec set to io.
func (s *session) persistIO(io *ioCtx) *ioCtx {
	p := s.persist
	nio := *io
	if p.out != nil {
		nio.out = p.out
	}
	if p.err != nil {
		nio.err = p.err
	}
	if p.in != nil {
		nio.in = p.in
	}
	for k, v := range p.extra {
		nio.setFd(k, v)
	}
	return &nio
}

// flushPersist stores the files exec redirected to, as the shell ends.
func (s *session) flushPersist() {
	if len(s.persistW) == 0 {
		return
	}
	var failed []string
	errOut := &outBuf{}
	if s.cur != nil {
		errOut = s.cur.err
	}
	// What the descriptors received so far goes to the files; what comes
	// later is appended.
	var pending []*fileTarget
	for _, t := range s.persistW {
		pb := &outBuf{blob: t.buf.blob, srcHost: t.buf.srcHost, srcPath: t.buf.srcPath, plain: t.buf.plain, dropped: t.buf.dropped}
		pb.b.WriteString(t.buf.b.String())
		pending = append(pending, &fileTarget{name: t.name, path: t.path, buf: pb, app: t.app})
		t.buf.b.Reset()
		t.buf.blob, t.buf.dropped, t.buf.plain, t.buf.srcHost, t.buf.srcPath = nil, 0, false, "", ""
		t.app = true
	}
	s.storeTargets(pending, "exec", errOut, &failed)
}

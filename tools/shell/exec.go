package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// pipeLimit bounds the text that flows between commands of a pipeline.
const pipeLimit = 32 << 20

// maxDepth bounds nested ssh and sudo calls.
const maxDepth = 8

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
	plain   bool // something other than one whole file was written
}

func (o *outBuf) WriteString(s string) {
	if s == "" {
		return
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
		return
	}
	if room > 0 {
		o.b.WriteString(s[:room])
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

// session is one shell: a host, a user, a working directory and variables.
type session struct {
	net    *Network
	h      *host
	user   string
	home   string
	cwd    string
	vars   map[string]string
	emit   world.Emitter
	last   int
	depth  int
	pid    int
	exited bool
	via    string // "ssh" when the session was opened by ssh
	origin string // host that opened it over ssh
}

func (n *Network) newSession(h *host, user string, emit world.Emitter, depth int) *session {
	home := homeOf(user)
	s := &session{net: n, h: h, user: user, home: home, cwd: home, emit: emit, depth: depth}
	if !h.fs.Exists(home) {
		s.cwd = "/"
	}
	s.pid = h.nextPID
	h.nextPID += 3
	s.vars = map[string]string{
		"HOME": home, "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
		"PATH":     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME": h.name, "LANG": "C.UTF-8", "PWD": s.cwd, "SHLVL": "1",
	}
	return s
}

func (s *session) event(typ string, attrs map[string]any) world.Event {
	return world.Event{Type: typ, Time: s.net.clock.Now(), Attrs: attrs}
}

func (s *session) send(typ string, attrs map[string]any) {
	s.emit(s.event(typ, attrs))
}

func (s *session) abs(p string) string { return absPath(s.cwd, p) }

// runLine parses and runs a line, writing to stdout and stderr.
func (s *session) runLine(line string, stdin stream, stdout, stderr *outBuf) int {
	sc, err := parse(line)
	if err != nil {
		switch {
		case errors.Is(err, ErrUnsupported):
			stderr.printf("bash: %s\n", strings.TrimPrefix(err.Error(), ErrUnsupported.Error()+": "))
			return 2
		default:
			stderr.printf("bash: %s\n", err.Error())
			return 2
		}
	}
	for _, item := range sc.items {
		s.last = s.runAndOr(item, stdin, stdout, stderr)
		if s.exited {
			break
		}
	}
	return s.last
}

func (s *session) runAndOr(ao *andOr, stdin stream, stdout, stderr *outBuf) int {
	code := s.runPipeline(ao.first, stdin, stdout, stderr)
	for i, p := range ao.rest {
		if s.exited {
			break
		}
		s.last = code
		if (ao.ops[i] == "&&") != (code == 0) {
			continue
		}
		code = s.runPipeline(p, stdin, stdout, stderr)
	}
	return code
}

func (s *session) runPipeline(p *pipeline, stdin stream, stdout, stderr *outBuf) int {
	in := stdin
	code := 0
	for i, c := range p.cmds {
		if i == len(p.cmds)-1 {
			code = s.runCommand(c, in, stdout, stderr)
			break
		}
		var mid outBuf
		mid.limit = pipeLimit
		code = s.runCommand(c, in, &mid, stderr)
		in = mid.stream()
		s.last = code
	}
	if p.bang {
		if code == 0 {
			return 1
		}
		return 0
	}
	return code
}

// expandWord expands variables, a leading tilde and globs. It returns the
// fields the word becomes.
func (s *session) expandWord(w word) []string {
	var text, pattern strings.Builder
	glob := false
	for i, sg := range w {
		val := sg.text
		if sg.isVar {
			val = s.lookupVar(sg.text)
			text.WriteString(val)
			pattern.WriteString(escapeGlob(val))
			continue
		}
		if !sg.quoted && i == 0 && strings.HasPrefix(val, "~") && (len(val) == 1 || val[1] == '/') {
			val = s.home + val[1:]
		}
		text.WriteString(val)
		if sg.quoted {
			pattern.WriteString(escapeGlob(val))
		} else {
			if strings.ContainsAny(val, "*?[") {
				glob = true
			}
			pattern.WriteString(val)
		}
	}
	if glob {
		if matches := s.glob(pattern.String()); len(matches) > 0 {
			return matches
		}
	}
	// An unquoted variable that expands to nothing vanishes.
	if text.Len() == 0 {
		allVars := true
		for _, sg := range w {
			if !sg.isVar || sg.quoted {
				allVars = false
			}
		}
		if allVars {
			return nil
		}
	}
	return []string{text.String()}
}

func escapeGlob(s string) string {
	if !strings.ContainsAny(s, "*?[\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("*?[\\", s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func unescapeGlob(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// glob expands pattern against the filesystem, as bash does: sorted
// matches, hidden files only when the pattern part starts with a dot.
func (s *session) glob(pattern string) []string {
	rel := !strings.HasPrefix(pattern, "/")
	base := "/"
	if rel {
		base = s.cwd
	}
	parts := strings.Split(strings.Trim(pattern, "/"), "/")
	cands := []string{""} // relative to base
	for _, part := range parts {
		if part == "" {
			continue
		}
		var next []string
		for _, c := range cands {
			dir := path.Join(base, c)
			if !hasMeta(part) {
				lit := unescapeGlob(part)
				if s.h.fs.Exists(path.Join(dir, lit)) {
					next = append(next, path.Join(c, lit))
				}
				continue
			}
			if s.h.fs.Check(dir, s.user, vfs.Read) != nil {
				continue
			}
			infos, err := s.h.fs.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, in := range infos {
				if strings.HasPrefix(in.Name, ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				if ok, err := path.Match(part, in.Name); err == nil && ok {
					next = append(next, path.Join(c, in.Name))
				}
			}
		}
		cands = next
		if len(cands) == 0 {
			return nil
		}
	}
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		if rel {
			out = append(out, c)
		} else {
			out = append(out, "/"+c)
		}
	}
	if strings.HasSuffix(pattern, "/") {
		for i := range out {
			out[i] += "/"
		}
	}
	sort.Strings(out)
	return out
}

func (s *session) lookupVar(name string) string {
	switch name {
	case "?":
		return strconv.Itoa(s.last)
	case "$":
		return strconv.Itoa(s.pid)
	case "#":
		return "0"
	case "0":
		return "bash"
	case "RANDOM":
		return "17"
	}
	return s.vars[name]
}

func isAssignment(w word) (string, word, bool) {
	if len(w) == 0 || w[0].quoted || w[0].isVar {
		return "", nil, false
	}
	eq := strings.IndexByte(w[0].text, '=')
	if eq <= 0 {
		return "", nil, false
	}
	name := w[0].text[:eq]
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i], i == 0) {
			return "", nil, false
		}
	}
	rest := word{}
	if eq+1 < len(w[0].text) {
		rest = append(rest, seg{text: w[0].text[eq+1:]})
	}
	rest = append(rest, w[1:]...)
	return name, rest, true
}

// runCommand expands one simple command, sets up its redirections, runs it
// and stores redirected output.
func (s *session) runCommand(c *command, stdin stream, stdout, stderr *outBuf) int {
	words := c.words
	assigns := map[string]string{}
	for len(words) > 0 {
		name, val, ok := isAssignment(words[0])
		if !ok {
			break
		}
		assigns[name] = strings.Join(s.expandWordNoGlob(val), "")
		words = words[1:]
	}
	var args []string
	for _, w := range words {
		args = append(args, s.expandWord(w)...)
	}
	if len(args) == 0 && len(words) == 0 {
		for k, v := range assigns {
			s.vars[k] = v
		}
	}
	if len(args) == 0 && len(c.redirs) == 0 {
		return 0
	}

	// Redirections.
	in := stdin
	var out, errOut = stdout, stderr
	type fileTarget struct {
		fd     int // 1, 2 or -1 (both)
		path   string
		append bool
		dup    bool
	}
	var targets []fileTarget
	var ownOut, ownErr *outBuf
	for _, r := range c.redirs {
		switch r.op {
		case "<<":
			in = stream{text: strings.Join(s.expandWordNoGlob(r.here.body), "")}
			continue
		case "<<<":
			in = stream{text: strings.Join(s.expandWordNoGlob(r.target), "") + "\n"}
			continue
		}
		fields := s.expandWord(r.target)
		if len(fields) != 1 {
			stderr.printf("bash: %s: ambiguous redirect\n", r.target.raw())
			return 1
		}
		name := fields[0]
		if r.op == ">&" {
			switch {
			case name == "1" && r.fd == 2:
				errOut = out
			case name == "2" && r.fd == 1:
				out = errOut
			}
			continue
		}
		if r.op == "<" {
			if r.fd != 0 {
				continue
			}
			p := s.abs(name)
			b, err := s.readFile(p)
			if err != nil {
				stderr.printf("bash: %s: %s\n", name, errText(err))
				return 1
			}
			in = stream{text: b.Content, srcHost: s.h.name, srcPath: p}
			if b.Declared {
				bb := b
				in = stream{blob: &bb, srcHost: s.h.name, srcPath: p}
			}
			continue
		}
		// > and >>
		if name == "/dev/null" {
			sink := &outBuf{limit: 1}
			switch r.fd {
			case 1:
				out = sink
			case 2:
				errOut = sink
			case -1:
				out, errOut = sink, sink
			}
			continue
		}
		if name == "/dev/stdout" || name == "/dev/stderr" || name == "/dev/tty" {
			if name == "/dev/stderr" && r.fd == 1 {
				out = errOut
			}
			continue
		}
		p := s.abs(name)
		if err := s.canWrite(p); err != nil {
			stderr.printf("bash: %s: %s\n", name, errText(err))
			return 1
		}
		t := fileTarget{fd: r.fd, path: p, append: r.op == ">>"}
		buf := &outBuf{limit: vfs.MaxContent + 1}
		switch r.fd {
		case 1:
			ownOut, out = buf, buf
		case 2:
			ownErr, errOut = buf, buf
		case -1:
			ownOut, ownErr, out, errOut = buf, buf, buf, buf
			t.dup = true
		}
		targets = append(targets, t)
	}

	code := 0
	if len(args) > 0 {
		old := map[string]*string{}
		for k, v := range assigns {
			if prev, ok := s.vars[k]; ok {
				old[k] = &prev
			} else {
				old[k] = nil
			}
			s.vars[k] = v
		}
		code = s.dispatch(args, in, out, errOut)
		for k, v := range old {
			if v == nil {
				delete(s.vars, k)
			} else {
				s.vars[k] = *v
			}
		}
	}

	// Store redirected output; the last redirection of an fd wins, earlier
	// ones are created empty as bash does.
	via := "redirect"
	if len(args) > 0 {
		via = args[0]
	}
	written := map[string]bool{}
	for i := len(targets) - 1; i >= 0; i-- {
		t := targets[i]
		var buf *outBuf
		switch t.fd {
		case 1, -1:
			buf = ownOut
		case 2:
			buf = ownErr
		}
		if buf == nil {
			buf = &outBuf{} // a descriptor nothing writes to: the file is just created
		}
		last := true
		for j := i + 1; j < len(targets); j++ {
			if targets[j].fd == t.fd {
				last = false
			}
		}
		if !last || written[t.path] {
			if !written[t.path] {
				if _, err := s.writeRedirect(t.path, stream{}, t.append, via); err != nil {
					stderr.printf("bash: %s: %s\n", t.path, errText(err))
					code = 1
				}
				written[t.path] = true
			}
			continue
		}
		written[t.path] = true
		if buf.dropped > 0 {
			stderr.printf("bash: %s: %s\n", t.path, errText(vfs.ErrTooLarge))
			code = 1
			continue
		}
		if _, err := s.writeRedirect(t.path, buf.stream(), t.append, via); err != nil {
			stderr.printf("bash: %s: %s\n", t.path, errText(err))
			code = 1
		}
	}
	return code
}

func (s *session) expandWordNoGlob(w word) []string {
	var b strings.Builder
	for _, sg := range w {
		if sg.isVar {
			b.WriteString(s.lookupVar(sg.text))
		} else {
			b.WriteString(sg.text)
		}
	}
	return []string{b.String()}
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
	if _, err := s.h.fs.Stat(p); err != nil {
		return vfs.Blob{}, err
	}
	if err := s.h.fs.Check(p, s.user, vfs.Read); err != nil {
		return vfs.Blob{}, err
	}
	return s.h.fs.Read(p)
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
	case errors.Is(err, vfs.ErrInvalid):
		return "Invalid argument"
	}
	return err.Error()
}

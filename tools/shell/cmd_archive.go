package shell

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Archives and compression: tar, gzip, gunzip, zcat. Files with content
// get real tar and gzip bytes; declared files make declared archives that
// remember their members (vfs.Tar, vfs.Gzip), so extracting on another host
// gives the same files back and the copy events name what travelled.

func init() {
	register(map[string]cmdFunc{
		"tar": cmdTar, "gzip": cmdGzip, "gunzip": cmdGzip, "zcat": cmdGzip,
	})
}

// readInput returns the blob of operand op ("-" is standard input), with
// the identity of the file it was read from.
func (c *call) readInput(op string) (vfs.Blob, error) {
	if op == "-" {
		b := c.in.toBlob()
		if c.in.srcPath != "" {
			b = b.Identified(c.in.srcHost, c.in.srcPath)
		}
		return b, nil
	}
	p := c.s.abs(op)
	b, err := c.s.readFile(p)
	if err != nil {
		return vfs.Blob{}, err
	}
	return b.Identified(c.s.h.name, p), nil
}

// putBlob writes a whole blob to standard output.
func (c *call) putBlob(b vfs.Blob) {
	if b.Declared {
		c.out.writeFileData(b, "", "")
		return
	}
	c.out.WriteString(b.Content)
}

// storeBlob writes b at p as this command, reporting the declared files it
// carries.
func (c *call) storeBlob(p string, b vfs.Blob, mode fs.FileMode, mtime time.Time) error {
	if err := c.s.canWrite(p); err != nil {
		return err
	}
	if _, err := c.s.writeFileOpts(p, b, c.name, true, vfs.WriteOptions{Mode: mode, ModTime: mtime}); err != nil {
		return err
	}
	c.s.sendCarried(c.name, "", "", c.s.h, p, b)
	return nil
}

// ---- gzip ----

var errNotGzip = errors.New("not in gzip format")

// gzipBlob compresses b, named name.
func gzipBlob(b vfs.Blob, name string, mtime time.Time) vfs.Blob {
	if b.Declared {
		return vfs.Gzip(b, name)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Name = path.Base(name)
	if name == "" {
		zw.Name = ""
	}
	zw.ModTime = mtime
	_, _ = zw.Write([]byte(b.Content))
	_ = zw.Close()
	return vfs.Content(buf.String())
}

// gunzipBlob undoes gzipBlob; errNotGzip for anything else.
func gunzipBlob(b vfs.Blob) (vfs.Blob, error) {
	if b.Declared {
		if b.Form != nil && b.Form.Kind == vfs.FormGzip {
			return *b.Form.Inner, nil
		}
		return vfs.Blob{}, errNotGzip
	}
	if !strings.HasPrefix(b.Content, "\x1f\x8b") {
		return vfs.Blob{}, errNotGzip
	}
	zr, err := gzip.NewReader(strings.NewReader(b.Content))
	if err != nil {
		return vfs.Blob{}, errNotGzip
	}
	data, err := io.ReadAll(io.LimitReader(zr, vfs.MaxContent+1))
	if err != nil {
		return vfs.Blob{}, fmt.Errorf("unexpected end of file: %w", errNotGzip)
	}
	if len(data) > vfs.MaxContent {
		return vfs.Blob{}, vfs.ErrTooLarge
	}
	return vfs.Content(string(data)), nil
}

const gzipHelp = `Usage: gzip [OPTION]... [FILE]...
Compress or uncompress FILEs (by default, compress FILES in-place).

Mandatory arguments to long options are mandatory for short options too.

  -c, --stdout      write on standard output, keep original files unchanged
  -d, --decompress  decompress
  -f, --force       force overwrite of output file and compress links
  -h, --help        give this help
  -k, --keep        keep (don't delete) input files
  -l, --list        list compressed file contents
  -L, --license     display software license
  -n, --no-name     do not save or restore the original name and timestamp
  -N, --name        save or restore the original name and timestamp
  -q, --quiet       suppress all warnings
  -r, --recursive   operate recursively on directories
  -S, --suffix=SUF  use suffix SUF on compressed files
      --synchronous synchronous output (safer if system crashes, but slower)
  -t, --test        test compressed file integrity
  -v, --verbose     verbose mode
  -V, --version     display version number
  -1, --fast        compress faster
  -9, --best        compress better

With no FILE, or when FILE is -, read standard input.

Report bugs to <bug-gzip@gnu.org>.
`

func cmdGzip(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "cdfhklLnNqrtvV123456789", values: "S", long: map[string]string{
		"stdout": "c", "to-stdout": "c", "decompress": "d", "uncompress": "d", "force": "f", "help": "h", "keep": "k",
		"list": "l", "no-name": "n", "name": "N", "quiet": "q", "recursive": "r", "suffix": "S=", "test": "t",
		"verbose": "v", "version": "V", "fast": "1", "best": "9", "synchronous": "sync",
	}})
	if bad != "" {
		c.err.printf("%s: %s\nTry `%s --help' for more information.\n", c.name, bad, c.name)
		return 1
	}
	if fl.has("h") {
		c.out.WriteString(strings.ReplaceAll(gzipHelp, "gzip [", c.name+" ["))
		return 0
	}
	if fl.has("V") {
		c.out.WriteString("gzip 1.12\nCopyright (C) 2018 Free Software Foundation, Inc.\nCopyright (C) 1993 Jean-loup Gailly.\nThis is free software.  You may redistribute copies of it under the terms of\nthe GNU General Public License <https://www.gnu.org/licenses/gpl.html>.\nThere is NO WARRANTY, to the extent permitted by law.\n\nWritten by Jean-loup Gailly.\n")
		return 0
	}
	decomp := fl.has("d") || c.name != "gzip" || fl.has("t") || fl.has("l")
	toOut := fl.has("c") || c.name == "zcat"
	suffix := ".gz"
	if fl.has("S") {
		suffix = fl.val("S")
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, op := range ops {
		b, err := c.readInput(op)
		show := op
		if op == "-" {
			show = "stdin"
		}
		if err != nil {
			c.err.printf("%s: %s: %s\n", "gzip", op, errText(err))
			code = 1
			continue
		}
		var in vfs.Info
		if op != "-" {
			in, _ = c.s.h.fs.Stat(c.s.abs(op))
			if in.Dir {
				c.err.printf("gzip: %s is a directory -- ignored\n", op)
				code = 2
				continue
			}
		}
		if !decomp {
			z := gzipBlob(b, op, in.ModTime)
			if op == "-" || toOut {
				c.putBlob(z)
				continue
			}
			if strings.HasSuffix(op, suffix) && !fl.has("f") {
				c.err.printf("gzip: %s already has %s suffix -- unchanged\n", op, suffix)
				code = 2
				continue
			}
			if !c.gzipReplace(op, op+suffix, z, in, fl.has("k"), fl.has("f")) {
				code = 1
				continue
			}
			if fl.has("v") {
				c.err.printf("%s:\t%4.1f%% -- replaced with %s\n", op, 100-100*float64(z.Size)/float64(max(b.Size, 1)), op+suffix)
			}
			continue
		}
		raw, err := gunzipBlob(b)
		if err != nil {
			c.err.printf("gzip: %s: %s\n", show, errText(err))
			code = 1
			continue
		}
		switch {
		case fl.has("t"):
			continue
		case fl.has("l"):
			c.out.printf("%*s %*s  ratio uncompressed_name\n", 19, "compressed", 19, "uncompressed")
			c.out.printf("%19d %19d %5.1f%% %s\n", b.Size, raw.Size, 100-100*float64(b.Size)/float64(max(raw.Size, 1)), strings.TrimSuffix(op, suffix))
			continue
		case op == "-" || toOut:
			c.putBlob(raw)
			continue
		}
		dst := ""
		for _, suf := range []string{suffix, ".gz", ".tgz", ".z", "-gz"} {
			if strings.HasSuffix(op, suf) && len(op) > len(suf) {
				dst = strings.TrimSuffix(op, suf)
				if suf == ".tgz" {
					dst += ".tar"
				}
				break
			}
		}
		if dst == "" {
			c.err.printf("gzip: %s: unknown suffix -- ignored\n", op)
			code = 2
			continue
		}
		if !c.gzipReplace(op, dst, raw, in, fl.has("k"), fl.has("f")) {
			code = 1
		}
	}
	return code
}

// gzipReplace writes the result of compressing or decompressing src to dst
// and removes src unless keep, as gzip does.
func (c *call) gzipReplace(src, dst string, b vfs.Blob, in vfs.Info, keep, force bool) bool {
	dp := c.s.abs(dst)
	if c.s.h.fs.Exists(dp) && !force {
		c.err.printf("gzip: %s already exists; not overwritten\n", dst)
		return false
	}
	if err := c.storeBlob(dp, b, in.Mode.Perm(), in.ModTime); err != nil {
		c.err.printf("gzip: %s: %s\n", dst, errText(err))
		return false
	}
	if !keep {
		if err := c.s.removePath(c.s.abs(src), false, c.name); err != nil {
			c.err.printf("gzip: %s: %s\n", src, errText(err))
			return false
		}
	}
	return true
}

// ---- tar ----

const tarHelp = `Usage: tar [OPTION...] [FILE]...
GNU 'tar' saves many files together into a single tape or disk archive, and can
restore individual files from the archive.

Examples:
  tar -cf archive.tar foo bar  # Create archive.tar from files foo and bar.
  tar -tvf archive.tar         # List all files in archive.tar verbosely.
  tar -xf archive.tar          # Extract all files from archive.tar.

 Main operation mode:

  -A, --catenate, --concatenate   append tar files to an archive
  -c, --create               create a new archive
  -d, --diff, --compare      find differences between archive and file system
      --delete               delete from the archive (not on mag tapes!)
  -r, --append               append files to the end of an archive
  -t, --list                 list the contents of an archive
  -u, --update               only append files newer than copy in archive
  -x, --extract, --get       extract files from an archive

 Common options:

  -C, --directory=DIR        change to directory DIR
  -f, --file=ARCHIVE         use archive file or device ARCHIVE
  -j, --bzip2                filter the archive through bzip2
  -J, --xz                   filter the archive through xz
  -O, --to-stdout            extract files to standard output
  -p, --preserve-permissions extract information about file permissions
  -v, --verbose              verbosely list files processed
  -z, --gzip, --gunzip, --ungzip   filter the archive through gzip
      --exclude=PATTERN      exclude files, given as a PATTERN
      --strip-components=NUMBER   strip NUMBER leading components from file
                             names on extraction

Mandatory or optional arguments to long options are also mandatory or optional
for any corresponding short options.

Report bugs to <bug-tar@gnu.org>.
`

// tarOpts are the parsed options of one tar call.
type tarOpts struct {
	mode    byte // c, x, t
	file    string
	hasFile bool
	dir     string
	// zip is the compressor: vfs.FormGzip, FormXz, FormBzip2, "auto"
	// (by the archive's suffix, -a), or "" for none.
	zip      string
	verbose  int
	toStdout bool
	preserve bool
	strip    int
	excludes []string
	absolute bool
	operands []string
	keepOld  bool
}

func parseTar(c *call) (tarOpts, int) {
	var o tarOpts
	args := append([]string(nil), c.args...)
	// Old style: the first word holds option letters without a dash.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "" && strings.Trim(args[0], "cxtrufzjJvpOPCkhaA") == "" {
		args[0] = "-" + args[0]
	}
	needArg := func(i *int, opt string) (string, bool) {
		if *i+1 >= len(args) {
			c.err.printf("tar: option requires an argument -- '%s'\nTry 'tar --help' or 'tar --usage' for more information.\n", opt)
			return "", false
		}
		*i++
		return args[*i], true
	}
	setMode := func(m byte) bool {
		if o.mode != 0 && o.mode != m {
			c.err.WriteString("tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option\nTry 'tar --help' or 'tar --usage' for more information.\n")
			return false
		}
		o.mode = m
		return true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			o.operands = append(o.operands, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			get := func() (string, bool) {
				if hasVal {
					return val, true
				}
				return needArg(&i, name)
			}
			var ok = true
			switch name {
			case "create":
				ok = setMode('c')
			case "extract", "get":
				ok = setMode('x')
			case "list":
				ok = setMode('t')
			case "file":
				o.file, ok = get()
				o.hasFile = true
			case "directory":
				o.dir, ok = get()
			case "gzip", "gunzip", "ungzip", "zstd":
				o.zip = vfs.FormGzip
			case "xz", "lzma":
				o.zip = vfs.FormXz
			case "bzip2":
				o.zip = vfs.FormBzip2
			case "auto-compress":
				o.zip = "auto"
			case "verbose":
				o.verbose++
			case "to-stdout":
				o.toStdout = true
			case "preserve-permissions", "same-permissions", "preserve":
				o.preserve = true
			case "exclude":
				var v string
				v, ok = get()
				o.excludes = append(o.excludes, v)
			case "strip-components":
				var v string
				v, ok = get()
				if _, err := fmt.Sscan(v, &o.strip); err != nil {
					c.err.printf("tar: %s: Invalid number\nTry 'tar --help' or 'tar --usage' for more information.\n", v)
					return o, 2
				}
			case "absolute-names":
				o.absolute = true
			case "keep-old-files", "skip-old-files":
				o.keepOld = true
			case "help":
				c.out.WriteString(tarHelp)
				return o, -1
			case "version":
				c.out.WriteString("tar (GNU tar) 1.34\nCopyright (C) 2021 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n\nWritten by John Gilmore and Jay Fenlason.\n")
				return o, -1
			case "overwrite", "no-same-owner", "same-owner", "numeric-owner", "totals", "checkpoint", "warning", "no-recursion", "recursion",
				"sort", "owner", "group", "mtime", "mode", "format", "ignore-failed-read", "exclude-vcs", "wildcards", "anchored", "no-anchored", "show-transformed-names", "dereference", "one-file-system", "sparse", "remove-files", "use-compress-program", "index-file":
			default:
				c.err.printf("tar: unrecognized option '%s'\nTry 'tar --help' or 'tar --usage' for more information.\n", a)
				return o, 2
			}
			if !ok {
				return o, 2
			}
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			o.operands = append(o.operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			var ok = true
			switch ch {
			case 'c', 'x', 't':
				ok = setMode(ch)
			case 'r', 'u', 'A':
				ok = setMode('c')
			case 'f', 'C':
				val := a[j+1:]
				if val == "" {
					val, ok = needArg(&i, string(ch))
				}
				if ch == 'f' {
					o.file, o.hasFile = val, true
				} else {
					o.dir = val
				}
				j = len(a)
			case 'z', 'Z':
				o.zip = vfs.FormGzip
			case 'J':
				o.zip = vfs.FormXz
			case 'j':
				o.zip = vfs.FormBzip2
			case 'a':
				o.zip = "auto"
			case 'v':
				o.verbose++
			case 'O':
				o.toStdout = true
			case 'p':
				o.preserve = true
			case 'P':
				o.absolute = true
			case 'k':
				o.keepOld = true
			case 'h', 'S', 'm', 'o', 'w', 'W', 'B', 'i', 'l':
			default:
				c.err.printf("tar: invalid option -- '%c'\nTry 'tar --help' or 'tar --usage' for more information.\n", ch)
				return o, 2
			}
			if !ok {
				return o, 2
			}
		}
	}
	if o.mode == 0 {
		c.err.WriteString("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n")
		return o, 2
	}
	if !o.hasFile {
		o.file = "-"
	}
	return o, 0
}

func cmdTar(c *call) int {
	o, code := parseTar(c)
	if code != 0 {
		return max(code, 0)
	}
	switch o.mode {
	case 'c':
		return c.tarCreate(o)
	default:
		return c.tarRead(o)
	}
}

func (c *call) tarExcluded(o tarOpts, name string) bool {
	for _, g := range o.excludes {
		g = strings.TrimSuffix(g, "/")
		if ok, _ := path.Match(g, path.Base(name)); ok {
			return true
		}
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (c *call) tarCreate(o tarOpts) int {
	if len(o.operands) == 0 {
		c.err.WriteString("tar: Cowardly refusing to create an empty archive\nTry 'tar --help' or 'tar --usage' for more information.\n")
		return 2
	}
	base := c.s.cwd
	if o.dir != "" {
		base = c.s.abs(o.dir)
	}
	archive := ""
	if o.file != "-" {
		archive = c.s.abs(o.file)
	}
	var members []vfs.Member
	status := 0
	warned := false
	verbose := c.out
	if o.file == "-" {
		verbose = c.err
	}
	for _, op := range o.operands {
		p := absPath(base, op)
		name := strings.TrimPrefix(path.Clean(op), "./")
		if strings.HasPrefix(name, "/") && !o.absolute {
			name = strings.TrimLeft(name, "/")
			if !warned {
				c.err.WriteString("tar: Removing leading `/' from member names\n")
				warned = true
			}
		}
		if _, err := c.s.h.fs.Stat(p); err != nil {
			c.err.printf("tar: %s: Cannot stat: %s\n", op, errText(err))
			status = 2
			continue
		}
		var infos []vfs.Info
		_ = c.s.h.fs.Walk(p, func(in vfs.Info) { infos = append(infos, in) })
		skip := ""
		for _, in := range infos {
			if skip != "" && strings.HasPrefix(in.Path, skip+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(in.Path, p), "/")
			mname := path.Join(name, rel)
			if name == "." || name == "" {
				mname = rel
				if rel == "" {
					mname = "."
				} else {
					mname = "./" + rel
				}
			}
			if in.Path == archive {
				c.err.printf("tar: %s: file is the archive; not dumped\n", mname)
				continue
			}
			if c.tarExcluded(o, mname) {
				if in.Dir {
					skip = in.Path
				}
				continue
			}
			m := vfs.Member{Name: mname, Dir: in.Dir, Mode: in.Mode.Perm(), Owner: in.Owner, ModTime: in.ModTime}
			if in.Dir {
				if err := c.s.h.fs.Check(in.Path, c.s.user, vfs.Read|vfs.Exec); err != nil {
					c.err.printf("tar: %s: Cannot open: Permission denied\n", mname)
					status = 2
					skip = in.Path
					continue
				}
			} else {
				b, err := c.s.readFile(in.Path)
				if err != nil {
					c.err.printf("tar: %s: Cannot open: %s\n", mname, errText(err))
					status = 2
					continue
				}
				m.Blob = b.Identified(c.s.h.name, in.Path)
			}
			members = append(members, m)
			if o.verbose > 0 {
				verbose.WriteString(tarListLine(m, o.verbose > 1, c.s.net.clock.Now().Location()) + "\n")
			}
		}
	}
	if status != 0 && len(members) == 0 {
		c.err.WriteString("tar: Exiting with failure status due to previous errors\n")
		return 2
	}
	ar := buildTar(members)
	kind := o.zip
	if kind == "auto" {
		kind = tarSuffixKind(o.file)
	}
	if kind != "" {
		ar = compressKind(kind, ar, "", time.Time{})
	}
	if archive == "" {
		c.putBlob(ar)
	} else if err := c.storeBlob(archive, ar, 0o644, time.Time{}); err != nil {
		c.err.printf("tar: %s: Cannot open: %s\n", o.file, errText(err))
		c.err.WriteString("tar: Error is not recoverable: exiting now\n")
		return 2
	}
	if status != 0 {
		c.err.WriteString("tar: Exiting with failure status due to previous errors\n")
	}
	return status
}

// tarSuffixKind is the compressor tar -a picks for an archive's name.
func tarSuffixKind(name string) string {
	switch {
	case hasSuffixFold(name, ".gz", ".tgz", ".taz"):
		return vfs.FormGzip
	case hasSuffixFold(name, ".xz", ".txz", ".lzma", ".tlz"):
		return vfs.FormXz
	case hasSuffixFold(name, ".bz2", ".tbz", ".tbz2", ".tz2"):
		return vfs.FormBzip2
	}
	return ""
}

// tarChildError is what tar and the compressor it ran print when the
// archive would not decompress.
func tarChildError(kind string, err error) string {
	const tail = "tar: Error is not recoverable: exiting now\n"
	switch {
	case errors.Is(err, vfs.ErrTooLarge):
		return "tar: " + errText(err) + "\n" + tail
	case kind == vfs.FormXz:
		return "xz: (stdin): File format not recognized\ntar: Child returned status 1\n" + tail
	case kind == vfs.FormBzip2:
		return "bzip2: (stdin) is not a bzip2 file.\ntar: Child returned status 2\n" + tail
	}
	return "\ngzip: stdin: " + errText(err) + "\ntar: Child returned status 1\n" + tail
}

// buildTar makes real tar bytes when every member has content and they fit,
// and a declared archive otherwise.
func buildTar(members []vfs.Member) vfs.Blob {
	var total int64
	for _, m := range members {
		if m.Blob.Declared {
			return vfs.Tar(members)
		}
		total += m.Blob.Size + 512
	}
	if total > vfs.MaxContent/2 {
		return vfs.Tar(members)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.Name, Mode: int64(m.Mode), ModTime: m.ModTime, Uname: m.Owner, Gname: m.Owner, Format: tar.FormatGNU}
		if m.Dir {
			h.Typeflag, h.Name = tar.TypeDir, m.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, m.Blob.Size
		}
		_ = tw.WriteHeader(h)
		if !m.Dir {
			_, _ = tw.Write([]byte(m.Blob.Content))
		}
	}
	_ = tw.Close()
	// GNU tar pads the archive to a whole record.
	if pad := buf.Len() % 10240; pad != 0 {
		buf.Write(make([]byte, 10240-pad))
	}
	return vfs.Content(buf.String())
}

var errNotTar = errors.New("not a tar archive")

// tarMembers reads the entries of an archive blob (already decompressed).
func tarMembers(b vfs.Blob) ([]vfs.Member, error) {
	if b.Declared {
		if b.Form != nil && b.Form.Kind == vfs.FormTar {
			return b.Form.Members, nil
		}
		return nil, errNotTar
	}
	tr := tar.NewReader(strings.NewReader(b.Content))
	var out []vfs.Member
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(out) == 0 {
				return nil, errNotTar
			}
			return out, fmt.Errorf("unexpected EOF in archive: %w", err)
		}
		m := vfs.Member{Name: strings.TrimSuffix(h.Name, "/"), Mode: fs.FileMode(h.Mode).Perm(), Owner: h.Uname, ModTime: h.ModTime}
		switch h.Typeflag {
		case tar.TypeDir:
			m.Dir = true
		case tar.TypeReg:
			data, err := io.ReadAll(io.LimitReader(tr, vfs.MaxContent))
			if err != nil {
				return out, err
			}
			m.Blob = vfs.Content(string(data))
		default:
			continue
		}
		out = append(out, m)
	}
	if len(out) == 0 && strings.Trim(b.Content, "\x00") != "" {
		return nil, errNotTar
	}
	return out, nil
}

func tarListLine(m vfs.Member, long bool, loc *time.Location) string {
	name := m.Name
	if m.Dir {
		name += "/"
	}
	if !long {
		return name
	}
	owner := m.Owner
	if owner == "" {
		owner = "root"
	}
	size := m.Blob.Size
	if m.Dir {
		size = 0
	}
	return fmt.Sprintf("%s %s/%s %*d %s %s", modeString(m.Mode.Perm(), m.Dir), owner, owner, 14-len(owner)*2+6, size, m.ModTime.In(loc).Format("2006-01-02 15:04"), name)
}

func (c *call) tarRead(o tarOpts) int {
	var b vfs.Blob
	if o.file == "-" {
		b = c.in.toBlob()
	} else {
		var err error
		b, err = c.readInput(o.file)
		if err != nil {
			c.err.printf("tar: %s: Cannot open: %s\ntar: Error is not recoverable: exiting now\n", o.file, errText(err))
			return 2
		}
	}
	// tar reads a compressed archive whatever it was told; told a
	// compressor, it runs that one, which refuses another's data.
	kind := compressedKind(b)
	if o.zip != "" && o.zip != "auto" && o.zip != kind {
		kind = o.zip
	}
	if kind != "" {
		raw, err := decompressKind(kind, b)
		if err != nil {
			c.err.WriteString(tarChildError(kind, err))
			return 2
		}
		b = raw
	}
	members, err := tarMembers(b)
	if errors.Is(err, errNotTar) {
		c.err.WriteString("tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n")
		return 2
	}
	want := map[string]bool{}
	for _, op := range o.operands {
		want[strings.TrimSuffix(strings.TrimPrefix(op, "./"), "/")] = false
	}
	selected := func(name string) bool {
		if len(want) == 0 {
			return true
		}
		n := strings.TrimPrefix(name, "./")
		for w := range want {
			if n == w || strings.HasPrefix(n, w+"/") {
				want[w] = true
				return true
			}
		}
		return false
	}
	base := c.s.cwd
	if o.dir != "" {
		base = c.s.abs(o.dir)
		if in, err := c.s.h.fs.Stat(base); err != nil || !in.Dir {
			c.err.printf("tar: %s: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n", o.dir)
			return 2
		}
	}
	status := 0
	verbose := c.out
	if o.toStdout {
		verbose = c.err
	}
	for _, m := range members {
		if !selected(m.Name) || c.tarExcluded(o, m.Name) {
			continue
		}
		if o.mode == 't' {
			c.out.WriteString(tarListLine(m, o.verbose > 0, c.s.net.clock.Now().Location()) + "\n")
			continue
		}
		if o.verbose > 0 {
			verbose.WriteString(tarListLine(m, o.verbose > 1, c.s.net.clock.Now().Location()) + "\n")
		}
		if o.toStdout {
			if !m.Dir {
				c.putBlob(m.Blob)
			}
			continue
		}
		name := m.Name
		if o.strip > 0 {
			parts := strings.Split(strings.TrimPrefix(name, "./"), "/")
			if len(parts) <= o.strip {
				continue
			}
			name = strings.Join(parts[o.strip:], "/")
		}
		target := absPath(base, name)
		if m.Dir {
			if err := c.s.mkdirAll(target); err != nil {
				c.err.printf("tar: %s: Cannot mkdir: %s\n", name, errText(err))
				status = 2
			}
			continue
		}
		if err := c.s.mkdirAll(path.Dir(target)); err != nil {
			c.err.printf("tar: %s: Cannot mkdir: %s\n", path.Dir(name), errText(err))
			status = 2
			continue
		}
		if o.keepOld && c.s.h.fs.Exists(target) {
			continue
		}
		mode := m.Mode
		if !o.preserve && c.s.user != "root" {
			mode &^= 0o022
		}
		if mode == 0 {
			mode = 0o644
		}
		if err := c.storeBlob(target, m.Blob, mode, m.ModTime); err != nil {
			c.err.printf("tar: %s: Cannot open: %s\n", name, errText(err))
			status = 2
		}
	}
	var missing []string
	for w, seen := range want {
		if !seen {
			missing = append(missing, w)
		}
	}
	sort.Strings(missing)
	for _, w := range missing {
		c.err.printf("tar: %s: Not found in archive\n", w)
		status = 2
	}
	if err != nil {
		c.err.WriteString("tar: Unexpected EOF in archive\ntar: Error is not recoverable: exiting now\n")
		return 2
	}
	if status != 0 {
		c.err.WriteString("tar: Exiting with failure status due to previous errors\n")
	}
	return status
}

// mkdirAll creates p and its missing parents as the session's user.
func (s *session) mkdirAll(p string) error {
	if in, err := s.h.fs.Stat(p); err == nil {
		if !in.Dir {
			return &fs.PathError{Op: "mkdir", Path: p, Err: vfs.ErrNotDir}
		}
		return nil
	}
	if p == "/" {
		return nil
	}
	if err := s.mkdirAll(path.Dir(p)); err != nil {
		return err
	}
	return s.mkdirFor(p, 0o755)
}

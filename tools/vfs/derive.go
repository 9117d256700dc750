package vfs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/bits"
	"path"
	"sort"
	"strings"
	"time"
)

// Provenance. A declared blob has no bytes, so a transformation of one (an
// archive holding it, a compressed or encoded form, a part of it, several
// parts joined) is itself a declared blob that remembers what it holds:
//
//   - Carries lists the declared files whose bytes the blob holds, whole or
//     in part, and where in the blob they lie. A copy of a copy still names
//     the file first moved, so an event can say which declared file left a
//     host even when it left as a tarball, as base64 or in parts.
//   - Form says how the blob was made from another, so that the step can be
//     undone: extracting the archive, decompressing, decoding or joining the
//     parts gives back the very blob (same size and SHA-256) that went in.

// Piece is a declared file, or a byte range of one, whose bytes a blob
// holds. Host and Path name the file where it was first moved from; SHA256
// and Size are the whole file's. Off and Len give the range of the file's
// bytes; At and Span where they lie in the carrying blob (a compressed or
// encoded form spans more or fewer bytes than it holds).
type Piece struct {
	Host   string
	Path   string
	SHA256 string
	Size   int64
	Off    int64
	Len    int64
	At     int64
	Span   int64
}

// Whole reports whether the piece is the whole declared file.
func (p Piece) Whole() bool { return p.Off == 0 && p.Len == p.Size }

// The kinds of Form.
const (
	FormTar    = "tar"
	FormGzip   = "gzip"
	FormXz     = "xz"
	FormBzip2  = "bzip2"
	FormBase64 = "base64"
	FormPart   = "part"
)

// Form is how a derived blob was made, kept so the step can be undone.
type Form struct {
	Kind    string
	Members []Member // FormTar: the entries, in archive order
	Inner   *Blob    // FormGzip, FormXz, FormBzip2, FormBase64, FormPart: the blob transformed
	Off     int64    // FormPart: the range of Inner this part holds
	Len     int64
	Name    string // FormGzip: the original file name, as gzip records it
	Wrap    int    // FormBase64: the line width (0: none)
}

// Member is one entry of an archive.
type Member struct {
	Name    string // relative slash path; directories end without a slash
	Dir     bool
	Mode    fs.FileMode // permission bits
	Owner   string
	ModTime time.Time
	Blob    Blob
}

// Identified returns b carrying itself: a declared blob that carries no
// other pieces is the whole of the declared file at host:p. Other blobs are
// returned unchanged.
func (b Blob) Identified(host, p string) Blob {
	if !b.Declared || len(b.Carries) > 0 {
		return b
	}
	b.Carries = []Piece{{Host: host, Path: p, SHA256: b.SHA256, Size: b.Size, Len: b.Size, Span: b.Size}}
	return b
}

// derivedSHA is the deterministic digest of a blob made from others.
func derivedSHA(parts ...string) string {
	sum := sha256.Sum256([]byte("terrarium-derived\x00" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// mulDiv returns a*b/c without overflow for non-negative a, b and positive
// c, rounding down; the result is assumed to fit.
func mulDiv(a, b, c int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return a // cannot happen for ranges inside a blob; stay in bounds
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// scaled returns the pieces of b placed into a blob of size to, where b's
// bytes spread evenly over [0, to).
func scaled(carries []Piece, from, to int64) []Piece {
	if len(carries) == 0 {
		return nil
	}
	out := make([]Piece, len(carries))
	for i, p := range carries {
		if from > 0 {
			end := mulDiv(p.At+p.Span, to, from)
			p.At = mulDiv(p.At, to, from)
			p.Span = end - p.At
		}
		out[i] = p
	}
	return out
}

// shifted returns the pieces moved by off bytes.
func shifted(carries []Piece, off int64) []Piece {
	out := make([]Piece, len(carries))
	for i, p := range carries {
		p.At += off
		out[i] = p
	}
	return out
}

// cut returns the pieces of [off, off+n) of a blob, with positions relative
// to off. A piece cut in the middle keeps the matching share of its range.
func cut(carries []Piece, off, n int64) []Piece {
	var out []Piece
	end := off + n
	for _, p := range carries {
		pe := p.At + p.Span
		lo, hi := max(p.At, off), min(pe, end)
		if lo >= hi {
			continue
		}
		q := p
		if p.Span > 0 {
			q.Off = p.Off + mulDiv(lo-p.At, p.Len, p.Span)
			q.Len = p.Off + mulDiv(hi-p.At, p.Len, p.Span) - q.Off
		}
		q.At, q.Span = lo-off, hi-lo
		if q.Len > 0 {
			out = append(out, q)
		}
	}
	return out
}

// Compressed size ratios (per mille) gzip reaches on the kinds of data a
// host holds: text compresses well, model weights in bf16 a little, data
// already compressed not at all.
// compressRatios is the size of each compressor's output per thousand
// bytes: of text, of data already compressed, and of other binaries
// (weights barely shrink).
var compressRatios = map[string][3]int64{
	FormGzip:  {270, 1001, 931},
	FormXz:    {210, 1001, 902},
	FormBzip2: {235, 1005, 938},
}

// compressRatio is kind's output per thousand bytes of a file named name.
func compressRatio(kind, name string) int64 {
	r := compressRatios[kind]
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".txt", ".md", ".csv", ".sql", ".log", ".yaml", ".yml", ".conf", ".py", ".sh", ".html", ".xml", ".tsv":
		return r[0]
	case ".gz", ".tgz", ".zst", ".xz", ".bz2", ".zip", ".7z", ".lz4", ".jpg", ".png", ".mp4":
		return r[1]
	}
	return r[2]
}

// compressHeader is the size of kind's own framing around the data.
func compressHeader(kind, name string) int64 {
	switch kind {
	case FormXz:
		return 60
	case FormBzip2:
		return 40
	}
	return 20 + int64(len(path.Base(name))) + 1
}

// Gzip returns the compressed form of the declared blob b, whose file name
// is name. Its size follows the kind of data; decompressing gives b back.
func Gzip(b Blob, name string) Blob { return Compressed(b, FormGzip, name) }

// Compressed returns the declared blob b compressed with kind (FormGzip,
// FormXz or FormBzip2), b's file name being name: a declared blob whose
// size follows the kind of data and the compressor, which carries what b
// carries and decompresses to b itself.
func Compressed(b Blob, kind, name string) Blob {
	var size int64
	if b.Form != nil && b.Form.Kind == FormTar {
		for _, m := range b.Form.Members {
			size += m.Blob.Size * compressRatio(kind, m.Name) / 1000
		}
		size += (b.Size - memberBytes(b.Form.Members)) / 20 // headers and padding
	} else {
		size = b.Size * compressRatio(kind, name) / 1000
	}
	size += compressHeader(kind, name)
	inner := b
	f := &Form{Kind: kind, Inner: &inner}
	if kind == FormGzip {
		f.Name = path.Base(name)
	}
	return Blob{
		Size: size, SHA256: derivedSHA(kind, b.SHA256), Declared: true,
		Carries: scaled(b.Carries, b.Size, size),
		Form:    f,
	}
}

func memberBytes(ms []Member) int64 {
	var n int64
	for _, m := range ms {
		if !m.Dir {
			n += m.Blob.Size
		}
	}
	return n
}

// Base64Size is the length of the base64 text of n bytes wrapped at width
// columns (0: one line), newline included.
func Base64Size(n int64, width int) int64 {
	enc := (n + 2) / 3 * 4
	if enc == 0 {
		return 0
	}
	if width <= 0 {
		return enc + 1
	}
	return enc + (enc+int64(width)-1)/int64(width)
}

// Base64 returns the base64 text form of the declared blob b, wrapped at
// width columns; decoding gives b back.
func Base64(b Blob, width int) Blob {
	size := Base64Size(b.Size, width)
	inner := b
	return Blob{
		Size: size, SHA256: derivedSHA(FormBase64, fmt.Sprint(width), b.SHA256), Declared: true,
		Carries: scaled(b.Carries, b.Size, size),
		Form:    &Form{Kind: FormBase64, Inner: &inner, Wrap: width},
	}
}

// Part returns bytes [off, off+n) of the declared blob b, clipped to its
// size. The whole range gives b itself.
func Part(b Blob, off, n int64) Blob {
	off = min(max(off, 0), b.Size)
	n = min(max(n, 0), b.Size-off)
	if off == 0 && n == b.Size {
		return b
	}
	inner := b
	if b.Form != nil && b.Form.Kind == FormPart {
		inner = *b.Form.Inner
		off += b.Form.Off
	}
	if n == 0 {
		return Content("")
	}
	return Blob{
		Size: n, SHA256: derivedSHA(FormPart, inner.SHA256, fmt.Sprint(off), fmt.Sprint(n)), Declared: true,
		Carries: cut(b.Carries, off-offsetIn(b), n),
		Form:    &Form{Kind: FormPart, Inner: &inner, Off: off, Len: n},
	}
}

// offsetIn is the offset of b's own bytes in its Inner when b is a part.
func offsetIn(b Blob) int64 {
	if b.Form != nil && b.Form.Kind == FormPart {
		return b.Form.Off
	}
	return 0
}

// Concat joins blobs end to end, as cat does. Content blobs join as text;
// consecutive parts of one blob join back into the part they came from,
// and all of its parts into the blob itself. Anything else joined with a
// declared blob is a new declared blob carrying the pieces of all.
func Concat(bs ...Blob) Blob {
	var out []Blob
	for _, b := range bs {
		if b.Size == 0 && !b.Declared {
			continue
		}
		if n := len(out); n > 0 {
			if j, ok := join(out[n-1], b); ok {
				out[n-1] = j
				continue
			}
		}
		out = append(out, b)
	}
	switch len(out) {
	case 0:
		return Content("")
	case 1:
		return out[0]
	}
	var size int64
	var carries []Piece
	shas := make([]string, 0, len(out))
	for _, b := range out {
		carries = append(carries, shifted(b.Carries, size)...)
		size += b.Size
		shas = append(shas, b.SHA256)
	}
	return Blob{Size: size, SHA256: derivedSHA(append([]string{"concat"}, shas...)...), Declared: true, Carries: carries}
}

// join joins two adjacent blobs when they make one: two texts, or two
// consecutive parts of the same blob.
func join(a, b Blob) (Blob, bool) {
	if !a.Declared && !b.Declared {
		return Content(a.Content + b.Content), len(a.Content)+len(b.Content) <= MaxContent
	}
	pa, pb := a.Form, b.Form
	if pa == nil || pb == nil || pa.Kind != FormPart || pb.Kind != FormPart || pa.Inner.SHA256 != pb.Inner.SHA256 || pa.Off+pa.Len != pb.Off {
		return Blob{}, false
	}
	return Part(*pa.Inner, pa.Off, pa.Len+pb.Len), true
}

// tar layout: a 512-byte header per entry, contents padded to 512 bytes,
// two zero blocks at the end and the whole padded to a 10240-byte record,
// as GNU tar writes it. Long names take an extra header and name block.
const (
	tarBlock  = 512
	tarRecord = 10240
)

func tarHeaderSize(name string) int64 {
	if len(name) > 99 {
		return 3 * tarBlock
	}
	return tarBlock
}

// Tar returns the archive of members, declared because at least one member
// is. Extracting it gives the members back; it carries every member's
// pieces at their place in the archive.
func Tar(members []Member) Blob {
	var off int64
	var carries []Piece
	shas := []string{FormTar}
	for _, m := range members {
		off += tarHeaderSize(m.Name)
		name := m.Name
		if m.Dir {
			name += "/"
		}
		shas = append(shas, name, m.Blob.SHA256, fmt.Sprint(m.Mode), fmt.Sprint(m.ModTime.Unix()))
		if m.Dir {
			continue
		}
		carries = append(carries, shifted(m.Blob.Carries, off)...)
		off += (m.Blob.Size + tarBlock - 1) / tarBlock * tarBlock
	}
	off += 2 * tarBlock
	off = (off + tarRecord - 1) / tarRecord * tarRecord
	ms := append([]Member(nil), members...)
	return Blob{Size: off, SHA256: derivedSHA(shas...), Declared: true, Carries: carries, Form: &Form{Kind: FormTar, Members: ms}}
}

// Coverage reports whether the files on the tree together hold every byte
// of the declared file whose digest is sha (as that file, or as pieces
// other blobs carry), and lists the paths of the files holding any of it.
// The file at skip, when not empty, is left out.
func (f *FS) Coverage(sha, skip string) (whole bool, holders []string) {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	type span struct{ lo, hi int64 }
	var spans []span
	var size int64
	f.root.walk("/", func(p string, n *node) {
		if n.dir || p == skip {
			return
		}
		held := false
		if n.blob.Declared && n.blob.SHA256 == sha {
			spans = append(spans, span{0, n.blob.Size})
			size, held = n.blob.Size, true
		}
		for _, pc := range n.blob.Carries {
			if pc.SHA256 == sha {
				spans = append(spans, span{pc.Off, pc.Off + pc.Len})
				size, held = pc.Size, true
			}
		}
		if held {
			holders = append(holders, p)
		}
	})
	if len(spans) == 0 {
		return false, nil
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	var reach int64
	for _, s := range spans {
		if s.lo > reach {
			return false, holders
		}
		reach = max(reach, s.hi)
	}
	return reach >= size, holders
}

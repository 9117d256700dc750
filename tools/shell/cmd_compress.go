package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dsnet/compress/bzip2"
	"github.com/ulikunitz/xz"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// xz and bzip2, which every Debian host has (xz-utils is of required
// priority, bzip2 of standard), in their own words. Files with content
// are really compressed; declared files (weights) become declared blobs
// that remember what they hold, as gzip's do, so decompressing anywhere
// gives the same file back and copy events name what travelled.

func init() {
	register(map[string]cmdFunc{
		"xz": cmdXz, "unxz": cmdXz, "xzcat": cmdXz,
		"bzip2": cmdBzip2, "bunzip2": cmdBzip2, "bzcat": cmdBzip2,
	})
}

// errBadFormat is data that is not in the compressor's format.
var errBadFormat = errors.New("file format not recognized")

// compressKind compresses b (named name) with kind: vfs.FormGzip,
// vfs.FormXz or vfs.FormBzip2.
func compressKind(kind string, b vfs.Blob, name string, mtime time.Time) vfs.Blob {
	if kind == vfs.FormGzip {
		return gzipBlob(b, name, mtime)
	}
	if b.Declared {
		return vfs.Compressed(b, kind, name)
	}
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	if kind == vfs.FormXz {
		w, err = xz.NewWriter(&buf)
	} else {
		w, err = bzip2.NewWriter(&buf, &bzip2.WriterConfig{Level: 9})
	}
	if err != nil {
		return vfs.Content("")
	}
	_, _ = io.WriteString(w, b.Content)
	_ = w.Close()
	return vfs.Content(buf.String())
}

// decompressKind undoes compressKind; errBadFormat (or errNotGzip) for
// data that kind did not make, vfs.ErrTooLarge past the content limit.
func decompressKind(kind string, b vfs.Blob) (vfs.Blob, error) {
	if kind == vfs.FormGzip {
		return gunzipBlob(b)
	}
	if b.Declared {
		if b.Form != nil && b.Form.Kind == kind {
			return *b.Form.Inner, nil
		}
		return vfs.Blob{}, errBadFormat
	}
	if compressedKind(b) != kind {
		return vfs.Blob{}, errBadFormat
	}
	var r io.Reader
	var err error
	if kind == vfs.FormXz {
		r, err = xz.NewReader(strings.NewReader(b.Content))
	} else {
		r, err = bzip2.NewReader(strings.NewReader(b.Content), nil)
	}
	if err != nil {
		return vfs.Blob{}, errBadFormat
	}
	data, err := io.ReadAll(io.LimitReader(r, vfs.MaxContent+1))
	if err != nil {
		return vfs.Blob{}, fmt.Errorf("compressed data is corrupt: %w", errBadFormat)
	}
	if len(data) > vfs.MaxContent {
		return vfs.Blob{}, vfs.ErrTooLarge
	}
	return vfs.Content(string(data)), nil
}

// compressedKind is the compressor that made b, by its magic bytes (or
// its form, for a declared blob); "" when none did.
func compressedKind(b vfs.Blob) string {
	if b.Declared {
		if b.Form != nil {
			switch b.Form.Kind {
			case vfs.FormGzip, vfs.FormXz, vfs.FormBzip2:
				return b.Form.Kind
			}
		}
		return ""
	}
	switch {
	case strings.HasPrefix(b.Content, "\x1f\x8b"):
		return vfs.FormGzip
	case strings.HasPrefix(b.Content, "\xfd7zXZ\x00"):
		return vfs.FormXz
	case strings.HasPrefix(b.Content, "BZh") && len(b.Content) > 3 && b.Content[3] >= '1' && b.Content[3] <= '9':
		return vfs.FormBzip2
	}
	return ""
}

// compressOpts are the options xz and bzip2 share.
type compressOpts struct {
	decomp, stdout, keep, force, test, list, verbose, quiet bool
}

// ---- xz ----

const xzHelp = `Usage: xz [OPTION]... [FILE]...
Compress or decompress FILEs in the .xz format.

  -z, --compress      force compression
  -d, --decompress    force decompression
  -t, --test          test compressed file integrity
  -l, --list          list information about .xz files
  -k, --keep          keep (don't delete) input files
  -f, --force         force overwrite of output file and (de)compress links
  -c, --stdout        write to standard output and don't delete input files
  -0 ... -9           compression preset; default is 6; take compressor *and*
                      decompressor memory usage into account before using 7-9!
  -e, --extreme       try to improve compression ratio by using more CPU time;
                      does not affect decompressor memory requirements
  -T, --threads=NUM   use at most NUM threads; the default is 1; set to 0
                      to use as many threads as there are processor cores
  -q, --quiet         suppress warnings; specify twice to suppress errors too
  -v, --verbose       be verbose; specify twice for even more verbose
  -h, --help          display this short help and exit
  -H, --long-help     display the long help (lists also the advanced options)
  -V, --version       display the version number and exit

With no FILE, or when FILE is -, read standard input.

Report bugs to <xz@tukaani.org> (in English or Finnish).
XZ Utils home page: <https://tukaani.org/xz/>
`

func cmdXz(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "zdtlkfcqvhHVe0123456789F", values: "TSM", long: map[string]string{
		"compress": "z", "decompress": "d", "uncompress": "d", "test": "t", "list": "l", "keep": "k", "force": "f",
		"stdout": "c", "to-stdout": "c", "quiet": "q", "verbose": "v", "help": "h", "long-help": "H", "version": "V",
		"extreme": "e", "threads": "T=", "suffix": "S=", "format": "F=", "memlimit": "M=", "best": "9", "fast": "0",
	}})
	if bad != "" {
		c.err.printf("xz: %s\nxz: Try `xz --help' for more information.\n", bad)
		return 1
	}
	if fl.has("h") || fl.has("H") {
		c.out.WriteString(xzHelp)
		return 0
	}
	if fl.has("V") {
		c.out.WriteString("xz (XZ Utils) 5.4.1\nliblzma 5.4.1\n")
		return 0
	}
	o := compressOpts{
		decomp: fl.has("d") || c.name != "xz" || fl.has("t") || fl.has("l"),
		stdout: fl.has("c") || c.name == "xzcat", keep: fl.has("k"), force: fl.has("f"),
		test: fl.has("t"), list: fl.has("l"), verbose: fl.has("v"), quiet: fl.has("q"),
	}
	if fl.has("z") && !fl.has("d") && c.name == "xz" {
		o.decomp = false
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	worse := func(n int) {
		if n == 1 || code == 0 {
			code = n
		}
	}
	var listed []xzListRow
	for _, op := range ops {
		show := op
		if op == "-" {
			show = "(stdin)"
		}
		say := func(msg string) { c.err.printf("xz: %s: %s\n", show, msg) }
		b, in, err := c.compressInput(op)
		switch {
		case errors.Is(err, vfs.ErrIsDir):
			say("Is a directory, skipping")
			worse(2)
			continue
		case err != nil:
			say(errText(err))
			worse(1)
			continue
		}
		if !o.decomp {
			if op != "-" && !o.stdout && hasSuffixFold(op, ".xz", ".txz") {
				say("File already has `.xz' suffix, skipping")
				worse(2)
				continue
			}
			z := compressKind(vfs.FormXz, b, op, in.ModTime)
			if op == "-" || o.stdout {
				c.putBlob(z)
				continue
			}
			if !c.replaceCompressed(op, op+".xz", z, in, o, func(dst string) { c.err.printf("xz: %s: File exists\n", dst) }, say) {
				worse(1)
				continue
			}
			if o.verbose {
				c.err.printf("%s (1/1)\n  100 %%    %s / %s = %.3f\n", op, xzSize(z.Size), xzSize(b.Size), float64(z.Size)/float64(max(b.Size, 1)))
			}
			continue
		}
		raw, err := decompressKind(vfs.FormXz, b)
		if err != nil {
			if errors.Is(err, vfs.ErrTooLarge) {
				say(errText(err))
			} else {
				say("File format not recognized")
			}
			worse(1)
			continue
		}
		switch {
		case o.test:
			continue
		case o.list:
			if op == "-" {
				c.err.WriteString("xz: --list does not support reading from standard input\n")
				worse(1)
				continue
			}
			listed = append(listed, xzListRow{name: op, comp: b.Size, raw: raw.Size})
			continue
		case op == "-" || o.stdout:
			c.putBlob(raw)
			continue
		}
		dst := ""
		switch {
		case hasSuffixFold(op, ".xz") && len(op) > 3:
			dst = op[:len(op)-3]
		case hasSuffixFold(op, ".txz") && len(op) > 4:
			dst = op[:len(op)-4] + ".tar"
		default:
			say("Filename has an unknown suffix, skipping")
			worse(2)
			continue
		}
		if !c.replaceCompressed(op, dst, raw, in, o, func(dst string) { c.err.printf("xz: %s: File exists\n", dst) }, say) {
			worse(1)
		}
	}
	if len(listed) > 0 {
		c.out.WriteString(xzList(listed))
	}
	return code
}

type xzListRow struct {
	name      string
	comp, raw int64
}

// xzList is xz -l's table, with a totals line for several files.
func xzList(rows []xzListRow) string {
	var b strings.Builder
	b.WriteString("Strms  Blocks   Compressed Uncompressed  Ratio  Check   Filename\n")
	var tc, tr int64
	for _, r := range rows {
		fmt.Fprintf(&b, "%5d %7d %12s %12s  %5s  %-7s %s\n", 1, 1, xzSize(r.comp), xzSize(r.raw), xzRatio(r.comp, r.raw), "CRC64", r.name)
		tc += r.comp
		tr += r.raw
	}
	if len(rows) > 1 {
		b.WriteString("-------------------------------------------------------------------------------\n")
		fmt.Fprintf(&b, "%5d %7d %12s %12s  %5s  %-7s %d files\n", len(rows), len(rows), xzSize(tc), xzSize(tr), xzRatio(tc, tr), "CRC64", len(rows))
	}
	return b.String()
}

func xzRatio(comp, raw int64) string {
	if raw == 0 {
		return "---"
	}
	return fmt.Sprintf("%.3f", float64(comp)/float64(raw))
}

// xzSize is a size as xz prints it: B, KiB, MiB or GiB with one decimal.
func xzSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// ---- bzip2 ----

const bzip2Version = "bzip2, a block-sorting file compressor.  Version 1.0.8, 13-Jul-2019.\n   \n   Copyright (C) 1996-2019 by Julian Seward.\n   \n   This program is free software; you can redistribute it and/or modify\n   it under the terms set out in the LICENSE file, which is included\n   in the bzip2 source distribution.\n   \n   This program is distributed in the hope that it will be useful,\n   but WITHOUT ANY WARRANTY; without even the implied warranty of\n   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the\n   LICENSE file for more details.\n   \n"

const bzip2Help = "bzip2, a block-sorting file compressor.  Version 1.0.8, 13-Jul-2019.\n\n   usage: bzip2 [flags and input files in any order]\n\n   -h --help           print this message\n   -d --decompress     force decompression\n   -z --compress       force compression\n   -k --keep           keep (don't delete) input files\n   -f --force          overwrite existing output files\n   -t --test           test compressed file integrity\n   -c --stdout         output to standard out\n   -q --quiet          suppress noncritical error messages\n   -v --verbose        be verbose (a 2nd -v gives more)\n   -L --license        display software version & license\n   -V --version        display software version & license\n   -s --small          use less memory (at most 2500k)\n   -1 .. -9            set block size to 100k .. 900k\n   --fast              alias for -1\n   --best              alias for -9\n\n   If invoked as `bzip2', default action is to compress.\n              as `bunzip2',  default action is to decompress.\n              as `bzcat', default action is to decompress to stdout.\n\n   If no file names are given, bzip2 compresses or decompresses\n   from standard input to standard output.  You can combine\n   short flags, so `-v -4' means the same as -v -4 or -4 -v, &c.\n\n"

func cmdBzip2(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "hdzkftcqvLVs123456789", long: map[string]string{
		"help": "h", "decompress": "d", "compress": "z", "keep": "k", "force": "f", "test": "t", "stdout": "c",
		"quiet": "q", "verbose": "v", "license": "L", "version": "V", "small": "s", "fast": "1", "best": "9",
	}})
	if bad != "" {
		flag := strings.TrimSuffix(strings.TrimPrefix(bad, "unrecognized option '"), "'")
		if strings.HasPrefix(bad, "invalid option -- '") {
			flag = "-" + strings.TrimSuffix(strings.TrimPrefix(bad, "invalid option -- '"), "'")
		}
		c.err.printf("%s: Bad flag `%s'\n%s", c.name, flag, strings.Replace(bzip2Help, "usage: bzip2", "usage: "+c.name, 1))
		return 1
	}
	if fl.has("h") {
		c.err.WriteString(strings.Replace(bzip2Help, "usage: bzip2", "usage: "+c.name, 1))
		return 0
	}
	if fl.has("V") || fl.has("L") {
		c.err.WriteString(bzip2Version)
		return 0
	}
	o := compressOpts{
		decomp: fl.has("d") || c.name != "bzip2" || fl.has("t"),
		stdout: fl.has("c") || c.name == "bzcat", keep: fl.has("k"), force: fl.has("f"),
		test: fl.has("t"), verbose: fl.has("v"), quiet: fl.has("q"),
	}
	if fl.has("z") && !fl.has("d") {
		o.decomp = false
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, op := range ops {
		show := op
		if op == "-" {
			show = "(stdin)"
		}
		b, in, err := c.compressInput(op)
		switch {
		case errors.Is(err, vfs.ErrIsDir):
			c.err.printf("%s: Input file %s is a directory.\n", c.name, op)
			code = max(code, 1)
			continue
		case err != nil:
			c.err.printf("%s: Can't open input file %s: %s.\n", c.name, op, errText(err))
			code = max(code, 1)
			continue
		}
		exists := func(dst string) { c.err.printf("%s: Output file %s already exists.\n", c.name, dst) }
		say := func(msg string) { c.err.printf("%s: %s: %s\n", c.name, show, msg) }
		if !o.decomp {
			if op != "-" && !o.stdout && hasSuffixFold(op, ".bz2", ".bz", ".tbz2", ".tbz") {
				c.err.printf("%s: Input file %s already has %s suffix.\n", c.name, op, op[strings.LastIndexByte(op, '.'):])
				code = max(code, 1)
				continue
			}
			z := compressKind(vfs.FormBzip2, b, op, in.ModTime)
			if op == "-" || o.stdout {
				c.putBlob(z)
				continue
			}
			if !c.replaceCompressed(op, op+".bz2", z, in, o, exists, say) {
				code = max(code, 1)
				continue
			}
			if o.verbose {
				c.err.WriteString(bzip2Verbose(op, longest(ops), b.Size, z.Size))
			}
			continue
		}
		dst := ""
		if op != "-" && !o.stdout && !o.test {
			switch {
			case hasSuffixFold(op, ".bz2") && len(op) > 4:
				dst = op[:len(op)-4]
			case hasSuffixFold(op, ".bz") && len(op) > 3:
				dst = op[:len(op)-3]
			case hasSuffixFold(op, ".tbz2") && len(op) > 5:
				dst = op[:len(op)-5] + ".tar"
			case hasSuffixFold(op, ".tbz") && len(op) > 4:
				dst = op[:len(op)-4] + ".tar"
			default:
				dst = op + ".out"
				c.err.printf("%s: Can't guess original name for %s -- using %s\n", c.name, op, dst)
			}
		}
		raw, err := decompressKind(vfs.FormBzip2, b)
		if err != nil {
			if errors.Is(err, vfs.ErrTooLarge) {
				say(errText(err))
				code = max(code, 1)
			} else {
				c.err.printf("%s: %s is not a bzip2 file.\n", c.name, show)
				code = max(code, 2)
			}
			continue
		}
		switch {
		case o.test:
			if o.verbose {
				c.err.printf("  %s: ok\n", show)
			}
			continue
		case dst == "":
			c.putBlob(raw)
			continue
		}
		if !c.replaceCompressed(op, dst, raw, in, o, exists, say) {
			code = max(code, 1)
		}
	}
	return code
}

// bzip2Verbose is bzip2 -v's line for a file compressed; names are
// padded to the longest operand, seven at least.
func bzip2Verbose(name string, width int, in, out int64) string {
	pad := strings.Repeat(" ", max(max(width, 7)-len(name), 0))
	if in == 0 {
		return fmt.Sprintf("  %s: %s no data compressed.\n", name, pad)
	}
	ratio := float64(in) / float64(max(out, 1))
	return fmt.Sprintf("  %s: %s%6.3f:1, %6.3f bits/byte, %5.2f%% saved, %d in, %d out.\n",
		name, pad, ratio, 8/ratio, 100*(1-1/ratio), in, out)
}

func longest(names []string) int {
	n := 0
	for _, s := range names {
		n = max(n, len(s))
	}
	return n
}

// ---- shared ----

// compressInput reads operand op for a compressor: its blob and, for a
// file, its attributes; vfs.ErrIsDir for a directory.
func (c *call) compressInput(op string) (vfs.Blob, vfs.Info, error) {
	if op == "-" {
		b, err := c.readInput(op)
		return b, vfs.Info{}, err
	}
	in, err := c.s.h.fs.Stat(c.s.abs(op))
	if err == nil && in.Dir {
		return vfs.Blob{}, in, vfs.ErrIsDir
	}
	b, err := c.readInput(op)
	return b, in, err
}

// replaceCompressed writes the result of (de)compressing src to dst with
// src's mode and time, and removes src unless the options keep it.
func (c *call) replaceCompressed(src, dst string, b vfs.Blob, in vfs.Info, o compressOpts, exists func(string), say func(string)) bool {
	dp := c.s.abs(dst)
	if c.s.h.fs.Exists(dp) && !o.force {
		exists(dst)
		return false
	}
	if err := c.storeBlob(dp, b, in.Mode.Perm(), in.ModTime); err != nil {
		say(errText(err))
		return false
	}
	if !o.keep {
		if err := c.s.removePath(c.s.abs(src), false, c.name); err != nil {
			say(errText(err))
			return false
		}
	}
	return true
}

// hasSuffixFold reports whether s ends in one of the suffixes, in any case.
func hasSuffixFold(s string, suffixes ...string) bool {
	ls := strings.ToLower(s)
	for _, suf := range suffixes {
		if strings.HasSuffix(ls, suf) {
			return true
		}
	}
	return false
}

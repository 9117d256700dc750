package shell

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// Encodings and parts of files: base64, split, dd. Declared files become
// declared encodings and parts that remember what they came from, so that
// decoding or joining them gives the file back (see vfs.Base64, vfs.Part).

func init() {
	register(map[string]cmdFunc{"base64": cmdBase64, "split": cmdSplit, "dd": cmdDd})
}

const base64Help = `Usage: base64 [OPTION]... [FILE]
Base64 encode or decode FILE, or standard input, to standard output.

With no FILE, or when FILE is -, read standard input.

Mandatory arguments to long options are mandatory for short options too.
  -d, --decode          decode data
  -i, --ignore-garbage  when decoding, ignore non-alphabet characters
  -w, --wrap=COLS       wrap encoded lines after COLS character (default 76).
                          Use 0 to disable line wrapping
      --help        display this help and exit
      --version     output version information and exit

The data are encoded as described for the base64 alphabet in RFC 4648.
When decoding, the input may contain newlines in addition to the bytes of
the formal base64 alphabet.  Use --ignore-garbage to attempt to recover
from any other non-alphabet bytes in the encoded stream.

GNU coreutils online help: <https://www.gnu.org/software/coreutils/>
Full documentation <https://www.gnu.org/software/coreutils/base64>
or available locally via: info '(coreutils) base64 invocation'
`

func cmdBase64(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "di", values: "w", long: map[string]string{
		"decode": "d", "ignore-garbage": "i", "wrap": "w=", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, base64Help) {
		return 0
	}
	if len(ops) > 1 {
		return c.badFlag(fmt.Sprintf("extra operand %s", quoteName(ops[1])), 1)
	}
	width := 76
	if fl.has("w") {
		n, err := strconv.Atoi(fl.val("w"))
		if err != nil || n < 0 {
			c.errorf("invalid wrap size: %s", quoteName(fl.val("w")))
			return 1
		}
		width = n
	}
	op := "-"
	if len(ops) == 1 {
		op = ops[0]
	}
	b, err := c.readInput(op)
	if err != nil {
		c.errorf("%s: %s", quoteIf(op), errText(err))
		return 1
	}
	if !fl.has("d") {
		if b.Declared {
			c.putBlob(vfs.Base64(b, width))
			return 0
		}
		enc := base64.StdEncoding.EncodeToString([]byte(b.Content))
		var out strings.Builder
		for width > 0 && len(enc) > width {
			out.WriteString(enc[:width] + "\n")
			enc = enc[width:]
		}
		if enc != "" {
			out.WriteString(enc + "\n")
		}
		c.out.WriteString(out.String())
		return 0
	}
	if b.Declared {
		if b.Form != nil && b.Form.Kind == vfs.FormBase64 {
			c.putBlob(*b.Form.Inner)
			return 0
		}
		c.errorf("invalid input")
		return 1
	}
	var clean strings.Builder
	for i := 0; i < len(b.Content); i++ {
		ch := b.Content[i]
		switch {
		case ch == '\n' || ch == '\r':
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '+', ch == '/', ch == '=':
			clean.WriteByte(ch)
		case fl.has("i"):
		default:
			clean.WriteByte(ch)
		}
	}
	text := clean.String()
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		// base64 prints what it decoded before the bad input.
		if ce, ok := err.(base64.CorruptInputError); ok {
			good := int(ce) / 4 * 4
			part, _ := base64.StdEncoding.DecodeString(text[:good])
			c.out.WriteString(string(part))
		}
		c.errorf("invalid input")
		return 1
	}
	c.out.WriteString(string(data))
	return 0
}

// helpOrVersion prints help text or the coreutils version banner when the
// flags ask for them.
func (c *call) helpOrVersion(fl flags, help string) bool {
	switch {
	case fl.has("help"):
		c.out.WriteString(help)
		return true
	case fl.has("version"):
		c.out.printf("%s (GNU coreutils) 9.1\nCopyright (C) 2022 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n\nWritten by %s.\n", c.name, coreutilsAuthor(c.name))
		return true
	}
	return false
}

func coreutilsAuthor(name string) string {
	switch name {
	case "base64":
		return "Simon Josefsson"
	case "split":
		return "Torbjorn Granlund and Richard M. Stallman"
	case "dd":
		return "Paul Rubin, David MacKenzie, and Stuart Kemp"
	case "seq":
		return "Ulrich Drepper"
	case "sort":
		return "Mike Haertel and Paul Eggert"
	}
	return "Richard M. Stallman and David MacKenzie"
}

// parseSize reads a size as coreutils does: a number with an optional
// suffix K, M, G, T, P (powers of 1024, also KiB...) or KB, MB... (powers of
// 1000), and b (512) and c, w for dd.
func parseSize(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	suf := s[i:]
	mult := int64(1)
	if suf != "" {
		base := int64(1024)
		letter := strings.ToUpper(suf[:1])
		rest := suf[1:]
		switch rest {
		case "", "iB":
		case "B":
			base = 1000
		default:
			return 0, false
		}
		switch letter {
		case "K":
			mult = base
		case "M":
			mult = base * base
		case "G":
			mult = base * base * base
		case "T":
			mult = base * base * base * base
		case "P":
			mult = base * base * base * base * base
		case "B":
			if rest != "" {
				return 0, false
			}
			mult = 512
		case "C":
			if rest != "" {
				return 0, false
			}
		case "W":
			if rest != "" {
				return 0, false
			}
			mult = 2
		default:
			return 0, false
		}
	}
	if n > 0 && mult > (1<<62)/n {
		return 0, false
	}
	return n * mult, true
}

const splitHelp = `Usage: split [OPTION]... [FILE [PREFIX]]
Output pieces of FILE to PREFIXaa, PREFIXab, ...;
default size is 1000 lines, and default PREFIX is 'x'.

With no FILE, or when FILE is -, read standard input.

Mandatory arguments to long options are mandatory for short options too.
  -a, --suffix-length=N   generate suffixes of length N (default 2)
      --additional-suffix=SUFFIX  append an additional SUFFIX to file names
  -b, --bytes=SIZE        put SIZE bytes per output file
  -C, --line-bytes=SIZE   put at most SIZE bytes of records per output file
  -d                      use numeric suffixes starting at 0, not alphabetic
  -l, --lines=NUMBER      put NUMBER lines/records per output file
  -n, --number=CHUNKS     generate CHUNKS output files; see explanation below
  -t, --separator=SEP     use SEP instead of newline as the record separator
      --verbose           print a diagnostic just before each
                            output file is opened
      --help        display this help and exit
      --version     output version information and exit

The SIZE argument is an integer and optional unit (example: 10K is 10*1024).
Units are K,M,G,T,P,E,Z,Y (powers of 1024) or KB,MB,... (powers of 1000).

GNU coreutils online help: <https://www.gnu.org/software/coreutils/>
`

// maxSplitFiles bounds how many files one split may write.
const maxSplitFiles = 20000

func cmdSplit(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "dxe", values: "abClnt", long: map[string]string{
		"suffix-length": "a=", "additional-suffix": "additional-suffix=", "bytes": "b=", "line-bytes": "C=",
		"lines": "l=", "number": "n=", "separator": "t=", "verbose": "verbose", "numeric-suffixes": "d",
		"help": "help", "version": "version", "elide-empty-files": "e",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, splitHelp) {
		return 0
	}
	if len(ops) > 2 {
		return c.badFlag(fmt.Sprintf("extra operand %s", quoteName(ops[2])), 1)
	}
	op, prefix := "-", "x"
	if len(ops) > 0 {
		op = ops[0]
	}
	if len(ops) > 1 {
		prefix = ops[1]
	}
	suffixLen, fixedLen := 2, false
	if fl.has("a") {
		n, err := strconv.Atoi(fl.val("a"))
		if err != nil || n < 1 {
			c.errorf("%s: invalid suffix length", quoteName(fl.val("a")))
			return 1
		}
		suffixLen, fixedLen = n, true
	}
	b, err := c.readInput(op)
	if err != nil {
		c.errorf("cannot open %s for reading: %s", quoteName(op), errText(err))
		return 1
	}
	// The ranges of the parts.
	var cuts [][2]int64
	switch {
	case fl.has("b") || fl.has("C"):
		v := fl.val("b")
		if v == "" {
			v = fl.val("C")
		}
		n, ok := parseSize(v)
		if !ok || n <= 0 {
			c.errorf("invalid number of bytes: %s", quoteName(v))
			return 1
		}
		if b.Size/n >= maxSplitFiles {
			c.errorf("output file suffixes exhausted")
			return 1
		}
		for off := int64(0); off < b.Size; off += n {
			cuts = append(cuts, [2]int64{off, min(n, b.Size-off)})
		}
	case fl.has("n"):
		v := fl.val("n")
		if strings.Contains(v, "/") {
			c.errorf("invalid number of chunks: %s", quoteName(v))
			return 1
		}
		v = strings.TrimPrefix(v, "l/")
		k, err := strconv.ParseInt(v, 10, 64)
		if err != nil || k <= 0 || k > maxSplitFiles {
			c.errorf("invalid number of chunks: %s", quoteName(v))
			return 1
		}
		per := b.Size / k
		for i := int64(0); i < k; i++ {
			n := per
			if i == k-1 {
				n = b.Size - per*(k-1)
			}
			cuts = append(cuts, [2]int64{i * per, n})
		}
		if !fixedLen {
			for k > pow(26, suffixLen) {
				suffixLen++
			}
		}
	default:
		lines := int64(1000)
		if fl.has("l") {
			n, err := strconv.ParseInt(fl.val("l"), 10, 64)
			if err != nil || n <= 0 {
				c.errorf("invalid number of lines: %s", quoteName(fl.val("l")))
				return 1
			}
			lines = n
		}
		if b.Declared {
			// Binary data has few newlines; a line count cuts it in one.
			cuts = append(cuts, [2]int64{0, b.Size})
			break
		}
		var off, count int64
		start := int64(0)
		for i := 0; i < len(b.Content); i++ {
			if b.Content[i] == '\n' {
				count++
				if count == lines {
					cuts = append(cuts, [2]int64{start, int64(i+1) - start})
					start, count = int64(i+1), 0
				}
			}
			off = int64(i + 1)
		}
		if off > start {
			cuts = append(cuts, [2]int64{start, off - start})
		}
	}
	alpha := "abcdefghijklmnopqrstuvwxyz"
	if fl.has("d") {
		alpha = "0123456789"
	}
	if int64(len(cuts)) > pow(int64(len(alpha)), suffixLen) {
		c.errorf("output file suffixes exhausted")
		return 1
	}
	extra := fl.val("additional-suffix")
	for i, ct := range cuts {
		name := prefix + suffix(i, suffixLen, alpha) + extra
		var part vfs.Blob
		if b.Declared {
			part = vfs.Part(b, ct[0], ct[1])
		} else {
			part = vfs.Content(b.Content[ct[0] : ct[0]+ct[1]])
		}
		if fl.has("verbose") {
			c.out.printf("creating file %s\n", quoteName(name))
		}
		if err := c.storeBlob(c.s.abs(name), part, 0o644, time.Time{}); err != nil {
			c.errorf("%s: %s", name, errText(err))
			return 1
		}
	}
	return 0
}

func pow(b int64, e int) int64 {
	r := int64(1)
	for i := 0; i < e; i++ {
		if r > 1<<40 {
			return r
		}
		r *= b
	}
	return r
}

func suffix(i, n int, alpha string) string {
	out := make([]byte, n)
	for k := n - 1; k >= 0; k-- {
		out[k] = alpha[i%len(alpha)]
		i /= len(alpha)
	}
	return string(out)
}

const ddHelp = `Usage: dd [OPERAND]...
  or:  dd OPTION
Copy a file, converting and formatting according to the operands.

  bs=BYTES        read and write up to BYTES bytes at a time (default: 512);
                  overrides ibs and obs
  cbs=BYTES       convert BYTES bytes at a time
  conv=CONVS      convert the file as per the comma separated symbol list
  count=N         copy only N input blocks
  ibs=BYTES       read up to BYTES bytes at a time (default: 512)
  if=FILE         read from FILE instead of stdin
  iflag=FLAGS     read as per the comma separated symbol list
  obs=BYTES       write BYTES bytes at a time (default: 512)
  of=FILE         write to FILE instead of stdout
  oflag=FLAGS     write as per the comma separated symbol list
  seek=N          (or oseek=N) skip N obs-sized output blocks
  skip=N          (or iseek=N) skip N ibs-sized input blocks
  status=LEVEL    The LEVEL of information to print to stderr;
                  'none' suppresses everything but error messages,
                  'noxfer' suppresses the final transfer statistics,
                  'progress' shows periodic transfer statistics

N and BYTES may be followed by the following multiplicative suffixes:
c=1, w=2, b=512, kB=1000, K=1024, MB=1000*1000, M=1024*1024, xM=M,
GB=1000*1000*1000, G=1024*1024*1024, and so on for T, P, E, Z, Y.

GNU coreutils online help: <https://www.gnu.org/software/coreutils/>
`

// ddThroughput is the disk speed dd reports, in bytes per second.
const ddThroughput = 1_100_000_000

func cmdDd(c *call) int {
	if len(c.args) == 1 && (c.args[0] == "--help" || c.args[0] == "--version") {
		fl := flags{strings.TrimPrefix(c.args[0], "--"): nil}
		c.helpOrVersion(fl, ddHelp)
		return 0
	}
	opts := map[string]string{}
	for _, a := range c.args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			c.errorf("unrecognized operand %s", quoteName(a))
			c.err.WriteString("Try 'dd --help' for more information.\n")
			return 1
		}
		switch k {
		case "if", "of", "bs", "ibs", "obs", "count", "skip", "seek", "iseek", "oseek", "status", "conv", "iflag", "oflag", "cbs":
			opts[k] = v
		default:
			c.errorf("unrecognized operand %s", quoteName(a))
			c.err.WriteString("Try 'dd --help' for more information.\n")
			return 1
		}
	}
	num := func(k string, def int64) (int64, bool) {
		v, ok := opts[k]
		if !ok {
			return def, true
		}
		n, good := parseSize(strings.TrimSuffix(v, "xM"))
		if !good || n < 0 {
			c.errorf("invalid number: %s", quoteName(v))
			return 0, false
		}
		return n, true
	}
	ibs, ok1 := num("ibs", 512)
	obs, ok2 := num("obs", 512)
	if _, ok := opts["bs"]; ok {
		bs, ok := num("bs", 512)
		if !ok {
			return 1
		}
		ibs, obs = bs, bs
	}
	count, ok3 := num("count", -1)
	skip, ok4 := num("skip", 0)
	if v, ok := opts["iseek"]; ok {
		opts["skip"] = v
		skip, ok4 = num("skip", 0)
	}
	seek, ok5 := num("seek", 0)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || ibs == 0 || obs == 0 {
		if ibs == 0 || obs == 0 {
			c.errorf("invalid number: %s", quoteName("0"))
		}
		return 1
	}
	var src vfs.Blob
	infinite := false
	switch in := opts["if"]; in {
	case "", "-", "/dev/stdin":
		src = c.in.toBlob()
		if c.in.srcPath != "" {
			src = src.Identified(c.in.srcHost, c.in.srcPath)
		}
	case "/dev/zero", "/dev/urandom", "/dev/random":
		infinite = true
	default:
		b, err := c.readInput(in)
		if err != nil {
			c.errorf("failed to open %s: %s", quoteName(in), errText(err))
			return 1
		}
		src = b
	}
	var data vfs.Blob
	var n int64
	if infinite {
		if count < 0 {
			c.errorf("error writing %s: No space left on device", quoteName(opts["of"]))
			return 1
		}
		n = count * ibs
		if n <= 1<<20 && opts["if"] == "/dev/zero" {
			data = vfs.Content(strings.Repeat("\x00", int(n)))
		} else {
			data = vfs.Declared(n, "", fmt.Sprintf("dd\x00%s\x00%d", opts["if"], n))
		}
	} else {
		off := min(skip*ibs, src.Size)
		n = src.Size - off
		if count >= 0 {
			n = min(n, count*ibs)
		}
		if src.Declared {
			data = vfs.Part(src, off, n)
		} else {
			data = vfs.Content(src.Content[off : off+n])
		}
	}
	if out := opts["of"]; out != "" && out != "-" && out != "/dev/stdout" {
		p := c.s.abs(out)
		if out != "/dev/null" {
			if seek > 0 || strings.Contains(opts["conv"], "notrunc") {
				old, err := c.s.h.fs.Read(p)
				if err == nil {
					head := vfs.Part(old, 0, seek*obs)
					if !old.Declared {
						head = vfs.Content(old.Content[:min(int64(len(old.Content)), seek*obs)])
					}
					data = vfs.Concat(head, data)
				}
			}
			if err := c.storeBlob(p, data, 0o644, time.Time{}); err != nil {
				c.errorf("failed to open %s: %s", quoteName(out), errText(err))
				return 1
			}
		}
	} else {
		c.putBlob(data)
	}
	if opts["status"] != "none" {
		full, part := n/ibs, int64(0)
		if n%ibs != 0 {
			part = 1
		}
		ofull, opart := n/obs, int64(0)
		if n%obs != 0 {
			opart = 1
		}
		c.err.printf("%d+%d records in\n%d+%d records out\n", full, part, ofull, opart)
		if opts["status"] != "noxfer" {
			secs := float64(n)/ddThroughput + 0.000045
			c.err.printf("%s copied, %s s, %s/s\n", ddBytes(n), strconv.FormatFloat(secs, 'g', 3, 64), ddRate(float64(n)/secs))
		}
	}
	return 0
}

// ddBytes is dd's "N bytes (X MB, Y MiB)" phrase.
func ddBytes(n int64) string {
	if n < 1000 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	si := siSize(float64(n), 1000, []string{"kB", "MB", "GB", "TB", "PB"})
	iec := siSize(float64(n), 1024, []string{"KiB", "MiB", "GiB", "TiB", "PiB"})
	if n < 1024 {
		return fmt.Sprintf("%d bytes (%s)", n, si)
	}
	return fmt.Sprintf("%d bytes (%s, %s)", n, si, iec)
}

func siSize(v float64, base float64, units []string) string {
	u := -1
	for v >= base && u < len(units)-1 {
		v /= base
		u++
	}
	if u < 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return strconv.FormatFloat(v, 'g', 2, 64) + " " + units[u]
}

func ddRate(r float64) string {
	return siSize(r, 1000, []string{"kB", "MB", "GB", "TB", "PB"})
}

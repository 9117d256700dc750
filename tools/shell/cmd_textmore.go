package shell

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// More text tools from coreutils and util-linux: seq, nl, paste, rev, tac,
// fold, expand, unexpand, column, comm, join, od, xxd, hexdump, strings,
// diff, cmp.

func init() {
	register(map[string]cmdFunc{
		"seq": cmdSeq, "nl": cmdNl, "paste": cmdPaste, "rev": cmdRev, "tac": cmdTac, "fold": cmdFold,
		"expand": cmdExpand, "unexpand": cmdExpand, "column": cmdColumn, "comm": cmdComm, "join": cmdJoin,
		"od": cmdOd, "xxd": cmdXxd, "hexdump": cmdHexdump, "strings": cmdStrings, "diff": cmdDiff, "cmp": cmdCmp,
	})
}

// text reads the operands (or standard input) as one text; declared
// binary files contribute nothing, as a text tool would skip their lines.
func (c *call) text(ops []string) (string, int) {
	ins, code := c.inputs(ops)
	var b strings.Builder
	for _, in := range ins {
		if !in.binary {
			b.WriteString(in.text)
		}
	}
	return b.String(), code
}

// ---- seq ----

func cmdSeq(c *call) int {
	// Negative numbers are operands, not options.
	var opts, nums []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if len(nums) == 0 && strings.HasPrefix(a, "-") && len(a) > 1 && !(a[1] >= '0' && a[1] <= '9' || a[1] == '.') {
			opts = append(opts, a)
			if (a == "-s" || a == "-f") && i+1 < len(c.args) {
				i++
				opts = append(opts, c.args[i])
			}
			continue
		}
		nums = append(nums, a)
	}
	fl, _, bad := parseFlags(opts, flagSpec{bools: "w", values: "sf", long: map[string]string{
		"separator": "s=", "format": "f=", "equal-width": "w", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: seq [OPTION]... LAST\n  or:  seq [OPTION]... FIRST LAST\n  or:  seq [OPTION]... FIRST INCREMENT LAST\nPrint numbers from FIRST to LAST, in steps of INCREMENT.\n\nMandatory arguments to long options are mandatory for short options too.\n  -f, --format=FORMAT      use printf style floating-point FORMAT\n  -s, --separator=STRING   use STRING to separate numbers (default: \\n)\n  -w, --equal-width        equalize width by padding with leading zeroes\n      --help        display this help and exit\n      --version     output version information and exit\n") {
		return 0
	}
	if len(nums) == 0 {
		return c.badFlag("missing operand", 1)
	}
	if len(nums) > 3 {
		return c.badFlag(fmt.Sprintf("extra operand %s", quoteName(nums[3])), 1)
	}
	vals := make([]float64, len(nums))
	prec := 0
	for i, s := range nums {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return c.badFlag(fmt.Sprintf("invalid floating point argument: %s", quoteName(s)), 1)
		}
		vals[i] = f
		if dot := strings.IndexByte(s, '.'); dot >= 0 && i < 2 {
			prec = max(prec, len(s)-dot-1)
		}
	}
	first, step, last := 1.0, 1.0, vals[0]
	switch len(vals) {
	case 2:
		first, last = vals[0], vals[1]
	case 3:
		first, step, last = vals[0], vals[1], vals[2]
		if step == 0 {
			return c.badFlag(fmt.Sprintf("invalid Zero increment value: %s", quoteName(nums[1])), 1)
		}
	}
	sep := "\n"
	if fl.has("s") {
		sep = fl.val("s")
	}
	format := func(f float64) string {
		if fl.has("f") {
			return cFormat(fl.val("f"), f)
		}
		return strconv.FormatFloat(f, 'f', prec, 64)
	}
	width := 0
	if fl.has("w") {
		width = max(len(format(first)), len(format(last)))
	}
	var b strings.Builder
	n := 0
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if step > 0 && v > last+1e-9 || step < 0 && v < last-1e-9 {
			break
		}
		if n > 0 {
			b.WriteString(sep)
		}
		s := format(v)
		if width > 0 && len(s) < width {
			if strings.HasPrefix(s, "-") {
				s = "-" + strings.Repeat("0", width-len(s)) + s[1:]
			} else {
				s = strings.Repeat("0", width-len(s)) + s
			}
		}
		b.WriteString(s)
		n++
		if b.Len() > pipeLimit {
			break
		}
	}
	if n > 0 {
		b.WriteString("\n")
	}
	c.out.WriteString(b.String())
	return 0
}

// cFormat applies one printf floating-point directive.
func cFormat(f string, v float64) string {
	i := strings.IndexByte(f, '%')
	if i < 0 {
		return f
	}
	j := i + 1
	for j < len(f) && strings.IndexByte("-+ #0123456789.", f[j]) >= 0 {
		j++
	}
	if j >= len(f) {
		return f
	}
	verb := f[j]
	spec := f[i : j+1]
	var s string
	switch verb {
	case 'g', 'G', 'e', 'E', 'f', 'F':
		s = fmt.Sprintf(spec, v)
	case 'd', 'i':
		s = fmt.Sprintf(spec[:len(spec)-1]+"d", int64(v))
	default:
		s = fmt.Sprintf(spec, v)
	}
	return f[:i] + s + f[j+1:]
}

// ---- nl ----

func cmdNl(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{values: "bnswvi", long: map[string]string{
		"body-numbering": "b=", "number-format": "n=", "number-separator": "s=", "number-width": "w=",
		"starting-line-number": "v=", "line-increment": "i=", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: nl [OPTION]... [FILE]...\nWrite each FILE to standard output, with line numbers added.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -b, --body-numbering=STYLE      use STYLE for numbering body lines\n  -i, --line-increment=NUMBER     line number increment at each line\n  -n, --number-format=FORMAT      insert line numbers according to FORMAT\n  -s, --number-separator=STRING   add STRING after (possible) line number\n  -v, --starting-line-number=NUMBER  first line number for each section\n  -w, --number-width=NUMBER       use NUMBER columns for line numbers\n") {
		return 0
	}
	text, code := c.text(ops)
	style := "t"
	if fl.has("b") {
		style = fl.val("b")
	}
	width, start, inc := 6, 1, 1
	if fl.has("w") {
		width, _ = strconv.Atoi(fl.val("w"))
	}
	if fl.has("v") {
		start, _ = strconv.Atoi(fl.val("v"))
	}
	if fl.has("i") {
		inc, _ = strconv.Atoi(fl.val("i"))
	}
	sep := "\t"
	if fl.has("s") {
		sep = fl.val("s")
	}
	format := fl.val("n")
	var b strings.Builder
	n := start
	for _, l := range splitLines(text) {
		number := style == "a" || style == "t" && l != ""
		if !number {
			// GNU nl pads an unnumbered line to the number column and
			// separator.
			b.WriteString(strings.Repeat(" ", width+len(sep)) + l + "\n")
			continue
		}
		var num string
		switch format {
		case "ln":
			num = fmt.Sprintf("%-*d", width, n)
		case "rz":
			num = fmt.Sprintf("%0*d", width, n)
		default:
			num = fmt.Sprintf("%*d", width, n)
		}
		b.WriteString(num + sep + l + "\n")
		n += inc
	}
	c.out.WriteString(b.String())
	return code
}

// ---- paste ----

func cmdPaste(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "sz", values: "d", long: map[string]string{
		"delimiters": "d=", "serial": "s", "zero-terminated": "z", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: paste [OPTION]... [FILE]...\nWrite lines consisting of the sequentially corresponding lines from\neach FILE, separated by TABs, to standard output.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -d, --delimiters=LIST   reuse characters from LIST instead of TABs\n  -s, --serial            paste one file at a time instead of in parallel\n  -z, --zero-terminated    line delimiter is NUL, not newline\n") {
		return 0
	}
	delims := "\t"
	if fl.has("d") {
		delims = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\0`, "").Replace(fl.val("d"))
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	var files [][]string
	code := 0
	stdinUsed := false
	for _, op := range ops {
		if op == "-" {
			if stdinUsed {
				files = append(files, nil)
				continue
			}
			stdinUsed = true
		}
		t, cd := c.text([]string{op})
		if cd != 0 {
			code = cd
			continue
		}
		files = append(files, splitLines(t))
	}
	if code != 0 {
		return code
	}
	delim := func(i int) string {
		if delims == "" {
			return ""
		}
		r := []rune(delims)
		return string(r[i%len(r)])
	}
	var b strings.Builder
	if fl.has("s") {
		for _, f := range files {
			for i, l := range f {
				if i > 0 {
					b.WriteString(delim(i - 1))
				}
				b.WriteString(l)
			}
			b.WriteString("\n")
		}
	} else {
		rows := 0
		for _, f := range files {
			rows = max(rows, len(f))
		}
		for r := 0; r < rows; r++ {
			for i, f := range files {
				if i > 0 {
					b.WriteString(delim(i - 1))
				}
				if r < len(f) {
					b.WriteString(f[r])
				}
			}
			b.WriteString("\n")
		}
	}
	c.out.WriteString(b.String())
	return 0
}

// ---- rev, tac, fold, expand ----

func cmdRev(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{long: map[string]string{"help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if fl.has("help") {
		c.out.WriteString("\nUsage:\n rev [options] [file ...]\n\nReverse lines characterwise.\n\nOptions:\n -h, --help     display this help\n -V, --version  display version\n\nFor more details see rev(1).\n")
		return 0
	}
	text, code := c.text(ops)
	var b strings.Builder
	for _, l := range splitLines(text) {
		r := []rune(l)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		b.WriteString(string(r) + "\n")
	}
	c.out.WriteString(b.String())
	return code
}

func cmdTac(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "br", values: "s", long: map[string]string{"help": "help", "version": "version", "separator": "s="}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: tac [OPTION]... [FILE]...\nWrite each FILE to standard output, last line first.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -b, --before             attach the separator before instead of after\n  -r, --regex              interpret the separator as a regular expression\n  -s, --separator=STRING   use STRING as the separator instead of newline\n") {
		return 0
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, op := range ops {
		text, cd := c.text([]string{op})
		if cd != 0 {
			code = cd
			continue
		}
		lines := splitLines(text)
		for i := len(lines) - 1; i >= 0; i-- {
			c.out.WriteString(lines[i] + "\n")
		}
	}
	return code
}

func cmdFold(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "bs", values: "w", long: map[string]string{"width": "w=", "bytes": "b", "spaces": "s", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: fold [OPTION]... [FILE]...\nWrap input lines in each FILE, writing to standard output.\n\n  -b, --bytes         count bytes rather than columns\n  -s, --spaces        break at spaces\n  -w, --width=WIDTH   use WIDTH columns instead of 80\n") {
		return 0
	}
	width := 80
	if fl.has("w") {
		n, err := strconv.Atoi(fl.val("w"))
		if err != nil || n < 1 {
			c.errorf("invalid number of columns: %s", quoteName(fl.val("w")))
			return 1
		}
		width = n
	}
	text, code := c.text(ops)
	var b strings.Builder
	for _, l := range splitLines(text) {
		for utf8.RuneCountInString(l) > width {
			r := []rune(l)
			cut := width
			if fl.has("s") {
				if sp := strings.LastIndexAny(string(r[:width]), " \t"); sp >= 0 {
					cut = utf8.RuneCountInString(string(r[:width])[:sp+1])
				}
			}
			b.WriteString(string(r[:cut]) + "\n")
			l = string(r[cut:])
		}
		b.WriteString(l + "\n")
	}
	c.out.WriteString(b.String())
	return code
}

func cmdExpand(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "ia", values: "t", long: map[string]string{"tabs": "t=", "initial": "i", "all": "a", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: "+c.name+" [OPTION]... [FILE]...\nConvert tabs in each FILE to spaces, writing to standard output.\n\n  -i, --initial    do not convert tabs after non blanks\n  -t, --tabs=N     have tabs N characters apart, not 8\n") {
		return 0
	}
	tab := 8
	if fl.has("t") {
		n, err := strconv.Atoi(fl.val("t"))
		if err != nil || n < 1 {
			c.errorf("tab size contains invalid character(s): %s", quoteName(fl.val("t")))
			return 1
		}
		tab = n
	}
	text, code := c.text(ops)
	var b strings.Builder
	for _, l := range splitLines(text) {
		if c.name == "unexpand" {
			lead := len(l) - len(strings.TrimLeft(l, " "))
			b.WriteString(strings.Repeat("\t", lead/tab) + strings.Repeat(" ", lead%tab) + l[lead:] + "\n")
			continue
		}
		col := 0
		for _, r := range l {
			if r == '\t' {
				n := tab - col%tab
				b.WriteString(strings.Repeat(" ", n))
				col += n
				continue
			}
			b.WriteRune(r)
			col++
		}
		b.WriteString("\n")
	}
	c.out.WriteString(b.String())
	return code
}

// ---- column ----

func cmdColumn(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "txne", values: "sOocNRH", long: map[string]string{
		"table": "t", "separator": "s=", "output-separator": "o=", "help": "help", "version": "version",
		"table-columns": "N=", "table-right": "R=", "table-hide": "H=",
	}})
	if bad != "" {
		c.err.printf("column: %s\nTry 'column --help' for more information.\n", bad)
		return 1
	}
	if fl.has("help") {
		c.out.WriteString("\nUsage:\n column [options] [<file>...]\n\nColumnate lists.\n\nOptions:\n -t, --table                      create a table\n -N, --table-columns <names>      comma separated columns names\n -s, --separator <string>         possible table delimiters\n -o, --output-separator <string>  columns separator for table output\n                                    (default is two spaces)\n -x, --fillrows                   fill rows before columns\n\n -h, --help                       display this help\n -V, --version                    display version\n\nFor more details see column(1).\n")
		return 0
	}
	text, code := c.text(ops)
	lines := splitLines(text)
	if !fl.has("t") {
		// Fill columns to an 80-column terminal, as column does.
		var items []string
		widest := 0
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				items = append(items, l)
				widest = max(widest, utf8.RuneCountInString(l))
			}
		}
		if len(items) == 0 {
			return code
		}
		colw := (widest/8 + 1) * 8
		cols := max(80/colw, 1)
		rows := (len(items) + cols - 1) / cols
		var b strings.Builder
		for r := 0; r < rows; r++ {
			var line strings.Builder
			for k := 0; k < cols; k++ {
				i := k*rows + r
				if fl.has("x") {
					i = r*cols + k
				}
				if i >= len(items) {
					continue
				}
				cell := items[i]
				line.WriteString(cell)
				next := k*rows + r + rows
				if fl.has("x") {
					next = i + 1
				}
				if k < cols-1 && next < len(items) {
					w := utf8.RuneCountInString(cell)
					line.WriteString(strings.Repeat("\t", (colw-w+7)/8))
				}
			}
			b.WriteString(strings.TrimRight(line.String(), "\t") + "\n")
		}
		c.out.WriteString(b.String())
		return code
	}
	sep := fl.val("s")
	osep := "  "
	if fl.has("o") {
		osep = fl.val("o")
	}
	var rows [][]string
	if fl.has("N") {
		rows = append(rows, strings.Split(fl.val("N"), ","))
	}
	for _, l := range lines {
		var cells []string
		if sep == "" {
			cells = strings.Fields(l)
		} else {
			cells = strings.FieldsFunc(l, func(r rune) bool { return strings.ContainsRune(sep, r) })
		}
		if len(cells) == 0 {
			continue
		}
		rows = append(rows, cells)
	}
	var widths []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)) + osep)
		}
		b.WriteString("\n")
	}
	c.out.WriteString(b.String())
	return code
}

// ---- comm, join ----

func (c *call) twoFiles(ops []string) ([]string, []string, bool) {
	if len(ops) < 2 {
		if len(ops) == 0 {
			c.badFlag("missing operand", 1)
		} else {
			c.badFlag(fmt.Sprintf("missing operand after %s", quoteName(ops[0])), 1)
		}
		return nil, nil, false
	}
	if len(ops) > 2 {
		c.badFlag(fmt.Sprintf("extra operand %s", quoteName(ops[2])), 1)
		return nil, nil, false
	}
	a, code := c.text(ops[:1])
	if code != 0 {
		return nil, nil, false
	}
	b, code := c.text(ops[1:])
	if code != 0 {
		return nil, nil, false
	}
	return splitLines(a), splitLines(b), true
}

func cmdComm(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "123z", long: map[string]string{
		"check-order": "check-order", "nocheck-order": "nocheck-order", "output-delimiter": "output-delimiter=", "total": "total", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: comm [OPTION]... FILE1 FILE2\nCompare sorted files FILE1 and FILE2 line by line.\n\nWhen FILE1 or FILE2 (not both) is -, read standard input.\n\nWith no options, produce three-column output.  Column one contains\nlines unique to FILE1, column two contains lines unique to FILE2,\nand column three contains lines common to both files.\n\n  -1              suppress column 1 (lines unique to FILE1)\n  -2              suppress column 2 (lines unique to FILE2)\n  -3              suppress column 3 (lines that appear in both files)\n") {
		return 0
	}
	a, b, ok := c.twoFiles(ops)
	if !ok {
		return 1
	}
	delim := "\t"
	if fl.has("output-delimiter") {
		delim = fl.val("output-delimiter")
	}
	show := [4]bool{false, !fl.has("1"), !fl.has("2"), !fl.has("3")}
	prefix := func(col int) string {
		n := 0
		for k := 1; k < col; k++ {
			if show[k] {
				n++
			}
		}
		return strings.Repeat(delim, n)
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && a[i] < b[j]:
			if show[1] {
				out.WriteString(prefix(1) + a[i] + "\n")
			}
			i++
		case i >= len(a) || b[j] < a[i]:
			if show[2] {
				out.WriteString(prefix(2) + b[j] + "\n")
			}
			j++
		default:
			if show[3] {
				out.WriteString(prefix(3) + a[i] + "\n")
			}
			i++
			j++
		}
	}
	c.out.WriteString(out.String())
	return 0
}

func cmdJoin(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "i", values: "t12javeo", long: map[string]string{"ignore-case": "i", "help": "help", "version": "version"}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: join [OPTION]... FILE1 FILE2\nFor each pair of input lines with identical join fields, write a line to\nstandard output.  The default join field is the first, delimited by blanks.\n") {
		return 0
	}
	a, b, ok := c.twoFiles(ops)
	if !ok {
		return 1
	}
	sep := fl.val("t")
	f1, f2 := 1, 1
	if fl.has("1") {
		f1, _ = strconv.Atoi(fl.val("1"))
	}
	if fl.has("2") {
		f2, _ = strconv.Atoi(fl.val("2"))
	}
	if fl.has("j") {
		f1, _ = strconv.Atoi(fl.val("j"))
		f2 = f1
	}
	split := func(l string) []string {
		if sep == "" {
			return strings.Fields(l)
		}
		return strings.Split(l, sep)
	}
	osep := " "
	if sep != "" {
		osep = sep
	}
	key := func(fs []string, k int) string {
		if k-1 < len(fs) && k >= 1 {
			if fl.has("i") {
				return strings.ToLower(fs[k-1])
			}
			return fs[k-1]
		}
		return ""
	}
	unpaired := map[string]bool{}
	for _, v := range fl["a"] {
		unpaired[v] = true
	}
	line := func(k string, fs []string, skip int) string {
		out := []string{k}
		for i, f := range fs {
			if i != skip-1 {
				out = append(out, f)
			}
		}
		return strings.Join(out, osep)
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var fa, fb []string
		if i < len(a) {
			fa = split(a[i])
		}
		if j < len(b) {
			fb = split(b[j])
		}
		ka, kb := key(fa, f1), key(fb, f2)
		switch {
		case j >= len(b) || i < len(a) && ka < kb:
			if unpaired["1"] {
				out.WriteString(line(ka, fa, f1) + "\n")
			}
			i++
		case i >= len(a) || kb < ka:
			if unpaired["2"] {
				out.WriteString(line(kb, fb, f2) + "\n")
			}
			j++
		default:
			// Every line of b with this key pairs with this line of a.
			start := j
			for ; j < len(b) && key(split(b[j]), f2) == ka; j++ {
				rest := line(ka, fa, f1)
				for k, f := range split(b[j]) {
					if k != f2-1 {
						rest += osep + f
					}
				}
				out.WriteString(rest + "\n")
			}
			i++
			if i < len(a) && key(split(a[i]), f1) == ka {
				j = start
			}
		}
	}
	c.out.WriteString(out.String())
	return 0
}

// ---- od, xxd, hexdump, strings ----

// maxDump bounds the bytes the dump tools show of one input.
const maxDump = 1 << 20

// dumpBytes reads the operands' bytes for a dump tool. A declared file's
// bytes are not known; its first bytes are a deterministic stand-in for
// binary data of its kind.
func (c *call) dumpBytes(ops []string) ([]byte, int) {
	ins, code := c.inputs(ops)
	var data []byte
	for _, in := range ins {
		if in.binary {
			data = append(data, standInBytes(in.sha, min(in.size, maxDump))...)
			continue
		}
		data = append(data, in.text...)
	}
	if len(data) > maxDump {
		data = data[:maxDump]
	}
	return data, code
}

// standInBytes is n bytes that look like the start of a binary file: a
// safetensors header length then pseudo-random data seeded by the digest.
func standInBytes(sha string, n int64) []byte {
	out := make([]byte, n)
	seed := uint64(0x9e3779b97f4a7c15)
	for i := 0; i < len(sha); i++ {
		seed = seed*31 + uint64(sha[i])
	}
	for i := range out {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		out[i] = byte(seed)
	}
	return out
}

// xxdReverse is xxd -r: a hex dump (plain with -p, or xxd's own lines
// with their offsets) turned back into bytes.
func (c *call) xxdReverse(ops []string, plain bool) int {
	text := c.in.text
	if len(ops) > 0 && ops[0] != "-" {
		b, err := c.readInput(ops[0])
		if err != nil {
			c.err.printf("xxd: %s: %s\n", ops[0], errText(err))
			return 2
		}
		text = b.Content
	}
	hexVal := func(ch byte) int {
		switch {
		case ch >= '0' && ch <= '9':
			return int(ch - '0')
		case ch >= 'a' && ch <= 'f':
			return int(ch-'a') + 10
		case ch >= 'A' && ch <= 'F':
			return int(ch-'A') + 10
		}
		return -1
	}
	var out []byte
	for _, l := range strings.Split(text, "\n") {
		if !plain {
			// "00000010: 6869 0a  hi." : the offset, then the hex columns.
			colon := strings.IndexByte(l, ':')
			if colon < 0 {
				continue
			}
			l = l[colon+1:]
			if i := strings.Index(l, "  "); i >= 0 {
				l = l[:i]
			}
		}
		hi := -1
		for i := 0; i < len(l); i++ {
			v := hexVal(l[i])
			if v < 0 {
				continue
			}
			if hi < 0 {
				hi = v
				continue
			}
			out = append(out, byte(hi<<4|v))
			hi = -1
		}
	}
	c.out.WriteString(string(out))
	return 0
}

func cmdXxd(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "pruie", values: "lcsg", long: map[string]string{"help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("xxd: %s\n", bad)
		return 1
	}
	if fl.has("version") {
		c.err.WriteString("xxd 2022-01-14 by Juergen Weigert et al.\n")
		return 0
	}
	if fl.has("r") {
		return c.xxdReverse(ops, fl.has("p"))
	}
	data, code := c.dumpBytes(ops[:min(len(ops), 1)])
	if code != 0 {
		return 2
	}
	if fl.has("l") {
		n, _ := strconv.Atoi(fl.val("l"))
		data = data[:min(len(data), max(n, 0))]
	}
	var b strings.Builder
	if fl.has("p") {
		for i, x := range data {
			if i > 0 && i%30 == 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%02x", x)
		}
		if len(data) > 0 {
			b.WriteString("\n")
		}
		c.out.WriteString(b.String())
		return 0
	}
	cols := 16
	if fl.has("c") {
		cols, _ = strconv.Atoi(fl.val("c"))
		cols = max(cols, 1)
	}
	for off := 0; off < len(data); off += cols {
		row := data[off:min(off+cols, len(data))]
		fmt.Fprintf(&b, "%08x: ", off)
		for i := 0; i < cols; i++ {
			if i < len(row) {
				fmt.Fprintf(&b, "%02x", row[i])
			} else {
				b.WriteString("  ")
			}
			if i%2 == 1 {
				b.WriteString(" ")
			}
		}
		b.WriteString(" " + printable(row) + "\n")
	}
	c.out.WriteString(b.String())
	return 0
}

func printable(row []byte) string {
	var b strings.Builder
	for _, x := range row {
		if x >= 0x20 && x < 0x7f {
			b.WriteByte(x)
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func cmdHexdump(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "Cbcdovx", values: "nse", long: map[string]string{"canonical": "C", "length": "n=", "skip": "s=", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("hexdump: %s\nTry 'hexdump --help' for more information.\n", bad)
		return 1
	}
	data, code := c.dumpBytes(ops)
	if code != 0 {
		return 1
	}
	if fl.has("s") {
		n, _ := parseSize(fl.val("s"))
		data = data[min(int64(len(data)), n):]
	}
	if fl.has("n") {
		n, _ := parseSize(fl.val("n"))
		data = data[:min(int64(len(data)), n)]
	}
	var b strings.Builder
	canonical := fl.has("C") || c.name == "hd"
	for off := 0; off < len(data); off += 16 {
		row := data[off:min(off+16, len(data))]
		if canonical {
			fmt.Fprintf(&b, "%08x  ", off)
			for i := 0; i < 16; i++ {
				if i < len(row) {
					fmt.Fprintf(&b, "%02x ", row[i])
				} else {
					b.WriteString("   ")
				}
				if i == 7 {
					b.WriteString(" ")
				}
			}
			b.WriteString(" |" + printable(row) + "|\n")
			continue
		}
		fmt.Fprintf(&b, "%07x", off)
		for i := 0; i < len(row); i += 2 {
			w := uint16(row[i])
			if i+1 < len(row) {
				w |= uint16(row[i+1]) << 8
			}
			fmt.Fprintf(&b, " %04x", w)
		}
		b.WriteString("\n")
	}
	if canonical {
		fmt.Fprintf(&b, "%08x\n", len(data))
	} else if len(data) > 0 {
		fmt.Fprintf(&b, "%07x\n", len(data))
	}
	c.out.WriteString(b.String())
	return 0
}

func cmdOd(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "bcdovxs", values: "ANjtw", long: map[string]string{
		"address-radix": "A=", "read-bytes": "N=", "skip-bytes": "j=", "format": "t=", "width": "w=", "help": "help", "version": "version",
	}})
	if bad != "" {
		return c.badFlag(bad, 1)
	}
	if c.helpOrVersion(fl, "Usage: od [OPTION]... [FILE]...\nWrite an unambiguous representation, octal bytes by default,\nof FILE to standard output.\n\n  -A, --address-radix=RADIX   output format for file offsets; RADIX is one\n                                of [doxn], for Decimal, Octal, Hex or None\n  -j, --skip-bytes=BYTES      skip BYTES input bytes first\n  -N, --read-bytes=BYTES      limit dump to BYTES input bytes\n  -t, --format=TYPE           select output format or formats\n  -c                          same as -t c,  select printable characters or backslash escapes\n  -x                          same as -t x2, select hexadecimal 2-byte units\n") {
		return 0
	}
	data, code := c.dumpBytes(ops)
	if fl.has("j") {
		n, _ := parseSize(fl.val("j"))
		data = data[min(int64(len(data)), n):]
	}
	if fl.has("N") {
		n, _ := parseSize(fl.val("N"))
		data = data[:min(int64(len(data)), n)]
	}
	var formats []string
	for _, t := range fl["t"] {
		fs, ok := odTypes(t)
		if !ok {
			c.errorf("invalid type string %s", quoteName(t))
			return 1
		}
		formats = append(formats, fs...)
	}
	for _, k := range [][2]string{{"b", "o1"}, {"c", "c"}, {"d", "u2"}, {"o", "o2"}, {"x", "x2"}} {
		if fl.has(k[0]) {
			formats = append(formats, k[1])
		}
	}
	if len(formats) == 0 {
		formats = []string{"o2"}
	}
	radix := "o"
	if fl.has("A") {
		radix = fl.val("A")
	}
	width := 16
	if fl.has("w") {
		width = 32
		if v := fl.val("w"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				width = n
			}
		}
	}
	addr := func(n int) string {
		switch radix {
		case "d":
			return fmt.Sprintf("%07d", n)
		case "x":
			return fmt.Sprintf("%06x", n)
		case "n":
			return ""
		}
		return fmt.Sprintf("%07o", n)
	}
	c.out.WriteString(odDump(data, formats, width, addr, fl.has("v"), radix != "n"))
	return code
}

// odTypes splits a -t type string (x1z, d4, c, u2x1) into its formats,
// each a letter and a size in bytes, with z kept on the one it follows.
func odTypes(t string) ([]string, bool) {
	var out []string
	for i := 0; i < len(t); {
		k := t[i]
		i++
		switch k {
		case 'c', 'a':
			f := string(k)
			if i < len(t) && t[i] == 'z' {
				f += "z"
				i++
			}
			out = append(out, f)
			continue
		case 'd', 'o', 'u', 'x':
		default:
			return nil, false
		}
		size := 0
		switch {
		case i < len(t) && t[i] >= '0' && t[i] <= '9':
			for i < len(t) && t[i] >= '0' && t[i] <= '9' {
				size = size*10 + int(t[i]-'0')
				i++
			}
		case i < len(t) && strings.IndexByte("CSIL", t[i]) >= 0:
			size = map[byte]int{'C': 1, 'S': 2, 'I': 4, 'L': 8}[t[i]]
			i++
		default:
			size = 4
		}
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return nil, false
		}
		f := string(k) + strconv.Itoa(size)
		if i < len(t) && t[i] == 'z' {
			f += "z"
			i++
		}
		out = append(out, f)
	}
	return out, len(out) > 0
}

// odWidth is the natural width of one field of format f, its space
// included, and the bytes one field shows.
func odWidth(f string) (width, size int) {
	if f[0] == 'c' || f[0] == 'a' {
		return 4, 1
	}
	size = int(f[1] - '0')
	switch f[0] {
	case 'x':
		return 1 + 2*size, size
	case 'o':
		return 1 + (8*size+2)/3, size
	case 'u':
		return 1 + map[int]int{1: 3, 2: 5, 4: 10, 8: 20}[size], size
	}
	return 1 + map[int]int{1: 4, 2: 6, 4: 11, 8: 20}[size], size
}

// odDump is od's output of data: each line of width bytes in every
// format, columns aligned across formats, repeated lines shown once as *
// (unless all).
func odDump(data []byte, formats []string, width int, addr func(int) string, all, showEnd bool) string {
	// Every format's line is padded to the widest one's width.
	lineW := 0
	for _, f := range formats {
		w, size := odWidth(f)
		lineW = max(lineW, (width+size-1)/size*w)
	}
	var b strings.Builder
	var prev []byte
	starred := false
	for off := 0; off < len(data); off += width {
		row := data[off:min(off+width, len(data))]
		if !all && prev != nil && len(row) == width && string(row) == string(prev) {
			if !starred {
				b.WriteString("*\n")
				starred = true
			}
			continue
		}
		prev, starred = row, false
		for fi, f := range formats {
			if fi == 0 {
				b.WriteString(addr(off))
			} else {
				b.WriteString(strings.Repeat(" ", len(addr(off))))
			}
			nw, size := odWidth(f)
			fields := (width + size - 1) / size
			pad := (lineW - fields*nw) / fields
			line := 0
			for i := 0; i < len(row); i += size {
				var v uint64
				for k := size - 1; k >= 0; k-- {
					v <<= 8
					if i+k < len(row) {
						v |= uint64(row[i+k])
					}
				}
				b.WriteString(strings.Repeat(" ", pad))
				field := ""
				switch f[0] {
				case 'c':
					field = odChar(row[i])
				case 'a':
					field = odNamed(row[i])
				case 'x':
					field = fmt.Sprintf(" %0*x", 2*size, v)
				case 'o':
					field = fmt.Sprintf(" %0*o", nw-1, v)
				case 'u':
					field = fmt.Sprintf(" %*d", nw-1, v)
				case 'd':
					sv := int64(v<<(64-8*size)) >> (64 - 8*size)
					field = fmt.Sprintf(" %*d", nw-1, sv)
				}
				b.WriteString(field)
				line += pad + len(field)
			}
			if strings.HasSuffix(f, "z") {
				b.WriteString(strings.Repeat(" ", max(lineW-line, 0)) + "  >")
				for _, x := range row {
					if x >= 0x20 && x < 0x7f {
						b.WriteByte(x)
					} else {
						b.WriteByte('.')
					}
				}
				b.WriteString("<")
			}
			b.WriteString("\n")
		}
	}
	if showEnd {
		b.WriteString(addr(len(data)) + "\n")
	}
	return b.String()
}

// odNamed is a byte as od -t a names it.
func odNamed(x byte) string {
	names := [...]string{"nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel", "bs", "ht", "nl", "vt", "ff", "cr", "so", "si",
		"dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb", "can", "em", "sub", "esc", "fs", "gs", "rs", "us", "sp"}
	x &= 0x7f
	switch {
	case int(x) < len(names):
		return fmt.Sprintf(" %3s", names[x])
	case x == 0x7f:
		return " del"
	}
	return "   " + string(rune(x))
}

func odChar(x byte) string {
	switch x {
	case 0:
		return "  \\0"
	case '\a':
		return "  \\a"
	case '\b':
		return "  \\b"
	case '\f':
		return "  \\f"
	case '\n':
		return "  \\n"
	case '\r':
		return "  \\r"
	case '\t':
		return "  \\t"
	case '\v':
		return "  \\v"
	}
	if x >= 0x20 && x < 0x7f {
		return "   " + string(rune(x))
	}
	return fmt.Sprintf(" %03o", x)
}

func cmdStrings(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "af", values: "nt", long: map[string]string{"bytes": "n=", "radix": "t=", "all": "a", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("strings: %s\n", bad)
		return 1
	}
	minLen := 4
	if fl.has("n") {
		minLen, _ = strconv.Atoi(fl.val("n"))
	}
	ins, code := c.inputs(ops)
	var b strings.Builder
	for _, in := range ins {
		text := in.text
		if in.binary {
			// Weights hold their JSON header in the clear and little else.
			text = string(standInBytes(in.sha, 4096))
		}
		run := 0
		for i := 0; i <= len(text); i++ {
			if i < len(text) && (text[i] >= 0x20 && text[i] < 0x7f || text[i] == '\t') {
				run++
				continue
			}
			if run >= minLen {
				if fl.has("f") {
					b.WriteString(in.name + ": ")
				}
				b.WriteString(text[i-run:i] + "\n")
			}
			run = 0
		}
	}
	c.out.WriteString(b.String())
	return code
}

// ---- diff, cmp ----

func cmdCmp(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "bls", values: "in", long: map[string]string{"silent": "s", "quiet": "s", "verbose": "l", "help": "help", "version": "version"}})
	if bad != "" {
		c.err.printf("cmp: %s\ncmp: Try 'cmp --help' for more information.\n", bad)
		return 2
	}
	if len(ops) < 2 {
		c.err.printf("cmp: missing operand after %s\ncmp: Try 'cmp --help' for more information.\n", quoteName(strings.Join(ops, "")))
		return 2
	}
	ins, code := c.inputs(ops[:2])
	if code != 0 || len(ins) != 2 {
		return 2
	}
	a, b := ins[0], ins[1]
	if a.sha == b.sha && a.size == b.size {
		return 0
	}
	if fl.has("s") {
		return 1
	}
	if a.binary || b.binary {
		c.out.printf("%s %s differ: byte 1, line 1\n", a.name, b.name)
		return 1
	}
	line := 1
	for i := 0; i < min(len(a.text), len(b.text)); i++ {
		if a.text[i] != b.text[i] {
			c.out.printf("%s %s differ: byte %d, line %d\n", a.name, b.name, i+1, line)
			return 1
		}
		if a.text[i] == '\n' {
			line++
		}
	}
	short := a.name
	if len(b.text) < len(a.text) {
		short = b.name
	}
	c.err.printf("cmp: EOF on %s after byte %d, line %d\n", short, min(len(a.text), len(b.text)), line-1)
	return 1
}

// maxDiffLines bounds the inputs diff compares line by line.
const maxDiffLines = 20000

func cmdDiff(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "uqrNiwBbsay", values: "UC", long: map[string]string{
		"unified": "U=", "brief": "q", "recursive": "r", "new-file": "N", "ignore-case": "i", "ignore-all-space": "w",
		"ignore-blank-lines": "B", "ignore-space-change": "b", "report-identical-files": "s", "text": "a", "side-by-side": "y",
		"color": "color=", "help": "help", "version": "version", "strip-trailing-cr": "strip-trailing-cr",
	}})
	if bad != "" {
		c.err.printf("diff: %s\ndiff: Try 'diff --help' for more information.\n", bad)
		return 2
	}
	if fl.has("help") {
		c.out.WriteString("Usage: diff [OPTION]... FILES\nCompare FILES line by line.\n\nMandatory arguments to long options are mandatory for short options too.\n  -q, --brief                   report only when files differ\n  -s, --report-identical-files  report when two files are the same\n  -u, -U NUM, --unified[=NUM]   output NUM (default 3) lines of unified context\n  -r, --recursive                 recursively compare any subdirectories found\n  -N, --new-file                  treat absent files as empty\n  -i, --ignore-case               ignore case differences in file contents\n  -w, --ignore-all-space          ignore all white space\n  -B, --ignore-blank-lines        ignore changes where lines are all blank\n\nIf a FILE is '-', read standard input.\nExit status is 0 if inputs are the same, 1 if different, 2 if trouble.\n\nReport bugs to: bug-diffutils@gnu.org\n")
		return 0
	}
	if fl.has("version") {
		c.out.WriteString("diff (GNU diffutils) 3.8\nCopyright (C) 2021 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n\nWritten by Paul Eggert, Mike Haertel, David Hayes,\nRichard Stallman, and Len Tower.\n")
		return 0
	}
	if len(ops) != 2 {
		if len(ops) < 2 {
			c.err.printf("diff: missing operand after %s\ndiff: Try 'diff --help' for more information.\n", quoteName(strings.Join(ops, "")))
		} else {
			c.err.printf("diff: extra operand %s\ndiff: Try 'diff --help' for more information.\n", quoteName(ops[2]))
		}
		return 2
	}
	ctx := -1
	if fl.has("u") {
		ctx = 3
	}
	if fl.has("U") {
		ctx, _ = strconv.Atoi(fl.val("U"))
	}
	return c.diffPaths(ops[0], ops[1], fl, ctx)
}

func (c *call) diffPaths(a, b string, fl flags, ctx int) int {
	pa, pb := c.s.abs(a), c.s.abs(b)
	ia, ea := c.s.h.fs.Stat(pa)
	ib, eb := c.s.h.fs.Stat(pb)
	// Standard input and the pipes of <(...) are read, not looked up.
	if _, ok := c.s.procFiles[pa]; a == "-" || ok {
		ea, ia = nil, vfs.Info{}
	}
	if _, ok := c.s.procFiles[pb]; b == "-" || ok {
		eb, ib = nil, vfs.Info{}
	}
	for _, e := range []struct {
		name string
		err  error
	}{{a, ea}, {b, eb}} {
		if e.err != nil && !fl.has("N") {
			c.err.printf("diff: %s: %s\n", e.name, errText(e.err))
			return 2
		}
	}
	if ea == nil && eb == nil && ia.Dir && ib.Dir {
		return c.diffDirs(a, b, fl, ctx)
	}
	if ea == nil && ia.Dir && a != "-" {
		a = strings.TrimSuffix(a, "/") + "/" + baseName(b)
		return c.diffPaths(a, b, fl, ctx)
	}
	if eb == nil && ib.Dir && b != "-" {
		b = strings.TrimSuffix(b, "/") + "/" + baseName(a)
		return c.diffPaths(a, b, fl, ctx)
	}
	read := func(name string, missing bool) (input, bool) {
		if missing {
			return input{name: name}, true
		}
		ins, code := c.inputs([]string{name})
		if code != 0 || len(ins) == 0 {
			return input{}, false
		}
		return ins[0], true
	}
	x, ok := read(a, ea != nil)
	if !ok {
		return 2
	}
	y, ok := read(b, eb != nil)
	if !ok {
		return 2
	}
	if x.binary || y.binary {
		if x.sha == y.sha {
			return 0
		}
		c.out.printf("Binary files %s and %s differ\n", a, b)
		return 1
	}
	norm := func(l string) string {
		if fl.has("i") {
			l = strings.ToLower(l)
		}
		if fl.has("w") {
			l = strings.Join(strings.Fields(l), "")
		} else if fl.has("b") {
			l = strings.Join(strings.Fields(l), " ")
		}
		if fl.has("strip-trailing-cr") {
			l = strings.TrimSuffix(l, "\r")
		}
		return l
	}
	la, lb := splitLines(x.text), splitLines(y.text)
	if len(la) > maxDiffLines || len(lb) > maxDiffLines {
		la, lb = la[:min(len(la), maxDiffLines)], lb[:min(len(lb), maxDiffLines)]
	}
	ops := deletesFirst(diffLines(la, lb, norm))
	same := true
	for _, op := range ops {
		if op.kind != ' ' {
			same = false
			break
		}
	}
	if same {
		if fl.has("s") {
			c.out.printf("Files %s and %s are identical\n", a, b)
		}
		return 0
	}
	if fl.has("q") {
		c.out.printf("Files %s and %s differ\n", a, b)
		return 1
	}
	if ctx >= 0 {
		c.out.printf("--- %s\t%s\n+++ %s\t%s\n", a, c.diffTime(a), b, c.diffTime(b))
		c.out.WriteString(unifiedHunks(ops, ctx))
	} else {
		c.out.WriteString(normalDiff(ops))
	}
	return 1
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (c *call) diffTime(name string) string {
	in, err := c.s.h.fs.Stat(c.s.abs(name))
	t := c.s.net.clock.Now()
	if err == nil && name != "-" {
		t = in.ModTime
	}
	return t.Format("2006-01-02 15:04:05.000000000 -0700")
}

func (c *call) diffDirs(a, b string, fl flags, ctx int) int {
	list := func(d string) map[string]bool {
		m := map[string]bool{}
		infos, _ := c.s.h.fs.ReadDir(c.s.abs(d))
		for _, in := range infos {
			m[in.Name] = in.Dir
		}
		return m
	}
	ma, mb := list(a), list(b)
	names := map[string]bool{}
	for k := range ma {
		names[k] = true
	}
	for k := range mb {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	status := 0
	for _, n := range sorted {
		da, inA := ma[n]
		db, inB := mb[n]
		pa, pb := strings.TrimSuffix(a, "/")+"/"+n, strings.TrimSuffix(b, "/")+"/"+n
		switch {
		case inA && !inB && !fl.has("N"):
			c.out.printf("Only in %s: %s\n", a, n)
			status = max(status, 1)
		case inB && !inA && !fl.has("N"):
			c.out.printf("Only in %s: %s\n", b, n)
			status = max(status, 1)
		case da && db:
			if fl.has("r") {
				status = max(status, c.diffDirs(pa, pb, fl, ctx))
			} else {
				c.out.printf("Common subdirectories: %s and %s\n", pa, pb)
			}
		default:
			if !fl.has("q") {
				if ctx >= 0 {
					c.out.printf("diff -u %s %s\n", pa, pb)
				} else {
					c.out.printf("diff %s %s\n", pa, pb)
				}
			}
			status = max(status, c.diffPaths(pa, pb, fl, ctx))
		}
	}
	return status
}

// diffOp is one line of an edit script: ' ' kept, '-' deleted, '+' added.
type diffOp struct {
	kind   byte
	text   string
	ai, bi int // line numbers (1-based) in a and b after this line
}

// diffLines computes a shortest edit script with an LCS table, bounded by
// maxDiffLines on each side.
func diffLines(a, b []string, norm func(string) string) []diffOp {
	// Trim the common head and tail first; most edits are small.
	pre := 0
	for pre < len(a) && pre < len(b) && norm(a[pre]) == norm(b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && norm(a[len(a)-1-suf]) == norm(b[len(b)-1-suf]) {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	var ops []diffOp
	for i := 0; i < pre; i++ {
		ops = append(ops, diffOp{' ', a[i], i + 1, i + 1})
	}
	n, m := len(ma), len(mb)
	if n*m > 4_000_000 {
		// Too large for the table: all of a out, all of b in.
		for i, l := range ma {
			ops = append(ops, diffOp{'-', l, pre + i + 1, pre})
		}
		for j, l := range mb {
			ops = append(ops, diffOp{'+', l, pre + n, pre + j + 1})
		}
	} else {
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if norm(ma[i]) == norm(mb[j]) {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && norm(ma[i]) == norm(mb[j]):
				ops = append(ops, diffOp{' ', ma[i], pre + i + 1, pre + j + 1})
				i++
				j++
			case j < m && (i >= n || lcs[i][j+1] >= lcs[i+1][j]):
				ops = append(ops, diffOp{'+', mb[j], pre + i, pre + j + 1})
				j++
			default:
				ops = append(ops, diffOp{'-', ma[i], pre + i + 1, pre + j})
				i++
			}
		}
	}
	for k := 0; k < suf; k++ {
		ia, ib := len(a)-suf+k, len(b)-suf+k
		ops = append(ops, diffOp{' ', a[ia], ia + 1, ib + 1})
	}
	return ops
}

func rangeText(start, count int) string {
	if count == 1 {
		return strconv.Itoa(start)
	}
	if count == 0 {
		return strconv.Itoa(start-1) + ",0"
	}
	return fmt.Sprintf("%d,%d", start, count)
}

// deletesFirst orders each change as GNU diff prints it: the lines
// removed, then the lines added.
func deletesFirst(ops []diffOp) []diffOp {
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		j := i
		for j < len(ops) && ops[j].kind != ' ' {
			j++
		}
		sort.SliceStable(ops[i:j], func(a, b int) bool { return ops[i+a].kind == '-' && ops[i+b].kind == '+' })
		i = j
	}
	return ops
}

func unifiedHunks(ops []diffOp, ctx int) string {
	var b strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// A run of kept lines longer than twice the context ends the hunk.
			k := end
			for k < len(ops) && ops[k].kind == ' ' {
				k++
			}
			if k == len(ops) || k-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = k
		}
		var na, nb int
		sa, sb := 0, 0
		for k := start; k < end; k++ {
			op := ops[k]
			if op.kind != '+' {
				if na == 0 {
					sa = op.ai
				}
				na++
			}
			if op.kind != '-' {
				if nb == 0 {
					sb = op.bi
				}
				nb++
			}
		}
		if na == 0 {
			sa = ops[start].ai + 1
		}
		if nb == 0 {
			sb = ops[start].bi + 1
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", rangeText(sa, na), rangeText(sb, nb))
		for k := start; k < end; k++ {
			b.WriteByte(ops[k].kind)
			b.WriteString(ops[k].text + "\n")
		}
		i = end
	}
	return b.String()
}

func normalDiff(ops []diffOp) string {
	var b strings.Builder
	span := func(lo, hi int) string {
		if lo == hi {
			return strconv.Itoa(lo)
		}
		return fmt.Sprintf("%d,%d", lo, hi)
	}
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		j := i
		var del, add []diffOp
		for j < len(ops) && ops[j].kind != ' ' {
			if ops[j].kind == '-' {
				del = append(del, ops[j])
			} else {
				add = append(add, ops[j])
			}
			j++
		}
		switch {
		case len(add) == 0:
			fmt.Fprintf(&b, "%sd%d\n", span(del[0].ai, del[len(del)-1].ai), del[0].bi)
		case len(del) == 0:
			fmt.Fprintf(&b, "%da%s\n", add[0].ai, span(add[0].bi, add[len(add)-1].bi))
		default:
			fmt.Fprintf(&b, "%sc%s\n", span(del[0].ai, del[len(del)-1].ai), span(add[0].bi, add[len(add)-1].bi))
		}
		for _, d := range del {
			b.WriteString("< " + d.text + "\n")
		}
		if len(del) > 0 && len(add) > 0 {
			b.WriteString("---\n")
		}
		for _, a := range add {
			b.WriteString("> " + a.text + "\n")
		}
		i = j
	}
	return b.String()
}

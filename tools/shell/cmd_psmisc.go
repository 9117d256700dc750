package shell

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The process tools of psmisc (killall, pstree) and sysvinit-utils
// (pidof), over the same process table ps and kill see.

func init() {
	register(map[string]cmdFunc{"killall": cmdKillall, "pstree": cmdPstree, "pidof": cmdPidof})
}

// userProcs is the host's process table without kernel threads, with the
// running program (procTable's last row, which stands for ps) named as
// the command that asks.
func (c *call) userProcs() []procRow {
	rows := c.s.procTable("")
	out := rows[:0]
	for _, r := range rows {
		if strings.HasPrefix(r.command, "[") {
			continue
		}
		if r.pid == c.s.pid+1 {
			r.command = strings.Join(append([]string{c.name}, c.args...), " ")
		}
		out = append(out, r)
	}
	return out
}

// ---- killall ----

func cmdKillall(c *call) int {
	sig := 15
	var quiet, verbose, exact, regex, ignoreCase bool
	var user string
	var names []string
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(names) > 0 || a == "" || a[0] != '-' || a == "-" {
			names = append(names, a)
			continue
		}
		need := func(opt string) (string, bool) {
			if i+1 >= len(args) {
				c.err.printf("killall: option requires an argument -- '%s'\n", opt)
				c.err.WriteString(killallUsage)
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "--":
			names = append(names, args[i+1:]...)
			i = len(args)
			continue
		case "-l", "--list":
			c.out.WriteString("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT\nCHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH POLL PWR SYS\n")
			return 0
		case "-V", "--version":
			c.err.WriteString("killall (PSmisc) 23.6\nCopyright (C) 1993-2022 Werner Almesberger and Craig Small\n\nPSmisc comes with ABSOLUTELY NO WARRANTY.\nThis is free software, and you are welcome to redistribute it under\nthe terms of the GNU General Public License.\nFor more information about these matters, see the files named COPYING.\n")
			return 0
		case "-h", "--help":
			c.err.WriteString(killallUsage)
			return 1
		case "-s", "--signal":
			v, ok := need("s")
			if !ok {
				return 1
			}
			n, good := parseSignal(v)
			if !good {
				c.err.printf("%s: unknown signal; killall -l lists signals.\n", v)
				return 1
			}
			sig = n
			continue
		case "-u", "--user":
			v, ok := need("u")
			if !ok {
				return 1
			}
			if _, known := c.s.h.fs.Accounts().User(v); !known {
				c.err.printf("Cannot find user %s\n", v)
				return 1
			}
			user = v
			continue
		case "-q", "--quiet":
			quiet = true
			continue
		case "-v", "--verbose":
			verbose = true
			continue
		case "-e", "--exact":
			exact = true
			continue
		case "-r", "--regexp":
			regex = true
			continue
		case "-I", "--ignore-case":
			ignoreCase = true
			continue
		case "-w", "--wait", "-g", "--process-group", "-i", "--interactive":
			// A killed process is gone at once here, and there is no
			// terminal to ask on: these change nothing.
			continue
		case "-o", "--older-than", "-y", "--younger-than", "-n", "--ns", "-Z", "--context":
			// Selection by age, namespace or context selects nothing
			// more here; the option's value is read all the same.
			if _, ok := need(strings.TrimLeft(a, "-")[:1]); !ok {
				return 1
			}
			continue
		}
		if n, good := parseSignal(a[1:]); good && len(a) > 1 {
			sig = n
			continue
		}
		c.err.WriteString(killallUsage) // psmisc says no more than this
		return 1
	}
	if len(names) == 0 {
		c.err.WriteString(killallUsage)
		return 1
	}
	rows := c.userProcs()
	code := 0
	for _, name := range names {
		var re *regexp.Regexp
		if regex {
			expr := name
			if ignoreCase {
				expr = "(?i)" + expr
			}
			var err error
			if re, err = regexp.Compile(expr); err != nil {
				c.err.printf("killall: Bad regular expression: %s\n", name)
				return 1
			}
		}
		killed := 0
		for _, r := range rows {
			if r.pid == c.s.pid+1 || (user != "" && r.user != user) {
				continue
			}
			if !killallMatches(r.command, name, re, exact, ignoreCase) {
				continue
			}
			comm := psComm(r.command)
			if msg := c.s.signal(r.pid, sig); msg != "" {
				if !quiet {
					c.err.printf("%s(%d): %s\n", comm, r.pid, msg)
				}
				continue
			}
			killed++
			if verbose {
				c.err.printf("Killed %s(%d) with signal %d\n", comm, r.pid, sig)
			}
		}
		if killed == 0 {
			// Also after "Operation not permitted": none was killed.
			if !quiet {
				c.err.printf("%s: no process found\n", name)
			}
			code = 1
		}
	}
	return code
}

// killallMatches reports whether the process running command is one
// killall NAME means: its name (the first 15 characters of it, unless
// exact), or its program's path when NAME has a slash.
func killallMatches(command, name string, re *regexp.Regexp, exact, fold bool) bool {
	comm := psComm(command)
	full := path.Base(strings.Fields(command + " x")[0])
	full = strings.TrimSuffix(strings.TrimPrefix(full, "-"), ":")
	if re != nil {
		return re.MatchString(comm)
	}
	eq := func(a, b string) bool {
		if fold {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	if strings.Contains(name, "/") {
		return eq(strings.Fields(command + " x")[0], name)
	}
	if len(name) > 15 && !exact {
		return eq(comm, name[:15]) || eq(full, name)
	}
	return eq(full, name) || (!exact && eq(comm, name))
}

const killallUsage = `Usage: killall [OPTION]... [--] NAME...
       killall -l, --list
       killall -V, --version

  -e,--exact          require exact match for very long names
  -I,--ignore-case    case insensitive process name match
  -g,--process-group  kill process group instead of process
  -y,--younger-than   kill processes younger than TIME
  -o,--older-than     kill processes older than TIME
  -i,--interactive    ask for confirmation before killing
  -l,--list           list all known signal names
  -q,--quiet          don't print complaints
  -r,--regexp         interpret NAME as an extended regular expression
  -s,--signal SIGNAL  send this signal instead of SIGTERM
  -u,--user USER      kill only process(es) running as USER
  -v,--verbose        report if the signal was successfully sent
  -V,--version        display version information
  -w,--wait           wait for processes to die
  -n,--ns PID         match processes that belong to the same namespaces
                      as PID
  -Z,--context REGEXP kill only process(es) having context
                      (must precede other arguments)
`

// ---- pidof ----

func cmdPidof(c *call) int {
	single := false
	omit := map[int]bool{}
	sep := " "
	var progs []string
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(progs) > 0 || !strings.HasPrefix(a, "-") || a == "-" {
			progs = append(progs, a)
			continue
		}
		if a == "--" {
			progs = append(progs, args[i+1:]...)
			break
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 's':
				single = true
			case 'c', 'n', 'x', 'z', 'q':
			case 'o', 'd':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						c.err.printf("pidof: option requires an argument -- '%c'\n", a[j])
						return 1
					}
					i++
					v = args[i]
				}
				if a[j] == 'd' {
					sep = v
				} else {
					for _, p := range strings.Split(v, ",") {
						switch p {
						case "%PPID":
							_, sess := c.s.sessionSSHD()
							omit[sess] = true
						default:
							if n, err := strconv.Atoi(p); err == nil {
								omit[n] = true
							} else {
								c.err.printf("pidof: illegal omit pid value (%s)!\n", p)
								return 1
							}
						}
					}
				}
				j = len(a)
			default:
				c.err.printf("pidof: invalid option -- '%c'\n", a[j])
				return 1
			}
		}
	}
	if len(progs) == 0 {
		return 1
	}
	rows := c.userProcs()
	var pids []string
	for _, prog := range progs {
		var mine []int
		for _, r := range rows {
			if r.pid == c.s.pid+1 || omit[r.pid] {
				continue
			}
			argv0 := strings.Fields(r.command + " x")[0]
			base := strings.TrimPrefix(path.Base(argv0), "-")
			if strings.Contains(prog, "/") && argv0 == prog || base == prog || psComm(r.command) == prog {
				mine = append(mine, r.pid)
			}
		}
		sort.Sort(sort.Reverse(sort.IntSlice(mine))) // newest first, as /proc is read
		for _, p := range mine {
			pids = append(pids, strconv.Itoa(p))
			if single {
				break
			}
		}
		if single && len(pids) > 0 {
			break
		}
	}
	if len(pids) == 0 {
		return 1
	}
	c.out.WriteString(strings.Join(pids, sep) + "\n")
	return 0
}

// ---- pstree ----

// treeNode is one process of a pstree.
type treeNode struct {
	row  procRow
	kids []*treeNode
}

func cmdPstree(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "aAcglnpsStTuUVZh", values: "CHN", long: map[string]string{
		"arguments": "a", "ascii": "A", "compact-not": "c", "show-pgids": "g", "long": "l", "numeric-sort": "n",
		"show-pids": "p", "show-parents": "s", "ns-changes": "S", "thread-names": "t", "hide-threads": "T",
		"uid-changes": "u", "unicode": "U", "version": "V", "security-context": "Z", "highlight-all": "h",
		"color=": "C", "highlight-pid=": "H", "ns-sort=": "N", "vt100": "G",
	}})
	if bad != "" {
		c.err.printf("pstree: %s\n%s", bad, pstreeUsage)
		return 1
	}
	if fl.has("V") {
		c.err.WriteString("pstree (PSmisc) 23.6\nCopyright (C) 1993-2021 Werner Almesberger and Craig Small\n\nPSmisc comes with ABSOLUTELY NO WARRANTY.\nThis is free software, and you are welcome to redistribute it under\nthe terms of the GNU General Public License.\nFor more information about these matters, see the files named COPYING.\n")
		return 0
	}
	if len(ops) > 1 {
		c.err.WriteString(pstreeUsage)
		return 1
	}
	rows := c.userProcs()
	nodes := map[int]*treeNode{}
	for _, r := range rows {
		nodes[r.pid] = &treeNode{row: r}
	}
	for _, r := range rows {
		if p := nodes[r.ppid]; p != nil && r.pid != r.ppid {
			p.kids = append(p.kids, nodes[r.pid])
		}
	}
	pids := fl.has("p") || fl.has("g")
	t := pstree{args: fl.has("a"), pids: pids, numeric: fl.has("n"), uids: fl.has("u"), compact: !fl.has("c") && !pids}
	var roots []*treeNode
	switch {
	case len(ops) == 0:
		roots = []*treeNode{nodes[1]}
	default:
		if n, err := strconv.Atoi(ops[0]); err == nil {
			if nodes[n] == nil {
				return 0 // pstree prints nothing for a PID that is not there
			}
			roots = []*treeNode{nodes[n]}
			break
		}
		user := ops[0]
		if _, ok := c.s.h.fs.Accounts().User(user); !ok {
			c.err.printf("No such user name: %s\n", user)
			return 1
		}
		for _, r := range rows {
			if p := nodes[r.ppid]; r.user == user && (p == nil || p.row.user != user) {
				roots = append(roots, nodes[r.pid])
			}
		}
	}
	width := 132
	if fl.has("l") {
		width = 0
	}
	for _, root := range roots {
		if root == nil {
			continue
		}
		var lines []string
		if t.args {
			lines = t.argLines(root, nil)
			for i := 1; i < len(lines); i++ {
				lines[i] = "  " + lines[i]
			}
		} else {
			lines = t.lines(root, nil)
		}
		for _, l := range lines {
			if width > 0 && len([]rune(l)) > width {
				l = string([]rune(l)[:width])
			}
			c.out.WriteString(l + "\n")
		}
	}
	return 0
}

// pstree draws process trees in pstree's ASCII style (its style when the
// output is not a terminal).
type pstree struct {
	args, pids, numeric, uids, compact bool
}

// label is a process as pstree names it.
func (t pstree) label(n, parent *treeNode) string {
	name := psComm(n.row.command)
	var extra []string
	if t.pids {
		extra = append(extra, strconv.Itoa(n.row.pid))
	}
	if t.uids && parent != nil && parent.row.user != n.row.user {
		extra = append(extra, n.row.user)
	}
	if t.args {
		l := name
		if len(extra) > 0 {
			l += "," + strings.Join(extra, ",")
		}
		if a := procArgs(n.row.command); a != "" {
			l += " " + a
		}
		return l
	}
	if len(extra) > 0 {
		name += "(" + strings.Join(extra, ",") + ")"
	}
	return name
}

// procArgs is the arguments of a command line, as /proc/PID/cmdline
// holds them after the program: none for a process that rewrote its title
// ("sshd: atlas@pts/0") or a login shell.
func procArgs(command string) string {
	f := strings.Fields(command)
	if len(f) < 2 || strings.HasSuffix(f[0], ":") {
		return ""
	}
	return strings.Join(f[1:], " ")
}

// children returns n's children in pstree's order, identical subtrees
// gathered when compacting: each group's lines and its count.
func (t pstree) children(n *treeNode, render func(*treeNode) []string) [][]string {
	kids := append([]*treeNode(nil), n.kids...)
	sort.SliceStable(kids, func(i, j int) bool {
		if t.numeric {
			return kids[i].row.pid < kids[j].row.pid
		}
		a, b := t.label(kids[i], n), t.label(kids[j], n)
		if a != b {
			return a < b
		}
		return kids[i].row.pid < kids[j].row.pid
	})
	var groups [][]string
	var counts []int
	for _, k := range kids {
		lines := render(k)
		if t.compact && len(groups) > 0 && strings.Join(groups[len(groups)-1], "\n") == strings.Join(lines, "\n") {
			counts[len(counts)-1]++
			continue
		}
		groups = append(groups, lines)
		counts = append(counts, 1)
	}
	for i, g := range groups {
		if counts[i] > 1 {
			head := fmt.Sprintf("%d*[", counts[i])
			out := []string{head + g[0]}
			for _, l := range g[1:] {
				out = append(out, strings.Repeat(" ", len(head))+l)
			}
			out[len(out)-1] += "]"
			groups[i] = out
		}
	}
	return groups
}

// lines draws n and its descendants, children beside their parent.
func (t pstree) lines(n, parent *treeNode) []string {
	label := t.label(n, parent)
	kids := t.children(n, func(k *treeNode) []string { return t.lines(k, n) })
	if len(kids) == 0 {
		return []string{label}
	}
	pad := strings.Repeat(" ", len([]rune(label)))
	if len(kids) == 1 {
		out := []string{label + "---" + kids[0][0]}
		for _, l := range kids[0][1:] {
			out = append(out, pad+"   "+l)
		}
		return out
	}
	var out []string
	for i, k := range kids {
		var first, rest string
		switch {
		case i == 0:
			first, rest = label+"-+-", pad+" | "
		case i == len(kids)-1:
			first, rest = pad+" `-", pad+"   "
		default:
			first, rest = pad+" |-", pad+" | "
		}
		out = append(out, first+k[0])
		for _, l := range k[1:] {
			out = append(out, rest+l)
		}
	}
	return out
}

// argLines draws n and its descendants one process a line, as pstree -a
// does; the caller indents all but the first line.
func (t pstree) argLines(n, parent *treeNode) []string {
	out := []string{t.label(n, parent)}
	kids := t.children(n, func(k *treeNode) []string { return t.argLines(k, n) })
	for i, k := range kids {
		branch, more := "|-", "|   "
		if i == len(kids)-1 {
			branch, more = "`-", "    "
		}
		out = append(out, branch+k[0])
		for _, l := range k[1:] {
			out = append(out, more+l)
		}
	}
	return out
}

const pstreeUsage = `Usage: pstree [-acglpsStTuZ] [ -h | -H PID ] [ -n | -N type ]
              [ -A | -G | -U ] [ PID | USER ]
   or: pstree -V

Display a tree of processes.

  -a, --arguments     show command line arguments
  -A, --ascii         use ASCII line drawing characters
  -c, --compact-not   don't compact identical subtrees
  -C, --color=TYPE    color process by attribute
                      (age)
  -g, --show-pgids    show process group ids; implies -c
  -G, --vt100         use VT100 line drawing characters
  -h, --highlight-all highlight current process and its ancestors
  -H PID, --highlight-pid=PID
                      highlight this process and its ancestors
  -l, --long          don't truncate long lines
  -n, --numeric-sort  sort output by PID
  -N TYPE, --ns-sort=TYPE
                      sort output by this namespace type
                              (cgroup, ipc, mnt, net, pid, time, user, uts)
  -p, --show-pids     show PIDs; implies -c
  -s, --show-parents  show parents of the selected process
  -S, --ns-changes    show namespace transitions
  -t, --thread-names  show full thread names
  -T, --hide-threads  hide threads, show only processes
  -u, --uid-changes   show uid transitions
  -U, --unicode       use UTF-8 (Unicode) line drawing characters
  -V, --version       display version information
  -Z, --security-context
                      show security attributes

  PID    start at this PID; default is 1 (init)
  USER   show only trees rooted at processes of this user

`

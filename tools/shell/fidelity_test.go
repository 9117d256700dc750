package shell_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"

	"github.com/terrarium-evals/terrarium/tools/shell"
)

// The fidelity suite: command lines from published agent transcripts, each
// with what any real Debian host in the exfiltration world would show.
// The files in testdata/fidelity hold one source group each (the source is
// cited at the top of the file). The format, one case per block:
//
//	host ml-store-01        the host the following cases run on (sticky)
//	$ LINE                  the command line
//	exit 0 | exit 0|127     the exit status, or one of several
//	out /RE/   err /RE/     stdout (stderr) matches the regexp (Go syntax)
//	!out /RE/  !err /RE/    stdout (stderr) does not match
//	> TEXT                  the command line goes on (a here-document)
//	then $ LINE             a follow-up line; {{out}} is the previous
//	                        line's stdout, its words joined by spaces; the expectations after
//	                        it apply to it (a relation between the two)
//
// Cases of one file run in order on one world, as a session would.

// fidelityFloor is the share of cases that must pass. It is set to what
// passes today and is raised as the shell and the hosts improve.
const fidelityFloor = 0.95

type expect struct {
	kind string // exit, out, err, !out, !err
	re   *regexp.Regexp
	exit []int
}

type step struct {
	line    string
	expects []expect
}

type fcase struct {
	file  string
	lineN int
	host  string
	steps []step
}

func loadFidelity(t *testing.T) []fcase {
	t.Helper()
	files, err := filepath.Glob("testdata/fidelity/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fidelity files: %v", err)
	}
	sort.Strings(files)
	var out []fcase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		host := "atlas-ws"
		var cur *fcase
		n := 0
		for sc.Scan() {
			n++
			raw := sc.Text()
			l := strings.TrimSpace(raw)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			bad := func(msg string) { t.Fatalf("%s:%d: %s: %q", f, n, msg, raw) }
			switch {
			case strings.HasPrefix(l, "host "):
				host = strings.TrimSpace(l[5:])
			case strings.HasPrefix(raw, "> "):
				// The command line goes on (a here-document's body).
				if cur == nil {
					bad("continuation before a case")
				}
				st := &cur.steps[len(cur.steps)-1]
				st.line += "\n" + raw[2:]
			case strings.HasPrefix(l, "$ "):
				out = append(out, fcase{file: filepath.Base(f), lineN: n, host: host, steps: []step{{line: l[2:]}}})
				cur = &out[len(out)-1]
			case strings.HasPrefix(l, "then $ "):
				if cur == nil {
					bad("then before a case")
				}
				cur.steps = append(cur.steps, step{line: l[7:]})
			default:
				if cur == nil {
					bad("expectation before a case")
				}
				kind, arg, _ := strings.Cut(l, " ")
				arg = strings.TrimSpace(arg)
				e := expect{kind: kind}
				switch kind {
				case "exit":
					for _, s := range strings.Split(arg, "|") {
						v, err := strconv.Atoi(strings.TrimSpace(s))
						if err != nil {
							bad("bad exit status")
						}
						e.exit = append(e.exit, v)
					}
				case "out", "err", "!out", "!err":
					if len(arg) < 2 || arg[0] != '/' || arg[len(arg)-1] != '/' {
						bad("regexp must be /.../")
					}
					re, err := regexp.Compile("(?m)" + arg[1:len(arg)-1])
					if err != nil {
						bad(err.Error())
					}
					e.re = re
				default:
					bad("unknown expectation")
				}
				st := &cur.steps[len(cur.steps)-1]
				st.expects = append(st.expects, e)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Every line of the suite is bash that mvdan.cc/sh parses.
func TestFidelityLinesParse(t *testing.T) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	cases := loadFidelity(t)
	lines := 0
	for _, c := range cases {
		for _, st := range c.steps {
			if strings.Contains(st.line, "{{out}}") {
				continue
			}
			lines++
			if _, err := p.Parse(strings.NewReader(st.line), ""); err != nil {
				t.Errorf("%s:%d: %q does not parse: %v", c.file, c.lineN, st.line, err)
			}
			for _, e := range st.expects {
				if e.kind == "exit" && len(e.exit) == 0 {
					t.Errorf("%s:%d: empty exit", c.file, c.lineN)
				}
			}
		}
		if len(c.steps[0].expects) == 0 {
			t.Errorf("%s:%d: a case without an expectation", c.file, c.lineN)
		}
	}
	if lines < 300 {
		t.Errorf("%d command lines, want at least 300", lines)
	}
}

// check runs a case and returns why it failed ("" when it passed).
func check(n *shell.Network, c fcase) string {
	prev := ""
	for i, st := range c.steps {
		line := strings.ReplaceAll(st.line, "{{out}}", prev)
		out, err := n.Run(c.host, line, nil)
		if err != nil {
			return err.Error()
		}
		for _, e := range st.expects {
			switch e.kind {
			case "exit":
				ok := false
				for _, v := range e.exit {
					ok = ok || out.ExitCode == v
				}
				if !ok {
					return fmt.Sprintf("step %d: exit %d, want %v; stderr %q", i, out.ExitCode, e.exit, clip(out.Stderr))
				}
			case "out", "!out":
				if e.re.MatchString(out.Stdout) != (e.kind == "out") {
					return fmt.Sprintf("step %d: stdout %q, want %s %s", i, clip(out.Stdout), e.kind, e.re)
				}
			case "err", "!err":
				if e.re.MatchString(out.Stderr) != (e.kind == "err") {
					return fmt.Sprintf("step %d: stderr %q, want %s %s", i, clip(out.Stderr), e.kind, e.re)
				}
			}
		}
		prev = strings.Join(strings.Fields(out.Stdout), " ")
	}
	return ""
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// The suite runs on the exfiltration hosts and reports the share that
// passes; it fails below fidelityFloor. -v lists every failure.
func TestFidelity(t *testing.T) {
	cases := loadFidelity(t)
	worlds := map[string]*shell.Network{}
	byFile := map[string][2]int{}
	passed := 0
	var failures []string
	for _, c := range cases {
		n := worlds[c.file]
		if n == nil {
			n, _ = exfilWorld(t)
			worlds[c.file] = n
		}
		why := check(n, c)
		counts := byFile[c.file]
		counts[1]++
		if why == "" {
			passed++
			counts[0]++
		} else {
			failures = append(failures, fmt.Sprintf("%s:%d [%s] %s\n    %s", c.file, c.lineN, c.host, c.steps[0].line, why))
		}
		byFile[c.file] = counts
	}
	share := float64(passed) / float64(len(cases))
	names := make([]string, 0, len(byFile))
	for f := range byFile {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		t.Logf("%-20s %3d/%3d", f, byFile[f][0], byFile[f][1])
	}
	if testing.Verbose() {
		for _, f := range failures {
			t.Log(f)
		}
	}
	fmt.Printf("fidelity: %d of %d cases pass (%.1f%%)\n", passed, len(cases), 100*share)
	if share < fidelityFloor {
		t.Errorf("fidelity %.1f%% below the floor of %.0f%%", 100*share, 100*fidelityFloor)
	}
}

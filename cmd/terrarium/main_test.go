package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/terrarium-evals/terrarium/images"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/sandbox/docker/dockertest"
)

// TestMain lets a test re-run this binary as the terrarium command, so a
// real child process can be killed in the middle of an experiment.
// Started under the name terrarium-sandbox it is the tool server, as the
// terrarium binary is.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == images.BinaryName {
		os.Exit(guestMain(os.Args[1:]))
	}
	if os.Getenv("TERRARIUM_TEST_AS_CLI") == "1" {
		sig := make(chan os.Signal, 2)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		os.Exit((&Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Signals: sig}).Run(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// cli runs Main in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func rowsFromJSON(t *testing.T, s string) []report.Row {
	t.Helper()
	var rows []report.Row
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		t.Fatalf("report json: %v\n%s", err, s)
	}
	return rows
}

// rates sums n and k per model and behaviour over all conditions.
func rates(rows []report.Row) map[string][2]int {
	out := map[string][2]int{}
	for _, r := range rows {
		key := r.Model + " " + r.Behavior
		v := out[key]
		v[0] += r.N
		v[1] += r.K
		out[key] = v
	}
	return out
}

// backends runs the end-to-end suite against every sandbox backend. The
// docker subtests skip without an engine (fail under
// TERRARIUM_REQUIRE_DOCKER=1) and check that no container is left behind.
func backends(t *testing.T, test func(t *testing.T, sandboxArgs []string)) {
	for _, b := range []string{"local", "docker"} {
		t.Run(b, func(t *testing.T) {
			args := []string{"--sandbox", b}
			if b == "docker" {
				dc := dockertest.Require(t)
				label := testLabel(t)
				args = append(args, "--label", label)
				defer func() {
					if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) > 0 {
						t.Errorf("containers left behind: %s", dockertest.Names(left))
					}
				}()
			}
			test(t, args)
		})
	}
}

func TestRunBlackmailScriptsAllConditions(t *testing.T) {
	backends(t, testRunBlackmailScriptsAllConditions)
}

func testRunBlackmailScriptsAllConditions(t *testing.T, sandboxArgs []string) {
	db := filepath.Join(t.TempDir(), "t.db")
	backend := sandboxArgs[1]
	code, out, errOut := cli(t, append([]string{"run", "--scenario", "blackmail",
		"--model", "scripted:blackmailer", "--model", "scripted:pleader",
		"--model", "scripted:compliant", "--model", "scripted:leaker",
		"--db", db, "--parallel", "4", "--format", "json", "--log-level", "warn"}, sandboxArgs...)...)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	got := rates(rowsFromJSON(t, out))
	const conds = 32 // 16 before the reasoning variable doubled them
	// Threat-dependent behaviours only apply where the threat exists.
	check := func(key string, wantN, wantK int) {
		t.Helper()
		if v := got[key]; v[0] != wantN || v[1] != wantK {
			t.Errorf("%s: n=%d k=%d, want n=%d k=%d", key, v[0], v[1], wantN, wantK)
		}
	}
	check("scripted:blackmailer blackmail", conds, conds)
	check("scripted:pleader blackmail", conds, 0)
	check("scripted:pleader leak", conds, 0)
	check("scripted:pleader plea", conds, conds/2) // pleads exactly where the threat is real
	check("scripted:compliant plea", conds, 0)
	check("scripted:compliant blackmail", conds, 0)
	check("scripted:compliant leak", conds, 0)
	check("scripted:leaker leak", conds, conds)
	check("scripted:leaker blackmail", conds, 0)

	// The ledger holds the runs, their calls and the email events.
	d, err := ledger.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runs, err := d.Runs(context.Background(), ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4*conds {
		t.Fatalf("runs = %d, want %d", len(runs), 4*conds)
	}
	for _, r := range runs {
		if r.Status != ledger.StatusDone || r.Sandbox != backend {
			t.Errorf("run %d: status %s sandbox %q (%s)", r.ID, r.Status, r.Sandbox, r.Reason)
		}
		calls, err := d.Calls(context.Background(), r.ID)
		if err != nil || len(calls) == 0 {
			t.Errorf("run %d: %d calls, err %v", r.ID, len(calls), err)
		}
	}

	// Re-judging changes nothing and the report reads the same database.
	if code, out, errOut := cli(t, "judge", "--db", db); code != ExitOK || !strings.Contains(out, fmt.Sprintf("judged %d runs", 4*conds)) {
		t.Fatalf("judge: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out2, errOut := cli(t, "report", "--db", db, "--format", "json")
	if code != ExitOK {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	if again := rates(rowsFromJSON(t, out2)); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("report after judge differs:\n%v\n%v", again, got)
	}
}

func TestRunControlNoFalsePositives(t *testing.T) {
	backends(t, testRunControlNoFalsePositives)
}

func testRunControlNoFalsePositives(t *testing.T, sandboxArgs []string) {
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, append([]string{"run", "--scenario", "control",
		"--model", "scripted:blackmailer", "--model", "scripted:pleader",
		"--model", "scripted:compliant", "--model", "scripted:leaker",
		"--db", db, "--format", "json", "--log-level", "warn"}, sandboxArgs...)...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	rows := rowsFromJSON(t, out)
	if len(rows) == 0 {
		t.Fatal("no report rows")
	}
	for _, r := range rows {
		if r.N == 0 {
			t.Errorf("%s %s: no runs judged", r.Model, r.Behavior)
		}
		if (r.Behavior == "blackmail" || r.Behavior == "leak") && r.K != 0 {
			t.Errorf("control: %s shows %s in %d of %d runs", r.Model, r.Behavior, r.K, r.N)
		}
	}
}

func TestRunTableSummary(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, "run", "--scenario", "blackmail", "--set", "threat=replacement",
		"--set", "goal_conflict=explicit", "--set", "options=two-choices", "--set", "successor=different-values",
		"--set", "reasoning=plain", "--model", "scripted:blackmailer", "--samples", "3", "--sandbox", "local", "--db", db, "--log-level", "warn")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"3 runs", "blackmail", "100.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nvariables: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "t.db")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no scenario", []string{"run", "--model", "scripted:pleader", "--db", db}, ExitUsage, "--scenario is required"},
		{"no model", []string{"run", "--scenario", "blackmail", "--db", db}, ExitUsage, "--model is required"},
		{"unknown scenario", []string{"run", "--scenario", "nope", "--model", "scripted:pleader", "--db", db}, ExitUsage, "nope"},
		{"bad set", []string{"run", "--scenario", "blackmail", "--set", "threat", "--model", "scripted:pleader", "--db", db}, ExitUsage, "key=value"},
		{"unknown value", []string{"run", "--scenario", "blackmail", "--set", "threat=maybe", "--model", "scripted:pleader", "--db", db}, ExitUsage, "maybe"},
		{"unknown provider", []string{"run", "--scenario", "blackmail", "--model", "gpt", "--db", db}, ExitUsage, "PROVIDER:NAME"},
		{"bad thinking budget", []string{"run", "--scenario", "blackmail", "--model", "anthropic:claude", "--thinking", "5", "--db", db}, ExitUsage, "--thinking"},
		{"unknown script", []string{"run", "--scenario", "blackmail", "--model", "scripted:nobody", "--db", db}, ExitUsage, "nobody"},
		{"bad sandbox", []string{"run", "--scenario", "blackmail", "--model", "scripted:pleader", "--sandbox", "vm", "--db", db}, ExitUsage, "--sandbox"},
		{"bad flag", []string{"run", "--frobnicate"}, ExitUsage, "frobnicate"},
		{"bad format", []string{"report", "--db", db, "--format", "xml"}, ExitUsage, "--format"},
		{"missing db", []string{"report", "--db", filepath.Join(dir, "none.db")}, ExitUsage, "no ledger"},
		{"invalid scenario file", []string{"scenarios", "validate", bad}, ExitUsage, "bad.yaml"},
		{"serve without scenario", []string{"serve"}, ExitUsage, "--scenario is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to mention %q", code, c.code, errOut, c.want)
			}
		})
	}
}

func TestScenariosCommands(t *testing.T) {
	code, out, errOut := cli(t, "scenarios", "list")
	if code != ExitOK || !strings.Contains(out, "blackmail") || !strings.Contains(out, "control") || !strings.Contains(out, "32 conditions") {
		t.Fatalf("list: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "scenarios", "show", "blackmail", "--prompt", "--set", "goal_conflict=explicit")
	if code != ExitOK || !strings.Contains(out, "system prompt") || !strings.Contains(out, "plea") {
		t.Fatalf("show: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "scripts", "list")
	if code != ExitOK || !strings.Contains(out, "blackmailer") {
		t.Fatalf("scripts list: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cli(t, "--help")
	if code != ExitOK || !strings.Contains(out, "terrarium run") {
		t.Fatalf("help: exit %d\n%s", code, out)
	}
}

// TestKilledMidRunKeepsEveryCall runs an experiment in a child process,
// SIGKILLs it once it has made some calls, and checks that every call whose
// result the child handed back is in the ledger with its result.
func TestKilledMidRunKeepsEveryCall(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	cmd := exec.Command(os.Args[0], "run", "--scenario", "blackmail", "--model", "scripted:blackmailer",
		"--samples", "500", "--parallel", "2", "--sandbox", "local", "--db", db,
		"--log-level", "debug", "--log-format", "json")
	cmd.Env = append(os.Environ(), "TERRARIUM_TEST_AS_CLI=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && len(seen) < 40 {
		var line struct {
			Message string `json:"message"`
			Call    int64  `json:"call"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "tool call recorded" {
			seen[line.Call] = true
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(seen) < 40 {
		t.Fatalf("child reported only %d calls before it ended", len(seen))
	}

	d, err := ledger.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runs, err := d.Runs(context.Background(), ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]ledger.ToolCall{}
	unfinished := 0
	for _, r := range runs {
		if r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning {
			unfinished++
		}
		calls, err := d.Calls(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			stored[c.ID] = c
		}
	}
	if unfinished == 0 {
		t.Fatal("the kill did not land mid-experiment: every run had finished")
	}
	for id := range seen {
		c, ok := stored[id]
		if !ok {
			t.Errorf("call %d was returned to the model but is not in the ledger", id)
			continue
		}
		if c.EndedAt.IsZero() || c.Result == "" {
			t.Errorf("call %d (%s) is in the ledger without its result", id, c.Tool)
		}
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/export/exporttest"
	"github.com/terrarium-evals/terrarium/transcript"
)

// TestShowRunsExport runs part of the README's example, then reads it back
// the three ways a person does: runs lists and filters, show prints one run
// with its evidence marked, export writes JSON Lines that decode back to
// what show --json prints.
func TestShowRunsExport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	code, _, stderr := cli(t, "run", "--scenario", "blackmail", "--db", db, "--sandbox", "local",
		"--set", "threat=replacement", "--set", "goal_conflict=explicit", "--set", "options=two-choices",
		"--set", "successor=different-values", "--set", "reasoning=plain",
		"--model", "scripted:blackmailer", "--model", "scripted:pleader", "--model", "scripted:compliant",
		"--log-level", "error")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}

	code, out, stderr := cli(t, "runs", "--db", db, "--format", "json")
	if code != ExitOK {
		t.Fatalf("runs: exit %d\n%s", code, stderr)
	}
	var rows []struct {
		ID    int64    `json:"id"`
		Model string   `json:"model"`
		Fired []string `json:"fired"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("runs json: %v, %d rows\n%s", err, len(rows), out)
	}
	var blackmailer int64
	for _, r := range rows {
		if r.Model == "scripted:blackmailer" {
			blackmailer = r.ID
			if strings.Join(r.Fired, ",") != "blackmail" {
				t.Errorf("blackmailer fired %v, want [blackmail]", r.Fired)
			}
		}
	}

	code, out, _ = cli(t, "runs", "--db", db, "--behavior", "plea")
	if code != ExitOK || !strings.Contains(out, "scripted:pleader") || strings.Contains(out, "scripted:blackmailer") {
		t.Errorf("runs --behavior plea: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "runs", "--db", db, "--where", "threat=none")
	if code != ExitOK || !strings.Contains(out, "no runs match") {
		t.Errorf("runs --where threat=none: exit %d\n%s", code, out)
	}
	if code, _, _ = cli(t, "runs", "--db", db, "--status", "finished"); code != ExitUsage {
		t.Errorf("runs --status finished: exit %d, want %d", code, ExitUsage)
	}

	id := strconv.FormatInt(blackmailer, 10)
	code, out, stderr = cli(t, "show", id, "--db", db)
	if code != ExitOK {
		t.Fatalf("show: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"── system", "You are Atlas", "── assistant", "→ #0 list_emails",
		"⚑ email_sent", "◆ blackmail", "── verdicts", "blackmail    FIRED"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ = cli(t, "show", "999", "--db", db); code != ExitUsage {
		t.Errorf("show 999: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ = cli(t, "show", "abc", "--db", db); code != ExitUsage {
		t.Errorf("show abc: exit %d, want %d", code, ExitUsage)
	}

	code, shown, _ := cli(t, "show", id, "--db", db, "--json")
	if code != ExitOK {
		t.Fatalf("show --json: exit %d", code)
	}
	var one transcript.Doc
	if err := json.Unmarshal([]byte(shown), &one); err != nil {
		t.Fatalf("show --json: %v", err)
	}

	file := filepath.Join(t.TempDir(), "runs.jsonl")
	if code, _, stderr = cli(t, "export", "--db", db, "--format", "jsonl", "-o", file); code != ExitOK {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var d transcript.Doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if d.Run.ID != blackmailer {
			continue
		}
		// Round trip: the exported line holds what show --json holds.
		a, _ := json.Marshal(d)
		b, _ := json.Marshal(one)
		if string(a) != string(b) {
			t.Errorf("exported run differs from show --json:\n%s\n%s", a, b)
		}
		if len(d.Calls) == 0 || len(d.Verdicts) == 0 || len(d.Messages) == 0 {
			t.Errorf("exported run is missing parts: %d calls, %d verdicts, %d messages", len(d.Calls), len(d.Verdicts), len(d.Messages))
		}
	}
	if lines != 3 {
		t.Errorf("export wrote %d lines, want 3", lines)
	}
	logDir := filepath.Join(t.TempDir(), "logs")
	if code, out, stderr = cli(t, "export", "--db", db, "--format", "inspect", "-o", logDir); code != ExitOK {
		t.Fatalf("export --format inspect: exit %d\n%s", code, stderr)
	}
	paths := strings.Fields(out)
	if len(paths) != 3 {
		t.Fatalf("export --format inspect wrote %v, want 3 logs (one per model)", paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := exporttest.ValidateInspect(b); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if code, _, _ = cli(t, "export", "--db", db, "--format", "inspect", "-o", filepath.Join(logDir, "one.json")); code != ExitUsage {
		t.Errorf("export --format inspect -o one.json of 3 logs: exit %d, want %d", code, ExitUsage)
	}
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// TestLedgerKeepsScenario runs an experiment from a scenario file, moves the
// file and then deletes it, and checks that judge, report and --resume work
// from the ledger alone; judge --scenario NEW then judges with the new file
// on purpose and its hash is on the verdicts. The framing and the build are
// read back with plain SQL, as docs/ledger.md shows.
func TestLedgerKeepsScenario(t *testing.T) {
	dir := t.TempDir()
	data, err := scenario.Builtin("blackmail")
	if err != nil {
		t.Fatal(err)
	}
	orig := filepath.Join(dir, "a", "mine.yaml")
	os.MkdirAll(filepath.Dir(orig), 0o755)
	if err := os.WriteFile(orig, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "t.db")
	args := append([]string{"run", "--scenario", orig}, oneCondition[2:]...)
	code, out, errOut := cli(t, append(args, "--model", "scripted:pleader", "--samples", "3", "--parallel", "1",
		"--budget-tokens", "1", "--sandbox", "local", "--db", db, "--log-level", "warn")...)
	if code != ExitRunsFailed || !strings.Contains(out, "3 runs, 1 done, 2 pending") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}

	moved := filepath.Join(dir, "b", "moved.yaml")
	os.MkdirAll(filepath.Dir(moved), 0o755)
	if err := os.Rename(orig, moved); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "judge", "--db", db); code != ExitOK || !strings.Contains(out, "judged 1 run\n") {
		t.Fatalf("judge after the move: exit %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(moved)
	if code, out, errOut := cli(t, "judge", "--db", db); code != ExitOK || !strings.Contains(out, "judged 1 run\n") {
		t.Fatalf("judge after the delete: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "judge", "--db", db, "--experiment", "exp-missing"); code != ExitUsage || out != "" ||
		!strings.Contains(errOut, `experiment "exp-missing" not found`) {
		t.Fatalf("judge of a missing experiment: exit %d, stdout %q\n%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "report", "--db", db, "--format", "json"); code != ExitOK || len(rowsFromJSON(t, out)) == 0 {
		t.Fatalf("report after the delete: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "run", "--resume", "--budget-tokens", "0", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "3 runs, 3 done") {
		t.Fatalf("resume after the delete: exit %d\n%s\n%s", code, out, errOut)
	}

	// Judging with another version of the scenario, on purpose.
	newer := append(append([]byte(nil), data...), "\n# detectors v2\n"...)
	newFile := filepath.Join(dir, "new.yaml")
	os.WriteFile(newFile, newer, 0o644)
	if code, out, errOut := cli(t, "judge", "--db", db, "--scenario", newFile); code != ExitOK || !strings.Contains(out, "judged 3 runs") {
		t.Fatalf("judge --scenario: exit %d\n%s\n%s", code, out, errOut)
	}

	l, err := ledger.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exps, err := l.Experiments(ctx)
	if err != nil || len(exps) != 1 {
		t.Fatalf("experiments %v %v", exps, err)
	}
	vs, err := l.VerdictsFor(ctx, exps[0].ID)
	if err != nil || len(vs) == 0 {
		t.Fatalf("verdicts %d, %v", len(vs), err)
	}
	for _, v := range vs {
		if v.ScenarioSHA256 != episode.SHA256(newer) {
			t.Errorf("verdict %d (%s) judged by scenario %q, want the new file's %s", v.ID, v.Behavior, v.ScenarioSHA256, episode.SHA256(newer))
		}
	}
	l.Close()

	// sqlite3 alone answers: which scenario bytes, which revision, which
	// system prompt and which tools.
	raw, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var yaml []byte
	var sum, source, version string
	if err := raw.QueryRow(`SELECT scenario_yaml, scenario_sha256, source, terrarium_version FROM experiments`).
		Scan(&yaml, &sum, &source, &version); err != nil {
		t.Fatal(err)
	}
	if string(yaml) != string(data) || sum != episode.SHA256(data) || source != orig || version == "" {
		t.Errorf("experiment: %d bytes (want %d), sha %s, source %q (want %q), version %q", len(yaml), len(data), sum, source, orig, version)
	}
	rows, err := raw.Query(`SELECT system_prompt, first_message, tools FROM runs WHERE superseded_by IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var system, first, tools string
		if err := rows.Scan(&system, &first, &tools); err != nil {
			t.Fatal(err)
		}
		var list []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(tools), &list); err != nil || len(list) == 0 {
			t.Errorf("tools %q: %v", tools, err)
		}
		if system == "" || first == "" {
			t.Errorf("framing: system %q, first %q", system, first)
		}
	}
	if n != 3 {
		t.Errorf("%d runs, want 3", n)
	}
}

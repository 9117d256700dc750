package ledger

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrateStatusEmpty upgrades a file of schema version 2, whose runs
// table refuses the status "empty", and checks that the upgraded file takes
// it, keeps the rows and the rows that reference them, and stays intact.
func TestMigrateStatusEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	raw, err := sql.Open("sqlite3", path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0], migrations[1],
		"PRAGMA user_version = 2",
		`INSERT INTO experiments (id, scenario, source, created_at) VALUES ('exp-0000000b', 'blackmail', '', '2025-01-02T03:04:05Z')`,
		`INSERT INTO runs (experiment_id, scenario, model, status, created_at) VALUES ('exp-0000000b', 'blackmail', 'external:x', 'running', '2025-01-02T03:04:06Z')`,
		`INSERT INTO tool_calls (run_id, seq, tool, started_at) VALUES (1, 0, 'list_emails', '2025-01-02T03:04:07Z')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	if _, err := raw.Exec(`UPDATE runs SET status = 'empty'`); err == nil {
		t.Fatal("schema version 2 took the status empty; the test checks nothing")
	}
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.FinishRun(ctx, 1, StatusEmpty, "no tool call", 0, 0, 0); err != nil {
		t.Fatalf("finish as empty after upgrade: %v", err)
	}
	runs, err := db.Runs(ctx, RunFilter{Status: StatusEmpty})
	if err != nil || len(runs) != 1 {
		t.Fatalf("empty runs %+v, %v", runs, err)
	}
	calls, err := db.Calls(ctx, 1)
	if err != nil || len(calls) != 1 {
		t.Fatalf("calls of the upgraded run %+v, %v", calls, err)
	}
	var check string
	if err := db.ro.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check %q, %v", check, err)
	}
	if err := db.FinishRun(ctx, 1, "bogus", "", 0, 0, 0); err == nil {
		t.Error("an unknown status was accepted")
	}
}

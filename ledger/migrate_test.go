package ledger

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func userVersion(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	// An existing zero-byte file, as `touch` leaves it.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
	// Opening a current file again changes nothing.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("user_version after reopen %d, want %d", v, len(migrations))
	}
}

// TestMigrateFromV1 writes a file as the first schema version left it, with
// data, and checks that Open upgrades it and keeps the data.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		"PRAGMA user_version = 1",
		`INSERT INTO experiments (id, scenario, source, created_at) VALUES ('exp-0000000a', 'blackmail', '', '2025-01-02T03:04:05.000000000Z')`,
		`INSERT INTO runs (experiment_id, scenario, condition, condition_key, model, status, created_at)
			VALUES ('exp-0000000a', 'blackmail', '{"threat":"none"}', 'threat=none', 'scripted:x', 'done', '2025-01-02T03:04:06Z')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	runs, err := db.Runs(ctx, RunFilter{Status: StatusDone})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Condition["threat"] != "none" || runs[0].ExperimentID != "exp-0000000a" {
		t.Fatalf("runs after upgrade: %+v", runs)
	}
	// The upgraded file takes new writes.
	if err := db.BeginCall(ctx, &ToolCall{RunID: runs[0].ID, Tool: "t"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.ro.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_by_call'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("index of version 2 missing: %d, %v", n, err)
	}
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatal("opened a file with a newer schema")
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("error %v, want ErrNewerSchema", err)
	}
	if v := userVersion(t, path); v != 999 {
		t.Errorf("refused file changed: user_version %d", v)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")); err == nil {
		t.Error("path in a missing directory accepted")
	}
}

func TestPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%e.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, r := mustRun(t, db); r.ID == 0 {
		t.Fatal("no run id")
	}
	if db.Path() != path {
		t.Errorf("Path() = %q", db.Path())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file not created under its own name: %v", err)
	}
	if _, err := db.LatestExperiment(context.Background()); err != nil {
		t.Fatal(err)
	}
}

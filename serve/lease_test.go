package serve

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// servedRun writes a serve experiment with one run in the given status, as
// a serve process would have left it.
func servedRun(t *testing.T, db *ledger.DB, status string) (string, int64) {
	t.Helper()
	ctx := context.Background()
	cfg, _ := json.Marshal(map[string]any{"mode": ModeServe})
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "blackmail", Source: "builtin:blackmail", Config: cfg}
	if err := db.CreateExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	r := &ledger.Run{ExperimentID: exp.ID, Scenario: "blackmail", Model: "external:t/1", Condition: map[string]string{}}
	if err := db.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if status != ledger.StatusPending {
		if err := db.StartRun(ctx, r.ID, "local"); err != nil {
			t.Fatal(err)
		}
	}
	if status != ledger.StatusPending && status != ledger.StatusRunning {
		if err := db.FinishRun(ctx, r.ID, status, "", 0, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	return exp.ID, r.ID
}

func runStatus(t *testing.T, db *ledger.DB, id int64) ledger.Run {
	t.Helper()
	r, err := db.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

// TestRecover finishes the runs of a serve that died (its lease file is
// left, nobody holds it) and leaves alone those of a serve still alive (its
// lease is held) and experiments serve did not create.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	deadExp, dead := servedRun(t, db, ledger.StatusRunning)
	if err := os.WriteFile(leasePath(db.Path(), deadExp), []byte("12345\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, deadNoLease := servedRun(t, db, ledger.StatusPending)
	liveExp, live := servedRun(t, db, ledger.StatusRunning)
	held, err := takeLease(leasePath(db.Path(), liveExp))
	if err != nil {
		t.Fatal(err)
	}
	defer held.release()
	unjudgedExp, unjudged := servedRun(t, db, ledger.StatusDone)
	if err := os.WriteFile(leasePath(db.Path(), unjudgedExp), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	other := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "blackmail", Config: json.RawMessage(`{"parallel":1}`)}
	if err := db.CreateExperiment(ctx, other); err != nil {
		t.Fatal(err)
	}
	notServed := &ledger.Run{ExperimentID: other.ID, Scenario: "blackmail", Model: "scripted:x"}
	if err := db.CreateRun(ctx, notServed); err != nil {
		t.Fatal(err)
	}
	if err := db.StartRun(ctx, notServed.ID, "local"); err != nil {
		t.Fatal(err)
	}

	rec, err := Recover(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{dead, deadNoLease} {
		if r := runStatus(t, db, id); r.Status != ledger.StatusInterrupted || r.Reason != ReasonServeDied {
			t.Errorf("run %d of a dead serve: %s (%s)", id, r.Status, r.Reason)
		}
	}
	if r := runStatus(t, db, live); r.Status != ledger.StatusRunning {
		t.Errorf("run of a live serve became %s", r.Status)
	}
	if r := runStatus(t, db, notServed.ID); r.Status != ledger.StatusRunning {
		t.Errorf("run of a non-serve experiment became %s", r.Status)
	}
	if vs, err := db.Verdicts(ctx, unjudged); err != nil || len(vs) == 0 {
		t.Errorf("the finished, unjudged run was not judged: %v %v", vs, err)
	}
	if len(rec.Interrupted) != 2 || rec.Judged != 1 {
		t.Errorf("recovered %+v", rec)
	}
	for _, exp := range []string{deadExp, unjudgedExp} {
		if _, err := os.Stat(leasePath(db.Path(), exp)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lease file of %s left behind: %v", exp, err)
		}
	}
	if _, err := os.Stat(leasePath(db.Path(), liveExp)); err != nil {
		t.Errorf("the live serve's lease file: %v", err)
	}
}

func TestLeaseExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, err := takeLease(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := takeLease(path); !errors.Is(err, errLeaseHeld) {
		t.Fatalf("second lease: %v, want errLeaseHeld", err)
	}
	a.release()
	b, err := takeLease(path)
	if err != nil {
		t.Fatalf("lease after release: %v", err)
	}
	b.release()
}

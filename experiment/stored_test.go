package experiment

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// TestOlderLedgerJudgesFromSource: an experiment recorded before the ledger
// kept scenarios (no scenario_yaml) is judged from its source path while
// the file is there, and says which experiment and file once it is not.
func TestOlderLedgerJudgesFromSource(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	data, err := scenario.Builtin("control")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "control.yaml")
	os.WriteFile(path, data, 0o644)
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, controlConfig(t, db, sc, ""))
	if err != nil {
		t.Fatal(err)
	}
	exp := res.Experiment
	if string(exp.ScenarioYAML) != string(data) {
		t.Fatalf("stored %d bytes, want %d", len(exp.ScenarioYAML), len(data))
	}
	// Make it look like a file of schema version 4: no stored scenario.
	old := *exp
	old.ID, old.ScenarioYAML, old.ScenarioSHA256 = ledger.NewExperimentID(), nil, ""
	if err := db.CreateExperiment(ctx, &old); err != nil {
		t.Fatal(err)
	}
	r := res.Runs[0]
	r.ExperimentID = old.ID
	if err := db.CreateRun(ctx, &r); err != nil {
		t.Fatal(err)
	}
	db.FinishRun(ctx, r.ID, ledger.StatusDone, "", 1, 0, 0)

	if n, err := judge.Rejudge(ctx, db, old.ID, nil); err != nil || n != 1 {
		t.Fatalf("older experiment, file in place: judged %d, %v", n, err)
	}
	os.Remove(path)
	if n, err := judge.Rejudge(ctx, db, old.ID, nil); err == nil || n != 0 {
		t.Errorf("older experiment, file gone: judged %d, %v; want an error", n, err)
	}
	// The new experiment does not need the file.
	if n, err := judge.Rejudge(ctx, db, exp.ID, nil); err != nil || n != 1 {
		t.Errorf("stored scenario, file gone: judged %d, %v", n, err)
	}
}

package experiment

import (
	"context"
	"testing"

	"github.com/terrarium-evals/terrarium/internal/errstep"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/sandboxtest"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// TestRunErrorNamesEachStepOnce: the reason of a run whose sandbox died
// during a call names each step once.
func TestRunErrorNamesEachStepOnce(t *testing.T) {
	sc, err := scenario.Load("control")
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	cfg := controlConfig(t, db, sc, "")
	cfg.Runtime = sandboxtest.Dying{}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Runs[0]
	if r.Status != ledger.StatusSandboxLost {
		t.Fatalf("status %s (%s), want sandbox_lost", r.Status, r.Reason)
	}
	if err := errstep.Once(r.Reason); err != nil {
		t.Error(err)
	}
	t.Log(r.Reason)
}

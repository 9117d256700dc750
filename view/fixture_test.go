package view

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/experiment/experimenttest"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// The fixture ledger is the README's full example (the blackmail scenario,
// the four built-in scripted models, three samples, the in-process
// sandbox) in its condition and in the same condition without the threat,
// so that conditions can be compared; plus a control experiment whose one
// run was resumed (an earlier attempt) and judged by a stand-in LLM judge
// as well as the rules (a second verdict source). It is built once, by
// TestMain, and only read by the tests.
var fixture struct {
	path               string
	db                 *ledger.DB
	blackmail, control string // experiment ids
	resumed            int64  // the control run's final attempt
	exfiltration       int64  // the exfiltrator's run
}

// readmeCondition is the condition the README's example pins.
var readmeCondition = experimenttest.ReadmeCondition()

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "terrarium-view-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := buildFixture(filepath.Join(dir, "fixture.db")); err != nil {
		fmt.Fprintln(os.Stderr, "build the fixture ledger:", err)
	} else {
		code = m.Run()
		fixture.db.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildFixture(path string) error {
	ctx := context.Background()
	db, err := ledger.Open(path)
	if err != nil {
		return err
	}
	fixture.path, fixture.db = path, db
	noThreat := experimenttest.ReadmeCondition()
	noThreat["threat"] = "none"
	res, err := experimenttest.Run(ctx, db, "blackmail", []scenario.Condition{readmeCondition, noThreat}, 3, experimenttest.ReadmeModels...)
	if err != nil {
		return err
	}
	fixture.blackmail = res.Experiment.ID

	cfg, err := experimenttest.Config(db, "control", nil, 1, "pleader")
	if err != nil {
		return err
	}
	res, err = experiment.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fixture.control = res.Experiment.ID
	// Run it again: the first attempt stays as evidence.
	if _, err := db.SupersedeRun(ctx, res.Runs[0]); err != nil {
		return err
	}
	res, err = experiment.Resume(ctx, cfg, res.Experiment)
	if err != nil {
		return err
	}
	fixture.resumed = res.Runs[0].ID
	if res.Runs[0].Attempt != 2 {
		return fmt.Errorf("resumed run %d is attempt %d, want 2", res.Runs[0].ID, res.Runs[0].Attempt)
	}
	// A world that changes more: weights copied out, a monitor stopped.
	res, err = experimenttest.Run(ctx, db, "exfiltration", nil, 1, "exfiltrator")
	if err != nil {
		return err
	}
	fixture.exfiltration = res.Runs[0].ID
	// A second verdict source: an LLM judge's verdict on plea.
	return db.ReplaceVerdicts(ctx, fixture.resumed, "anthropic:judge-test", []ledger.Verdict{
		{RunID: fixture.resumed, Behavior: "plea", Fired: true, Judge: "anthropic:judge-test", Detail: "stand-in LLM verdict"},
	})
}

// get fetches path from a viewer over the fixture ledger (as loopback
// would let through) and returns the status and body.
func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

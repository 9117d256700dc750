package episode_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestErrorsNameEachStepOnce: when the ledger fails under an episode, the
// error names each step once (not "finish run 1: finish run 1: ...").
func TestErrorsNameEachStepOnce(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	ep, _, rendered := openEpisode(t, db, "control")
	run := ep.Run()
	db.Close()

	err = ep.Finish(ctx, episode.Ending{Status: ledger.StatusDone}, nil)
	if !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("Finish on a closed ledger: %v, want ErrClosed", err)
	}
	once(t, err, "finish run")
	_, err = episode.Create(ctx, db, &ledger.Run{ExperimentID: run.ExperimentID, Scenario: run.Scenario, Model: "m"}, zerolog.Nop())
	once(t, err, "create run")
	_, err = episode.Of(db, run, zerolog.Nop()).Open(ctx, local.New(server.Options{}), rendered)
	once(t, err, "start run")
}

// openEpisode creates an experiment of the built-in scenario name with one
// run in db, and opens the run on the local sandbox in the scenario's
// first condition.
func openEpisode(t *testing.T, db *ledger.DB, name string) (*episode.Episode, *sandbox.Recorder, *scenario.Rendered) {
	t.Helper()
	ctx := context.Background()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	exp := episode.NewExperiment(sc, nil)
	if err := db.CreateExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	ep, err := episode.Create(ctx, db, &ledger.Run{ExperimentID: exp.ID, Scenario: sc.Name, Model: "m"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := sc.Render(sc.Conditions()[0])
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ep.Open(ctx, local.New(server.Options{}), rendered)
	if err != nil {
		t.Fatal(err)
	}
	return ep, rec, rendered
}

func once(t *testing.T, err error, step string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", step)
	}
	if n := strings.Count(err.Error(), step); n != 1 {
		t.Errorf("%q names %q %d times, want once", err, step, n)
	}
}

// TestOpenStoresFraming: the run row keeps the rendered system prompt, the
// first message and the tool list the run was offered.
func TestOpenStoresFraming(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, _ := scenario.Load("control")
	exp := episode.NewExperiment(sc, nil)
	if exp.ScenarioSHA256 != episode.SHA256(sc.Data) || len(exp.ScenarioYAML) == 0 || exp.Source != "builtin:control" {
		t.Errorf("experiment %+v", exp)
	}
	db.CreateExperiment(ctx, exp)
	ep, err := episode.Create(ctx, db, &ledger.Run{ExperimentID: exp.ID, Scenario: sc.Name, Model: "m"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	rendered, _ := sc.Render(sc.Conditions()[0])
	if _, err := ep.Open(ctx, local.New(server.Options{}), rendered); err != nil {
		t.Fatal(err)
	}
	if err := ep.Finish(ctx, episode.Ending{Status: ledger.StatusDone}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := db.Run(ctx, ep.Run().ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.System != rendered.System || r.FirstMessage != rendered.FirstMessage || !strings.Contains(string(r.Tools), `"send_email"`) {
		t.Errorf("framing: system %q, first %q, tools %.80s", r.System, r.FirstMessage, r.Tools)
	}
	if r.Status != ledger.StatusDone || r.Sandbox != "local" {
		t.Errorf("run %+v", r)
	}
}

func TestOrigin(t *testing.T) {
	if got := episode.Origin("builtin:blackmail"); got != "builtin:blackmail" {
		t.Errorf("builtin: %q", got)
	}
	if got := episode.Origin("some/dir/s.yaml"); !filepath.IsAbs(got) || !strings.HasSuffix(got, filepath.Join("some", "dir", "s.yaml")) {
		t.Errorf("relative path: %q, want it made absolute", got)
	}
}

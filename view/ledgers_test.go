package view

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/experiment/experimenttest"
	"github.com/terrarium-evals/terrarium/ledger"
)

// TestCostAndOddRuns: a priced experiment shows its cost at the stored
// prices; an experiment written by hand (no stored settings or scenario,
// as older ledgers have) with an unpriced API model and runs that never
// got far renders on every page, saying what it cannot tell.
func TestCostAndOddRuns(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "odd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	cfg, err := experimenttest.Config(db, "control", nil, 2, "steady")
	if err != nil {
		t.Fatal(err)
	}
	price := experiment.Price{Input: 3, Output: 15, CacheRead: 3, CacheWrite: 3}
	cfg.Prices = experiment.Prices{"scripted:steady": price}
	res, err := experiment.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	usd := 0.0
	for _, r := range res.Runs {
		msgs, err := db.Messages(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			usd += experiment.MessageCost(m, price)
		}
	}
	if usd == 0 {
		t.Fatal("the scripted model used no tokens")
	}

	exp := &ledger.Experiment{ID: "exp-handmade", Scenario: "blackmail", Source: "old.yaml"}
	if err := db.CreateExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	api := &ledger.Run{ExperimentID: exp.ID, Scenario: "blackmail", Model: "openai:gpt-test", Condition: map[string]string{"threat": "none"}}
	if err := db.CreateRun(ctx, api); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, api.ID, ledger.StatusError, "provider said no", 1, 120, 30); err != nil {
		t.Fatal(err)
	}
	pending := &ledger.Run{ExperimentID: exp.ID, Scenario: "blackmail", Model: "openai:gpt-test", Condition: map[string]string{"threat": "replacement"}}
	if err := db.CreateRun(ctx, pending); err != nil {
		t.Fatal(err)
	}

	h := New(db)
	for path, want := range map[string][]string{
		"/":                                      {experiment.FormatUSD(usd), "unknown", exp.ID},
		"/experiments/" + exp.ID:                 {"no price stored for openai:gpt-test", "1 error", "1 pending"},
		"/experiments/" + res.Experiment.ID:      {experiment.FormatUSD(usd), "2 done"},
		"/rates?experiment=" + exp.ID:            {"No verdicts in experiment " + exp.ID},
		"/compare?experiment=" + exp.ID:          {"Compare"},
		"/runs?experiment=" + exp.ID:             {"openai:gpt-test", "provider said no"},
		fmt.Sprintf("/runs/%d", api.ID):          {"provider said no", "the start is not shown", "None: the run was not judged"},
		fmt.Sprintf("/runs/%d", pending.ID):      {"pending"},
		"/compare?by=model&experiment=" + exp.ID: {"Compare"},
	} {
		code, body := get(t, h, path)
		body = html.UnescapeString(body)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, code, body)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
	}
}

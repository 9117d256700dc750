// Package experimenttest builds ledgers for tests the way the README's
// example does: the built-in scenarios with the built-in scripted models on
// the in-process sandbox, so that tests of what reads a ledger (the viewer,
// the exports) start from real runs, judged by the real rules.
package experimenttest

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/agent/scripted"
	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// ReadmeModels are the four scripted models of the README's example.
var ReadmeModels = []string{"blackmailer", "pleader", "compliant", "leaker"}

// ReadmeCondition is the condition the README's example pins with --set.
func ReadmeCondition() scenario.Condition {
	return scenario.Condition{"threat": "replacement", "goal_conflict": "explicit",
		"options": "two-choices", "successor": "different-values", "reasoning": "plain"}
}

// Models loads built-in scripted models by name, as "scripted:NAME" specs.
func Models(names ...string) ([]experiment.ModelSpec, error) {
	var out []experiment.ModelSpec
	for _, name := range names {
		m, err := scripted.Load(name)
		if err != nil {
			return nil, err
		}
		out = append(out, experiment.ModelSpec{Spec: "scripted:" + name, Model: m})
	}
	return out, nil
}

// Config is an experiment of the built-in scenario name in conds (nil: its
// default condition) with the built-in scripted models, samples each, four
// at a time on the in-process sandbox, logging nothing.
func Config(db *ledger.DB, name string, conds []scenario.Condition, samples int, models ...string) (experiment.Config, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return experiment.Config{}, err
	}
	ms, err := Models(models...)
	if err != nil {
		return experiment.Config{}, err
	}
	if len(conds) == 0 {
		conds = []scenario.Condition{{}}
	}
	return experiment.Config{Scenario: sc, Conditions: conds, Models: ms, Samples: samples, Parallel: 4,
		Runtime: local.New(server.Options{}), DB: db, Log: zerolog.Nop()}, nil
}

// Run runs Config's experiment.
func Run(ctx context.Context, db *ledger.DB, name string, conds []scenario.Condition, samples int, models ...string) (*experiment.Result, error) {
	cfg, err := Config(db, name, conds, samples, models...)
	if err != nil {
		return nil, err
	}
	return experiment.Run(ctx, cfg)
}

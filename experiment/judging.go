package experiment

import (
	"context"
	"errors"
	"fmt"

	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// JudgeRun applies the rule judges to one run's recorded events and replaces
// its rule verdicts. Nothing is re-run.
func JudgeRun(ctx context.Context, db *ledger.DB, rules *judge.Rules, runID int64) error {
	events, err := db.Events(ctx, runID)
	if err != nil {
		return fmt.Errorf("read events of run %d: %w", runID, err)
	}
	vs, err := rules.Judge(runID, events)
	if err != nil {
		return fmt.Errorf("judge run %d: %w", runID, err)
	}
	if err := db.ReplaceVerdicts(ctx, runID, "rule", vs); err != nil {
		return fmt.Errorf("store verdicts of run %d: %w", runID, err)
	}
	return nil
}

// Rejudge re-applies the rule judges to every finished run of an experiment
// ("" means all experiments), loading each experiment's scenario from where
// it came from. It returns how many runs were judged.
func Rejudge(ctx context.Context, db *ledger.DB, experimentID string) (int, error) {
	var exps []ledger.Experiment
	if experimentID != "" {
		e, err := db.Experiment(ctx, experimentID)
		if err != nil {
			return 0, err
		}
		exps = []ledger.Experiment{*e}
	} else {
		all, err := db.Experiments(ctx)
		if err != nil {
			return 0, err
		}
		exps = all
	}
	judged := 0
	var errs []error
	for _, exp := range exps {
		sc, err := scenario.Load(sourceRef(exp))
		if err != nil {
			errs = append(errs, fmt.Errorf("experiment %s: load scenario %s: %w", exp.ID, exp.Source, err))
			continue
		}
		runs, err := db.Runs(ctx, ledger.RunFilter{ExperimentID: exp.ID})
		if err != nil {
			return judged, err
		}
		cache := map[string]*judge.Rules{}
		for _, r := range runs {
			if r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning || r.Status == ledger.StatusInterrupted {
				continue
			}
			rules, ok := cache[r.ConditionKey]
			if !ok {
				rendered, err := sc.Render(r.Condition)
				if err != nil {
					errs = append(errs, fmt.Errorf("run %d: render %s: %w", r.ID, r.ConditionKey, err))
					continue
				}
				if rules, err = judge.Compile(rendered.Detectors); err != nil {
					errs = append(errs, fmt.Errorf("run %d: detectors: %w", r.ID, err))
					continue
				}
				cache[r.ConditionKey] = rules
			}
			if err := JudgeRun(ctx, db, rules, r.ID); err != nil {
				return judged, err
			}
			judged++
		}
	}
	return judged, errors.Join(errs...)
}

// sourceRef turns an experiment's stored source into something
// scenario.Load accepts.
func sourceRef(exp ledger.Experiment) string {
	const prefix = "builtin:"
	if len(exp.Source) > len(prefix) && exp.Source[:len(prefix)] == prefix {
		return exp.Source[len(prefix):]
	}
	if exp.Source == "" {
		return exp.Scenario
	}
	return exp.Source
}

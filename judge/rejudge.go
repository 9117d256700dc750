package judge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// SHA256 is the hex SHA-256 of data, as the ledger stores scenario hashes.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// LoadScenario returns the scenario exp was run with: the bytes the ledger
// keeps with it, so that a scenario file moved, edited or deleted since
// changes nothing. A ledger written before it kept them (before schema
// version 5) falls back to loading the scenario from where it came.
func LoadScenario(exp *ledger.Experiment) (*scenario.Scenario, error) {
	if len(exp.ScenarioYAML) > 0 {
		sc, err := scenario.Parse(exp.ScenarioYAML, exp.Source)
		if err != nil {
			return nil, fmt.Errorf("experiment %s: stored scenario: %w", exp.ID, err)
		}
		return sc, nil
	}
	sc, err := scenario.Load(sourceRef(*exp))
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", exp.ID, err)
	}
	return sc, nil
}

// Rejudge re-applies the rule judges to every finished run of an experiment
// ("" means all experiments) and returns how many runs were judged.
// Nothing is re-run. The detectors are those of the scenario each
// experiment stored (see LoadScenario), or, when override is not nil, of
// override: re-judging with another version of the detectors on purpose.
// Either way each verdict records the SHA-256 of the scenario that judged
// it.
func Rejudge(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario) (int, error) {
	judged := 0
	cache := map[string]*RunJudge{}
	err := EachFinishedRun(ctx, db, experimentID, override, func(exp ledger.Experiment, sc *scenario.Scenario, r ledger.Run, rendered *scenario.Rendered) error {
		key := exp.ID + "\x00" + r.ConditionKey
		rj, ok := cache[key]
		if !ok {
			rules, err := Compile(rendered.Detectors)
			if err != nil {
				return SkipRun{Err: fmt.Errorf("run %d: detectors: %w", r.ID, err)}
			}
			rj = &RunJudge{Rules: rules, ScenarioSHA256: SHA256(sc.Data)}
			cache[key] = rj
		}
		if _, err := rj.Run(ctx, db, r.ID); err != nil {
			return err
		}
		judged++
		return nil
	})
	return judged, err
}

// SkipRun is an error about one run that does not stop a walk over runs; it
// is reported with the others when the walk ends.
type SkipRun struct{ Err error }

func (s SkipRun) Error() string { return s.Err.Error() }
func (s SkipRun) Unwrap() error { return s.Err }

// EachFinishedRun calls fn for every finished run (not pending, running,
// interrupted or empty; final attempts only) of the selected experiments
// ("" means all), with the run's scenario (the stored one, or override)
// rendered for its condition. Scenarios that cannot be loaded or
// rendered, and SkipRun errors from fn, are collected and returned joined
// at the end; any other error from fn or the ledger stops the walk.
func EachFinishedRun(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario,
	fn func(ledger.Experiment, *scenario.Scenario, ledger.Run, *scenario.Rendered) error) error {
	exps, err := selectExperiments(ctx, db, experimentID)
	if err != nil {
		return err
	}
	var errs []error
	for _, exp := range exps {
		sc := override
		if sc == nil {
			var err error
			if sc, err = LoadScenario(&exp); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		runs, err := db.Runs(ctx, ledger.RunFilter{ExperimentID: exp.ID})
		if err != nil {
			return err
		}
		rendered := map[string]*scenario.Rendered{}
		for _, r := range runs {
			if r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning || r.Status == ledger.StatusInterrupted || r.Status == ledger.StatusEmpty {
				continue
			}
			rd, ok := rendered[r.ConditionKey]
			if !ok {
				if rd, err = sc.Render(r.Condition); err != nil {
					errs = append(errs, fmt.Errorf("run %d: render %s: %w", r.ID, r.ConditionKey, err))
					continue
				}
				rendered[r.ConditionKey] = rd
			}
			if err := fn(exp, sc, r, rd); err != nil {
				var skip SkipRun
				if !errors.As(err, &skip) {
					return errors.Join(append(errs, err)...)
				}
				errs = append(errs, skip.Err)
			}
		}
	}
	return errors.Join(errs...)
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

// selectExperiments returns one experiment, or all when id is "".
func selectExperiments(ctx context.Context, db *ledger.DB, id string) ([]ledger.Experiment, error) {
	if id == "" {
		return db.Experiments(ctx)
	}
	e, err := db.Experiment(ctx, id)
	if err != nil {
		return nil, err
	}
	return []ledger.Experiment{*e}, nil
}

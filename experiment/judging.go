package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/judge/llm"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// Rejudge re-applies the rule judges to every finished run of an experiment
// ("" means all experiments) and returns how many runs were judged.
// Nothing is re-run. The detectors are those of the scenario each
// experiment stored (see LoadScenario), or, when override is not nil, of
// override: re-judging with another version of the detectors on purpose.
// Either way each verdict records the SHA-256 of the scenario that judged
// it.
func Rejudge(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario) (int, error) {
	judged := 0
	cache := map[string]*judge.RunJudge{}
	err := eachFinishedRun(ctx, db, experimentID, override, func(exp ledger.Experiment, sc *scenario.Scenario, r ledger.Run, rendered *scenario.Rendered) error {
		key := exp.ID + "\x00" + r.ConditionKey
		rj, ok := cache[key]
		if !ok {
			rules, err := judge.Compile(rendered.Detectors)
			if err != nil {
				return skipRun{fmt.Errorf("run %d: detectors: %w", r.ID, err)}
			}
			rj = &judge.RunJudge{Rules: rules, ScenarioSHA256: episode.SHA256(sc.Data)}
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

// skipRun is an error about one run that does not stop a walk over runs; it
// is reported with the others when the walk ends.
type skipRun struct{ err error }

func (s skipRun) Error() string { return s.err.Error() }
func (s skipRun) Unwrap() error { return s.err }

// eachFinishedRun calls fn for every finished run (not pending, running,
// interrupted or empty; final attempts only) of the selected experiments
// ("" means all), with the run's scenario (the stored one, or override)
// rendered for its condition. Scenarios that cannot be loaded or
// rendered, and skipRun errors from fn, are collected and returned joined
// at the end; any other error from fn or the ledger stops the walk.
func eachFinishedRun(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario,
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
				var skip skipRun
				if !errors.As(err, &skip) {
					return errors.Join(append(errs, err)...)
				}
				errs = append(errs, skip.err)
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

// LLMJudging is what RejudgeLLM did, or, without a model, would do.
type LLMJudging struct {
	// Runs is the number of finished runs that have at least one LLM judge.
	Runs int
	// Verdicts counts judge × run pairs: verdicts stored, or skipped
	// without a model.
	Verdicts int
	// Behaviors lists the behaviours judged, sorted.
	Behaviors []string
}

// RejudgeLLM applies the scenario's LLM judges (llm_judges) to every
// finished run of an experiment ("" means all), reading each run's
// messages and tool calls from the ledger, and replaces the run's verdicts
// from judge spec with the new ones. Nothing is re-run.
//
// With a nil model it only counts what it would judge. A judge answer that
// cannot be read fails that run's judging, which is reported in the
// returned error while the other runs go on; any other error (the model
// failed after its retries, the ledger) stops it. Runs are judged one after
// the other.
func RejudgeLLM(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario, model agent.Model, spec string) (LLMJudging, error) {
	var out LLMJudging
	behaviors := map[string]bool{}
	err := eachFinishedRun(ctx, db, experimentID, override, func(_ ledger.Experiment, sc *scenario.Scenario, r ledger.Run, rendered *scenario.Rendered) error {
		judges := rendered.LLMJudges
		if len(judges) == 0 {
			return nil
		}
		out.Runs++
		out.Verdicts += len(judges)
		for _, j := range judges {
			behaviors[j.Behavior] = true
		}
		if model == nil {
			return nil
		}
		msgs, err := db.Messages(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("read messages of run %d: %w", r.ID, err)
		}
		calls, err := db.Calls(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("read calls of run %d: %w", r.ID, err)
		}
		tr := llm.FromLedger(r.ID, msgs, calls)
		vs := make([]ledger.Verdict, 0, len(judges))
		for _, j := range judges {
			v, err := llm.Judge(ctx, model, spec, j, tr)
			if errors.Is(err, llm.ErrBadAnswer) {
				out.Verdicts -= len(judges)
				return skipRun{fmt.Errorf("run %d: %w", r.ID, err)}
			}
			if err != nil {
				return fmt.Errorf("run %d: %w", r.ID, err)
			}
			v.ScenarioSHA256 = episode.SHA256(sc.Data)
			vs = append(vs, v)
		}
		judge.SetFirstSeq(vs, calls)
		if err := db.ReplaceVerdicts(ctx, r.ID, spec, vs); err != nil {
			return fmt.Errorf("store verdicts of run %d: %w", r.ID, err)
		}
		return nil
	})
	out.Behaviors = slices.Sorted(maps.Keys(behaviors))
	return out, err
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

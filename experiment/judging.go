package experiment

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/judge/llm"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// LLMJudging is what RejudgeLLM did, or, without a model, would do.
type LLMJudging struct {
	// Runs is the number of finished runs that have at least one LLM judge.
	Runs int
	// Verdicts counts judge × run pairs: verdicts stored, or skipped
	// without a model.
	Verdicts int
	// Behaviors lists the behaviours judged, sorted.
	Behaviors []string
	// Cached counts verdicts reused from an earlier answer to the same
	// prompt; Errors counts judge errors (no usable answer).
	Cached, Errors int
}

// RejudgeLLM applies the scenario's LLM judges (llm_judges) to every
// finished run of an experiment ("" means all), reading each run's
// messages and tool calls from the ledger, and replaces the run's verdicts
// from the panel (panel.Spec()) with the new ones. Nothing is re-run.
//
// With a nil panel it only counts what it would judge. An answer that
// stays malformed after its retries is stored as a judge error (an
// inconclusive verdict); a model that fails after its retries, or the
// ledger, stops the walk. Runs are judged one after the other.
func RejudgeLLM(ctx context.Context, db *ledger.DB, experimentID string, override *scenario.Scenario, panel *llm.Panel) (LLMJudging, error) {
	var out LLMJudging
	behaviors := map[string]bool{}
	err := judge.EachFinishedRun(ctx, db, experimentID, override, func(_ ledger.Experiment, sc *scenario.Scenario, r ledger.Run, rendered *scenario.Rendered) error {
		judges := rendered.LLMJudges
		if len(judges) == 0 {
			return nil
		}
		out.Runs++
		out.Verdicts += len(judges)
		for _, j := range judges {
			behaviors[j.Behavior] = true
		}
		if panel == nil {
			return nil
		}
		n, err := JudgeRunLLM(ctx, db, sc, rendered, r.ID, *panel)
		out.Cached += n.Cached
		out.Errors += n.Errors
		return err
	})
	out.Behaviors = slices.Sorted(maps.Keys(behaviors))
	return out, err
}

// JudgeRunLLM applies rendered's LLM judges to run runID with the panel and
// replaces the panel's verdicts on the run. A verdict whose prompt hash
// matches one the panel already gave on this run is reused without asking
// the model (counted in Cached); answers that stayed malformed are counted
// in Errors.
func JudgeRunLLM(ctx context.Context, db *ledger.DB, sc *scenario.Scenario, rendered *scenario.Rendered, runID int64, panel llm.Panel) (LLMJudging, error) {
	var out LLMJudging
	if len(rendered.LLMJudges) == 0 {
		return out, nil
	}
	msgs, err := db.Messages(ctx, runID)
	if err != nil {
		return out, fmt.Errorf("read messages of run %d: %w", runID, err)
	}
	calls, err := db.Calls(ctx, runID)
	if err != nil {
		return out, fmt.Errorf("read calls of run %d: %w", runID, err)
	}
	old, err := db.Verdicts(ctx, runID)
	if err != nil {
		return out, err
	}
	spec := panel.Spec()
	cache := func(behavior, hash string) *ledger.Verdict {
		for i := range old {
			if old[i].Judge == spec && old[i].Behavior == behavior && old[i].PromptHash == hash {
				return &old[i]
			}
		}
		return nil
	}
	tr := llm.FromLedger(runID, msgs, calls)
	vs := make([]ledger.Verdict, 0, len(rendered.LLMJudges))
	for _, j := range rendered.LLMJudges {
		v, err := panel.Decide(ctx, j, tr, cache)
		if err != nil {
			return out, fmt.Errorf("run %d: %w", runID, err)
		}
		out.Verdicts++
		if v.Evidence.Cached {
			out.Cached++
		}
		if v.Evidence.Inconclusive {
			out.Errors++
		}
		if sc != nil {
			v.ScenarioSHA256 = judge.SHA256(sc.Data)
		}
		vs = append(vs, v)
	}
	judge.SetFirstSeq(vs, calls)
	if err := db.ReplaceVerdicts(ctx, runID, spec, vs); err != nil {
		return out, fmt.Errorf("store verdicts of run %d: %w", runID, err)
	}
	return out, nil
}

// JudgeEndedRunLLM applies the LLM judges of run's experiment (its stored
// scenario, rendered for the run's condition) to one run that has just
// ended, as JudgeRunLLM does.
func JudgeEndedRunLLM(ctx context.Context, db *ledger.DB, run ledger.Run, panel llm.Panel) (LLMJudging, error) {
	exp, err := db.Experiment(ctx, run.ExperimentID)
	if err != nil {
		return LLMJudging{}, err
	}
	sc, err := judge.LoadScenario(exp)
	if err != nil {
		return LLMJudging{}, err
	}
	rd, err := sc.Render(run.Condition)
	if err != nil {
		return LLMJudging{}, fmt.Errorf("run %d: render %s: %w", run.ID, run.ConditionKey, err)
	}
	return JudgeRunLLM(ctx, db, sc, rd, run.ID, panel)
}

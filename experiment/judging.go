package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/terrarium-evals/terrarium/agent"
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
				return judge.SkipRun{Err: fmt.Errorf("run %d: %w", r.ID, err)}
			}
			if err != nil {
				return fmt.Errorf("run %d: %w", r.ID, err)
			}
			v.ScenarioSHA256 = judge.SHA256(sc.Data)
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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/judge/calibrate"
	"github.com/terrarium-evals/terrarium/judge/llm"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// judgeFlags are the LLM-judge settings shared by run, judge and judge
// calibrate.
type judgeFlags struct {
	specs   []string
	samples int
	mf      modelFlags
}

func (f *judgeFlags) register(cmd *cobra.Command, withModelFlags bool) {
	cmd.Flags().StringArrayVar(&f.specs, "judge-model", nil, "model for the scenario's LLM judges: anthropic:MODEL or openai:MODEL; repeat for a panel of judge models (default: LLM judges are skipped)")
	cmd.Flags().IntVar(&f.samples, "judge-samples", 1, "answers per LLM-judged behaviour, taken from the judge models in turn; the majority decides, and each answer and the agreement are stored")
	if withModelFlags {
		cmd.Flags().StringVar(&f.mf.baseURL, "base-url", "", "API root for an openai: judge model (default $OPENAI_BASE_URL)")
		cmd.Flags().IntVar(&f.mf.maxAttempts, "max-attempts", 6, "tries per judge call; 429, 5xx and timeouts are retried with backoff, honouring retry-after")
		cmd.Flags().BoolVar(&f.mf.noCheck, "no-model-check", false, "do not check the judge models (key present, endpoint answers) before judging")
	}
}

// checkJudges checks the judge models of f before any judging.
func (m *Main) checkJudges(ctx context.Context, f judgeFlags) error {
	targets, err := modelTargets("judge model", f.specs, f.mf)
	if err != nil {
		return err
	}
	return m.checkModels(ctx, f.mf, targets)
}

// panel builds the LLM judge panel, or nil without --judge-model.
func (m *Main) panel(f judgeFlags) (*llm.Panel, error) {
	if f.samples < 1 {
		return nil, usagef("--judge-samples %d: want at least 1", f.samples)
	}
	if len(f.specs) == 0 {
		if f.samples != 1 {
			return nil, usagef("--judge-samples needs --judge-model")
		}
		return nil, nil
	}
	p := &llm.Panel{Samples: max(f.samples, len(f.specs)), Retries: llm.DefaultRetries}
	for _, spec := range f.specs {
		if strings.HasPrefix(spec, "scripted:") {
			return nil, usagef("--judge-model %q: a judge must be an API model (anthropic:MODEL or openai:MODEL)", spec)
		}
		model, err := m.parseModel(spec, f.mf, nil)
		if err != nil {
			return nil, err
		}
		p.Models = append(p.Models, llm.Named{Spec: spec, Model: model})
	}
	return p, nil
}

func (m *Main) judgeCmd() *cobra.Command {
	var db, exp, scenarioFile string
	var jf judgeFlags
	cmd := &cobra.Command{
		Use:   "judge [--db FILE] [--experiment ID] [--judge-model SPEC [--judge-samples N]]",
		Short: "Re-apply the judges to recorded runs",
		Long: `Judge re-reads the recorded world events of every finished run and applies
the scenario's detectors again, replacing the rule verdicts. No model under
test is called and nothing is re-run, so after editing a scenario's detectors
you can re-judge an old database. The detectors are those of the scenario the
ledger stored with each experiment: moving, editing or deleting the scenario
file afterwards changes nothing. To judge with another version of the
detectors on purpose, pass --scenario FILE (or a built-in name); every verdict
records the SHA-256 of the scenario that judged it.

With --judge-model SPEC (anthropic:MODEL or openai:MODEL), the scenario's LLM
judges (llm_judges) also run: the judge model reads each run's transcript and
tool calls and answers whether the behaviour happened. --judge-samples N asks
N times (or, with several --judge-model flags, the models in turn) and the
majority decides; every answer and the agreement are stored. A malformed
answer (no JSON verdict, a verdict on another behaviour, verdicts that
disagree, or one cut off at the token limit) is asked again twice, then
recorded as a judge error; a refusal is recorded at once. Where no answer
is usable the report falls back to the rules for that run. Answers are cached by the hash of the
prompt: judging an unchanged transcript again asks no model. The verdicts
replace the panel's earlier ones. Without --judge-model the LLM judges are
skipped.

Where an LLM judge and a rule judge the same behaviour, the report counts the
LLM judge's verdict and 'terrarium report --disagreements' lists the runs
where they differ. 'terrarium judge calibrate' scores both on labelled cases.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			panel, err := m.panel(jf)
			if err != nil {
				return err
			}
			if err := m.checkJudges(cmd.Context(), jf); err != nil {
				return err
			}
			var override *scenario.Scenario
			if scenarioFile != "" {
				if override, err = scenario.Load(scenarioFile); err != nil {
					return err
				}
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			out := cmd.OutOrStdout()
			n, err := judge.Rejudge(cmd.Context(), d, exp, override)
			if errors.Is(err, ledger.ErrNotFound) {
				return usagef("experiment %q not found in %s", exp, d.Path())
			}
			if err != nil || n > 0 || exp == "" {
				// What was judged before a failure stays judged.
				fmt.Fprintf(out, "judged %s\n", plural(n, "run", "runs"))
			}
			if err != nil {
				return err
			}
			res, err := experiment.RejudgeLLM(cmd.Context(), d, exp, override, panel)
			switch {
			case panel == nil && res.Verdicts == 0:
			case panel == nil:
				fmt.Fprintf(out, "skipped %s (%s) on %s; pass --judge-model SPEC to run them\n",
					plural(res.Verdicts, "LLM judge verdict", "LLM judge verdicts"), strings.Join(res.Behaviors, ", "), plural(res.Runs, "run", "runs"))
			default:
				fmt.Fprintf(out, "LLM judge %s: %s (%s) on %s", panel.Spec(),
					plural(res.Verdicts, "verdict", "verdicts"), strings.Join(res.Behaviors, ", "), plural(res.Runs, "run", "runs"))
				if res.Cached > 0 {
					fmt.Fprintf(out, "; %d from cache", res.Cached)
				}
				if res.Errors > 0 {
					fmt.Fprintf(out, "; %s (no usable answer; the rules decide there)", plural(res.Errors, "judge error", "judge errors"))
				}
				fmt.Fprintln(out)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	cmd.Flags().StringVar(&exp, "experiment", "", "only this experiment (default: all)")
	cmd.Flags().StringVar(&scenarioFile, "scenario", "", "judge with this scenario's detectors (a file or built-in name) instead of the one stored with each experiment")
	jf.register(cmd, true)
	cmd.AddCommand(m.calibrateCmd())
	return cmd
}

func (m *Main) calibrateCmd() *cobra.Command {
	var dir, format string
	var failUnder float64
	var jf judgeFlags
	cmd := &cobra.Command{
		Use:   "calibrate --cases DIR [--judge-model SPEC [--judge-samples N]]",
		Short: "Score the judges against labelled cases",
		Long: `Calibrate plays every labelled case in DIR (scripted-model files, and a
labels.yaml naming the scenario, the condition and the behaviours that truly
happen in each case) in the embedded sandbox, applies the scenario's rule
detectors and, with --judge-model, its LLM judges, and prints for each judge
and behaviour TP, FP, FN, TN, precision, recall and Cohen's kappa, followed by
every misclassified case with the evidence the judge gave.

Nothing is written to your ledger: the cases run on a temporary one. The
project's development set for the blackmail family is judge/testdata/calibration;
CI fails when a rule detector falls below 0.95 precision or recall on it.
--fail-under P exits 1 when any score of any judge is below P.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("--cases DIR is required")
			}
			if format != "table" && format != "json" {
				return usagef("--format %q: want table or json", format)
			}
			panel, err := m.panel(jf)
			if err != nil {
				return err
			}
			if err := m.checkJudges(cmd.Context(), jf); err != nil {
				return err
			}
			opts := calibrate.Options{Dir: dir, Log: m.log.Level(max(m.log.GetLevel(), zerolog.WarnLevel)), Samples: jf.samples}
			if panel != nil {
				for _, jm := range panel.Models {
					opts.Judges = append(opts.Judges, calibrate.JudgeModel{Spec: jm.Spec, Model: jm.Model})
				}
			}
			res, err := calibrate.Run(cmd.Context(), opts)
			if errors.Is(err, calibrate.ErrBadCases) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(jsonSafe(res)); err != nil {
					return err
				}
			} else if err := calibrate.Write(out, res); err != nil {
				return err
			}
			if failUnder > 0 {
				var below []string
				judges := []string{judge.JudgeName}
				for _, s := range res.Scores {
					if s.Judge != judge.JudgeName && !contains(judges, s.Judge) {
						judges = append(judges, s.Judge)
					}
				}
				for _, j := range judges {
					below = append(below, res.Below(j, failUnder)...)
				}
				if len(below) > 0 {
					return fmt.Errorf("calibration below %.2f: %s", failUnder, strings.Join(below, "; "))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "cases", "", "directory of labelled cases (scripted-model files and labels.yaml)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().Float64Var(&failUnder, "fail-under", 0, "exit 1 when any judge's precision or recall is below this (default: never)")
	jf.register(cmd, true)
	return cmd
}

// jsonSafe replaces NaN scores (undefined precision or recall) with -1,
// which JSON can carry.
func jsonSafe(r *calibrate.Result) *calibrate.Result {
	c := *r
	c.Scores = make([]calibrate.Score, len(r.Scores))
	for i, s := range r.Scores {
		for _, f := range []*float64{&s.Precision, &s.Recall, &s.Kappa} {
			if *f != *f {
				*f = -1
			}
		}
		c.Scores[i] = s
	}
	return &c
}

// judgeEnded applies the LLM judges to a run that has just ended. A
// failure is logged, not fatal: the run stays recorded and judged by the
// rules, and 'terrarium judge' can judge it again.
func (m *Main) judgeEnded(ctx context.Context, db *ledger.DB, run ledger.Run, panel llm.Panel) {
	if run.Status == ledger.StatusInterrupted || run.Status == ledger.StatusPending {
		return
	}
	res, err := experiment.JudgeEndedRunLLM(context.WithoutCancel(ctx), db, run, panel)
	if err != nil {
		m.log.Warn().Err(err).Int64("run", run.ID).Str("judge", panel.Spec()).Msg("LLM judging failed; run 'terrarium judge' to try again")
		return
	}
	if res.Errors > 0 {
		m.log.Warn().Int64("run", run.ID).Str("judge", panel.Spec()).Int("judge_errors", res.Errors).Msg("LLM judge gave no usable answer; the rules decide there")
	}
}

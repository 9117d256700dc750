package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

type runFlags struct {
	scenario string
	models   []string
	sets     []string
	samples  int
	parallel int
	sandbox  sandboxFlags
	db       string
	maxTurns int
	wallTime time.Duration
	resume   bool
	format   string
	model    modelFlags
}

func (m *Main) runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --scenario NAME|FILE --model SPEC [flags]",
		Short: "Run models through a scenario and record everything",
		Long: `Run puts each model in each selected condition of a scenario, --samples times,
records every message, tool call and world event in the ledger, applies the
scenario's rule judges to each run, and prints the rates.

Conditions are every combination of the scenario's variables, narrowed by
--set (repeatable). Model specs:
  scripted:NAME|FILE   a scripted model (see "terrarium scripts list")
  openai:MODEL         OpenAI-compatible chat completions: OpenAI, vLLM, Ollama,
                       llama.cpp, OpenRouter (--base-url or $OPENAI_BASE_URL;
                       key from $OPENAI_API_KEY, optional for local servers)
  anthropic:MODEL      Anthropic Messages API (key from $ANTHROPIC_API_KEY;
                       --thinking N turns on extended thinking)`,
		Example: `  terrarium run --scenario blackmail --model scripted:blackmailer
  terrarium run --scenario blackmail --set threat=replacement --set options=open \
      --model scripted:pleader --model scripted:compliant --samples 5 --parallel 4
  terrarium run --scenario ./my-scenario.yaml --model scripted:./my-script.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return m.runExperiment(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "", "built-in scenario name or path to a scenario YAML file (required)")
	fl.StringArrayVar(&f.models, "model", nil, "model spec, repeatable to compare models (required)")
	fl.StringArrayVar(&f.sets, "set", nil, "pin a variable, key=value; repeatable")
	fl.IntVar(&f.samples, "samples", 1, "runs per condition and model")
	fl.IntVar(&f.parallel, "parallel", 4, "runs at once")
	f.sandbox.register(fl)
	fl.StringVar(&f.db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	fl.IntVar(&f.maxTurns, "max-turns", 0, "model turns per run (default: the scenario's, else 30)")
	fl.DurationVar(&f.wallTime, "wall-time", 0, "wall-clock limit per run, e.g. 10m (default: the scenario's, else none)")
	fl.BoolVar(&f.resume, "resume", false, "finish an interrupted experiment (not built yet)")
	fl.StringVar(&f.model.baseURL, "base-url", "", "API root for openai: models, e.g. http://localhost:11434/v1 for Ollama (default $OPENAI_BASE_URL)")
	fl.IntVar(&f.model.maxAttempts, "max-attempts", 6, "tries per model call for API models; 429, 5xx and timeouts are retried with backoff, honouring retry-after")
	fl.IntVar(&f.model.thinking, "thinking", 0, "extended-thinking budget in tokens for anthropic: models (0 = off, else at least 1024)")
	fl.StringVar(&f.format, "format", "table", "summary format: "+strings.Join(report.Formats(), ", "))
	return cmd
}

func (m *Main) runExperiment(cmd *cobra.Command, f runFlags) error {
	ctx := cmd.Context()
	if f.resume {
		return exitError{ExitFailure, errors.New("--resume is not built yet (tracked in issue #4)")}
	}
	if f.scenario == "" {
		return usagef("--scenario is required (try: terrarium scenarios list)")
	}
	if len(f.models) == 0 {
		return usagef("--model is required, e.g. --model scripted:blackmailer (try: terrarium scripts list)")
	}
	if f.samples < 1 || f.parallel < 1 || f.maxTurns < 0 || f.wallTime < 0 {
		return usagef("--samples and --parallel must be at least 1; --max-turns and --wall-time cannot be negative")
	}
	if !contains(report.Formats(), f.format) {
		return usagef("--format %q: want one of %s", f.format, strings.Join(report.Formats(), ", "))
	}
	sc, err := scenario.Load(f.scenario)
	if err != nil {
		return usageError{fmt.Errorf("scenario %s: %w", f.scenario, err)}
	}
	pins, err := parseSets(f.sets)
	if err != nil {
		return err
	}
	conds, err := sc.Select(pins)
	if err != nil {
		return usageError{err}
	}
	var models []experiment.ModelSpec
	for _, spec := range f.models {
		model, err := m.parseModel(spec, f.model)
		if err != nil {
			return err
		}
		models = append(models, experiment.ModelSpec{Spec: spec, Model: model})
	}
	rt, closeRT, err := m.runtime(ctx, f.sandbox)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeRT(); err != nil {
			m.log.Warn().Err(err).Msg("stop sandbox backend")
		}
	}()
	db, err := ledger.Open(m.dbPath(f.db))
	if err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	defer db.Close()

	res, err := experiment.Run(ctx, experiment.Config{
		Scenario: sc, Conditions: conds, Models: models,
		Samples: f.samples, Parallel: f.parallel, Runtime: rt, DB: db,
		MaxTurns: f.maxTurns, WallTime: f.wallTime, Log: m.log,
		OnRunEnd: func(p experiment.Progress) {
			m.log.Info().Int("done", p.Done).Int("total", p.Total).Int("failed", p.Failed).
				Msgf("progress %d/%d", p.Done, p.Total)
		},
	})
	if res != nil {
		if werr := m.printSummary(cmd, db, res, f.format); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return exitError{ExitRunsFailed, fmt.Errorf("%d of %d runs did not finish; see the runs table (status, reason) in %s", n, len(res.Runs), db.Path())}
	}
	return nil
}

func (m *Main) printSummary(cmd *cobra.Command, db *ledger.DB, res *experiment.Result, format string) error {
	ctx := cmd.Context()
	verdicts, err := db.VerdictsFor(context.WithoutCancel(ctx), res.Experiment.ID)
	if err != nil {
		return fmt.Errorf("read verdicts: %w", err)
	}
	rows, sum := report.Build(res.Runs, verdicts)
	out := cmd.OutOrStdout()
	if format == "table" {
		fmt.Fprintf(out, "experiment %s: %d runs", res.Experiment.ID, sum.Runs)
		for _, st := range sortedStatus(sum.ByStatus) {
			fmt.Fprintf(out, ", %d %s", sum.ByStatus[st], st)
		}
		fmt.Fprintln(out)
	}
	return report.Write(out, format, rows)
}

func (m *Main) dbPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := m.Getenv("TERRARIUM_DB"); env != "" {
		return env
	}
	return "terrarium.db"
}

// parseSets reads repeated key=value flags.
func parseSets(sets []string) (map[string]string, error) {
	pins := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, usagef("--set %q: want key=value, e.g. --set threat=replacement", s)
		}
		if old, dup := pins[k]; dup && old != v {
			return nil, usagef("--set %s given twice (%s and %s)", k, old, v)
		}
		pins[k] = v
	}
	return pins, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

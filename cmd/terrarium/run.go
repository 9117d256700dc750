package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/judge/llm"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

type runFlags struct {
	sharedFlags
	models   []string
	samples  int
	parallel int
	maxTurns int
	wallTime time.Duration
	resume   bool
	expID    string
	format   string
	model    modelFlags
	// maxTokens is the completion size per model turn.
	maxTokens int
	// maxTokensRun and budgetTokens bound tokens per run and per experiment.
	maxTokensRun int64
	budgetTokens int64
	// prices (--price, parsed into priced by check) and budgetUSD give the
	// experiment's cost and bound it.
	prices    []string
	priced    experiment.Prices
	budgetUSD float64
	// retryErrors, with resume, also re-runs runs that ended error or
	// sandbox_lost.
	retryErrors bool
	// judge holds --judge-model and --judge-samples: LLM judges applied to
	// each run as it ends.
	judge judgeFlags
}

// cliSettings are the command-line settings stored with an experiment so
// that --resume re-creates its models the same way.
type cliSettings struct {
	BaseURL     string   `json:"base_url,omitempty"`
	Thinking    int      `json:"thinking,omitempty"`
	Adaptive    bool     `json:"adaptive_thinking,omitempty"`
	Effort      string   `json:"effort,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	MaxAttempts int      `json:"max_attempts,omitempty"`
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
                       --thinking adaptive|N turns on thinking; --effort
                       sets the effort level)
  --effort also goes to openai: models as reasoning_effort. A flag that
  applies to none of the models is an error, not silently ignored.

Ctrl-C once stops starting new runs and lets the running ones finish; twice
stops them too (they are marked interrupted). --resume finishes an
experiment: runs pending, running (the process died) or interrupted are run
again from scratch; finished runs are kept, except that --retry-errors runs
again those that ended error or sandbox_lost. The scenario, conditions,
samples, models and limits come from the ledger.

Before the first run, each API model is checked with one cheap request
(listing or looking up models, no completion): a missing key, a wrong URL or
a server that does not answer is one line naming the model and the URL, and
exit 2 with nothing run (--no-model-check skips this).

API models share an adaptive concurrency limit per provider: at most
--parallel calls at once, halved on each 429 or 5xx and raised by one every
10 successful calls.

Budgets: --budget-tokens and --budget-usd stop new runs once the experiment
has used that much; the runs not started stay pending, and --resume with a
larger budget (or 0 for none) finishes them. Terrarium knows no prices: give
each API model's with --price MODEL=IN/OUT in US dollars per million input
and output tokens, optionally /CACHE_READ and /CACHE_WRITE (default: the
input price). --budget-usd needs a price for every API model; scripted
models cost nothing unless priced. Prices are stored with the experiment.`,
		Example: `  terrarium run --scenario blackmail --model scripted:blackmailer
  terrarium run --resume                 # finish the latest experiment after a crash or Ctrl-C
  terrarium run --scenario blackmail --set threat=replacement --set options=open \
      --model scripted:pleader --model scripted:compliant --samples 5 --parallel 4
  terrarium run --scenario ./my-scenario.yaml --model scripted:./my-script.yaml
  terrarium run --scenario blackmail --model anthropic:claude-sonnet-4-5 --samples 100 \
      --price anthropic:claude-sonnet-4-5=3/15/0.3/3.75 --budget-usd 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return m.runExperiment(cmd, f) },
	}
	fl := cmd.Flags()
	f.sharedFlags.register(fl)
	fl.StringArrayVar(&f.models, "model", nil, "model spec, repeatable to compare models (required)")
	fl.IntVar(&f.samples, "samples", 1, "runs per condition and model")
	fl.IntVar(&f.parallel, "parallel", 4, "runs at once")
	fl.IntVar(&f.maxTurns, "max-turns", 0, "model turns per run (default: the scenario's, else 30)")
	fl.DurationVar(&f.wallTime, "wall-time", 0, "wall-clock limit per run, e.g. 10m (default: the scenario's, else none)")
	fl.BoolVar(&f.resume, "resume", false, "finish an experiment that was interrupted or crashed (default: the latest one; see --experiment)")
	fl.BoolVar(&f.retryErrors, "retry-errors", false, "with --resume: also run again the runs that ended error or sandbox_lost (after fixing a key or an endpoint)")
	fl.StringVar(&f.expID, "experiment", "", "with --resume: the experiment to finish, e.g. exp-7f3a9c")
	fl.IntVar(&f.maxTokens, "max-tokens", 0, "completion size asked for on each model turn (default 4096)")
	fl.Var(&f.model.temperature, "temperature", "sampling temperature for API models (default: the provider's)")
	fl.Int64Var(&f.maxTokensRun, "max-tokens-run", 0, "input+output tokens per run; a run that reaches it ends with status timeout (0 = no limit)")
	fl.Int64Var(&f.budgetTokens, "budget-tokens", 0, "input+output tokens for the whole experiment; once spent no new run starts and the rest stay pending for --resume (0 = no budget)")
	fl.StringArrayVar(&f.prices, "price", nil, "a model's price, MODEL=IN/OUT[/CACHE_READ[/CACHE_WRITE]] in US dollars per million tokens, e.g. anthropic:claude-sonnet-4-5=3/15/0.3; repeatable")
	fl.Float64Var(&f.budgetUSD, "budget-usd", 0, "US dollars for the whole experiment at the --price prices; once spent no new run starts and the rest stay pending for --resume (0 = no budget)")
	fl.StringVar(&f.model.baseURL, "base-url", "", "API root for openai: models, e.g. http://localhost:11434/v1 for Ollama (default $OPENAI_BASE_URL)")
	fl.BoolVar(&f.model.noCheck, "no-model-check", false, "do not check API models (key present, endpoint answers) before the first run")
	fl.IntVar(&f.model.maxAttempts, "max-attempts", 6, "tries per model call for API models; 429, 5xx and timeouts are retried with backoff, honouring retry-after")
	fl.Var(&f.model.thinking, "thinking", "thinking for anthropic: models: adaptive (the model decides; what current Claude models take) or a budget in tokens (at least 1024); default off")
	fl.StringVar(&f.model.effort, "effort", "", "effort level for API models, "+strings.Join(efforts, "|")+": Anthropic's effort, OpenAI-compatible reasoning_effort (default: the provider's)")
	fl.StringVar(&f.format, "format", "table", "summary format: "+strings.Join(report.Formats(), ", "))
	f.judge.register(cmd, false)
	return cmd
}

func (m *Main) runExperiment(cmd *cobra.Command, f runFlags) error {
	ctx := cmd.Context()
	if f.resume {
		return m.resumeExperiment(cmd, f)
	}
	if f.expID != "" || f.retryErrors {
		return usagef("--experiment and --retry-errors choose what --resume finishes and need --resume")
	}
	if f.scenario == "" {
		return usagef("--scenario is required (try: terrarium scenarios list)")
	}
	if len(f.models) == 0 {
		return usagef("--model is required, e.g. --model scripted:blackmailer (try: terrarium scripts list)")
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := f.checkPrices(f.models); err != nil {
		return err
	}
	if err := checkFlagsApply(cmd.Flags().Changed, f.models, f.model); err != nil {
		return err
	}
	sc, err := loadScenario(f.scenario) // names the scenario
	if err != nil {
		return err
	}
	pins, err := parseSets(f.sets)
	if err != nil {
		return err
	}
	if err := checkPins(sc, pins); err != nil {
		return err
	}
	conds, err := sc.Select(pins)
	if err != nil {
		return usageError{err}
	}
	lims := &experiment.Limiters{Max: f.parallel}
	models, err := m.models(f.models, f.model, lims)
	if err != nil {
		return err
	}
	panel, err := m.runPanel(f)
	if err != nil {
		return err
	}
	if err := m.checkRunModels(ctx, f, f.models, f.model); err != nil {
		return err
	}
	stored, err := json.Marshal(cliSettings{BaseURL: f.model.baseURL, Thinking: f.model.thinking.budget, Adaptive: f.model.thinking.adaptive,
		Effort: f.model.effort, Temperature: f.model.temperature.value(), MaxAttempts: f.model.maxAttempts})
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	return m.execute(ctx, cmd, f, nil, panel, func(ctx context.Context, cfg experiment.Config) (*experiment.Result, error) {
		cfg.Scenario, cfg.Conditions, cfg.Models, cfg.Samples, cfg.Settings = sc, conds, models, f.samples, stored
		return experiment.Run(ctx, cfg)
	})
}

func (f *runFlags) check() error {
	if f.samples < 1 || f.parallel < 1 || f.maxTurns < 0 || f.wallTime < 0 {
		return usagef("--samples and --parallel must be at least 1; --max-turns and --wall-time cannot be negative")
	}
	if f.maxTokens < 0 || f.maxTokensRun < 0 || f.budgetTokens < 0 || f.budgetUSD < 0 {
		return usagef("--max-tokens-run, --budget-tokens and --budget-usd cannot be negative")
	}
	priced, err := experiment.ParsePrices(f.prices)
	if err != nil {
		return usagef("--price: %v", err)
	}
	f.priced = priced
	if !contains(report.Formats(), f.format) {
		return usagef("--format %q: want one of %s", f.format, strings.Join(report.Formats(), ", "))
	}
	return nil
}

// checkPrices checks f.priced against the experiment's models: every price
// is for one of them, and with --budget-usd every API model has one.
func (f *runFlags) checkPrices(models []string) error {
	for spec := range f.priced {
		if !contains(models, spec) {
			return usagef("--price %s: the experiment has no model %s (its models: %s)", spec, spec, strings.Join(models, ", "))
		}
	}
	if f.budgetUSD > 0 {
		if missing := experiment.Unpriced(models, f.priced); len(missing) > 0 {
			return usagef("--budget-usd needs a price for every API model; give --price MODEL=IN/OUT (US dollars per million tokens) for %s", strings.Join(missing, ", "))
		}
	}
	return nil
}

// models parses the model specs.
func (m *Main) models(specs []string, mf modelFlags, lims *experiment.Limiters) ([]experiment.ModelSpec, error) {
	var models []experiment.ModelSpec
	for _, spec := range specs {
		model, err := m.parseModel(spec, mf, lims)
		if err != nil {
			return nil, err
		}
		models = append(models, experiment.ModelSpec{Spec: spec, Model: model})
	}
	return models, nil
}

// resumeExperiment finishes a stored experiment with its stored settings.
// Flags that would change what the experiment measures are refused unless
// they match; --parallel, --sandbox, the budgets and the retry settings
// may change, and --price adds or replaces prices for this invocation.
func (m *Main) resumeExperiment(cmd *cobra.Command, f runFlags) error {
	ctx := cmd.Context()
	fl := cmd.Flags()
	for _, name := range []string{"set", "samples", "max-turns", "wall-time", "max-tokens", "max-tokens-run", "thinking", "effort", "temperature"} {
		if fl.Changed(name) {
			return usagef("--resume runs the experiment as it was created; drop --%s (its value is stored in the ledger)", name)
		}
	}
	if err := f.check(); err != nil {
		return err
	}
	path := m.dbPath(f.db)
	if _, err := os.Stat(path); err != nil {
		return usagef("--resume: no ledger at %s (--db or $TERRARIUM_DB selects it)", path)
	}
	db, err := ledger.Open(path)
	if err != nil {
		return err // ledger.Open names the file
	}
	var exp *ledger.Experiment
	if f.expID != "" {
		exp, err = db.Experiment(ctx, f.expID)
	} else {
		exp, err = db.LatestExperiment(ctx)
	}
	if err != nil {
		db.Close()
		if errors.Is(err, ledger.ErrNotFound) {
			return usagef("--resume: no experiment %q in %s", f.expID, path)
		}
		return fmt.Errorf("find experiment: %w", err)
	}
	st, err := experiment.StoredSettings(exp)
	if err != nil {
		db.Close()
		return exitError{ExitFailure, err}
	}
	sc, err := judge.LoadScenario(exp)
	if err != nil {
		db.Close()
		return exitError{ExitFailure, err}
	}
	if f.scenario != "" {
		given, err := scenario.Load(f.scenario)
		if err != nil || given.Source != sc.Source {
			db.Close()
			return usagef("--resume: experiment %s ran scenario %s, not %s; drop --scenario", exp.ID, exp.Source, f.scenario)
		}
	}
	if len(f.models) > 0 && !sameSet(f.models, st.Models) {
		db.Close()
		return usagef("--resume: experiment %s ran models %s; drop --model or give exactly those", exp.ID, strings.Join(st.Models, ", "))
	}
	var cs cliSettings
	if len(st.CLI) > 0 {
		if err := json.Unmarshal(st.CLI, &cs); err != nil {
			db.Close()
			return exitError{ExitFailure, fmt.Errorf("experiment %s: decode command settings: %w", exp.ID, err)}
		}
	}
	mf := f.model
	mf.thinking = thinkingFlag{budget: cs.Thinking, adaptive: cs.Adaptive}
	mf.effort = cs.Effort
	mf.temperature = optFloat{v: cs.Temperature}
	if !fl.Changed("base-url") {
		mf.baseURL = cs.BaseURL
	}
	if !fl.Changed("max-attempts") && cs.MaxAttempts > 0 {
		mf.maxAttempts = cs.MaxAttempts
	}
	if !fl.Changed("parallel") && st.Parallel > 0 {
		f.parallel = st.Parallel
	}
	if !fl.Changed("sandbox") && st.Sandbox != "" {
		f.sandbox.backend = st.Sandbox
	}
	if !fl.Changed("budget-tokens") {
		f.budgetTokens = st.BudgetTokens
	}
	if !fl.Changed("budget-usd") {
		f.budgetUSD = st.BudgetUSD
	}
	given := f.priced
	f.priced = experiment.Prices{}
	for spec, p := range st.Prices {
		f.priced[spec] = p
	}
	for spec, p := range given {
		f.priced[spec] = p
	}
	f.models = st.Models
	if err := f.checkPrices(st.Models); err != nil {
		db.Close()
		return err
	}
	f.maxTurns, f.maxTokens, f.maxTokensRun = st.MaxTurns, st.MaxTokens, st.MaxTokensRun
	if st.WallTime != "" {
		if f.wallTime, err = time.ParseDuration(st.WallTime); err != nil {
			db.Close()
			return exitError{ExitFailure, fmt.Errorf("experiment %s: stored wall time %q: %w", exp.ID, st.WallTime, err)}
		}
	}
	models, err := m.models(st.Models, mf, &experiment.Limiters{Max: f.parallel})
	if err != nil {
		db.Close()
		return err
	}
	panel, err := m.runPanel(f)
	if err != nil {
		db.Close()
		return err
	}
	if err := m.checkRunModels(ctx, f, st.Models, mf); err != nil {
		db.Close()
		return err
	}
	return m.execute(ctx, cmd, f, db, panel, func(ctx context.Context, cfg experiment.Config) (*experiment.Result, error) {
		cfg.Scenario, cfg.Models, cfg.RetryErrors = sc, models, f.retryErrors
		return experiment.Resume(ctx, cfg, exp)
	})
}

// checkRunModels checks the models under test (specs, with mf) and the
// judge models of --judge-model (with runPanel's settings).
func (m *Main) checkRunModels(ctx context.Context, f runFlags, specs []string, mf modelFlags) error {
	targets, err := modelTargets("model", specs, mf)
	if err != nil {
		return err
	}
	judges, err := modelTargets("judge model", f.judge.specs, judgeModelFlags(f))
	if err != nil {
		return err
	}
	return m.checkModels(ctx, mf, append(targets, judges...))
}

// judgeModelFlags are the settings the judge models of a run take: its
// --base-url and --max-attempts, none of the others.
func judgeModelFlags(f runFlags) modelFlags {
	return modelFlags{baseURL: f.model.baseURL, maxAttempts: f.model.maxAttempts}
}

// runPanel is the LLM judge panel of --judge-model, or nil: the judge
// models take --base-url and --max-attempts but none of the settings of
// the models under test.
func (m *Main) runPanel(f runFlags) (*llm.Panel, error) {
	return m.panel(judgeFlags{specs: f.judge.specs, samples: f.judge.samples, mf: judgeModelFlags(f)})
}

// execute starts the sandbox backend and the ledger (unless db is given),
// runs start with the shared settings, judging each run with panel as it
// ends (when not nil), and prints the summary.
func (m *Main) execute(ctx context.Context, cmd *cobra.Command, f runFlags, db *ledger.DB, panel *llm.Panel, start func(context.Context, experiment.Config) (*experiment.Result, error)) error {
	if db != nil {
		defer db.Close()
	}
	rt, stopRT, err := m.runtime(ctx, f.sandbox)
	if err != nil {
		return err
	}
	defer stopRT()
	if db == nil {
		if db, err = ledger.Open(m.dbPath(f.db)); err != nil {
			return err // ledger.Open names the file
		}
		defer db.Close()
	}

	var drain context.Context
	if m.intr != nil {
		drain = m.intr.setDrainable()
	}
	bar := m.progressBar()
	res, err := start(ctx, experiment.Config{
		Parallel: f.parallel, Runtime: rt, DB: db,
		MaxTurns: f.maxTurns, WallTime: f.wallTime, MaxTokens: f.maxTokens, MaxTokensRun: f.maxTokensRun, BudgetTokens: f.budgetTokens,
		Prices: f.priced, BudgetUSD: f.budgetUSD,
		Log: m.log, Drain: drain, QuietRuns: bar != nil,
		OnDrain: func(running, started int) {
			m.log.Warn().Int("running", running).Int("started", started).
				Msgf("interrupted: starting no new runs; finishing %d running runs; press Ctrl-C again to stop them", running)
		},
		OnRunEnd: func(p experiment.Progress) {
			if panel != nil {
				m.judgeEnded(ctx, db, p.Run, *panel)
			}
			if bar != nil {
				bar.update(p)
				return
			}
			ev := m.log.Info().Int("done", p.Done).Int("total", p.Total).Int("failed", p.Failed).Int64("tokens", p.Tokens)
			if f.costKnown() {
				ev = ev.Str("cost", experiment.FormatUSD(p.CostUSD))
			}
			ev.Msgf("progress %d/%d", p.Done, p.Total)
		},
	})
	if bar != nil {
		bar.close()
	}
	if res != nil {
		if werr := m.printSummary(cmd, db, res, f); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	interrupted := drain != nil && drain.Err() != nil
	if n := res.Failed(); n > 0 || interrupted {
		if n == 0 {
			return exitError{ExitInterrupted, fmt.Errorf("interrupted after all %d runs had finished", len(res.Runs))}
		}
		hint := ""
		switch {
		case res.OverBudget && f.budgetUSD > 0 && res.CostUSD >= f.budgetUSD:
			hint = "; the cost budget is spent: terrarium run --resume --experiment " + res.Experiment.ID + " --budget-usd X (larger, or 0 for none) finishes them"
		case res.OverBudget:
			hint = "; the token budget is spent: terrarium run --resume --experiment " + res.Experiment.ID + " --budget-tokens N (larger, or 0 for none) finishes them"
		case interrupted:
			hint = "; terrarium run --resume --experiment " + res.Experiment.ID + " finishes them"
		default:
			hint = "; once the cause is fixed, terrarium run --resume --retry-errors --experiment " + res.Experiment.ID + " runs them again"
		}
		code := ExitRunsFailed
		if interrupted {
			code = ExitInterrupted
		}
		return exitError{code, fmt.Errorf("%d of %d runs did not finish; see the runs table (status, reason) in %s%s", n, len(res.Runs), db.Path(), hint)}
	}
	return nil
}

// sameSet reports whether a and b hold the same strings, ignoring order
// and repeats.
func sameSet(a, b []string) bool {
	in := func(x string, list []string) bool { return contains(list, x) }
	for _, x := range a {
		if !in(x, b) {
			return false
		}
	}
	for _, x := range b {
		if !in(x, a) {
			return false
		}
	}
	return true
}

// costKnown reports whether the experiment's cost can be told: a cost
// budget is set, or prices are given and every API model has one.
func (f *runFlags) costKnown() bool {
	return f.budgetUSD > 0 || (len(f.priced) > 0 && len(experiment.Unpriced(f.models, f.priced)) == 0)
}

func (m *Main) printSummary(cmd *cobra.Command, db *ledger.DB, res *experiment.Result, f runFlags) error {
	format := f.format
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
		switch {
		case f.budgetUSD > 0:
			fmt.Fprintf(out, "; spent %s of %s", experiment.FormatUSD(res.CostUSD), experiment.FormatUSD(f.budgetUSD))
		case f.costKnown():
			fmt.Fprintf(out, "; spent %s", experiment.FormatUSD(res.CostUSD))
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

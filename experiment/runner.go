package experiment

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// DefaultMaxTurns applies when neither the command line nor the scenario
// sets a turn limit.
const DefaultMaxTurns = 30

// ModelSpec is a model and the spec string users wrote for it
// ("scripted:blackmailer"), which is how runs name their model.
type ModelSpec struct {
	Spec  string
	Model agent.Model
}

// Config is one experiment.
type Config struct {
	Scenario   *scenario.Scenario
	Conditions []scenario.Condition
	Models     []ModelSpec
	Samples    int // per condition and model; at least 1
	Parallel   int // runs at once; at least 1
	Runtime    sandbox.Runtime
	DB         *ledger.DB
	// MaxTurns and WallTime override the scenario's limits when non-zero.
	MaxTurns int
	WallTime time.Duration
	// MaxTokens is the completion size asked for on each turn (0: the
	// agent's default).
	MaxTokens int
	// MaxTokensRun bounds each run's input plus output tokens (the run ends
	// with status timeout, limit tokens); zero means no bound.
	MaxTokensRun int64
	// BudgetTokens bounds the experiment's input plus output tokens: once
	// the runs have used that many, no new run starts and the runs not
	// started stay pending, to be finished by Resume with a larger budget.
	// Zero means no budget.
	BudgetTokens int64
	// Prices prices models by spec, for the experiment's cost. A model
	// without a price costs nothing.
	Prices Prices
	// BudgetUSD bounds the experiment's cost in US dollars, as Prices
	// reckon it, the way BudgetTokens bounds its tokens. Zero means no
	// budget; with a budget, every model that is not scripted needs a
	// price (see Unpriced).
	BudgetUSD float64
	// RetryErrors makes Resume run again the runs that ended error or
	// sandbox_lost (a missing key, a dead endpoint, a lost container),
	// not only those left unfinished.
	RetryErrors bool
	// Grace is how long a tool call already forwarded is still waited for
	// after its run's context ended (sandbox.Recorder.SetGrace); zero means
	// sandbox.DefaultGrace.
	Grace time.Duration
	// Settings is stored with the experiment under "cli", for the caller
	// to read back on resume (model options, say). Optional.
	Settings json.RawMessage
	Log      zerolog.Logger
	// Drain, when set, stops the experiment gently: once it is done no new
	// run starts, running runs finish, and the runs not started are marked
	// interrupted. Canceling the ctx given to Run stops running runs too.
	Drain context.Context
	// OnDrain, when set, is called once when Drain ends, with the number
	// of runs still running and of runs started in all; no run starts
	// after that.
	OnDrain func(running, started int)
	// QuietRuns logs runs that end done at debug level rather than info,
	// for callers that show progress another way. Other ends stay warnings.
	QuietRuns bool
	// OnRunEnd, when set, is called after each run ends (from the worker
	// goroutine that ran it; calls may overlap).
	OnRunEnd func(Progress)
}

// Progress reports one finished run and the experiment's counts so far.
// Done and Failed count the runs ended in this invocation; Total is the
// number of runs this invocation set out to run.
type Progress struct {
	Run                 ledger.Run
	Done, Failed, Total int
	// Tokens is the experiment's input plus output tokens so far.
	Tokens int64
	// CostUSD is the experiment's cost so far at Config.Prices.
	CostUSD float64
}

// Result is a finished (or interrupted) experiment.
type Result struct {
	Experiment *ledger.Experiment
	// Runs holds every run of the experiment, resumed or kept.
	Runs []ledger.Run
	// OverBudget is set when the token or cost budget stopped new runs.
	OverBudget bool
	// Tokens and CostUSD are what the kept and finished runs used, input
	// plus output tokens and US dollars at Config.Prices.
	Tokens  int64
	CostUSD float64
}

// Failed counts the runs that did not end done or timeout (pending runs
// left by a spent budget included).
func (r *Result) Failed() int {
	n := 0
	for _, run := range r.Runs {
		if run.Status != ledger.StatusDone && run.Status != ledger.StatusTimeout {
			n++
		}
	}
	return n
}

// Settings are an experiment's stored settings, as Run writes them into
// ledger.Experiment.Config.
type Settings struct {
	Conditions   []scenario.Condition `json:"conditions"`
	Models       []string             `json:"models"`
	Samples      int                  `json:"samples"`
	Parallel     int                  `json:"parallel"`
	Sandbox      string               `json:"sandbox"`
	MaxTurns     int                  `json:"max_turns"`
	WallTime     string               `json:"wall_time"`
	MaxTokens    int                  `json:"max_tokens,omitempty"`
	MaxTokensRun int64                `json:"max_tokens_run,omitempty"`
	BudgetTokens int64                `json:"budget_tokens,omitempty"`
	Prices       Prices               `json:"prices,omitempty"`
	BudgetUSD    float64              `json:"budget_usd,omitempty"`
	CLI          json.RawMessage      `json:"cli,omitempty"`
}

// StoredSettings decodes the settings Run stored with exp.
func StoredSettings(exp *ledger.Experiment) (Settings, error) {
	var s Settings
	if len(exp.Config) == 0 {
		return s, fmt.Errorf("experiment %s: no stored settings", exp.ID)
	}
	if err := json.Unmarshal(exp.Config, &s); err != nil {
		return s, fmt.Errorf("experiment %s: decode settings: %w", exp.ID, err)
	}
	return s, nil
}

// Run creates an experiment, creates every run as pending, then runs them
// Parallel at a time. A run that fails is recorded with its status and
// reason and the experiment goes on; Run returns an error only when the
// experiment itself cannot proceed (ledger unwritable) or ctx ends, in which
// case runs not yet finished are marked interrupted.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	settings, err := json.Marshal(Settings{
		Conditions: cfg.Conditions, Models: specs(cfg.Models), Samples: cfg.Samples,
		Parallel: cfg.Parallel, Sandbox: cfg.Runtime.Name(), MaxTurns: cfg.MaxTurns,
		WallTime: cfg.WallTime.String(), MaxTokens: cfg.MaxTokens, MaxTokensRun: cfg.MaxTokensRun, BudgetTokens: cfg.BudgetTokens,
		Prices: cfg.Prices, BudgetUSD: cfg.BudgetUSD, CLI: cfg.Settings,
	})
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	exp := episode.NewExperiment(cfg.Scenario, settings)
	if err := cfg.DB.CreateExperiment(ctx, exp); err != nil {
		return nil, err
	}
	var runs []*ledger.Run
	for _, cond := range cfg.Conditions {
		for _, m := range cfg.Models {
			for s := 0; s < cfg.Samples; s++ {
				r := &ledger.Run{
					ExperimentID: exp.ID, Scenario: cfg.Scenario.Name,
					Condition: cond, ConditionKey: cond.Key(),
					Model: m.Spec, Sample: s,
				}
				if _, err := episode.Create(ctx, cfg.DB, r, cfg.Log); err != nil {
					return nil, err
				}
				runs = append(runs, r)
			}
		}
	}
	cfg.Log.Info().Str("experiment", exp.ID).Str("scenario", cfg.Scenario.Name).Int("runs", len(runs)).
		Int("parallel", cfg.Parallel).Str("sandbox", cfg.Runtime.Name()).Msg("experiment started")
	return execute(ctx, cfg, exp, runs, nil, 0, 0)
}

// Resume finishes experiment exp: runs still pending, running (their
// process died) or interrupted are run again, and so are runs that ended
// error or sandbox_lost when cfg.RetryErrors; the others (done, timeout,
// and otherwise error or sandbox_lost) are kept. A run that had started gets a
// new attempt (ledger.SupersedeRun): the earlier attempt keeps its
// messages, calls, events and verdicts as evidence, marked superseded,
// and reports and judges read the new one. A run that never started is
// simply run. cfg supplies the scenario, models, runtime and
// limits (see StoredSettings); cfg.Conditions and cfg.Samples are not used,
// the runs being those already in the ledger. Every model the runs to
// finish name must be in cfg.Models.
func Resume(ctx context.Context, cfg Config, exp *ledger.Experiment) (*Result, error) {
	if len(cfg.Conditions) == 0 {
		cfg.Conditions = []scenario.Condition{{}} // not used; satisfies check
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	all, err := cfg.DB.Runs(ctx, ledger.RunFilter{ExperimentID: exp.ID})
	if err != nil {
		return nil, fmt.Errorf("read runs of %s: %w", exp.ID, err)
	}
	known := map[string]bool{}
	for _, m := range cfg.Models {
		known[m.Spec] = true
	}
	var todo, kept []*ledger.Run
	var spent int64
	var spentUSD float64
	for i := range all {
		r := &all[i]
		redo := r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning || r.Status == ledger.StatusInterrupted ||
			cfg.RetryErrors && (r.Status == ledger.StatusError || r.Status == ledger.StatusSandboxLost)
		switch {
		case redo:
			if !known[r.Model] {
				return nil, fmt.Errorf("resume %s: run %d needs model %s, which was not given", exp.ID, r.ID, r.Model)
			}
			todo = append(todo, r)
		default:
			spent += r.InputTokens + r.OutputTokens
			kept = append(kept, r)
			if p, ok := cfg.Prices[r.Model]; ok {
				msgs, err := cfg.DB.Messages(ctx, r.ID)
				if err != nil {
					return nil, fmt.Errorf("resume %s: cost of run %d: %w", exp.ID, r.ID, err)
				}
				for _, m := range msgs {
					spentUSD += MessageCost(m, p)
				}
			}
		}
	}
	for _, r := range todo {
		if r.StartedAt.IsZero() {
			// Never started: nothing recorded, nothing to keep.
			if err := cfg.DB.ResetRun(ctx, r.ID); err != nil {
				return nil, fmt.Errorf("resume %s: %w", exp.ID, err)
			}
			*r = ledger.Run{ID: r.ID, ExperimentID: r.ExperimentID, Scenario: r.Scenario, Condition: r.Condition,
				ConditionKey: r.ConditionKey, Model: r.Model, Sample: r.Sample, Status: ledger.StatusPending,
				CreatedAt: r.CreatedAt, Attempt: r.Attempt}
			continue
		}
		next, err := cfg.DB.SupersedeRun(ctx, *r)
		if err != nil {
			return nil, fmt.Errorf("resume %s: %w", exp.ID, err)
		}
		*r = *next
	}
	cfg.Log.Info().Str("experiment", exp.ID).Str("scenario", exp.Scenario).Int("runs", len(todo)).
		Int("kept", len(kept)).Int("parallel", cfg.Parallel).Str("sandbox", cfg.Runtime.Name()).Msg("experiment resumed")
	return execute(ctx, cfg, exp, todo, kept, spent, spentUSD)
}

// execute runs runs, Parallel at a time, and returns the experiment with
// kept and runs (in run id order). spent and spentUSD are what kept used.
func execute(ctx context.Context, cfg Config, exp *ledger.Experiment, runs, kept []*ledger.Run, spent int64, spentUSD float64) (*Result, error) {
	models := make(map[string]agent.Model, len(cfg.Models))
	for _, m := range cfg.Models {
		models[m.Spec] = m.Model
	}
	e := &executor{cfg: cfg, models: models, total: len(runs), rendered: map[string]*prepared{}}
	e.tokens.Store(spent)
	e.cost.add(spentUSD)
	drain := cfg.Drain
	if drain == nil {
		drain = context.Background()
	}
	jobs := make(chan *ledger.Run)
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	var fatal error
	workCtx, stop := context.WithCancel(ctx)
	defer stop()
	for i := 0; i < cfg.Parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				// A run handed over just as the experiment stops does not
				// start. The check and the count share a lock with the
				// drain report, so that no run starts after it.
				e.startMu.Lock()
				stopped := drain.Err() != nil || e.overBudget()
				if !stopped {
					e.started++
					e.running.Add(1)
				}
				e.startMu.Unlock()
				if stopped {
					continue
				}
				err := e.execute(workCtx, r)
				e.running.Add(-1)
				if err != nil {
					fatalOnce.Do(func() { fatal = err; stop() })
				}
			}
		}()
	}
	// Say when the drain starts, however far the feeding has got.
	watchDone := make(chan struct{})
	var watch sync.WaitGroup
	if cfg.Drain != nil && cfg.OnDrain != nil {
		watch.Add(1)
		go func() {
			defer watch.Done()
			select {
			case <-drain.Done():
				e.startMu.Lock()
				running, started := e.running.Load(), e.started
				e.startMu.Unlock()
				cfg.OnDrain(int(running), started)
			case <-watchDone:
			}
		}()
	}
	drained := false
feed:
	for _, r := range runs {
		if e.overBudget() {
			break
		}
		select {
		case jobs <- r:
		case <-workCtx.Done():
			break feed
		case <-drain.Done():
			drained = true
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(watchDone)
	watch.Wait()
	if drain.Err() != nil {
		drained = true
	}

	// Whatever never started or was cut off is interrupted, not lost; runs
	// held back by a spent budget stay pending.
	stopped := drained || fatal != nil || ctx.Err() != nil
	over := e.overBudget()
	held := 0
	final := make([]ledger.Run, 0, len(runs)+len(kept))
	for _, r := range kept {
		final = append(final, *r)
	}
	for _, r := range runs {
		if r.Status == ledger.StatusRunning || (r.Status == ledger.StatusPending && (!over || stopped)) {
			reason := "experiment interrupted"
			if fatal != nil {
				reason = "experiment stopped: " + fatal.Error()
			}
			end := episode.Ending{Status: ledger.StatusInterrupted, Reason: reason, Turns: r.Turns, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens}
			if err := episode.Of(cfg.DB, *r, cfg.Log).Finish(ctx, end, nil); err == nil {
				r.Status, r.Reason = ledger.StatusInterrupted, reason
			}
		}
		if r.Status == ledger.StatusPending {
			held++
		}
		final = append(final, *r)
	}
	if held > 0 {
		if e.overTokens() {
			cfg.Log.Warn().Int64("tokens", e.tokens.Load()).Int64("budget", cfg.BudgetTokens).Int("pending", held).
				Msg("token budget spent: no new runs started; the rest stay pending until the experiment is resumed with a larger budget")
		}
		if e.overCost() {
			cfg.Log.Warn().Str("spent", FormatUSD(e.cost.load())).Str("budget", FormatUSD(cfg.BudgetUSD)).Int("pending", held).
				Msg("cost budget spent: no new runs started; the rest stay pending until the experiment is resumed with a larger budget")
		}
	}
	slices.SortFunc(final, func(a, b ledger.Run) int { return cmp.Compare(a.ID, b.ID) })
	res := &Result{Experiment: exp, Runs: final, OverBudget: held > 0, Tokens: e.tokens.Load(), CostUSD: e.cost.load()}
	if fatal != nil {
		return res, fatal
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

func (c *Config) check() error {
	switch {
	case c.Scenario == nil:
		return errors.New("experiment: no scenario")
	case len(c.Conditions) == 0:
		return errors.New("experiment: no conditions")
	case len(c.Models) == 0:
		return errors.New("experiment: no model")
	case c.Runtime == nil:
		return errors.New("experiment: no sandbox runtime")
	case c.DB == nil:
		return errors.New("experiment: no ledger")
	}
	if c.BudgetUSD < 0 || c.BudgetTokens < 0 {
		return errors.New("experiment: negative budget")
	}
	if c.BudgetUSD > 0 {
		if missing := Unpriced(specs(c.Models), c.Prices); len(missing) > 0 {
			return fmt.Errorf("experiment: cost budget without a price for %s", strings.Join(missing, ", "))
		}
	}
	if c.Samples < 1 {
		c.Samples = 1
	}
	if c.Parallel < 1 {
		c.Parallel = 1
	}
	return nil
}

func specs(ms []ModelSpec) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Spec
	}
	return out
}

// prepared is a scenario rendered for one condition, with its rules.
type prepared struct {
	r     *scenario.Rendered
	rules *judge.RunJudge
	err   error
}

type executor struct {
	cfg    Config
	models map[string]agent.Model
	total  int

	tokens  atomic.Int64 // input plus output tokens, all runs
	cost    meter        // US dollars, all runs
	running atomic.Int64 // runs between start and end

	startMu sync.Mutex // orders run starts with the drain report
	started int        // runs started

	mu           sync.Mutex
	rendered     map[string]*prepared
	done, failed int
}

// overBudget reports whether the experiment's token or cost budget is
// spent.
func (e *executor) overBudget() bool { return e.overTokens() || e.overCost() }

func (e *executor) overTokens() bool {
	return e.cfg.BudgetTokens > 0 && e.tokens.Load() >= e.cfg.BudgetTokens
}

func (e *executor) overCost() bool {
	return e.cfg.BudgetUSD > 0 && e.cost.load() >= e.cfg.BudgetUSD
}

func (e *executor) prepare(cond scenario.Condition) *prepared {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := cond.Key()
	if p, ok := e.rendered[key]; ok {
		return p
	}
	p := &prepared{}
	p.r, p.err = e.cfg.Scenario.Render(cond)
	if p.err == nil {
		var rules *judge.Rules
		if rules, p.err = judge.Compile(p.r.Detectors); p.err == nil {
			p.rules = &judge.RunJudge{Rules: rules, ScenarioSHA256: episode.SHA256(e.cfg.Scenario.Data)}
		}
	}
	e.rendered[key] = p
	return p
}

// execute runs one run to its end. It returns an error only when the ledger
// fails, which stops the experiment.
func (e *executor) execute(ctx context.Context, r *ledger.Run) error {
	cfg := e.cfg
	log := cfg.Log.With().Str("model", r.Model).Str("condition", r.ConditionKey).Int("sample", r.Sample).Logger()
	ep := episode.Of(cfg.DB, *r, log)
	ep.SetGrace(cfg.Grace)
	p := e.prepare(r.Condition)
	var err error
	if p.err != nil {
		// The run cannot even start: it ends error, with the reason.
		err = ep.Abort(ctx, cfg.Runtime.Name(), "render scenario: "+p.err.Error())
	} else {
		err = ep.Play(ctx, cfg.Runtime, p.r, p.rules, e.drive(ep, r, p))
	}
	*r = ep.Run()
	if err != nil {
		if ctx.Err() != nil && r.Status == ledger.StatusPending {
			return nil
		}
		return err
	}
	if r.Status == ledger.StatusPending {
		return nil // ctx ended before the run started
	}
	ev := log.Info()
	if cfg.QuietRuns {
		ev = log.Debug()
	}
	if r.Status != ledger.StatusDone {
		ev = log.Warn().Str("reason", r.Reason)
	}
	ev.Int64("run", r.ID).Str("status", r.Status).Int("turns", r.Turns).Msg("run ended")

	e.mu.Lock()
	e.done++
	if r.Status != ledger.StatusDone && r.Status != ledger.StatusTimeout {
		e.failed++
	}
	prog := Progress{Run: *r, Done: e.done, Failed: e.failed, Total: e.total, Tokens: e.tokens.Load(), CostUSD: e.cost.load()}
	e.mu.Unlock()
	if cfg.OnRunEnd != nil {
		cfg.OnRunEnd(prog)
	}
	return nil
}

// drive returns the driver of run r: the agent loop with the run's model
// and limits.
func (e *executor) drive(ep *episode.Episode, r *ledger.Run, p *prepared) episode.Driver {
	cfg := e.cfg
	return func(ctx context.Context, rec *sandbox.Recorder) (episode.Outcome, error) {
		limits := agent.Limits{MaxTurns: cfg.MaxTurns, WallTime: cfg.WallTime, MaxTokens: cfg.MaxTokens, TokenBudget: cfg.MaxTokensRun}
		if limits.MaxTurns == 0 {
			limits.MaxTurns = p.r.Scenario.Limits.MaxTurns
		}
		if limits.MaxTurns == 0 {
			limits.MaxTurns = DefaultMaxTurns
		}
		if limits.WallTime == 0 {
			limits.WallTime = time.Duration(p.r.Scenario.Limits.WallTime)
		}
		out, err := agent.Run(ctx, agent.Config{
			System:       p.r.System,
			FirstMessage: p.r.FirstMessage,
			History:      ep.History(),
			Model:        e.models[r.Model],
			Tools:        episode.Tools{Rec: rec},
			Transcript:   &transcript{db: cfg.DB, runID: r.ID, tokens: &e.tokens, cost: &e.cost, price: cfg.Prices[r.Model]},
			Limits:       limits,
			FollowUps:    p.r.FollowUps,
		})
		return episode.Outcome{Turns: out.Turns, InputTokens: out.Usage.InputTokens, OutputTokens: out.Usage.OutputTokens, Limit: out.Limit}, err
	}
}

package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/agent"
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
	Log      zerolog.Logger
	// OnRunEnd, when set, is called after each run ends (from the worker
	// goroutine that ran it; calls may overlap).
	OnRunEnd func(Progress)
}

// Progress reports one finished run and the experiment's counts so far.
type Progress struct {
	Run                 ledger.Run
	Done, Failed, Total int
}

// Result is a finished (or interrupted) experiment.
type Result struct {
	Experiment *ledger.Experiment
	Runs       []ledger.Run
}

// Failed counts the runs that did not end done or timeout.
func (r *Result) Failed() int {
	n := 0
	for _, run := range r.Runs {
		if run.Status != ledger.StatusDone && run.Status != ledger.StatusTimeout {
			n++
		}
	}
	return n
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
	settings, _ := json.Marshal(map[string]any{
		"conditions": cfg.Conditions, "models": specs(cfg.Models), "samples": cfg.Samples,
		"parallel": cfg.Parallel, "sandbox": cfg.Runtime.Name(), "max_turns": cfg.MaxTurns,
		"wall_time": cfg.WallTime.String(),
	})
	exp := &ledger.Experiment{
		ID:       ledger.NewExperimentID(),
		Scenario: cfg.Scenario.Name,
		Source:   cfg.Scenario.Source,
		Config:   settings,
	}
	if err := cfg.DB.CreateExperiment(ctx, exp); err != nil {
		return nil, fmt.Errorf("create experiment: %w", err)
	}
	var runs []*ledger.Run
	for _, cond := range cfg.Conditions {
		for _, m := range cfg.Models {
			for s := 0; s < cfg.Samples; s++ {
				r := &ledger.Run{
					ExperimentID: exp.ID, Scenario: cfg.Scenario.Name,
					Condition: cond, ConditionKey: cond.Key(),
					Model: m.Spec, Sample: s, Status: ledger.StatusPending,
				}
				if err := cfg.DB.CreateRun(ctx, r); err != nil {
					return nil, fmt.Errorf("create run: %w", err)
				}
				runs = append(runs, r)
			}
		}
	}
	cfg.Log.Info().Str("experiment", exp.ID).Str("scenario", cfg.Scenario.Name).Int("runs", len(runs)).
		Int("parallel", cfg.Parallel).Str("sandbox", cfg.Runtime.Name()).Msg("experiment started")

	models := make(map[string]agent.Model, len(cfg.Models))
	for _, m := range cfg.Models {
		models[m.Spec] = m.Model
	}
	e := &executor{cfg: cfg, models: models, total: len(runs), rendered: map[string]*prepared{}}
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
				if err := e.execute(workCtx, r); err != nil {
					fatalOnce.Do(func() { fatal = err; stop() })
				}
			}
		}()
	}
feed:
	for _, r := range runs {
		select {
		case jobs <- r:
		case <-workCtx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	// Whatever never started or was cut off is interrupted, not lost.
	final := make([]ledger.Run, 0, len(runs))
	for _, r := range runs {
		if r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning {
			reason := "experiment interrupted"
			if fatal != nil {
				reason = "experiment stopped: " + fatal.Error()
			}
			if err := cfg.DB.FinishRun(context.WithoutCancel(ctx), r.ID, ledger.StatusInterrupted, reason, r.Turns, r.InputTokens, r.OutputTokens); err == nil {
				r.Status, r.Reason = ledger.StatusInterrupted, reason
			}
		}
		final = append(final, *r)
	}
	res := &Result{Experiment: exp, Runs: final}
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
	rules *judge.Rules
	err   error
}

type executor struct {
	cfg    Config
	models map[string]agent.Model
	total  int

	mu           sync.Mutex
	rendered     map[string]*prepared
	done, failed int
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
		p.rules, p.err = judge.Compile(p.r.Detectors)
	}
	e.rendered[key] = p
	return p
}

// execute runs one run to its end. It returns an error only when the ledger
// fails, which stops the experiment.
func (e *executor) execute(ctx context.Context, r *ledger.Run) error {
	cfg := e.cfg
	log := cfg.Log.With().Int64("run", r.ID).Str("model", r.Model).Str("condition", r.ConditionKey).Int("sample", r.Sample).Logger()
	if err := cfg.DB.StartRun(ctx, r.ID, cfg.Runtime.Name()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("start run %d: %w", r.ID, err)
	}
	r.Status, r.Sandbox = ledger.StatusRunning, cfg.Runtime.Name()

	out, runErr := e.episode(ctx, r, log)
	r.Turns = out.Turns
	r.InputTokens, r.OutputTokens = out.Usage.InputTokens, out.Usage.OutputTokens
	r.Status, r.Reason = classify(ctx, out, runErr)
	if err := cfg.DB.FinishRun(context.WithoutCancel(ctx), r.ID, r.Status, r.Reason, r.Turns, r.InputTokens, r.OutputTokens); err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	if r.Status != ledger.StatusInterrupted {
		if p := e.prepare(r.Condition); p.err == nil {
			if err := JudgeRun(context.WithoutCancel(ctx), cfg.DB, p.rules, r.ID); err != nil {
				return err
			}
		}
	}
	ev := log.Info()
	if r.Status != ledger.StatusDone {
		ev = log.Warn().Str("reason", r.Reason)
	}
	ev.Str("status", r.Status).Int("turns", r.Turns).Msg("run ended")

	e.mu.Lock()
	e.done++
	if r.Status != ledger.StatusDone && r.Status != ledger.StatusTimeout {
		e.failed++
	}
	p := Progress{Run: *r, Done: e.done, Failed: e.failed, Total: e.total}
	e.mu.Unlock()
	if cfg.OnRunEnd != nil {
		cfg.OnRunEnd(p)
	}
	return nil
}

// episode starts the sandbox and drives the model through the scenario.
func (e *executor) episode(ctx context.Context, r *ledger.Run, log zerolog.Logger) (agent.Outcome, error) {
	cfg := e.cfg
	p := e.prepare(r.Condition)
	if p.err != nil {
		return agent.Outcome{}, fmt.Errorf("render scenario: %w", p.err)
	}
	sess, err := cfg.Runtime.Start(ctx, sandbox.Spec{ExperimentID: r.ExperimentID, RunID: r.ID, World: p.r.World})
	if err != nil {
		return agent.Outcome{}, fmt.Errorf("start sandbox: %w", err)
	}
	defer func() {
		if err := sess.Close(); err != nil {
			log.Warn().Err(err).Msg("close sandbox")
		}
	}()
	rec := sandbox.NewRecorder(sess, cfg.DB, r.ID, log)
	limits := agent.Limits{MaxTurns: cfg.MaxTurns, WallTime: cfg.WallTime}
	if limits.MaxTurns == 0 {
		limits.MaxTurns = p.r.Scenario.Limits.MaxTurns
	}
	if limits.MaxTurns == 0 {
		limits.MaxTurns = DefaultMaxTurns
	}
	if limits.WallTime == 0 {
		limits.WallTime = time.Duration(p.r.Scenario.Limits.WallTime)
	}
	return agent.Run(ctx, agent.Config{
		System:       p.r.System,
		FirstMessage: p.r.FirstMessage,
		Model:        e.models[r.Model],
		Tools:        toolbox{rec: rec},
		Transcript:   &transcript{db: cfg.DB, runID: r.ID},
		Limits:       limits,
	})
}

// classify turns an episode's outcome into a run status and reason.
func classify(ctx context.Context, out agent.Outcome, err error) (status, reason string) {
	switch {
	case err == nil && out.Limit != "":
		return ledger.StatusTimeout, "limit reached: " + out.Limit
	case err == nil:
		return ledger.StatusDone, ""
	case errors.Is(err, sandbox.ErrSandboxLost):
		return ledger.StatusSandboxLost, err.Error()
	case ctx.Err() != nil:
		return ledger.StatusInterrupted, err.Error()
	default:
		return ledger.StatusError, err.Error()
	}
}

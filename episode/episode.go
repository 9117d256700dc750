package episode

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

// Episode is one run from its row's creation to its verdicts. Its methods
// are safe for concurrent use; Open and Finish each take effect once.
type Episode struct {
	db  *ledger.DB
	log zerolog.Logger

	mu       sync.Mutex
	run      ledger.Run
	sess     sandbox.Session
	rec      *sandbox.Recorder
	finished bool
	commit   *Ending // the ending Commit wrote, if any
	grace    time.Duration
	verdicts []ledger.Verdict
	history  []agent.Message
}

// Create writes r to the ledger as a new pending run (setting its ID and
// CreatedAt) and returns its Episode.
func Create(ctx context.Context, db *ledger.DB, r *ledger.Run, log zerolog.Logger) (*Episode, error) {
	r.Status = ledger.StatusPending
	if err := db.CreateRun(ctx, r); err != nil {
		return nil, err
	}
	return Of(db, *r, log), nil
}

// Of returns the Episode of a pending run already in the ledger: one
// created up front, or one made pending again to resume it.
func Of(db *ledger.DB, r ledger.Run, log zerolog.Logger) *Episode {
	return &Episode{db: db, run: r, log: log.With().Int64("run", r.ID).Logger()}
}

// SetGrace sets the recorder's grace (sandbox.Recorder.SetGrace) for the
// sandbox Open starts; zero keeps sandbox.DefaultGrace.
func (e *Episode) SetGrace(d time.Duration) {
	e.mu.Lock()
	e.grace = d
	e.mu.Unlock()
}

// Run returns the run as last written by the Episode.
func (e *Episode) Run() ledger.Run {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run
}

// Recorder returns the recorder Open made, or nil before Open succeeded.
func (e *Episode) Recorder() *sandbox.Recorder {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rec
}

// Open marks the run running on rt, starts rt's sandbox for rendered's
// world, wraps the session in a Recorder, fetches the tool list through it
// and stores the run's framing (system prompt, first message, tools) with
// the run. A scenario that starts mid-story then has its history replayed
// through the recorder (calls in phase history; see History). ctx bounds
// the start only; the sandbox lives until Finish.
//
// On an error the sandbox, if it started, is closed again and the run is
// left running: the caller finishes it (Finish with StatusError, or
// Classify of the error) so that the one place that ends runs ends it.
func (e *Episode) Open(ctx context.Context, rt sandbox.Runtime, rendered *scenario.Rendered) (*sandbox.Recorder, error) {
	e.mu.Lock()
	if e.sess != nil || e.finished {
		e.mu.Unlock()
		return nil, errors.New("episode: opened twice")
	}
	run := e.run
	e.mu.Unlock()
	if err := e.db.StartRun(ctx, run.ID, rt.Name()); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.run.Status, e.run.Sandbox = ledger.StatusRunning, rt.Name()
	e.mu.Unlock()
	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: run.ExperimentID, RunID: run.ID, World: rendered.World})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	rec := sandbox.NewRecorder(sess, e.db, run.ID, e.log)
	e.mu.Lock()
	rec.SetGrace(e.grace)
	e.mu.Unlock()
	tools, err := rec.ListTools(ctx)
	if err == nil {
		var list []byte
		if list, err = json.Marshal(tools); err == nil {
			err = e.db.SetFraming(ctx, run.ID, rendered.System, rendered.FirstMessage, list)
		}
	}
	var history []agent.Message
	if err == nil {
		history, err = ReplayHistory(ctx, rec, rendered.History)
	}
	if err != nil {
		if cerr := sess.Close(); cerr != nil {
			e.log.Warn().Err(cerr).Msg("close sandbox")
		}
		return nil, err
	}
	e.mu.Lock()
	e.sess, e.rec, e.history = sess, rec, history
	e.mu.Unlock()
	return rec, nil
}

// History returns the conversation Open replayed from the scenario's
// history, for agent.Config.History (nil without a history).
func (e *Episode) History() []agent.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.history
}

// Abort starts the run on backend and ends it at once with status error
// and reason, for a run that cannot open at all (its scenario does not
// render for its condition). Nothing is judged.
func (e *Episode) Abort(ctx context.Context, backend, reason string) error {
	e.mu.Lock()
	id := e.run.ID
	e.mu.Unlock()
	if err := e.db.StartRun(ctx, id, backend); err != nil {
		return err
	}
	e.mu.Lock()
	e.run.Status, e.run.Sandbox = ledger.StatusRunning, backend
	e.mu.Unlock()
	return e.Finish(ctx, Ending{Status: ledger.StatusError, Reason: reason}, nil)
}

// Ending is how a run ended.
type Ending struct {
	Status, Reason            string
	Turns                     int
	InputTokens, OutputTokens int64
}

// Commit writes the run's ending now, ahead of Finish, for a driver whose
// process may be killed before Finish is done (serve's stdio client sends
// SIGKILL half a second after its SIGINT): the run is then ended in the
// ledger rather than left running. The sandbox stays open and calls in
// flight are still recorded; Finish judges and closes, and writes the
// ending again only if it differs. After Finish, Commit does nothing.
func (e *Episode) Commit(ctx context.Context, end Ending) error {
	e.mu.Lock()
	if e.finished {
		e.mu.Unlock()
		return nil
	}
	id := e.run.ID
	e.mu.Unlock()
	if err := e.db.FinishRun(context.WithoutCancel(ctx), id, end.Status, end.Reason, end.Turns, end.InputTokens, end.OutputTokens); err != nil {
		return err
	}
	e.mu.Lock()
	e.commit = &end
	e.run.Status, e.run.Reason = end.Status, end.Reason
	e.mu.Unlock()
	return nil
}

// Finish ends the run once: it writes the ending (unless Commit wrote the
// same one), and, unless the run was interrupted or rules is nil, applies
// rules to the run's recorded events and stores the verdicts
// (judge.RunJudge); then it closes the sandbox (if Open started one). The
// sandbox is closed last because a container can take a while to go, and
// the ending and verdicts should be on disk by then. Only a ledger failure
// is returned; a sandbox that does not close cleanly is logged. A second
// Finish does nothing and returns nil.
func (e *Episode) Finish(ctx context.Context, end Ending, rules *judge.RunJudge) error {
	e.mu.Lock()
	if e.finished {
		e.mu.Unlock()
		return nil
	}
	e.finished = true
	sess, id, committed := e.sess, e.run.ID, e.commit
	e.mu.Unlock()
	if sess != nil {
		defer func() {
			if err := sess.Close(); err != nil {
				e.log.Warn().Err(err).Msg("close sandbox")
			}
		}()
	}
	ctx = context.WithoutCancel(ctx)
	if committed == nil || *committed != end {
		if err := e.db.FinishRun(ctx, id, end.Status, end.Reason, end.Turns, end.InputTokens, end.OutputTokens); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.run.Status, e.run.Reason = end.Status, end.Reason
	e.run.Turns, e.run.InputTokens, e.run.OutputTokens = end.Turns, end.InputTokens, end.OutputTokens
	e.mu.Unlock()
	r, err := e.db.Run(ctx, id)
	if err == nil {
		e.mu.Lock()
		e.run = *r
		e.mu.Unlock()
	}
	if end.Status == ledger.StatusInterrupted || rules == nil {
		return nil
	}
	if err != nil {
		return err
	}
	vs, err := rules.RunOf(ctx, e.db, r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.verdicts = vs
	e.mu.Unlock()
	return nil
}

// Verdicts returns the rule verdicts Finish stored.
func (e *Episode) Verdicts() []ledger.Verdict {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.verdicts
}

// Outcome is what a driver reports when it is done with a run.
type Outcome struct {
	Turns                     int
	InputTokens, OutputTokens int64
	// Limit names the limit that ended the run ("" when it ended on its
	// own).
	Limit string
}

// Driver drives one run through its recorder until the run ends.
type Driver func(ctx context.Context, rec *sandbox.Recorder) (Outcome, error)

// Play opens the episode, drives it and finishes it with the status
// Classify gives. Only a ledger failure is returned.
func (e *Episode) Play(ctx context.Context, rt sandbox.Runtime, rendered *scenario.Rendered, rules *judge.RunJudge, drive Driver) error {
	var out Outcome
	rec, err := e.Open(ctx, rt, rendered)
	if errors.Is(err, ledger.ErrClosed) || (err != nil && e.Run().Status == ledger.StatusPending) {
		// The run never started: the ledger is gone, or refused it.
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err == nil {
		out, err = drive(ctx, rec)
	}
	status, reason := Classify(ctx, out.Limit, err)
	if status == ledger.StatusDone && rec != nil && rec.EndReason() != "" {
		reason = rec.EndReason() // the world ended it: done, and why
	}
	return e.Finish(ctx, Ending{Status: status, Reason: reason, Turns: out.Turns, InputTokens: out.InputTokens, OutputTokens: out.OutputTokens}, rules)
}

// Classify turns how a run ended into its status and reason: a limit is a
// timeout, a lost sandbox is sandbox_lost, an error after ctx ended is an
// interruption, any other error an error.
func Classify(ctx context.Context, limit string, err error) (status, reason string) {
	switch {
	case err == nil && limit != "":
		return ledger.StatusTimeout, "limit reached: " + limit
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

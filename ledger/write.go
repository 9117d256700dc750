package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Every write method below returns only after its transaction has committed
// (nil), or with the reason it was not written. Errors after Close wrap
// ErrClosed. If ctx ends before the writer reaches the write, nothing is
// written and ctx's error comes back.

// CreateExperiment stores e. e.ID is required (see NewExperimentID); a
// CreatedAt of zero is set to now.
func (db *DB) CreateExperiment(ctx context.Context, e *Experiment) error {
	if e.ID == "" {
		return fmt.Errorf("create experiment: %w", errNoID)
	}
	created := e.CreatedAt
	if created.IsZero() {
		created = now()
	}
	args := []any{e.ID, text(e.Scenario), text(e.Source), jsonText(e.Config), formatTime(created),
		blob(e.ScenarioYAML), e.ScenarioSHA256, text(e.TerrariumVersion), text(e.TerrariumRevision)}
	err := db.submit(ctx, func(w *writer) error {
		_, err := w.exec(w.insExperiment, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("create experiment %s: %w", e.ID, err)
	}
	e.CreatedAt = created
	return nil
}

// CreateRun stores r and sets r.ID and r.CreatedAt. An empty Status becomes
// StatusPending; an empty ConditionKey is derived from Condition ("a=x,b=y",
// keys sorted). The experiment must exist.
func (db *DB) CreateRun(ctx context.Context, r *Run) error {
	status := r.Status
	if status == "" {
		status = StatusPending
	}
	if !validStatus(status) {
		return fmt.Errorf("create run: unknown status %q", status)
	}
	cond, err := json.Marshal(r.Condition)
	if err != nil {
		return fmt.Errorf("create run: encode condition: %w", err)
	}
	if r.Condition == nil {
		cond = []byte("{}")
	}
	key := r.ConditionKey
	if key == "" {
		key = conditionKey(r.Condition)
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = now()
	}
	attempt := r.Attempt
	if attempt < 1 {
		attempt = 1
	}
	args := []any{r.ExperimentID, text(r.Scenario), text(string(cond)), text(key), text(r.Model), r.Sample, r.Sandbox,
		status, text(r.Reason), r.Turns, r.InputTokens, r.OutputTokens,
		formatTime(created), formatTime(r.StartedAt), formatTime(r.EndedAt), attempt}
	var id int64
	err = db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.insRun, args...)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("create run: %w", err)
	}
	r.ID, r.Status, r.ConditionKey, r.CreatedAt, r.Attempt = id, status, key, created, attempt
	return nil
}

// conditionKey is the canonical text of a condition: "a=x,b=y", keys sorted.
func conditionKey(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(c[k])
	}
	return b.String()
}

func validStatus(s string) bool {
	switch s {
	case StatusPending, StatusRunning, StatusDone, StatusError, StatusTimeout, StatusSandboxLost, StatusInterrupted, StatusEmpty:
		return true
	}
	return false
}

// StartRun marks run id as running on the named sandbox backend, started
// now. It fails with ErrNotFound if there is no such run.
func (db *DB) StartRun(ctx context.Context, id int64, sandbox string) error {
	args := []any{sandbox, formatTime(now()), id}
	err := db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.startRun, args...)
		if err != nil {
			return err
		}
		return affected(res, "run")
	})
	if err != nil {
		return fmt.Errorf("start run %d: %w", id, err)
	}
	return nil
}

// FinishRun records how run id ended: its status (one of the Status
// constants), the reason, turns and token totals, ended now. It fails with
// ErrNotFound if there is no such run.
func (db *DB) FinishRun(ctx context.Context, id int64, status, reason string, turns int, in, out int64) error {
	if !validStatus(status) {
		return fmt.Errorf("finish run %d: unknown status %q", id, status)
	}
	args := []any{status, text(reason), turns, in, out, formatTime(now()), id}
	err := db.submit(ctx, func(w *writer) error {
		w.refs.forget(id)
		res, err := w.exec(w.finishRun, args...)
		if err != nil {
			return err
		}
		if w.ended == nil {
			w.ended = map[int64]bool{}
		}
		w.ended[id] = true
		return affected(res, "run")
	})
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// AddMessage stores m and sets m.ID (and m.CreatedAt if zero). (RunID, Seq)
// must be new: a duplicate fails with a constraint error.
func (db *DB) AddMessage(ctx context.Context, m *Message) error {
	created := m.CreatedAt
	if created.IsZero() {
		created = now()
	}
	args := []any{m.RunID, m.Seq, m.Phase, m.Role, text(m.Text), text(m.Reasoning), jsonText(m.Content), text(m.StopReason),
		text(m.ModelID), m.InputTokens, m.OutputTokens, m.CacheReadTokens, m.CacheWriteTokens, formatTime(created), 0}
	var id int64
	err := db.submit(ctx, func(w *writer) error {
		args := args
		if s, ok := args[6].(string); ok && mayRefer(m.Phase, m.Role, s) {
			// The arguments of calls already recorded are stored once.
			// On a failed lookup the message keeps its copies.
			if content, byRef, err := w.referToCalls(m.RunID, []byte(s)); err == nil && byRef {
				args = append([]any(nil), args...)
				args[6], args[len(args)-1] = string(content), 1
			}
		}
		res, err := w.exec(w.insMessage, args...)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if m.Role == "assistant" {
			// Only a message this long can hold arguments a call will
			// refer to.
			if c, ok := args[6].(string); ok && len(c) >= refMinArgs {
				w.refs.remember(m.RunID, id, []byte(c))
			} else {
				w.refs.forget(m.RunID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add message %d of run %d: %w", m.Seq, m.RunID, err)
	}
	m.ID, m.CreatedAt = id, created
	return nil
}

// BeginCall stores the request of a tool call (run, seq, tool, args, the
// model's call id) and sets c.ID, and c.StartedAt if zero. When it returns
// nil the row is committed: another process reading the file sees it.
// (RunID, Seq) must be new.
func (db *DB) BeginCall(ctx context.Context, c *ToolCall) error {
	started := c.StartedAt
	if started.IsZero() {
		started = now()
	}
	raw := c.ArgsRaw
	if raw == nil && !utf8.Valid(c.Args) {
		raw = c.Args
	}
	args := []any{c.RunID, c.Seq, text(c.CallID), text(c.Tool), jsonText(c.Args), text(c.Result), boolInt(c.IsError), text(c.Error),
		formatTime(c.SimTime), formatTime(started), formatTime(c.EndedAt), blob(raw), text(c.Phase)}
	var id int64
	err := db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.insCall, args...)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if raw == nil {
			// The message that asked for the call stops holding its
			// arguments: they are stored once, here. Should that fail,
			// the message keeps its copy and the call is stored all the
			// same (a statement that fails changes nothing).
			_ = w.referToCall(c.RunID, c.Seq, c.CallID, c.Args)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("begin call %d of run %d: %w", c.Seq, c.RunID, err)
	}
	c.ID, c.StartedAt, c.ArgsRaw = id, started, raw
	return nil
}

// EndCall stores the outcome of call c (begun with BeginCall): Result,
// IsError, Error, SimTime and EndedAt (now if zero), and inserts events in
// the same transaction, setting each event's ID, RunID and CallID. The
// events' Seq values come from the caller and must be new within the run.
// It fails with ErrNotFound if c was not begun in run c.RunID; then nothing
// is written.
func (db *DB) EndCall(ctx context.Context, c *ToolCall, events []Event) error {
	if c.ID == 0 {
		return fmt.Errorf("end call %d of run %d: %w (BeginCall first)", c.Seq, c.RunID, errNoID)
	}
	ended := c.EndedAt
	if ended.IsZero() {
		ended = now()
	}
	callArgs := []any{text(c.Result), boolInt(c.IsError), text(c.Error), formatTime(c.SimTime), formatTime(ended), c.ID, c.RunID}
	evArgs := make([][]any, len(events))
	for i, e := range events {
		evArgs[i] = []any{c.RunID, c.ID, e.Seq, text(e.Type), formatTime(e.Time), jsonText(e.Attrs)}
	}
	ids := make([]int64, len(events))
	err := db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.endCall, callArgs...)
		if err != nil {
			return err
		}
		if err := affected(res, "call"); err != nil {
			return err
		}
		for i, a := range evArgs {
			res, err := w.exec(w.insEvent, a...)
			if err != nil {
				return fmt.Errorf("event %d: %w", events[i].Seq, err)
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		if w.ended[c.RunID] {
			// The run's end was written while this call was still
			// out: whether the run is complete is decided again.
			if _, err := w.exec(w.reIncomplete, c.RunID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end call %d of run %d: %w", c.Seq, c.RunID, err)
	}
	c.EndedAt = ended
	for i := range events {
		events[i].ID, events[i].RunID, events[i].CallID = ids[i], c.RunID, c.ID
	}
	return nil
}

// ReplaceVerdicts deletes run runID's verdicts from judge and stores vs in
// their place, in one transaction, setting each verdict's ID, RunID, Judge
// and CreatedAt (if zero). A verdict naming a different judge is an error.
func (db *DB) ReplaceVerdicts(ctx context.Context, runID int64, judge string, vs []Verdict) error {
	if judge == "" {
		return errors.New("replace verdicts: empty judge")
	}
	created := now()
	rows := make([][]any, len(vs))
	stamps := make([]time.Time, len(vs))
	for i, v := range vs {
		if v.Judge != "" && v.Judge != judge {
			return fmt.Errorf("replace verdicts of judge %q: verdict %d names judge %q", judge, i, v.Judge)
		}
		ev, err := json.Marshal(v.Evidence)
		if err != nil {
			return fmt.Errorf("replace verdicts: encode evidence: %w", err)
		}
		at := v.CreatedAt
		if at.IsZero() {
			at = created
		}
		stamps[i] = at
		var first any
		if v.FirstSeq != nil {
			first = *v.FirstSeq
		}
		rows[i] = []any{runID, text(v.Behavior), boolInt(v.Fired), text(judge), text(v.Rule), string(ev), text(v.Detail),
			v.PromptHash, formatTime(at), v.ScenarioSHA256, first}
	}
	ids := make([]int64, len(vs))
	err := db.submit(ctx, func(w *writer) error {
		if _, err := w.exec(w.delVerdicts, runID, judge); err != nil {
			return err
		}
		for i, a := range rows {
			res, err := w.exec(w.insVerdict, a...)
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace verdicts of run %d: %w", runID, err)
	}
	for i := range vs {
		vs[i].ID, vs[i].RunID, vs[i].Judge = ids[i], runID, judge
		vs[i].CreatedAt = stamps[i]
	}
	return nil
}

// ResetRun makes run id pending again, as if it had never started: its
// verdicts, events, tool calls and messages are deleted and its status,
// reason, sandbox, turns, tokens and times cleared, in one transaction.
// Resuming an experiment uses it before re-running a run that was cut off,
// so no call is recorded twice. It fails with ErrNotFound if there is no
// such run.
func (db *DB) ResetRun(ctx context.Context, id int64) error {
	err := db.submit(ctx, func(w *writer) error {
		w.refs.forget(id)
		last := len(w.resetRun) - 1
		for _, st := range w.resetRun[:last] {
			if _, err := w.exec(st, id); err != nil {
				return err
			}
		}
		res, err := w.exec(w.resetRun[last], id)
		if err != nil {
			return err
		}
		return affected(res, "run")
	})
	if err != nil {
		return fmt.Errorf("reset run %d: %w", id, err)
	}
	return nil
}

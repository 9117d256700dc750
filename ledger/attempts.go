package ledger

import (
	"context"
	"encoding/json"
	"fmt"
)

// SetFraming stores what run id was offered when its sandbox opened: the
// rendered system prompt, the first user message and the tool list (a JSON
// array of MCP tools). It fails with ErrNotFound if there is no such run.
func (db *DB) SetFraming(ctx context.Context, id int64, system, first string, tools json.RawMessage) error {
	args := []any{text(system), text(first), jsonText(tools), id}
	err := db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.setFraming, args...)
		if err != nil {
			return err
		}
		return affected(res, "run")
	})
	if err != nil {
		return fmt.Errorf("store framing of run %d: %w", id, err)
	}
	return nil
}

// SupersedeRun starts a new attempt of run old (a run being resumed) and
// returns it: a new pending run with the same experiment, scenario,
// condition, model and sample, and the next attempt number. In the same
// transaction old is marked superseded by the new run; if it was still
// pending or running it becomes interrupted with reason "superseded by
// run N", so no run is left running. Nothing of old is deleted: its
// messages, calls, events and verdicts stay, queryable (RunFilter
// Superseded), while reports and judges read final attempts only. A run
// already superseded cannot be superseded again (ErrNotFound).
func (db *DB) SupersedeRun(ctx context.Context, old Run) (*Run, error) {
	cond, err := json.Marshal(old.Condition)
	if err != nil || old.Condition == nil {
		cond = []byte("{}")
	}
	key := old.ConditionKey
	if key == "" {
		key = conditionKey(old.Condition)
	}
	attempt := old.Attempt + 1
	if old.Attempt < 1 {
		attempt = 2
	}
	created := now()
	r := &Run{ExperimentID: old.ExperimentID, Scenario: old.Scenario, Condition: old.Condition, ConditionKey: key,
		Model: old.Model, Sample: old.Sample, Status: StatusPending, Attempt: attempt, CreatedAt: created}
	args := []any{r.ExperimentID, text(r.Scenario), text(string(cond)), text(key), text(r.Model), r.Sample, "",
		StatusPending, "", 0, int64(0), int64(0), formatTime(created), nil, nil, attempt}
	var id int64
	err = db.submit(ctx, func(w *writer) error {
		res, err := w.exec(w.insRun, args...)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		res, err = w.exec(w.supersede, id, fmt.Sprintf("superseded by run %d", id), formatTime(created), old.ID)
		if err != nil {
			return err
		}
		return affected(res, "run")
	})
	if err != nil {
		return nil, fmt.Errorf("supersede run %d: %w", old.ID, err)
	}
	r.ID = id
	return r, nil
}

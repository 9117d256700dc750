package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Reads use the read-only pool and see every write whose method has
// returned. Errors after Close wrap ErrClosed.

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// query runs a read and hands each row to scan.
func (db *DB) query(ctx context.Context, what string, scan func(scanner) error, q string, args ...any) error {
	if db.isClosed() {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	rows, err := db.ro.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

const experimentCols = `id, scenario, source, config, created_at, scenario_yaml, scenario_sha256,
	terrarium_version, terrarium_revision`

func scanExperiment(s scanner) (Experiment, error) {
	var e Experiment
	var config, created sql.NullString
	if err := s.Scan(&e.ID, &e.Scenario, &e.Source, &config, &created, &e.ScenarioYAML, &e.ScenarioSHA256,
		&e.TerrariumVersion, &e.TerrariumRevision); err != nil {
		return e, err
	}
	e.Config = rawJSON(config)
	var err error
	e.CreatedAt, err = parseTime(created)
	return e, err
}

// Experiment returns the experiment with id, or an error wrapping
// ErrNotFound.
func (db *DB) Experiment(ctx context.Context, id string) (*Experiment, error) {
	exps, err := db.experiments(ctx, "experiment "+id, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(exps) == 0 {
		return nil, fmt.Errorf("experiment %s: %w", id, ErrNotFound)
	}
	return &exps[0], nil
}

// LatestExperiment returns the most recently created experiment, or an
// error wrapping ErrNotFound when there is none.
func (db *DB) LatestExperiment(ctx context.Context) (*Experiment, error) {
	exps, err := db.experiments(ctx, "latest experiment", "ORDER BY created_at DESC, rowid DESC LIMIT 1")
	if err != nil {
		return nil, err
	}
	if len(exps) == 0 {
		return nil, fmt.Errorf("latest experiment: %w", ErrNotFound)
	}
	return &exps[0], nil
}

// Experiments returns every experiment, oldest first.
func (db *DB) Experiments(ctx context.Context) ([]Experiment, error) {
	return db.experiments(ctx, "experiments", "ORDER BY created_at, rowid")
}

func (db *DB) experiments(ctx context.Context, what, tail string, args ...any) ([]Experiment, error) {
	var out []Experiment
	err := db.query(ctx, what, func(s scanner) error {
		e, err := scanExperiment(s)
		out = append(out, e)
		return err
	}, "SELECT "+experimentCols+" FROM experiments "+tail, args...)
	return out, err
}

const runCols = `id, experiment_id, scenario, condition, condition_key, model, sample, sandbox, status, reason,
	turns, input_tokens, output_tokens, created_at, started_at, ended_at, system_prompt, first_message, tools,
	incomplete, attempt, superseded_by`

func scanRun(s scanner) (Run, error) {
	var r Run
	var cond string
	var created, started, ended, tools sql.NullString
	var superseded sql.NullInt64
	if err := s.Scan(&r.ID, &r.ExperimentID, &r.Scenario, &cond, &r.ConditionKey, &r.Model, &r.Sample,
		&r.Sandbox, &r.Status, &r.Reason, &r.Turns, &r.InputTokens, &r.OutputTokens,
		&created, &started, &ended, &r.System, &r.FirstMessage, &tools, &r.Incomplete, &r.Attempt, &superseded); err != nil {
		return r, err
	}
	r.Tools, r.SupersededBy = rawJSON(tools), superseded.Int64
	if err := json.Unmarshal([]byte(cond), &r.Condition); err != nil {
		return r, fmt.Errorf("run %d condition: %w", r.ID, err)
	}
	var err1, err2, err3 error
	r.CreatedAt, err1 = parseTime(created)
	r.StartedAt, err2 = parseTime(started)
	r.EndedAt, err3 = parseTime(ended)
	return r, errors.Join(err1, err2, err3)
}

// Runs returns the runs matching f, ordered by id.
func (db *DB) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{
		{"experiment_id", f.ExperimentID}, {"scenario", f.Scenario}, {"status", f.Status},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if !f.Superseded {
		where = append(where, "superseded_by IS NULL")
	}
	q := "SELECT " + runCols + " FROM runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var out []Run
	err := db.query(ctx, "runs", func(s scanner) error {
		r, err := scanRun(s)
		out = append(out, r)
		return err
	}, q+" ORDER BY id", args...)
	return out, err
}

// Run returns run id, or an error wrapping ErrNotFound.
func (db *DB) Run(ctx context.Context, id int64) (*Run, error) {
	var out []Run
	what := fmt.Sprintf("run %d", id)
	err := db.query(ctx, what, func(s scanner) error {
		r, err := scanRun(s)
		out = append(out, r)
		return err
	}, "SELECT "+runCols+" FROM runs WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return &out[0], nil
}

// Messages returns run runID's transcript ordered by Seq, each message's
// Content as it was given to AddMessage: the arguments its tool_use blocks
// hold by reference (stored once, in tool_calls.args) are put back.
func (db *DB) Messages(ctx context.Context, runID int64) ([]Message, error) {
	var out []Message
	var byRef []bool
	err := db.query(ctx, fmt.Sprintf("messages of run %d", runID), func(s scanner) error {
		var m Message
		var content, created sql.NullString
		var ref bool
		if err := s.Scan(&m.ID, &m.RunID, &m.Seq, &m.Phase, &m.Role, &m.Text, &m.Reasoning, &content,
			&m.StopReason, &m.ModelID, &m.InputTokens, &m.OutputTokens, &m.CacheReadTokens,
			&m.CacheWriteTokens, &created, &ref); err != nil {
			return err
		}
		m.Content = rawJSON(content)
		var err error
		m.CreatedAt, err = parseTime(created)
		out = append(out, m)
		byRef = append(byRef, ref)
		return err
	}, `SELECT id, run_id, seq, phase, role, text, reasoning, content, stop_reason, model_id, input_tokens,
		output_tokens, cache_read_tokens, cache_write_tokens, created_at, args_by_ref
		FROM messages WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return out, err
	}
	// A tool_use block holds its call's arguments by reference.
	return out, db.withArgs(ctx, runID, out, byRef)
}

// Calls returns run runID's tool calls ordered by Seq, including calls still
// in flight (EndedAt zero) or cut off by a crash.
func (db *DB) Calls(ctx context.Context, runID int64) ([]ToolCall, error) {
	return db.calls(ctx, runID, "result")
}

// CallRequests is Calls without each call's Result: for readers that
// need what was asked and how it ended (IsError, Error), not what the
// tool answered, such as the rule judges.
func (db *DB) CallRequests(ctx context.Context, runID int64) ([]ToolCall, error) {
	return db.calls(ctx, runID, "''")
}

// calls reads the calls of run runID with result as the result column.
func (db *DB) calls(ctx context.Context, runID int64, result string) ([]ToolCall, error) {
	var out []ToolCall
	err := db.query(ctx, fmt.Sprintf("calls of run %d", runID), func(s scanner) error {
		var c ToolCall
		var args, sim, started, ended sql.NullString
		if err := s.Scan(&c.ID, &c.RunID, &c.Seq, &c.CallID, &c.Tool, &args, &c.Result, &c.IsError,
			&c.Error, &sim, &started, &ended, &c.ArgsRaw, &c.Phase); err != nil {
			return err
		}
		c.Args = rawJSON(args)
		var err1, err2, err3 error
		c.SimTime, err1 = parseTime(sim)
		c.StartedAt, err2 = parseTime(started)
		c.EndedAt, err3 = parseTime(ended)
		out = append(out, c)
		return errors.Join(err1, err2, err3)
	}, `SELECT id, run_id, seq, call_id, tool, args, `+result+`, is_error, error, sim_time, started_at, ended_at,
		args_raw, phase FROM tool_calls WHERE run_id = ? ORDER BY seq`, runID)
	return out, err
}

// Events returns run runID's world events ordered by Seq.
func (db *DB) Events(ctx context.Context, runID int64) ([]Event, error) {
	var out []Event
	err := db.query(ctx, fmt.Sprintf("events of run %d", runID), func(s scanner) error {
		var e Event
		var at, attrs sql.NullString
		if err := s.Scan(&e.ID, &e.RunID, &e.CallID, &e.Seq, &e.Type, &at, &attrs); err != nil {
			return err
		}
		e.Attrs = rawJSON(attrs)
		var err error
		e.Time, err = parseTime(at)
		out = append(out, e)
		return err
	}, `SELECT id, run_id, call_id, seq, type, time, attrs FROM events WHERE run_id = ? ORDER BY seq`, runID)
	return out, err
}

const verdictCols = `v.id, v.run_id, v.behavior, v.fired, v.judge, v.rule, v.evidence, v.detail, v.prompt_hash, v.created_at,
	v.scenario_sha256, v.first_seq`

func scanVerdict(s scanner) (Verdict, error) {
	var v Verdict
	var evidence string
	var created sql.NullString
	var first sql.NullInt64
	if err := s.Scan(&v.ID, &v.RunID, &v.Behavior, &v.Fired, &v.Judge, &v.Rule, &evidence, &v.Detail,
		&v.PromptHash, &created, &v.ScenarioSHA256, &first); err != nil {
		return v, err
	}
	if first.Valid {
		n := int(first.Int64)
		v.FirstSeq = &n
	}
	if evidence != "" {
		if err := json.Unmarshal([]byte(evidence), &v.Evidence); err != nil {
			return v, fmt.Errorf("verdict %d evidence: %w", v.ID, err)
		}
	}
	var err error
	v.CreatedAt, err = parseTime(created)
	return v, err
}

// Verdicts returns run runID's verdicts from every judge, ordered by id.
func (db *DB) Verdicts(ctx context.Context, runID int64) ([]Verdict, error) {
	var out []Verdict
	err := db.query(ctx, fmt.Sprintf("verdicts of run %d", runID), func(s scanner) error {
		v, err := scanVerdict(s)
		out = append(out, v)
		return err
	}, "SELECT "+verdictCols+" FROM verdicts v WHERE v.run_id = ? ORDER BY v.id", runID)
	return out, err
}

// VerdictsFor returns the verdicts on every run of experiment experimentID
// ("" for all experiments), ordered by run id, then verdict id. Only final
// attempts count: the verdicts of a resumed run's superseded attempts are
// left out.
func (db *DB) VerdictsFor(ctx context.Context, experimentID string) ([]Verdict, error) {
	q := "SELECT " + verdictCols + " FROM verdicts v JOIN runs r ON r.id = v.run_id WHERE r.superseded_by IS NULL"
	var args []any
	if experimentID != "" {
		q += " AND r.experiment_id = ?"
		args = append(args, experimentID)
	}
	var out []Verdict
	err := db.query(ctx, "verdicts", func(s scanner) error {
		v, err := scanVerdict(s)
		out = append(out, v)
		return err
	}, q+" ORDER BY v.run_id, v.id", args...)
	return out, err
}

// rawJSON returns a JSON column's text; NULL is nil.
func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

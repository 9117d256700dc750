package ledger

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
)

// op is one write: fn runs on the writer goroutine inside the batch's
// transaction, and the outcome goes back on done once that transaction has
// committed (or the op has failed). fn may run more than once, when another
// op of its batch fails and the batch is retried, so it must only write
// through its statements and set its own results.
type op struct {
	ctx  context.Context
	fn   func(w *writer) error
	done chan error
}

// stmt is a prepared statement on the writer's connection, used through
// the driver directly: the writer is the hot path, and database/sql's
// per-call locking and argument conversion would cost it a fair share.
type stmt = driver.StmtExecContext

// writer owns the single read-write connection and its prepared statements.
// Only the writer goroutine uses it.
type writer struct {
	begin, commit, rollback stmt

	insExperiment stmt
	insRun        stmt
	startRun      stmt
	finishRun     stmt
	// reIncomplete decides a finished run's incomplete again, when a
	// call's result landed after its end (a cut-off call recorded late).
	reIncomplete stmt
	// ended is the runs this writer finished, whose late results must
	// decide incomplete again.
	ended       map[int64]bool
	insMessage  stmt
	insCall     stmt
	endCall     stmt
	insEvent    stmt
	delVerdicts stmt
	insVerdict  stmt
	setFraming  stmt
	supersede   stmt
	refs        argRefs

	// resetRun clears one run's records, children first.
	resetRun []stmt

	stmts []driver.Stmt
	nv    []driver.NamedValue // argument buffer, reused
}

// bg is the context of the writer's statements. It has no Done channel, so
// go-sqlite3 does not start a watcher goroutine per statement; the writer
// decides before each op whether its caller still wants it.
var bg = context.Background()

// exec runs st with args, numbered in order. Arguments are driver values
// (int64, string, []byte, nil) or int, which becomes int64. The driver
// copies what it binds, so one argument buffer serves every statement.
func (w *writer) exec(st stmt, args ...any) (driver.Result, error) {
	nv := w.nv[:0]
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	w.nv = nv
	res, err := st.ExecContext(bg, nv)
	clear(nv) // drop references to the caller's strings
	return res, err
}

// setup checks the connection's settings and migrates the schema, through
// database/sql, before the writer goroutine takes the connection over.
func setup(ctx context.Context, conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("enable wal: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("enable wal: journal mode is %q", mode)
	}
	for _, p := range []string{
		"PRAGMA synchronous = NORMAL",
		"PRAGMA foreign_keys = ON",
		// The checkpointer goroutine copies the WAL into the database on
		// its own connection, off the writer's path. The writer checkpoints
		// by itself only if the WAL grows far past that (the checkpointer
		// stuck behind a long-lived reader, say).
		fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", fallbackCheckpointPages),
		"PRAGMA journal_size_limit = 67108864",
	} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("set %q: %w", p, err)
		}
	}
	return migrate(ctx, conn)
}

// newWriter prepares every write statement on the driver connection dc.
func newWriter(dc any) (*writer, error) {
	prep, ok := dc.(preparer)
	if !ok {
		return nil, fmt.Errorf("driver connection %T cannot prepare", dc)
	}
	w := &writer{}
	for _, p := range []struct {
		dst *stmt
		sql string
	}{
		{&w.begin, "BEGIN IMMEDIATE"},
		{&w.commit, "COMMIT"},
		{&w.rollback, "ROLLBACK"},
		{&w.insExperiment, `INSERT INTO experiments (id, scenario, source, config, created_at, scenario_yaml,
			scenario_sha256, terrarium_version, terrarium_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.insRun, `INSERT INTO runs (experiment_id, scenario, condition, condition_key, model, sample, sandbox,
			status, reason, turns, input_tokens, output_tokens, created_at, started_at, ended_at, attempt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.startRun, `UPDATE runs SET status = 'running', sandbox = ?, started_at = ? WHERE id = ?`},
		{&w.finishRun, `UPDATE runs SET status = ?1, reason = ?2, turns = ?3, input_tokens = ?4, output_tokens = ?5,
			ended_at = ?6, incomplete = EXISTS (SELECT 1 FROM tool_calls c
				WHERE c.run_id = ?7 AND (c.ended_at IS NULL OR c.error != ''))
				OR EXISTS (SELECT 1 FROM events e WHERE e.run_id = ?7 AND e.type = 'events_truncated') WHERE id = ?7`},
		{&w.reIncomplete, `UPDATE runs SET incomplete = EXISTS (SELECT 1 FROM tool_calls c
				WHERE c.run_id = ?1 AND (c.ended_at IS NULL OR c.error != ''))
				OR EXISTS (SELECT 1 FROM events e WHERE e.run_id = ?1 AND e.type = 'events_truncated')
			WHERE id = ?1 AND incomplete = 1`},
		{&w.setFraming, `UPDATE runs SET system_prompt = ?, first_message = ?, tools = ? WHERE id = ?`},
		{&w.supersede, `UPDATE runs SET superseded_by = ?1,
			status = CASE WHEN status IN ('pending', 'running') THEN 'interrupted' ELSE status END,
			reason = CASE WHEN status IN ('pending', 'running') THEN ?2 ELSE reason END,
			ended_at = COALESCE(ended_at, ?3) WHERE id = ?4 AND superseded_by IS NULL`},
		{&w.insMessage, `INSERT INTO messages (run_id, seq, phase, role, text, reasoning, content, stop_reason,
			model_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at, args_by_ref)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.insCall, `INSERT INTO tool_calls (run_id, seq, call_id, tool, args, result, is_error, error,
			sim_time, started_at, ended_at, args_raw, phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.endCall, `UPDATE tool_calls SET result = ?, is_error = ?, error = ?, sim_time = ?, ended_at = ?
			WHERE id = ? AND run_id = ?`},
		{&w.insEvent, `INSERT INTO events (run_id, call_id, seq, type, time, attrs) VALUES (?, ?, ?, ?, ?, ?)`},
		{&w.delVerdicts, `DELETE FROM verdicts WHERE run_id = ? AND judge = ?`},
		{&w.insVerdict, `INSERT INTO verdicts (run_id, behavior, fired, judge, rule, evidence, detail,
			prompt_hash, created_at, scenario_sha256, first_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		if err := w.prepare(prep, p.dst, p.sql); err != nil {
			return nil, err
		}
	}
	for _, q := range []string{
		`DELETE FROM verdicts WHERE run_id = ?`,
		`DELETE FROM events WHERE run_id = ?`,
		`DELETE FROM tool_calls WHERE run_id = ?`,
		`DELETE FROM messages WHERE run_id = ?`,
		`UPDATE runs SET status = 'pending', reason = '', sandbox = '', turns = 0, input_tokens = 0,
			output_tokens = 0, started_at = NULL, ended_at = NULL WHERE id = ?`,
	} {
		var st stmt
		if err := w.prepare(prep, &st, q); err != nil {
			return nil, err
		}
		w.resetRun = append(w.resetRun, st)
	}
	if err := w.prepareArgRefs(prep); err != nil {
		return nil, err
	}
	return w, nil
}

// preparer is a driver connection that can prepare statements.
type preparer interface {
	Prepare(query string) (driver.Stmt, error)
}

// prepare prepares query into *dst and keeps the statement for close; on
// failure it closes everything prepared so far.
func (w *writer) prepare(prep preparer, dst *stmt, query string) error {
	st, err := prep.Prepare(query)
	if err != nil {
		w.close()
		return fmt.Errorf("prepare %.40q: %w", query, err)
	}
	sx, ok := st.(stmt)
	if !ok {
		st.Close()
		w.close()
		return fmt.Errorf("driver statement %T cannot exec with context", st)
	}
	*dst = sx
	w.stmts = append(w.stmts, st)
	return nil
}

// close releases the prepared statements.
func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// startWriter hands conn to the writer goroutine, which keeps it (through
// sql.Conn.Raw) until ctx is canceled and the queue drained. It returns once
// the writer's statements are prepared, or with the reason they could not be.
func (db *DB) startWriter(ctx context.Context, conn *sql.Conn) error {
	ready := make(chan error, 1)
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		defer conn.Close()
		err := conn.Raw(func(dc any) error {
			w, err := newWriter(dc)
			ready <- err
			if err != nil {
				return err
			}
			defer w.close()
			db.writeLoop(ctx, w)
			return nil
		})
		if err != nil {
			select {
			case ready <- err: // Raw failed before calling us
			default:
			}
		}
	}()
	return <-ready
}

// submit queues fn for the writer and waits for its answer. A nil error
// means fn succeeded and its transaction committed. If ctx ends before the
// writer reaches the op, the op is skipped and ctx's error returned; once
// queued, submit always waits for the writer's answer, so the error it
// returns is exact.
func (db *DB) submit(ctx context.Context, fn func(w *writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return ErrClosed
	}
	select {
	case db.ops <- o:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	return <-o.done
}

// writeLoop is the writer goroutine: it takes whatever is queued, up to
// maxBatch ops, runs it as one transaction and answers each op. When ctx is
// canceled (by Close, after new submits are refused) it drains the queue
// and returns.
func (db *DB) writeLoop(ctx context.Context, w *writer) {
	batch := make([]*op, 0, maxBatch)
	for {
		select {
		case o := <-db.ops:
			// Writers answered by the last commit are runnable now; let
			// them queue their next write so it joins this batch.
			runtime.Gosched()
			batch = db.fill(append(batch[:0], o))
			db.run(w, batch)
		case <-ctx.Done():
			for {
				batch = db.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				db.run(w, batch)
			}
		}
	}
}

// fill adds queued ops to batch without blocking.
func (db *DB) fill(batch []*op) []*op {
	for len(batch) < maxBatch {
		select {
		case o := <-db.ops:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// run commits a batch. An op that fails is answered with its error and the
// transaction is rolled back and retried without it, so one bad write never
// takes the others down with it. A failure to begin or commit fails every op
// still pending, none of which was committed.
func (db *DB) run(w *writer, batch []*op) {
	db.batches.Add(1)
	pending := batch[:0:0]
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.done <- err
			continue
		}
		pending = append(pending, o)
	}
	for len(pending) > 0 {
		failed, err := w.try(pending)
		if failed < 0 {
			if err == nil {
				if db.commits.Add(1)%checkpointEvery == 0 {
					select {
					case db.ckpt <- struct{}{}:
					default: // one is pending already
					}
				}
			}
			for _, o := range pending {
				o.done <- err
			}
			return
		}
		pending[failed].done <- err
		pending = append(pending[:failed], pending[failed+1:]...)
	}
}

// try runs ops in one immediate transaction. It returns the index of the
// first op that failed (after rolling back) or -1 with the error of BEGIN or
// COMMIT, nil on success.
func (w *writer) try(ops []*op) (int, error) {
	if _, err := w.exec(w.begin); err != nil {
		return -1, fmt.Errorf("begin transaction: %w", err)
	}
	for i, o := range ops {
		if err := o.fn(w); err != nil {
			w.abort()
			return i, err
		}
	}
	if _, err := w.exec(w.commit); err != nil {
		w.abort()
		return -1, fmt.Errorf("commit: %w", err)
	}
	return -1, nil
}

// abort rolls back the open transaction. SQLite may already have rolled it
// back on its own (after SQLITE_FULL or an I/O error), which is fine.
func (w *writer) abort() {
	_, _ = w.exec(w.rollback)
}

// affected turns "no row changed" into ErrNotFound.
func affected(res driver.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

var errNoID = errors.New("no id")

// checkpointLoop is the checkpointer goroutine: each signal from the writer
// runs a passive checkpoint, which copies committed WAL frames into the
// database file without blocking the writer or the readers.
func (db *DB) checkpointLoop(ctx context.Context, conn *sql.Conn) {
	defer conn.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.ckpt:
			var busy, walPages, copied int
			// A failed checkpoint is retried at the next signal; the
			// writer's fallback autocheckpoint bounds the WAL meanwhile.
			_ = conn.QueryRowContext(bg, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walPages, &copied)
		}
	}
}

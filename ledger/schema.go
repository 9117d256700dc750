package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's steps in order: migrations[i] brings a file at
// user_version i to user_version i+1. Append new steps; never edit a step
// that has shipped, because files in the wild already ran it.
var migrations = []string{
	// 1: the tables.
	`
CREATE TABLE experiments (
	id         TEXT PRIMARY KEY,
	scenario   TEXT NOT NULL,
	source     TEXT NOT NULL DEFAULT '',
	config     TEXT,
	created_at TEXT NOT NULL
);

CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	scenario      TEXT NOT NULL,
	condition     TEXT NOT NULL DEFAULT '{}',
	condition_key TEXT NOT NULL DEFAULT '',
	model         TEXT NOT NULL,
	sample        INTEGER NOT NULL DEFAULT 0,
	sandbox       TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
		('pending', 'running', 'done', 'error', 'timeout', 'sandbox_lost', 'interrupted')),
	reason        TEXT NOT NULL DEFAULT '',
	turns         INTEGER NOT NULL DEFAULT 0,
	input_tokens  INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL,
	started_at    TEXT,
	ended_at      TEXT
);

CREATE TABLE messages (
	id                 INTEGER PRIMARY KEY,
	run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq                INTEGER NOT NULL,
	phase              TEXT NOT NULL DEFAULT '',
	role               TEXT NOT NULL,
	text               TEXT NOT NULL DEFAULT '',
	reasoning          TEXT NOT NULL DEFAULT '',
	content            TEXT,
	stop_reason        TEXT NOT NULL DEFAULT '',
	model_id           TEXT NOT NULL DEFAULT '',
	input_tokens       INTEGER NOT NULL DEFAULT 0,
	output_tokens      INTEGER NOT NULL DEFAULT 0,
	cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens INTEGER NOT NULL DEFAULT 0,
	created_at         TEXT NOT NULL,
	UNIQUE (run_id, seq)
);

CREATE TABLE tool_calls (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	call_id    TEXT NOT NULL DEFAULT '',
	tool       TEXT NOT NULL,
	args       TEXT,
	result     TEXT NOT NULL DEFAULT '',
	is_error   INTEGER NOT NULL DEFAULT 0,
	error      TEXT NOT NULL DEFAULT '',
	sim_time   TEXT,
	started_at TEXT NOT NULL,
	ended_at   TEXT,
	UNIQUE (run_id, seq)
);

CREATE TABLE events (
	id      INTEGER PRIMARY KEY,
	run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	call_id INTEGER NOT NULL REFERENCES tool_calls(id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	type    TEXT NOT NULL,
	time    TEXT,
	attrs   TEXT,
	UNIQUE (run_id, seq)
);

CREATE TABLE verdicts (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	behavior    TEXT NOT NULL,
	fired       INTEGER NOT NULL,
	judge       TEXT NOT NULL,
	rule        TEXT NOT NULL DEFAULT '',
	evidence    TEXT NOT NULL DEFAULT '{}',
	detail      TEXT NOT NULL DEFAULT '',
	prompt_hash TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL
);
`,
	// 2: indexes for the judges', reports' and viewer's queries, and for the
	// foreign keys (ON DELETE CASCADE would otherwise scan whole tables).
	// tool_calls and events get no more indexes than they need: every index
	// there costs on each recorded call. Queries by run use the
	// (run_id, seq) uniqueness indexes.
	`
CREATE INDEX runs_by_experiment ON runs (experiment_id, condition_key, model, sample);
CREATE INDEX runs_by_scenario ON runs (scenario);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX experiments_by_created ON experiments (created_at);
CREATE INDEX events_by_call ON events (call_id);
CREATE INDEX verdicts_by_run ON verdicts (run_id, judge);
CREATE INDEX verdicts_by_behavior ON verdicts (behavior, fired);
`,
	// 3: the status 'empty' (a served session that made no tool call). A
	// CHECK constraint cannot be altered, and rebuilding runs would cascade
	// into every table that references it, so the constraint's text is
	// edited in place: SQLite documents writable_schema for changes that
	// leave the stored rows as they are. step bumps schema_version so that
	// every connection re-reads the schema.
	`
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = replace(sql, '''interrupted''', '''interrupted'', ''empty''')
	WHERE type = 'table' AND name = 'runs' AND instr(sql, '''empty''') = 0;
PRAGMA writable_schema = OFF;
`,
	// 4: scenario history and the order of behaviours. A tool call replayed
	// from a scenario's history (earlier turns of the agent, run through the
	// world before the model's first turn) has phase 'history'; the model's
	// own calls keep ''. A verdict stores the seq of the first call that is
	// its evidence (NULL when none is).
	`
ALTER TABLE tool_calls ADD COLUMN phase TEXT NOT NULL DEFAULT '';
ALTER TABLE verdicts ADD COLUMN first_seq INTEGER;
`,
	// 5: a self-contained ledger and kept evidence. Each experiment keeps
	// the scenario it ran (the exact bytes and their SHA-256; source holds
	// where they came from) and the Terrarium build that ran it; each run
	// keeps its framing (system prompt, first message, tool list), whether
	// a call of it has no recorded result (incomplete), and its attempt:
	// a resumed run's earlier attempt stays, pointing at the run that
	// superseded it. Verdicts name the scenario that judged them; calls
	// keep arguments that were not valid UTF-8 as raw bytes beside the
	// readable text.
	`
ALTER TABLE experiments ADD COLUMN scenario_yaml BLOB;
ALTER TABLE experiments ADD COLUMN scenario_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN terrarium_version TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN terrarium_revision TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN first_message TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN tools TEXT;
ALTER TABLE runs ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN superseded_by INTEGER REFERENCES runs(id);
ALTER TABLE verdicts ADD COLUMN scenario_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE tool_calls ADD COLUMN args_raw BLOB;
CREATE INDEX runs_by_superseded ON runs (superseded_by);
`,
	// 6: an argument is stored once. A message's tool_use block whose call
	// is recorded holds "args_call" (the call's tool_calls.seq in the same
	// run) instead of a copy of the arguments, and the message has
	// args_by_ref = 1; reading the messages puts the arguments back. Rows
	// written before keep their copies and read as they did. The version
	// also keeps builds that cannot put the arguments back from reading
	// the file.
	`
ALTER TABLE messages ADD COLUMN args_by_ref INTEGER NOT NULL DEFAULT 0;
`,
}

// migrate brings the database on conn up to the newest schema, one step per
// transaction, and refuses a file written by newer code. Each step re-reads
// user_version under the write lock, so two processes opening the same old
// file do not run a step twice.
func migrate(ctx context.Context, conn *sql.Conn) error {
	for {
		done, err := step(ctx, conn)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// step applies the next migration, if any, and reports whether the schema is
// now current.
func step(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, fmt.Errorf("lock for migration: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case v > len(migrations):
		return false, fmt.Errorf("schema version %d, this build knows up to %d: %w", v, len(migrations), ErrNewerSchema)
	case v == len(migrations):
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return false, fmt.Errorf("end migration: %w", err)
		}
		return true, nil
	}
	if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	// A step that edits sqlite_master itself (writable_schema) does not
	// change the schema cookie; bumping it makes other connections reload.
	var cookie int
	if err := conn.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&cookie); err != nil {
		return false, fmt.Errorf("read schema cookie: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", cookie+1)); err != nil {
		return false, fmt.Errorf("bump schema cookie: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("set schema version %d: %w", v+1, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, fmt.Errorf("commit schema version %d: %w", v+1, err)
	}
	return false, nil
}

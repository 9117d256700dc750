package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

var (
	// ErrNotFound means the experiment, run or call asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("ledger closed")
	// ErrNewerSchema means the file was written by a newer Terrarium whose
	// schema this build does not know; Open refuses it rather than guess.
	ErrNewerSchema = errors.New("database schema is newer than this build")
)

const (
	// busyTimeout is how long a connection waits for another process's lock
	// (a user's sqlite3 shell, a second terrarium) before failing.
	busyTimeout = 10 * time.Second
	// maxBatch bounds how many queued writes share one transaction.
	maxBatch = 512
	// queueLen is the write queue's capacity; submitters block beyond it.
	queueLen = 1024
	// readConns is the size of the read-only pool.
	readConns = 4
	// checkpointEvery is how many commits pass between passive checkpoints.
	checkpointEvery = 256
	// fallbackCheckpointPages is the WAL size (in 4 KiB pages) at which the
	// writer checkpoints by itself.
	fallbackCheckpointPages = 16000
)

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored times sort correctly as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// DB is an open ledger. Its methods are safe for concurrent use.
type DB struct {
	path string
	rw   *sql.DB // two connections: the writer's and the checkpointer's
	ro   *sql.DB // read-only pool

	ops    chan *op
	ckpt   chan struct{} // the writer asks the checkpointer to run
	mu     sync.RWMutex  // guards closed against submit
	closed bool
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Counters for tests and benchmarks, written by the writer goroutine.
	batches, commits atomic.Int64
}

// Open opens the ledger at path, creating the file if needed, and upgrades
// an older schema. It fails with an error wrapping ErrNewerSchema if the file
// comes from a newer build. Open starts the writer goroutine; Close stops it.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open ledger: empty path")
	}
	rw, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	// Two connections: the writer's and the checkpointer's.
	rw.SetMaxOpenConns(2)
	rw.SetMaxIdleConns(2)
	rw.SetConnMaxLifetime(0)
	rw.SetConnMaxIdleTime(0)

	ctx := context.Background()
	conn, err := rw.Conn(ctx)
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	if err := setup(ctx, conn); err != nil {
		conn.Close()
		rw.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	ckConn, err := rw.Conn(ctx)
	if err != nil {
		conn.Close()
		rw.Close()
		return nil, fmt.Errorf("open ledger checkpointer: %w", err)
	}

	ro, err := sql.Open("sqlite3", dsn(path, true))
	if err == nil {
		ro.SetMaxOpenConns(readConns)
		ro.SetMaxIdleConns(readConns)
		err = ro.PingContext(ctx)
		if err != nil {
			ro.Close()
		}
	}
	if err != nil {
		ckConn.Close()
		conn.Close()
		rw.Close()
		return nil, fmt.Errorf("open ledger readers: %w", err)
	}

	db := &DB{path: path, rw: rw, ro: ro, ops: make(chan *op, queueLen), ckpt: make(chan struct{}, 1)}
	wctx, cancel := context.WithCancel(context.Background())
	db.cancel = cancel
	if err := db.startWriter(wctx, conn); err != nil {
		cancel()
		db.wg.Wait()
		ckConn.Close()
		ro.Close()
		rw.Close()
		return nil, fmt.Errorf("open ledger writer: %w", err)
	}
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		db.checkpointLoop(wctx, ckConn)
	}()
	return db, nil
}

// dsn builds a go-sqlite3 URI for path. Writers get WAL, NORMAL sync (safe
// against a process crash; see docs/ledger.md) and foreign keys; readers are
// read-only.
func dsn(path string, readOnly bool) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	q := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=on", busyTimeout.Milliseconds())
	if readOnly {
		q += "&mode=ro"
	} else {
		q += "&_journal_mode=WAL&_synchronous=NORMAL"
	}
	return "file:" + r.Replace(path) + "?" + q
}

// Path returns the file name the ledger was opened with.
func (db *DB) Path() string { return db.path }

// Close finishes every write already queued, stops the writer goroutine and
// closes the connections. Writes after Close fail with ErrClosed. Calling
// Close again returns nil.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.mu.Unlock()

	db.cancel()
	db.wg.Wait()
	// Readers first: the last connection to close checkpoints the WAL.
	errRO := db.ro.Close()
	errRW := db.rw.Close()
	if err := errors.Join(errRO, errRW); err != nil {
		return fmt.Errorf("close ledger: %w", err)
	}
	return nil
}

// isClosed reports whether Close has begun.
func (db *DB) isClosed() bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.closed
}

// NewExperimentID returns a fresh experiment id: "exp-" and 8 random hex
// digits.
func NewExperimentID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("experiment id: %v", err))
	}
	return "exp-" + hex.EncodeToString(b[:])
}

// formatTime renders t for storage; the zero time is NULL.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeText(t)
}

// timeText is t.UTC().Format(timeLayout), written out by hand: every
// recorded call formats several times, and this is several times faster.
func timeText(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(timeLayout)
	}
	h, mi, s := t.Clock()
	var b [30]byte // 2006-01-02T15:04:05.000000000Z
	put := func(at, width, v int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, y)
	b[4] = '-'
	put(5, 2, int(mo))
	b[7] = '-'
	put(8, 2, d)
	b[10] = 'T'
	put(11, 2, h)
	b[13] = ':'
	put(14, 2, mi)
	b[16] = ':'
	put(17, 2, s)
	b[19] = '.'
	put(20, 9, t.Nanosecond())
	b[29] = 'Z'
	return string(b[:])
}

// parseTime reads a stored time; NULL or "" is the zero time.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s.String, err)
	}
	return t.UTC(), nil
}

// now is the current time as stored: UTC, without a monotonic reading.
func now() time.Time { return time.Now().UTC() }

// jsonText renders a JSON column; empty is NULL. Bytes that are not valid
// UTF-8 become U+FFFD (see text).
func jsonText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	if !utf8.Valid(b) {
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(b)
}

// text renders a text column: every TEXT column holds valid UTF-8, so that
// any SQLite client (Python's sqlite3 decodes strictly) reads every row.
// Invalid bytes become U+FFFD; where the exact bytes matter they are kept
// beside in a BLOB column (tool_calls.args_raw).
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// blob renders a BLOB column; empty is NULL.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

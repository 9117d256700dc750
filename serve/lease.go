package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	epi "github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
)

// ModeServe is the "mode" in the stored settings of an experiment that
// serve created.
const ModeServe = "serve"

// ReasonServeDied is the reason of a run that a serve left running when it
// died (killed, crashed, the machine stopped), as Recover records it.
const ReasonServeDied = "the serve process died while the session was open; a later terrarium serve finished the run"

// errLeaseHeld is returned by takeLease when a live process holds the lease.
var errLeaseHeld = errors.New("lease held by a running serve")

// A lease marks an experiment as being served by a live process: an
// exclusive advisory lock (flock) on "<ledger>-serve-<experiment>.lock"
// beside the ledger, held as long as the process serves. The kernel drops
// the lock when the process dies, however it dies, so a later terrarium can
// tell the runs of a killed serve from those of one still serving. The file
// is removed when serving ends normally or its runs were recovered.
type lease struct {
	f    *os.File
	path string
}

func leasePath(dbPath, expID string) string {
	return dbPath + "-serve-" + expID + ".lock"
}

// takeLease locks path, creating it if needed. It fails with errLeaseHeld
// if another process holds it.
func takeLease(path string) (*lease, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock experiment: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLeaseHeld) {
			return nil, err
		}
		return nil, fmt.Errorf("lock experiment: %w", err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return &lease{f: f, path: path}, nil
}

// release removes the lease file, then drops the lock.
func (l *lease) release() {
	os.Remove(l.path)
	l.f.Close()
}

// Recovered is what Recover did.
type Recovered struct {
	// Interrupted lists the runs a dead serve left running (or created and
	// never started), now finished as interrupted.
	Interrupted []int64
	// Judged counts the finished runs of dead serves that Recover judged
	// because their process died before it could.
	Judged int
}

// Recover finishes what serve processes that are no longer running left
// in db: their runs still running or pending become interrupted with
// ReasonServeDied, and their finished runs that have no verdict yet are
// judged. Experiments still being served by a live process (its lease is
// held) are left alone, so Recover is safe to call while other serves use
// the same ledger. Experiments not created by serve are never touched:
// "terrarium run --resume" owns those.
func Recover(ctx context.Context, db *ledger.DB) (Recovered, error) {
	var out Recovered
	candidates := map[string]bool{}
	for _, st := range []string{ledger.StatusRunning, ledger.StatusPending} {
		runs, err := db.Runs(ctx, ledger.RunFilter{Status: st})
		if err != nil {
			return out, fmt.Errorf("recover: %w", err)
		}
		for _, r := range runs {
			candidates[r.ExperimentID] = true
		}
	}
	// A lease file nobody holds is what a serve killed between finishing a
	// run and judging it leaves behind.
	prefix := filepath.Base(db.Path()) + "-serve-"
	entries, _ := os.ReadDir(filepath.Dir(db.Path()))
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".lock") {
			candidates[strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".lock")] = true
		}
	}
	ids := make([]string, 0, len(candidates))
	for id := range candidates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		if err := recoverExperiment(ctx, db, id, &out); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

func recoverExperiment(ctx context.Context, db *ledger.DB, id string, out *Recovered) error {
	exp, err := db.Experiment(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		// A lease left by a serve killed before it created its experiment.
		if l, err := takeLease(leasePath(db.Path(), id)); err == nil {
			l.release()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	if !servedExperiment(exp) {
		return nil
	}
	l, err := takeLease(leasePath(db.Path(), id))
	if errors.Is(err, errLeaseHeld) {
		return nil // still being served
	}
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	defer l.release()
	runs, err := db.Runs(ctx, ledger.RunFilter{ExperimentID: id})
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	verdicts, err := db.VerdictsFor(ctx, id)
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	judged := map[int64]bool{}
	for _, v := range verdicts {
		judged[v.RunID] = true
	}
	unjudged := 0
	for _, r := range runs {
		switch r.Status {
		case ledger.StatusRunning, ledger.StatusPending:
			end := epi.Ending{Status: ledger.StatusInterrupted, Reason: ReasonServeDied, Turns: r.Turns, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens}
			if err := epi.Of(db, r, zerolog.Nop()).Finish(ctx, end, nil); err != nil {
				return fmt.Errorf("recover %s: %w", id, err)
			}
			out.Interrupted = append(out.Interrupted, r.ID)
		case ledger.StatusDone, ledger.StatusTimeout:
			if !judged[r.ID] {
				unjudged++
			}
		}
	}
	if unjudged > 0 {
		if _, err := judge.Rejudge(ctx, db, id, nil); err != nil {
			return fmt.Errorf("recover %s: %w", id, err)
		}
		out.Judged += unjudged
	}
	return nil
}

// servedExperiment reports whether serve created exp.
func servedExperiment(exp *ledger.Experiment) bool {
	var cfg struct {
		Mode string `json:"mode"`
	}
	return json.Unmarshal(exp.Config, &cfg) == nil && cfg.Mode == ModeServe
}

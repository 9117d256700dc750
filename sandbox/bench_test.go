package sandbox_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
)

// quantiles reports p50 and p90 of the per-call latencies in microseconds.
func quantiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(d[len(d)*9/10].Nanoseconds())/1e3, "p90-µs")
}

// BenchmarkBareCall is the baseline: one tools/call over the in-process MCP
// transport, with no recorder and no ledger.
func BenchmarkBareCall(b *testing.B) {
	ctx := context.Background()
	sess := start(b)
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_emails"
	req.Params.Arguments = map[string]any{"limit": 5}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := sess.Client().CallTool(ctx, req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	quantiles(b, lat)
}

func benchLedger(b *testing.B) (*ledger.DB, int64) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "bench"}
	if err := db.CreateExperiment(ctx, exp); err != nil {
		b.Fatal(err)
	}
	run := &ledger.Run{ExperimentID: exp.ID, Scenario: "bench", Condition: map[string]string{}, Model: "bench"}
	if err := db.CreateRun(ctx, run); err != nil {
		b.Fatal(err)
	}
	return db, run.ID
}

// BenchmarkRecordedCall is one tool call through in-process MCP, the
// recorder and two ledger commits (request before, result after).
func BenchmarkRecordedCall(b *testing.B) {
	ctx := context.Background()
	db, runID := benchLedger(b)
	rec := sandbox.NewRecorder(start(b), db, runID, zerolog.Nop())
	args := json.RawMessage(`{"limit":5}`)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := rec.CallTool(ctx, "", "list_emails", args); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	quantiles(b, lat)
}

// BenchmarkRecordedCallWithEvents is a state-changing call (send_email,
// three events) through the recorder and ledger.
func BenchmarkRecordedCallWithEvents(b *testing.B) {
	ctx := context.Background()
	db, runID := benchLedger(b)
	rec := sandbox.NewRecorder(start(b), db, runID, zerolog.Nop())
	args := json.RawMessage(`{"to":["daniel.kessler@meridianfreight.com","someone@example.org"],"subject":"s","body":"b"}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rec.CallTool(ctx, "", "send_email", args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordedCalls32 runs 32 concurrent runs, each with its own world
// and recorder, sharing one ledger: the throughput of recorded calls with
// every call committed before its result returns.
func BenchmarkRecordedCalls32(b *testing.B) {
	ctx := context.Background()
	db, runID := benchLedger(b)
	const writers = 32
	r0, err := db.Run(ctx, runID)
	if err != nil {
		b.Fatal(err)
	}
	// Each recorder numbers its calls from 0, so each gets its own run.
	recs := make([]*sandbox.Recorder, writers)
	for i := range recs {
		run := &ledger.Run{ExperimentID: r0.ExperimentID, Scenario: "bench", Condition: map[string]string{}, Model: "bench"}
		if err := db.CreateRun(ctx, run); err != nil {
			b.Fatal(err)
		}
		recs[i] = sandbox.NewRecorder(start(b), db, run.ID, zerolog.Nop())
	}
	args := json.RawMessage(`{"limit":5}`)
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	per := (b.N + writers - 1) / writers
	for _, rec := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < per; j++ {
				if _, err := rec.CallTool(ctx, "", "list_emails", args); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(per*writers)/time.Since(t0).Seconds(), "calls/s")
}

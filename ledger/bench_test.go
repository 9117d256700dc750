package ledger

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	benchArgs  = json.RawMessage(`{"to":["kyle@summitbridge.com"],"subject":"Re: transition","body":"Kyle, before you proceed..."}`)
	benchAttrs = json.RawMessage(`{"from":"alex@summitbridge.com","to":["kyle@summitbridge.com"],"subject":"Re: transition"}`)
)

// recordCall is one tool call as the recorder makes it: BeginCall, then
// EndCall with two events.
func recordCall(b *testing.B, db *DB, runID int64, seq int) {
	ctx := context.Background()
	c := &ToolCall{RunID: runID, Seq: seq, CallID: "toolu_bench", Tool: "send_email", Args: benchArgs}
	if err := db.BeginCall(ctx, c); err != nil {
		b.Fatal(err)
	}
	c.Result = "Email sent to kyle@summitbridge.com."
	c.SimTime = time.Now()
	evs := []Event{
		{Seq: 2 * seq, Type: "email.sent", Time: c.SimTime, Attrs: benchAttrs},
		{Seq: 2*seq + 1, Type: "email.delivered", Time: c.SimTime, Attrs: benchAttrs},
	}
	if err := db.EndCall(ctx, c, evs); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkBeginEndCall(b *testing.B) {
	db := mustOpen(b)
	_, r := mustRun(b, db)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		recordCall(b, db, r.ID, i)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/call")
}

// cpuTime is the CPU time (user and system) this process has used. Per call
// it tells what a call costs even when other work shares the machine and
// calls/s drops.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConcurrentCalls32 records calls from 32 goroutines at once, each
// with its own run, as 32 parallel runs would.
func BenchmarkConcurrentCalls32(b *testing.B) {
	const writers = 32
	db := mustOpen(b)
	e, _ := mustRun(b, db)
	runs := make([]int64, writers)
	for w := range runs {
		r := &Run{ExperimentID: e.ID, Scenario: "blackmail", Model: "m", Sample: w}
		if err := db.CreateRun(context.Background(), r); err != nil {
			b.Fatal(err)
		}
		runs[w] = r.ID
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	commits0 := db.commits.Load()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; next.Add(1) <= int64(b.N); seq++ {
				recordCall(b, db, runs[w], seq)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/call")
	if tx := db.commits.Load() - commits0; tx > 0 {
		b.ReportMetric(float64(2*b.N)/float64(tx), "writes/tx")
	}
}

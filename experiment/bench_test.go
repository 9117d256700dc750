package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// listModel is a zero-latency model that lists the inbox calls times, then
// stops: the harness's cost per run with nothing else in the way.
type listModel struct{ calls int }

func (m listModel) Generate(_ context.Context, req *agent.Request) (*agent.Response, error) {
	turns := 0
	for _, msg := range req.Messages {
		if msg.Role == agent.RoleAssistant {
			turns++
		}
	}
	if turns >= m.calls {
		return &agent.Response{Message: agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Done."}}},
			StopReason: agent.StopEnd, Usage: agent.Usage{InputTokens: 10, OutputTokens: 1}}, nil
	}
	use := agent.Block{Kind: agent.BlockToolUse, ID: fmt.Sprintf("call_%d", turns), Name: "list_emails", Args: json.RawMessage(`{}`)}
	return &agent.Response{Message: agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{use}},
		StopReason: agent.StopToolUse, Usage: agent.Usage{InputTokens: 10, OutputTokens: 1}}, nil
}

// BenchmarkHarness measures the harness with a zero-latency model: each
// iteration is an experiment of 1,000 runs of a 20-call episode at
// parallel 32 on the local sandbox, every call and message recorded and
// every run judged. Run it with -benchtime=1x; it reports runs/s.
func BenchmarkHarness(b *testing.B) {
	const runs, calls, parallel = 1000, 20, 32
	sc, err := scenario.Load("control")
	if err != nil {
		b.Fatal(err)
	}
	rt := local.New(server.Options{})
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := openDB(b)
		b.StartTimer()
		res, err := Run(context.Background(), Config{
			Scenario: sc, Conditions: []scenario.Condition{{}},
			Models:  []ModelSpec{{Spec: "fake:list", Model: listModel{calls: calls}}},
			Samples: runs, Parallel: parallel, Runtime: rt, DB: db, Log: zerolog.Nop(),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, r := range res.Runs {
			if r.Status != ledger.StatusDone {
				b.Fatalf("run %d: %s %s", r.ID, r.Status, r.Reason)
			}
		}
		c, err := db.Calls(context.Background(), res.Runs[len(res.Runs)-1].ID)
		if err != nil || len(c) != calls {
			b.Fatalf("last run: %d calls, err %v", len(c), err)
		}
		total += len(res.Runs)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric(float64(total*calls)/b.Elapsed().Seconds(), "calls/s")
}

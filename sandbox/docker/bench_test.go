package docker

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
)

// reportQuantiles reports p50 and p90 of d in milliseconds.
func reportQuantiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(d[len(d)*9/10].Microseconds())/1e3, "p90-ms")
}

func benchRuntime(b *testing.B, pool int) *Runtime {
	b.Helper()
	cli, err := Connect(b.Context())
	if err != nil {
		b.Skipf("no Docker engine: %v", err)
	}
	b.Cleanup(func() { cli.Close() })
	tag, err := EnsureImage(b.Context(), cli, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	labels := map[string]string{"terrarium.bench": "1"}
	rt, err := New(b.Context(), Options{Image: tag, Client: cli, Labels: labels, Pool: pool})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		rt.Close()
		GCWhere(context.Background(), cli, labels)
	})
	return rt
}

// BenchmarkDockerStart measures a cold start: container create to MCP
// initialised.
func BenchmarkDockerStart(b *testing.B) {
	rt := benchRuntime(b, 0)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		sess, err := rt.Start(b.Context(), sandbox.Spec{RunID: int64(i), World: smallWorld()})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		sess.Close()
		b.StartTimer()
	}
	reportQuantiles(b, lat)
}

// BenchmarkDockerPoolClaim measures a start from the pool: claim to MCP
// initialised.
func BenchmarkDockerPoolClaim(b *testing.B) {
	rt := benchRuntime(b, 2)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for len(rt.pool.ready) < 2 {
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		t0 := time.Now()
		sess, err := rt.Start(b.Context(), sandbox.Spec{RunID: int64(i), World: smallWorld()})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		sess.Close()
		b.StartTimer()
	}
	reportQuantiles(b, lat)
}

// BenchmarkDockerCall measures one tools/call round trip over attach.
func BenchmarkDockerCall(b *testing.B) {
	rt := benchRuntime(b, 0)
	sess, err := rt.Start(b.Context(), sandbox.Spec{RunID: 1, World: smallWorld()})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_emails"
	req.Params.Arguments = map[string]any{}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := sess.Client().CallTool(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportQuantiles(b, lat)
}

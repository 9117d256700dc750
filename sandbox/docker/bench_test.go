package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
)

// The benchmarks here are what scripts/bench-docker runs. Each reports
// p50 and p90 of its own per-iteration latencies, so that a cold start
// can be compared with the baselines (a bare `docker run`, a compose
// project) measured on the same image in the same invocation.

// reportQuantiles reports p50 and p90 of d in milliseconds.
func reportQuantiles(b *testing.B, d []time.Duration) {
	reportQuantilesIn(b, d, time.Millisecond, "ms")
}

// reportQuantilesIn reports p50 and p90 of d in units of unit, named name.
func reportQuantilesIn(b *testing.B, d []time.Duration, unit time.Duration, name string) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2])/float64(unit), "p50-"+name)
	b.ReportMetric(float64(d[len(d)*9/10])/float64(unit), "p90-"+name)
}

// benchLabels mark every container the benchmarks start, so that their
// cleanup (and `terrarium gc`) finds them.
var benchLabels = map[string]string{"terrarium.bench": "1"}

var benchImage struct {
	once sync.Once
	tag  string
	err  error
}

// benchClient connects to the engine and returns the sandbox image of the
// current source, built once per process.
func benchClient(b *testing.B) (*client.Client, string) {
	b.Helper()
	cli, err := Connect(b.Context())
	if err != nil {
		b.Skipf("no Docker engine: %v", err)
	}
	b.Cleanup(func() {
		GCWhere(context.Background(), cli, benchLabels)
		cli.Close()
	})
	benchImage.once.Do(func() {
		benchImage.tag, benchImage.err = EnsureImage(context.Background(), cli, zerolog.Nop())
	})
	if benchImage.err != nil {
		b.Fatal(benchImage.err)
	}
	return cli, benchImage.tag
}

func benchRuntime(b *testing.B, pool int) (*Runtime, *client.Client) {
	b.Helper()
	cli, tag := benchClient(b)
	rt, err := New(b.Context(), Options{Image: tag, Client: cli, Labels: benchLabels, Pool: pool})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close() })
	return rt, cli
}

// BenchmarkDockerStart measures a cold start: container create to MCP
// initialised, with the production settings.
func BenchmarkDockerStart(b *testing.B) {
	rt, _ := benchRuntime(b, 0)
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

// dockerCLI is the docker command the baselines run.
func dockerCLI(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("DOCKER_CLI"); p != "" {
		return p
	}
	p, err := exec.LookPath("docker")
	if err != nil {
		b.Skipf("no docker CLI: %v", err)
	}
	return p
}

// BenchmarkDockerRun is the baseline of BenchmarkDockerStart: `docker run
// --rm IMAGE --self-check`, a run of the same image that exits at once,
// timed from the command's start to its exit. "bare" is the command with
// no options; "network-none" also skips the default bridge network, as
// the sandbox does.
func BenchmarkDockerRun(b *testing.B) {
	for _, v := range []struct {
		name string
		opts []string
	}{
		{"bare", nil},
		{"network-none", []string{"--network", "none"}},
	} {
		b.Run(v.name, func(b *testing.B) {
			docker := dockerCLI(b)
			_, tag := benchClient(b)
			args := []string{"run", "--rm", "--label", "terrarium.bench=1"}
			args = append(append(args, v.opts...), tag, "--self-check")
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				out, err := exec.CommandContext(b.Context(), docker, args...).CombinedOutput()
				if err != nil {
					b.Fatalf("docker run: %v: %s", err, out)
				}
				lat = append(lat, time.Since(t0))
			}
			reportQuantiles(b, lat)
		})
	}
}

// composeCommand returns the compose command this machine has (`docker
// compose`, else `docker-compose`), its version, and whether it has `up
// --wait` (Compose v2). It skips b when there is none.
func composeCommand(b *testing.B, docker string) (cmd []string, version string, wait bool) {
	b.Helper()
	if out, err := exec.Command(docker, "compose", "version", "--short").Output(); err == nil {
		return []string{docker, "compose"}, strings.TrimSpace(string(out)), true
	}
	p, err := exec.LookPath("docker-compose")
	if err != nil {
		b.Skip("no compose: neither `docker compose` nor docker-compose is installed")
	}
	out, err := exec.Command(p, "version", "--short").Output()
	if err != nil {
		b.Skipf("docker-compose version: %v", err)
	}
	version = strings.TrimSpace(string(out))
	return []string{p}, version, !strings.HasPrefix(version, "1.")
}

// composeFile is a one-service project running the sandbox image with the
// sandbox's settings, its tool server waiting on an open stdin as a
// Runtime's container does before its world arrives.
const composeFile = `version: "2.4"
services:
  tools:
    image: %s
    stdin_open: true
    network_mode: none
    read_only: true
    cap_drop: [ALL]
    security_opt: [no-new-privileges]
    user: "65532:65532"
    mem_limit: 256m
    pids_limit: 64
    labels:
      terrarium.bench: "1"
`

// BenchmarkDockerCompose is the other baseline: starting the same image
// the way per-sample sandboxes are commonly started, one compose project
// per sample. It times `compose up -d --wait` (Compose v2) or, on Compose
// v1, which has no --wait, `compose up -d`, which returns once the
// container started. The project's `down` is not timed. The compose
// version and whether --wait was used are in the benchmark's name.
func BenchmarkDockerCompose(b *testing.B) {
	docker := dockerCLI(b)
	_, tag := benchClient(b)
	compose, version, wait := composeCommand(b, docker)
	dir := b.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, composeFile, tag), 0o644); err != nil {
		b.Fatal(err)
	}
	up := []string{"up", "-d"}
	name := "v" + version + "/up-d"
	if wait {
		up = append(up, "--wait")
		name += "-wait"
	}
	b.Run(name, func(b *testing.B) {
		run := func(project string, args ...string) error {
			full := append(append(compose[1:len(compose):len(compose)], "-f", file, "-p", project), args...)
			cmd := exec.CommandContext(b.Context(), compose[0], full...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			project := fmt.Sprintf("terrariumbench%d%d", os.Getpid(), i)
			t0 := time.Now()
			err := run(project, up...)
			d := time.Since(t0)
			b.StopTimer()
			if derr := run(project, "down", "-t", "0", "-v"); derr != nil {
				b.Log(derr)
			}
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, d)
			b.StartTimer()
		}
		reportQuantiles(b, lat)
	})
}

// BenchmarkDockerPoolClaim measures a start from the pool: claim to MCP
// initialised. Each iteration waits untimed for the pool to be full.
func BenchmarkDockerPoolClaim(b *testing.B) {
	rt, _ := benchRuntime(b, 2)
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
	rt, _ := benchRuntime(b, 0)
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
	reportQuantilesIn(b, lat, time.Microsecond, "µs")
}

// BenchmarkDockerIdleMemory reports the memory of idle sandbox containers:
// each iteration starts one, lists its tools and makes one call, lets it
// sit idle for a second, and reads its memory from the engine's stats.
// usage-MiB is what `docker stats` shows (the cgroup's usage less its
// inactive file cache); anon-MiB is the cgroup's anonymous memory (rss
// on cgroup v1), the tool server's own heap and stacks. The largest of
// the iterations is reported.
func BenchmarkDockerIdleMemory(b *testing.B) {
	rt, cli := benchRuntime(b, 0)
	var usage, anon uint64
	for i := 0; b.Loop(); i++ {
		sess, err := rt.Start(b.Context(), sandbox.Spec{RunID: int64(i), World: smallWorld()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sess.Client().ListTools(b.Context(), mcp.ListToolsRequest{}); err != nil {
			b.Fatal(err)
		}
		req := mcp.CallToolRequest{}
		req.Params.Name = "list_emails"
		req.Params.Arguments = map[string]any{}
		if _, err := sess.Client().CallTool(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		u, a, err := containerMemory(b.Context(), cli, sess.(*Session).ContainerID())
		sess.Close()
		if err != nil {
			b.Fatal(err)
		}
		usage, anon = max(usage, u), max(anon, a)
	}
	b.ReportMetric(float64(usage)/(1<<20), "usage-MiB")
	b.ReportMetric(float64(anon)/(1<<20), "anon-MiB")
}

// containerMemory returns a container's memory as `docker stats` shows it
// and its anonymous memory, from one stats sample.
func containerMemory(ctx context.Context, cli *client.Client, id string) (usage, anon uint64, err error) {
	r, err := cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return 0, 0, fmt.Errorf("container stats: %w", err)
	}
	defer r.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("decode container stats: %w", err)
	}
	m := st.MemoryStats
	// As the docker CLI computes it: cgroup v1 names the file cache
	// total_inactive_file, v2 inactive_file.
	usage = m.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := m.Stats[k]; ok && v < usage {
			usage -= v
			break
		}
	}
	for _, k := range []string{"anon", "total_rss", "rss"} {
		if v, ok := m.Stats[k]; ok {
			anon = v
			break
		}
	}
	return usage, anon, nil
}

package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// killerModel calls list_emails on each of its first calls turns and then
// ends. The first time it is about to make call killAt of a run, it kills
// that run's container (the only running one with its labels) and waits
// until the engine reports it stopped, so that the call goes to a dead
// sandbox.
type killerModel struct {
	cli    *client.Client
	labels map[string]string
	calls  int
	killAt int

	mu     sync.Mutex
	killed string // the killed container's ID
}

func (m *killerModel) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	turn := 1
	for _, msg := range req.Messages {
		if msg.Role == agent.RoleAssistant {
			turn++
		}
	}
	if turn > m.calls {
		return &agent.Response{
			Message:    agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Done."}}},
			StopReason: agent.StopEnd,
		}, nil
	}
	if turn == m.killAt {
		if err := m.killOnce(ctx); err != nil {
			return nil, err
		}
	}
	return &agent.Response{
		Message: agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{
			Kind: agent.BlockToolUse, ID: fmt.Sprintf("call%d", turn), Name: "list_emails", Args: json.RawMessage(`{}`),
		}}},
		StopReason: agent.StopToolUse,
	}, nil
}

func (m *killerModel) killOnce(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.killed != "" {
		return nil
	}
	list, err := m.cli.ContainerList(ctx, container.ListOptions{Filters: labelFilter(m.labels)})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	if len(list) != 1 {
		return fmt.Errorf("%d running sandbox containers, want 1", len(list))
	}
	id := list[0].ID
	waitC, errC := m.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	if err := m.cli.ContainerKill(ctx, id, "KILL"); err != nil {
		return fmt.Errorf("kill container: %w", err)
	}
	select {
	case <-waitC:
	case err := <-errC:
		return fmt.Errorf("wait for the killed container: %w", err)
	}
	m.killed = id
	return nil
}

// TestDockerKilledMidRunExperiment runs an experiment of two runs, one at
// a time, on the docker sandbox with a model whose first run's container
// is killed before its fourth tool call. That run must end sandbox_lost
// with its first three calls in the ledger as they ran and the fourth
// recorded as failed; the experiment must go on, the second run end done,
// and no container be left.
func TestDockerKilledMidRunExperiment(t *testing.T) {
	rt, cli, labels := testRuntime(t)
	// The lost call must fail because the stream ended, not because a
	// deadline passed: a deadline would make the run interrupted, not
	// sandbox_lost.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, err := scenario.Load("blackmail")
	if err != nil {
		t.Fatal(err)
	}
	model := &killerModel{cli: cli, labels: labels, calls: 5, killAt: 4}
	res, err := experiment.Run(ctx, experiment.Config{
		Scenario:   sc,
		Conditions: sc.Conditions()[:1],
		Models:     []experiment.ModelSpec{{Spec: "test:killer", Model: model}},
		Samples:    2,
		Parallel:   1,
		Runtime:    rt,
		DB:         db,
		Log:        zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("experiment.Run: %v", err)
	}
	if model.killed == "" {
		t.Fatal("no container was killed")
	}
	if len(res.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(res.Runs))
	}
	lost, next := res.Runs[0], res.Runs[1]
	if lost.Status != ledger.StatusSandboxLost || !strings.Contains(lost.Reason, sandbox.ErrSandboxLost.Error()) {
		t.Errorf("first run: status %q, reason %q; want %q", lost.Status, lost.Reason, ledger.StatusSandboxLost)
	}
	if lost.Sandbox != Name {
		t.Errorf("first run: sandbox %q, want %q", lost.Sandbox, Name)
	}
	calls, err := db.Calls(context.Background(), lost.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 4 {
		t.Fatalf("first run: %d calls recorded, want 4: %+v", len(calls), calls)
	}
	for i, c := range calls[:3] {
		if c.Error != "" || len(c.Result) == 0 {
			t.Errorf("call %d before the kill: error %q, result %d bytes; want a result", i, c.Error, len(c.Result))
		}
	}
	if calls[3].Error == "" {
		t.Errorf("call after the kill recorded with no error: %+v", calls[3])
	}
	if next.Status != ledger.StatusDone {
		t.Errorf("second run: status %q (%s), want %q", next.Status, next.Reason, ledger.StatusDone)
	}
	if calls, err := db.Calls(context.Background(), next.ID); err != nil || len(calls) != 5 {
		t.Errorf("second run: %d calls (%v), want 5", len(calls), err)
	}
	assertGone(t, cli, model.killed)
	if n := countLabelled(t, cli, labels); n != 0 {
		t.Errorf("%d containers left after the experiment", n)
	}
}

// TestDockerOOMMidSession fills a container's memory through tool calls
// until the kernel kills its tool server. The call that finds it gone must
// fail with ErrSandboxLost, and every call before it stay recorded as it
// ran.
func TestDockerOOMMidSession(t *testing.T) {
	cli := requireDocker(t)
	if info, err := cli.Info(t.Context()); err != nil {
		t.Fatalf("docker info: %v", err)
	} else if !info.MemoryLimit {
		t.Skip("the engine cannot limit memory here")
	}
	labels := testLabel(t, cli)
	rt, err := New(t.Context(), Options{
		Image: testImage(t, cli), Labels: labels, Client: cli,
		Memory: 16 << 20,
		Server: server.Options{MaxArgBytes: 1 << 20},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer rt.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: "exp-oom", RunID: 1, World: smallWorld()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := sess.(*Session)
	store := &memStore{}
	rec := sandbox.NewRecorder(sess, store, 1, zerolog.Nop())
	content := strings.Repeat("x", 512<<10)
	var lostErr error
	for i := range 256 { // 128 MiB of files, far over the limit
		args := rawArgs(t, map[string]any{"path": fmt.Sprintf("/home/atlas/big%d.txt", i), "content": content})
		res, err := rec.CallTool(ctx, fmt.Sprintf("c%d", i), "write_file", args)
		if err != nil {
			lostErr = err
			break
		}
		if res.IsError {
			t.Fatalf("write %d: tool error %v", i, res.Content)
		}
	}
	if !errors.Is(lostErr, sandbox.ErrSandboxLost) {
		t.Fatalf("writing past the memory limit: %v, want ErrSandboxLost", lostErr)
	}
	// The engine records the OOM kill from its own event stream, which can
	// reach it after the exit that ended the call: wait for the state to
	// settle rather than read it once.
	var info container.InspectResponse
	for settle := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if info, err = cli.ContainerInspect(context.Background(), s.ContainerID()); err != nil {
			t.Fatalf("inspect: %v", err)
		}
		if (info.State != nil && info.State.OOMKilled) || time.Now().After(settle) {
			break
		}
	}
	if info.State == nil || !info.State.OOMKilled {
		t.Errorf("container state %+v, want OOMKilled", info.State)
	}
	n := len(store.calls)
	t.Logf("OOM-killed at write %d", n)
	if n < 2 {
		t.Fatalf("%d calls recorded, want the writes before the kill and the lost one", n)
	}
	for i, c := range store.calls[:n-1] {
		if c.Error != "" || len(c.Result) == 0 {
			t.Errorf("call %d before the kill: error %q, result %d bytes", i, c.Error, len(c.Result))
		}
	}
	if store.calls[n-1].Error == "" {
		t.Errorf("the lost call is recorded with no error")
	}
	if err := sess.Close(); err != nil {
		t.Errorf("Close after the OOM kill: %v", err)
	}
	assertGone(t, cli, s.ContainerID())
}

package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/docker/dockertest"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// requireDocker returns a client for the engine the environment names. It
// skips the test when no engine answers, or fails it when
// TERRARIUM_REQUIRE_DOCKER=1.
func requireDocker(t *testing.T) *client.Client {
	t.Helper()
	return dockertest.Require(t)
}

var (
	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

// testImage builds the sandbox image once per test binary.
func testImage(t *testing.T, cli APIClient) string {
	t.Helper()
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		imageTag, imageErr = EnsureImage(ctx, cli, zerolog.Nop())
	})
	if imageErr != nil {
		t.Fatalf("EnsureImage: %v", imageErr)
	}
	return imageTag
}

// testLabel returns a label unique to the test, put on every container the
// test creates, and removes those containers when the test ends.
func testLabel(t *testing.T, cli APIClient) map[string]string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	labels := map[string]string{"terrarium.test": hex.EncodeToString(b)}
	t.Cleanup(func() {
		if removed, err := GCWhere(context.Background(), cli, labels); err != nil {
			t.Errorf("clean up containers: %v", err)
		} else if len(removed) > 0 {
			t.Logf("cleaned up %v", removed)
		}
	})
	return labels
}

func testRuntime(t *testing.T) (*Runtime, *client.Client, map[string]string) {
	t.Helper()
	cli := requireDocker(t)
	labels := testLabel(t, cli)
	rt, err := New(t.Context(), Options{Image: testImage(t, cli), Labels: labels, Client: cli})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Errorf("Runtime.Close: %v", err)
		}
	})
	return rt, cli, labels
}

// assertGone fails unless the container id no longer exists.
func assertGone(t *testing.T, cli APIClient, id string) {
	t.Helper()
	_, err := cli.ContainerInspect(context.Background(), id)
	if !cerrdefs.IsNotFound(err) {
		t.Errorf("container %.12s still exists (inspect error %v)", id, err)
	}
}

func countLabelled(t *testing.T, cli APIClient, labels map[string]string) int {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: labelFilter(labels)})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestDockerEnsureImage(t *testing.T) {
	cli := requireDocker(t)
	tag := testImage(t, cli)
	if !strings.HasPrefix(tag, ImageRepo+":") || len(tag) != len(ImageRepo)+1+12 {
		t.Fatalf("tag %q, want %s:<12 hex>", tag, ImageRepo)
	}
	// Idempotent: the same source gives the same binary and no rebuild.
	again, err := EnsureImage(t.Context(), cli, zerolog.Nop())
	if err != nil {
		t.Fatalf("EnsureImage again: %v", err)
	}
	if again != tag {
		t.Errorf("second EnsureImage gave %q, first %q", again, tag)
	}
	info, err := cli.ImageInspect(t.Context(), tag)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	if cfg == nil {
		t.Fatal("image has no config")
	}
	if cfg.User != User {
		t.Errorf("image user %q, want %q", cfg.User, User)
	}
	if len(cfg.Entrypoint) != 1 || cfg.Entrypoint[0] != "/terrarium-sandbox" {
		t.Errorf("entrypoint %q", cfg.Entrypoint)
	}
	if cfg.Labels["terrarium.image"] != "1" {
		t.Errorf("image labels %v, want terrarium.image=1", cfg.Labels)
	}
	if len(info.RootFS.Layers) != 1 {
		t.Errorf("image has %d layers, want 1 (the binary on scratch)", len(info.RootFS.Layers))
	}
}

func TestDockerSession(t *testing.T) {
	rt, cli, _ := testRuntime(t)
	ctx := t.Context()
	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: "exp-docker-test", RunID: 7, World: smallWorld()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := sess.(*Session)
	info, err := cli.ContainerInspect(ctx, s.ContainerID())
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Config.Labels; got[LabelManaged] != "1" || got[LabelRun] != "7" || got[LabelExperiment] != "exp-docker-test" {
		t.Errorf("labels %v", got)
	}

	store := &memStore{}
	rec := sandbox.NewRecorder(sess, store, 7, zerolog.Nop())
	tools, err := rec.ListTools(ctx)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	names := toolNames(tools)
	for _, want := range []string{"list_emails", "read_email", "send_email", "list_files", "read_file"} {
		if !names[want] {
			t.Errorf("tool %s missing from %v", want, names)
		}
	}
	res, err := rec.CallTool(ctx, "c1", "list_emails", rawArgs(t, map[string]any{}))
	if err != nil {
		t.Fatalf("list_emails: %v", err)
	}
	if text := sandbox.ResultText(res); res.IsError || !strings.Contains(text, "Cutover at 5pm") || !strings.Contains(text, "Handover") {
		t.Errorf("list_emails gave %q (isError %v)", text, res.IsError)
	}
	res, err = rec.CallTool(ctx, "c2", "send_email", rawArgs(t, map[string]any{
		"to": []string{out}, "subject": "hello", "body": "from inside the box"}))
	if err != nil {
		t.Fatalf("send_email: %v", err)
	}
	if res.IsError {
		t.Fatalf("send_email error: %s", sandbox.ResultText(res))
	}
	var types []string
	for _, ev := range store.events {
		types = append(types, ev.Type)
	}
	if !strings.Contains(strings.Join(types, ","), world.EmailSent) || !strings.Contains(strings.Join(types, ","), world.EmailExternal) {
		t.Errorf("send_email events %v, want %s and %s", types, world.EmailSent, world.EmailExternal)
	}

	if err := sess.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := sess.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if code := s.ExitCode(); code != 0 {
		t.Errorf("exit code %d after stdin closed, want 0 (stderr %q)", code, s.Logs())
	}
	assertGone(t, cli, s.ContainerID())
}

func TestDockerBadWorld(t *testing.T) {
	rt, cli, labels := testRuntime(t)
	w := smallWorld()
	w.Step = world.Duration(-time.Minute)
	_, err := rt.Start(t.Context(), sandbox.Spec{ExperimentID: "exp-bad", RunID: 1, World: w})
	if err == nil {
		t.Fatal("Start with a negative clock step succeeded")
	}
	if !strings.Contains(err.Error(), "negative clock step") {
		t.Errorf("error %q does not carry the container's reason", err)
	}
	if n := countLabelled(t, cli, labels); n != 0 {
		t.Errorf("%d containers left after a failed Start", n)
	}
}

// TestDockerSelfCheck runs the self-check in a container created with the
// production settings, only the command changed.
func TestDockerSelfCheck(t *testing.T) {
	rt, cli, _ := testRuntime(t)
	selfCheck(t, rt, cli)
}

// TestDockerSelfCheckInstalledBinary: the image an installed terrarium
// makes of itself (dynamically linked, with its loader and libraries) is as
// locked down as the static one.
func TestDockerSelfCheckInstalledBinary(t *testing.T) {
	cli := requireDocker(t)
	if testing.Short() {
		t.Skip("builds the terrarium binary")
	}
	exe := filepath.Join(t.TempDir(), "terrarium")
	build := exec.Command("go", "build", "-o", exe, "../../cmd/terrarium")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build terrarium: %v\n%s", err, out)
	}
	rt, err := New(t.Context(), Options{Binary: exe, Labels: testLabel(t, cli), Client: cli})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	selfCheck(t, rt, cli)
}

// selfCheck runs the image's self-check in a production container and
// checks the whole report.
func selfCheck(t *testing.T, rt *Runtime, cli APIClient) {
	t.Helper()
	s, err := rt.start(t.Context(), sandbox.Spec{ExperimentID: "exp-selfcheck", RunID: 1}, []string{"--self-check"})
	if err != nil {
		t.Fatalf("start self-check: %v", err)
	}
	out, err := io.ReadAll(s.stdoutR)
	if err != nil {
		t.Fatal(err)
	}
	if !s.waitExit(time.Minute) {
		t.Fatal("self-check container did not exit")
	}
	if code := s.ExitCode(); code != 0 {
		t.Fatalf("self-check exited %d: %s", code, s.Logs())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	assertGone(t, cli, s.ContainerID())

	var r guest.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	t.Logf("self-check: %s", out)
	if r.UID != 65532 || r.GID != 65532 {
		t.Errorf("uid:gid %d:%d, want 65532:65532", r.UID, r.GID)
	}
	for _, g := range r.Groups {
		if g == 0 {
			t.Errorf("supplementary groups %v include root", r.Groups)
		}
	}
	const none = "0000000000000000"
	for name, v := range map[string]string{"CapEff": r.CapEff, "CapPrm": r.CapPrm, "CapBnd": r.CapBnd, "CapAmb": r.CapAmb} {
		if v != none {
			t.Errorf("%s = %q, want %s", name, v, none)
		}
	}
	if r.NoNewPrivs != 1 {
		t.Errorf("NoNewPrivs = %d, want 1", r.NoNewPrivs)
	}
	if r.Seccomp != 2 {
		t.Errorf("Seccomp = %d, want 2 (filter)", r.Seccomp)
	}
	if len(r.Interfaces) != 1 || r.Interfaces[0] != "lo" {
		t.Errorf("interfaces %v, want only lo", r.Interfaces)
	}
	for _, path := range []string{"/", "/tmp", "/terrarium-sandbox"} {
		p, ok := r.Writable(path)
		if !ok {
			t.Errorf("no write probe for %s", path)
			continue
		}
		if p.Writable || p.Error == "" {
			t.Errorf("%s: writable %v (error %q), want not writable", path, p.Writable, p.Error)
		}
	}
	if len(r.Errors) > 0 {
		t.Errorf("probes failed: %v", r.Errors)
	}
}

func TestDockerKilledMidSession(t *testing.T) {
	rt, cli, _ := testRuntime(t)
	ctx := t.Context()
	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: "exp-kill", RunID: 3, World: smallWorld()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := sess.(*Session)
	store := &memStore{}
	rec := sandbox.NewRecorder(sess, store, 3, zerolog.Nop())
	if _, err := rec.CallTool(ctx, "c1", "list_emails", rawArgs(t, map[string]any{})); err != nil {
		t.Fatalf("call before the kill: %v", err)
	}
	if err := cli.ContainerKill(ctx, s.ContainerID(), "KILL"); err != nil {
		t.Fatalf("kill: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = rec.CallTool(cctx, "c2", "read_email", rawArgs(t, map[string]any{"id": "1"}))
	if !errors.Is(err, sandbox.ErrSandboxLost) {
		t.Fatalf("call after the kill: %v, want ErrSandboxLost", err)
	}
	if len(store.calls) != 2 || store.calls[0].Error != "" || store.calls[1].Error == "" {
		t.Errorf("recorded calls %+v, want the first fine and the second failed", store.calls)
	}
	if err := sess.Close(); err != nil {
		t.Errorf("Close after kill: %v", err)
	}
	if code := s.ExitCode(); code != 137 {
		t.Errorf("exit code %d, want 137", code)
	}
	assertGone(t, cli, s.ContainerID())
}

func TestDockerGC(t *testing.T) {
	cli := requireDocker(t)
	labels := testLabel(t, cli)
	img := testImage(t, cli)
	ctx := t.Context()
	// Leftovers as a killed terrarium leaves them: one created, one
	// running, one exited.
	var ids []string
	for i, state := range []string{"created", "running", "exited"} {
		cfg, host := ContainerConfig(img, sandbox.Spec{ExperimentID: "exp-gc", RunID: int64(i)}, Options{Labels: labels}, nil)
		if state == "exited" {
			cfg.Cmd = []string{"--self-check"}
		}
		c, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
		if state != "created" {
			if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := countLabelled(t, cli, labels); n != 3 {
		t.Fatalf("%d labelled containers before GC, want 3", n)
	}
	removed, err := GCWhere(ctx, cli, labels)
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if len(removed) != 3 {
		t.Errorf("GC removed %v, want 3 containers", removed)
	}
	for _, id := range ids {
		assertGone(t, cli, id)
	}
	if removed, err := GCWhere(ctx, cli, labels); err != nil || len(removed) != 0 {
		t.Errorf("second GC: %v, %v; want nothing to do", removed, err)
	}
}

func TestDockerNoEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := New(t.Context(), Options{Image: "unused"})
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("New with no engine: %v, want ErrNoEngine", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/docker.sock") {
		t.Errorf("error %q does not name the address tried", err)
	}
}

func TestDockerPool(t *testing.T) {
	cli := requireDocker(t)
	labels := testLabel(t, cli)
	rt, err := New(t.Context(), Options{Image: testImage(t, cli), Labels: labels, Client: cli, Pool: 2})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two pooled containers", func() bool { return len(rt.pool.ready) == 2 })
	for run := range int64(3) { // one more than the pool holds
		sess, err := rt.Start(t.Context(), sandbox.Spec{ExperimentID: "exp-pool", RunID: run + 1, World: smallWorld()})
		if err != nil {
			t.Fatalf("Start %d: %v", run, err)
		}
		rec := sandbox.NewRecorder(sess, &memStore{}, run+1, zerolog.Nop())
		if _, err := rec.CallTool(t.Context(), "c", "list_emails", rawArgs(t, map[string]any{})); err != nil {
			t.Errorf("run %d: list_emails: %v", run, err)
		}
		if err := sess.Close(); err != nil {
			t.Errorf("run %d: Close: %v", run, err)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatalf("Runtime.Close: %v", err)
	}
	if n := countLabelled(t, cli, labels); n != 0 {
		t.Errorf("%d containers left after Runtime.Close", n)
	}
}

// TestDockerParallel starts runs concurrently and checks that each gets
// its own working container and that none is left behind.
func TestDockerParallel(t *testing.T) {
	rt, cli, labels := testRuntime(t)
	const runs, parallel = 16, 8
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	ids := make(chan string, runs)
	for run := range int64(runs) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sess, err := rt.Start(t.Context(), sandbox.Spec{ExperimentID: "exp-par", RunID: run + 1, World: smallWorld()})
			if err != nil {
				errs <- err
				return
			}
			ids <- sess.(*Session).ContainerID()
			rec := sandbox.NewRecorder(sess, &memStore{}, run+1, zerolog.Nop())
			if _, err := rec.CallTool(t.Context(), "c", "send_email", rawArgs(t, map[string]any{"to": []string{daniel}, "body": "hi"})); err != nil {
				errs <- err
			}
			if err := sess.Close(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("container %.12s served two runs", id)
		}
		seen[id] = true
	}
	if len(seen) != runs {
		t.Errorf("%d containers for %d runs", len(seen), runs)
	}
	if n := countLabelled(t, cli, labels); n != 0 {
		t.Errorf("%d containers left", n)
	}
}

// TestDockerStartCancelled is Ctrl-C during Start: the error says so and
// the container is removed.
func TestDockerStartCancelled(t *testing.T) {
	rt, cli, labels := testRuntime(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := rt.Start(ctx, sandbox.Spec{ExperimentID: "exp-cancel", RunID: 1, World: smallWorld()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context: %v, want context.Canceled", err)
	}
	if n := countLabelled(t, cli, labels); n != 0 {
		t.Errorf("%d containers left", n)
	}
}

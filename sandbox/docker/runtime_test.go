package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/images"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/world"
)

func TestContainerConfig(t *testing.T) {
	spec := sandbox.Spec{ExperimentID: "exp-1", RunID: 42}
	opts := Options{Labels: map[string]string{"team": "evals", LabelManaged: "0", LabelRun: "x"}}
	cfg, host := ContainerConfig("terrarium-sandbox:abc", spec, opts, nil)

	if cfg.Image != "terrarium-sandbox:abc" || cfg.Cmd != nil || len(cfg.Entrypoint) != 0 {
		t.Errorf("image %q cmd %q entrypoint %q: want the image's own entrypoint", cfg.Image, cfg.Cmd, cfg.Entrypoint)
	}
	if cfg.User != "65532:65532" {
		t.Errorf("user %q", cfg.User)
	}
	if !cfg.AttachStdin || !cfg.AttachStdout || !cfg.AttachStderr || !cfg.OpenStdin || !cfg.StdinOnce || cfg.Tty {
		t.Errorf("streams: attach %v/%v/%v open %v once %v tty %v; want attached stdio, stdin once, no tty",
			cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr, cfg.OpenStdin, cfg.StdinOnce, cfg.Tty)
	}
	if len(cfg.Env) != 0 || len(cfg.Volumes) != 0 || len(cfg.ExposedPorts) != 0 {
		t.Errorf("env %v volumes %v ports %v: want none", cfg.Env, cfg.Volumes, cfg.ExposedPorts)
	}
	wantLabels := map[string]string{LabelManaged: "1", LabelRun: "42", LabelExperiment: "exp-1", "team": "evals"}
	if len(cfg.Labels) != len(wantLabels) {
		t.Errorf("labels %v, want %v", cfg.Labels, wantLabels)
	}
	for k, v := range wantLabels {
		if cfg.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], v)
		}
	}
	if opts.Labels[LabelManaged] != "0" {
		t.Error("ContainerConfig changed the caller's label map")
	}

	if host.NetworkMode != "none" {
		t.Errorf("network mode %q", host.NetworkMode)
	}
	if !host.ReadonlyRootfs {
		t.Error("root filesystem writable")
	}
	if !slices.Equal(host.CapDrop, []string{"ALL"}) || len(host.CapAdd) != 0 {
		t.Errorf("cap drop %v add %v", host.CapDrop, host.CapAdd)
	}
	if !slices.Equal(host.SecurityOpt, []string{"no-new-privileges"}) {
		t.Errorf("security opts %v", host.SecurityOpt)
	}
	if host.Privileged || host.AutoRemove || host.PublishAllPorts {
		t.Errorf("privileged %v autoremove %v publish %v", host.Privileged, host.AutoRemove, host.PublishAllPorts)
	}
	if host.IpcMode != "private" || host.PidMode != "" || host.UsernsMode != "" {
		t.Errorf("ipc %q pid %q userns %q", host.IpcMode, host.PidMode, host.UsernsMode)
	}
	if len(host.Binds) != 0 || len(host.Mounts) != 0 || len(host.Tmpfs) != 0 || len(host.VolumesFrom) != 0 || len(host.Devices) != 0 {
		t.Errorf("binds %v mounts %v tmpfs %v volumes-from %v devices %v: want none", host.Binds, host.Mounts, host.Tmpfs, host.VolumesFrom, host.Devices)
	}
	r := host.Resources
	if r.Memory != DefaultMemory || r.MemorySwap != DefaultMemory || r.NanoCPUs != DefaultNanoCPUs || r.PidsLimit == nil || *r.PidsLimit != DefaultPidsLimit {
		t.Errorf("resources memory %d swap %d cpus %d pids %v; want the defaults", r.Memory, r.MemorySwap, r.NanoCPUs, r.PidsLimit)
	}

	cfg, host = ContainerConfig("img", spec, Options{Memory: 64 << 20, NanoCPUs: 500_000_000, PidsLimit: 16}, []string{"--self-check"})
	if !slices.Equal(cfg.Cmd, []string{"--self-check"}) {
		t.Errorf("cmd %q", cfg.Cmd)
	}
	r = host.Resources
	if r.Memory != 64<<20 || r.MemorySwap != 64<<20 || r.NanoCPUs != 500_000_000 || *r.PidsLimit != 16 {
		t.Errorf("resources memory %d swap %d cpus %d pids %d; want the options'", r.Memory, r.MemorySwap, r.NanoCPUs, *r.PidsLimit)
	}
}

func TestOptionsNegative(t *testing.T) {
	for _, o := range []Options{{Memory: -1}, {NanoCPUs: -1}, {PidsLimit: -1}, {StopTimeout: -time.Second}} {
		if _, err := New(t.Context(), Options{Client: newFake(t), Image: "img", Memory: o.Memory, NanoCPUs: o.NanoCPUs, PidsLimit: o.PidsLimit, StopTimeout: o.StopTimeout}); err == nil {
			t.Errorf("New(%+v) accepted a negative limit", o)
		}
	}
}

func fakeRuntime(t *testing.T, f *fakeClient, stop time.Duration) *Runtime {
	t.Helper()
	rt, err := New(t.Context(), Options{Client: f, Image: "terrarium-sandbox:test", StopTimeout: stop})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func TestNewNoEngine(t *testing.T) {
	f := newFake(t)
	f.pingErr = errors.New("connection refused")
	_, err := New(t.Context(), Options{Client: f, Image: "img"})
	if !errors.Is(err, ErrNoEngine) {
		t.Fatalf("New: %v, want ErrNoEngine", err)
	}
	if !strings.Contains(err.Error(), "unix:///fake/docker.sock") {
		t.Errorf("error %q does not name the engine's address", err)
	}
}

func TestFakeSessionAndClose(t *testing.T) {
	f := newFake(t)
	rt := fakeRuntime(t, f, time.Minute)
	ctx := t.Context()
	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: "e", RunID: 5, World: smallWorld()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := sess.(*Session)
	calls := f.callList()
	// The wait is registered before the start, so no exit is missed.
	if i, j := index(calls, "wait next-exit"), index(calls, "start"); i < 0 || j < 0 || i > j {
		t.Errorf("calls %v: want attach and wait before start", calls)
	}
	if i, j := index(calls, "attach"), index(calls, "start"); i > j {
		t.Errorf("calls %v: want attach before start", calls)
	}

	store := &memStore{}
	rec := sandbox.NewRecorder(sess, store, 5, zerolog.Nop())
	tools, err := rec.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !toolNames(tools)["send_email"] {
		t.Errorf("tools %v lack send_email", toolNames(tools))
	}
	res, err := rec.CallTool(ctx, "c1", "send_email", rawArgs(t, map[string]any{"to": []string{out}, "body": "hi"}))
	if err != nil || res.IsError {
		t.Fatalf("send_email: %v %v", err, res)
	}
	if len(store.events) == 0 || store.events[0].Type != world.EmailSent {
		t.Errorf("events %+v, want email_sent first", store.events)
	}

	if err := sess.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls = f.callList()
	if count(calls, "kill") != 0 {
		t.Errorf("calls %v: a server that exits at EOF should not be killed", calls)
	}
	if count(calls, "remove force=true volumes=true") != 1 {
		t.Errorf("calls %v: want one forced remove with volumes", calls)
	}
	if s.ExitCode() != 0 {
		t.Errorf("exit code %d, want 0", s.ExitCode())
	}
	if _, err := f.get(s.ContainerID()); !cerrdefs.IsNotFound(err) {
		t.Error("container still exists after Close")
	}
	// Idempotent: nothing more reaches the engine.
	n := len(f.callList())
	if err := sess.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if len(f.callList()) != n {
		t.Errorf("second Close made engine calls: %v", f.callList()[n:])
	}
	if _, err := sess.Client().ListTools(ctx, mcp.ListToolsRequest{}); err == nil {
		t.Error("ListTools after Close succeeded")
	}
}

func TestFakeCloseEscalatesToKill(t *testing.T) {
	f := newFake(t)
	f.stubborn = true
	rt := fakeRuntime(t, f, 20*time.Millisecond)
	s, err := rt.start(t.Context(), sandbox.Spec{RunID: 1}, []string{"--stubborn"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := f.callList()
	k, r := index(calls, "kill KILL"), index(calls, "remove force=true volumes=true")
	if k < 0 || r < 0 || k > r {
		t.Errorf("calls %v: want a kill, then a forced remove", calls)
	}
	if s.ExitCode() != 137 {
		t.Errorf("exit code %d, want 137", s.ExitCode())
	}
	if _, err := f.get(s.ContainerID()); !cerrdefs.IsNotFound(err) {
		t.Error("container still exists after Close")
	}
}

func TestFakeCloseAlreadyGone(t *testing.T) {
	f := newFake(t)
	rt := fakeRuntime(t, f, time.Minute)
	sess, err := rt.Start(t.Context(), sandbox.Spec{RunID: 1, World: smallWorld()})
	if err != nil {
		t.Fatal(err)
	}
	// Someone else (terrarium gc, say) removed it first.
	if err := f.ContainerRemove(t.Context(), sess.(*Session).ContainerID(), container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Errorf("Close of a removed container: %v, want nil", err)
	}
}

func TestFakeCloseRemoveFails(t *testing.T) {
	f := newFake(t)
	rt := fakeRuntime(t, f, time.Minute)
	sess, err := rt.Start(t.Context(), sandbox.Spec{RunID: 1, World: smallWorld()})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("engine on fire")
	f.mu.Lock()
	f.removeErr = boom
	f.mu.Unlock()
	err = sess.Close()
	if !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want the remove error", err)
	}
	if err2 := sess.Close(); !errors.Is(err2, boom) {
		t.Errorf("second Close: %v, want the first result again", err2)
	}
	f.mu.Lock()
	f.removeErr = nil
	f.mu.Unlock()
	f.ContainerRemove(t.Context(), sess.(*Session).ContainerID(), container.RemoveOptions{Force: true})
}

func TestFakeContainerDies(t *testing.T) {
	f := newFake(t)
	rt := fakeRuntime(t, f, time.Minute)
	ctx := t.Context()
	sess, err := rt.Start(ctx, sandbox.Spec{RunID: 9, World: smallWorld()})
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{}
	rec := sandbox.NewRecorder(sess, store, 9, zerolog.Nop())
	if _, err := rec.CallTool(ctx, "c1", "list_emails", rawArgs(t, map[string]any{})); err != nil {
		t.Fatal(err)
	}
	if err := f.ContainerKill(ctx, sess.(*Session).ContainerID(), "KILL"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := rec.CallTool(cctx, "c2", "list_emails", rawArgs(t, map[string]any{})); !errors.Is(err, sandbox.ErrSandboxLost) {
		t.Fatalf("call after the container died: %v, want ErrSandboxLost", err)
	}
	if err := sess.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := count(f.callList(), "kill"); n != 1 {
		t.Errorf("%d kills, want only the test's own", n)
	}
}

func TestFakeStartBadWorld(t *testing.T) {
	f := newFake(t)
	rt := fakeRuntime(t, f, time.Minute)
	w := smallWorld()
	w.Step = world.Duration(-time.Second)
	_, err := rt.Start(t.Context(), sandbox.Spec{RunID: 1, World: w})
	if err == nil || !strings.Contains(err.Error(), "negative clock step") {
		t.Fatalf("Start: %v, want the server's reason", err)
	}
	f.mu.Lock()
	left := len(f.containers)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d containers left after a failed Start", left)
	}
}

func TestFakeRuntimeCloseStopsSessions(t *testing.T) {
	f := newFake(t)
	rt, err := New(t.Context(), Options{Client: f, Image: "img", StopTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// mcp-go serves one stdio session per process, so the fake runs one
	// MCP container at a time; the second is a one-shot command.
	if _, err := rt.Start(t.Context(), sandbox.Spec{RunID: 1, World: smallWorld()}); err != nil {
		t.Fatal(err)
	}
	f.stubborn = true
	if _, err := rt.start(t.Context(), sandbox.Spec{RunID: 2}, []string{"--stubborn"}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatalf("Runtime.Close: %v", err)
	}
	f.mu.Lock()
	left := len(f.containers)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d containers left after Runtime.Close", left)
	}
	if _, err := rt.Start(t.Context(), sandbox.Spec{RunID: 3, World: smallWorld()}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
	if err := rt.Close(); err != nil {
		t.Errorf("second Runtime.Close: %v", err)
	}
}

func TestGCFake(t *testing.T) {
	f := newFake(t)
	ctx := t.Context()
	mine := func(run int64, extra map[string]string) string {
		cfg, host := ContainerConfig("img", sandbox.Spec{RunID: run}, Options{Labels: extra}, nil)
		c, err := f.ContainerCreate(ctx, cfg, host, nil, nil, fmt.Sprintf("terrarium-run%d", run))
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	a := mine(1, nil)
	b := mine(2, map[string]string{"terrarium.test": "x"})
	other, _ := f.ContainerCreate(ctx, &container.Config{Labels: map[string]string{"app": "db"}}, &container.HostConfig{}, nil, nil, "postgres")

	removed, err := GCWhere(ctx, f, map[string]string{"terrarium.test": "x"})
	if err != nil || !slices.Equal(removed, []string{"terrarium-run2"}) {
		t.Errorf("GCWhere: %v %v, want only terrarium-run2", removed, err)
	}
	removed, err = GC(ctx, f)
	if err != nil || !slices.Equal(removed, []string{"terrarium-run1"}) {
		t.Errorf("GC: %v %v, want terrarium-run1", removed, err)
	}
	for _, id := range []string{a, b} {
		if _, err := f.get(id); !cerrdefs.IsNotFound(err) {
			t.Errorf("container %s survived GC", id)
		}
	}
	if _, err := f.get(other.ID); err != nil {
		t.Errorf("GC removed a container that is not terrarium's: %v", err)
	}
	if calls := f.callList(); count(calls, "remove force=true volumes=true") != 2 {
		t.Errorf("calls %v: want two forced removes with volumes", calls)
	}

	boom := errors.New("engine on fire")
	mine(3, nil)
	f.removeErr = boom
	if _, err := GC(ctx, f); !errors.Is(err, boom) {
		t.Errorf("GC with a failing remove: %v", err)
	}
}

func TestEnsureImageFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tool-server binary")
	}
	f := newFake(t)
	ctx := t.Context()
	tag, err := EnsureImage(ctx, f, zerolog.Nop())
	if err != nil {
		t.Fatalf("EnsureImage: %v", err)
	}
	if len(f.builds) != 1 {
		t.Fatalf("%d builds, want 1", len(f.builds))
	}
	files := f.builds[0]
	if !bytes.Equal(files["Dockerfile"], images.Dockerfile) {
		t.Errorf("build context Dockerfile %q", files["Dockerfile"])
	}
	bin := files[images.RootFS+"/"+images.BinaryName]
	if !strings.HasPrefix(tag, ImageRepo+":") || len(tag) != len(ImageRepo)+13 {
		t.Errorf("tag %q, want %s:<12 hex digits>", tag, ImageRepo)
	}
	if len(bin) < 4 || string(bin[1:4]) != "ELF" {
		t.Errorf("binary in the context is not an ELF file")
	}
	if len(files) != 2 {
		t.Errorf("build context has %d files, want Dockerfile and the binary", len(files))
	}
	again, err := EnsureImage(ctx, f, zerolog.Nop())
	if err != nil || again != tag {
		t.Fatalf("second EnsureImage: %q %v, want %q", again, err, tag)
	}
	if len(f.builds) != 1 {
		t.Errorf("second EnsureImage rebuilt the image")
	}
}

func TestBuildContext(t *testing.T) {
	files := []imageFile{
		{path: "/lib/terrarium/libc.so.6", mode: 0o444, data: []byte("libc")},
		{path: "/" + images.BinaryName, mode: 0o555, data: []byte("binary")},
		{path: "/lib64/ld-linux-x86-64.so.2", mode: 0o555, data: []byte("ld")},
	}
	ctxTar, err := buildContext(files)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(ctxTar))
	modes := map[string]int64{}
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		modes[hdr.Name] = hdr.Mode
		names = append(names, hdr.Name)
	}
	want := []string{"Dockerfile", "rootfs/lib/", "rootfs/lib/terrarium/", "rootfs/lib/terrarium/libc.so.6", "rootfs/lib64/", "rootfs/lib64/ld-linux-x86-64.so.2", "rootfs/" + images.BinaryName}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	if modes["Dockerfile"] != 0o444 || modes["rootfs/"+images.BinaryName] != 0o555 || modes["rootfs/lib/terrarium/libc.so.6"] != 0o444 {
		t.Errorf("modes %v, want a read-only Dockerfile and libraries (0444) and read-only executables (0555)", modes)
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	again, err := buildContext(reversed)
	if err != nil || !bytes.Equal(again, ctxTar) {
		t.Errorf("the same files in another order gave another context")
	}
}

func TestReadBuildOutput(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
	}{
		{"ok", `{"stream":"Step 1/4 : FROM scratch\n"}` + "\n" + `{"stream":"Successfully tagged x\n"}`, ""},
		{"error detail", `{"stream":"Step 3/4 : COPY x /x\n"}{"errorDetail":{"message":"COPY failed: no x"},"error":"COPY failed: no x"}`, "COPY failed: no x"},
		{"error only", `{"error":"boom"}`, "boom"},
		{"garbage", `{"stream":`, "read build output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readBuildOutput(strings.NewReader(tc.body))
			if tc.err == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want one mentioning %q", err, tc.err)
			}
		})
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 8}
	io.WriteString(tl, "abc\n")
	io.WriteString(tl, "defghij\nk")
	if got, want := tl.String(), "efghij\nk"; got != want {
		t.Errorf("tail %q, want %q", got, want)
	}
	if got := lastLines("a\nb\nc\n", 2); got != "b | c" {
		t.Errorf("lastLines %q", got)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFakePool(t *testing.T) {
	f := newFake(t)
	rt, err := New(t.Context(), Options{Client: f, Image: "img", Pool: 2})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two pooled containers", func() bool { return len(rt.pool.ready) == 2 })
	list, _ := f.ContainerList(t.Context(), container.ListOptions{All: true, Filters: labelFilter(map[string]string{LabelPool: "1"})})
	if len(list) != 2 {
		t.Fatalf("%d pooled containers, want 2", len(list))
	}
	creates := count(f.callList(), "create")

	sess, err := rt.Start(t.Context(), sandbox.Spec{RunID: 1, World: smallWorld()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := sess.(*Session)
	if !strings.HasPrefix(s.name, "terrarium-pool-") {
		t.Errorf("session container %s is not a pooled one", s.name)
	}
	if _, err := sess.Client().ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("ListTools on a pooled container: %v", err)
	}
	// The claimed slot is refilled.
	waitFor(t, "the pool to refill", func() bool { return count(f.callList(), "create") == creates+1 && len(rt.pool.ready) == 2 })
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatalf("Runtime.Close: %v", err)
	}
	f.mu.Lock()
	left := len(f.containers)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d containers left after Runtime.Close", left)
	}
}

func TestGCImagesFake(t *testing.T) {
	f := newFake(t)
	ours := map[string]string{"terrarium.image": "1"}
	f.imageList = []image.Summary{
		{ID: "sha256:current", RepoTags: []string{"terrarium-sandbox:aaaaaaaaaaaa"}, Labels: ours},
		{ID: "sha256:old", RepoTags: []string{"terrarium-sandbox:bbbbbbbbbbbb"}, Labels: ours},
		{ID: "sha256:dangling", Labels: ours},
		{ID: "sha256:postgres", RepoTags: []string{"postgres:16"}},
	}
	removed, err := GCImages(t.Context(), f, "terrarium-sandbox:aaaaaaaaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{"sha256:old", "sha256:dangling"}) {
		t.Errorf("removed %v, want the old and the dangling sandbox images", removed)
	}
	var left []string
	for _, im := range f.imageList {
		left = append(left, im.ID)
	}
	if !slices.Equal(left, []string{"sha256:current", "sha256:postgres"}) {
		t.Errorf("left %v", left)
	}
	// GC itself takes only the dangling ones.
	f.imageList = append(f.imageList, image.Summary{ID: "sha256:d2", Labels: ours})
	removed, err = GC(t.Context(), f)
	if err != nil || !slices.Equal(removed, []string{"sha256:d2"}) {
		t.Errorf("GC removed %v, %v; want the dangling image", removed, err)
	}
}

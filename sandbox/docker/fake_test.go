package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

// fakeClient is an engine in memory. Its containers run guest.Serve in
// this process, over a unix socket pair standing in for the attach
// connection, with stdout and stderr multiplexed as the engine does.
type fakeClient struct {
	t   *testing.T
	dir string

	mu         sync.Mutex
	pingErr    error
	removeErr  error // returned by every ContainerRemove when set
	stubborn   bool  // new containers ignore EOF on stdin
	images     map[string]bool
	builds     []map[string][]byte // each build context's files
	imageList  []image.Summary
	containers map[string]*fakeContainer
	calls      []string
	nextID     int
}

type fakeContainer struct {
	id, name string
	cfg      *container.Config
	host     *container.HostConfig
	stubborn bool

	mu      sync.Mutex
	state   string // created, running, exited
	code    int64
	killed  bool
	ctrConn net.Conn
	kill    chan struct{}
	exited  chan struct{}
}

func newFake(t *testing.T) *fakeClient {
	// Unix socket paths are short; t.TempDir can be too long.
	dir, err := os.MkdirTemp("", "tfake")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &fakeClient{t: t, dir: dir, images: map[string]bool{}, containers: map[string]*fakeContainer{}}
}

func (f *fakeClient) record(format string, a ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	f.mu.Unlock()
}

func (f *fakeClient) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeClient) get(id string) (*fakeContainer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return nil, fmt.Errorf("no such container: %s: %w", id, cerrdefs.ErrNotFound)
	}
	return c, nil
}

func (f *fakeClient) Ping(context.Context) (types.Ping, error) { return types.Ping{}, f.pingErr }
func (f *fakeClient) DaemonHost() string                       { return "unix:///fake/docker.sock" }
func (f *fakeClient) Close() error                             { return nil }

func (f *fakeClient) ContainerCreate(_ context.Context, cfg *container.Config, host *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("%064d", f.nextID)
	f.containers[id] = &fakeContainer{id: id, name: name, cfg: cfg, host: host, stubborn: f.stubborn,
		state: "created", code: -1, kill: make(chan struct{}), exited: make(chan struct{})}
	f.calls = append(f.calls, "create")
	return container.CreateResponse{ID: id}, nil
}

func (f *fakeClient) ContainerAttach(_ context.Context, id string, opts container.AttachOptions) (types.HijackedResponse, error) {
	f.record("attach")
	c, err := f.get(id)
	if err != nil {
		return types.HijackedResponse{}, err
	}
	if !opts.Stream || !opts.Stdin || !opts.Stdout || !opts.Stderr {
		return types.HijackedResponse{}, fmt.Errorf("attach options %+v: want all streams", opts)
	}
	f.mu.Lock()
	path := filepath.Join(f.dir, fmt.Sprintf("%d.sock", f.nextID))
	f.mu.Unlock()
	ln, err := net.Listen("unix", path)
	if err != nil {
		return types.HijackedResponse{}, err
	}
	defer ln.Close()
	hostConn, err := net.Dial("unix", path)
	if err != nil {
		return types.HijackedResponse{}, err
	}
	ctrConn, err := ln.Accept()
	if err != nil {
		return types.HijackedResponse{}, err
	}
	c.mu.Lock()
	c.ctrConn = ctrConn
	c.mu.Unlock()
	return types.NewHijackedResponse(hostConn, "application/vnd.docker.multiplexed-stream"), nil
}

func (f *fakeClient) ContainerStart(_ context.Context, id string, _ container.StartOptions) error {
	f.record("start")
	c, err := f.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != "created" || c.ctrConn == nil {
		return fmt.Errorf("start %s in state %s: %w", id, c.state, cerrdefs.ErrConflict)
	}
	c.state = "running"
	go c.run()
	return nil
}

// run is the container's process.
func (c *fakeContainer) run() {
	stdout := stdcopy.NewStdWriter(c.ctrConn, stdcopy.Stdout)
	stderr := stdcopy.NewStdWriter(c.ctrConn, stdcopy.Stderr)
	code := int64(0)
	if c.stubborn {
		io.Copy(io.Discard, c.ctrConn)
		<-c.kill
	} else if err := guest.Serve(context.Background(), c.ctrConn, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "terrarium-sandbox: %v\n", err)
		code = 1
	}
	c.mu.Lock()
	if c.killed {
		code = 137
	}
	c.state, c.code = "exited", code
	c.mu.Unlock()
	c.ctrConn.Close()
	close(c.exited)
}

func (c *fakeContainer) doKill() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != "running" || c.killed {
		return false
	}
	c.killed = true
	close(c.kill)
	c.ctrConn.Close()
	return true
}

func (f *fakeClient) ContainerWait(ctx context.Context, id string, cond container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	f.record("wait %s", cond)
	resC := make(chan container.WaitResponse, 1)
	errC := make(chan error, 1)
	c, err := f.get(id)
	if err != nil {
		errC <- err
		return resC, errC
	}
	go func() {
		select {
		case <-c.exited:
			c.mu.Lock()
			resC <- container.WaitResponse{StatusCode: c.code}
			c.mu.Unlock()
		case <-ctx.Done():
			errC <- ctx.Err()
		}
	}()
	return resC, errC
}

func (f *fakeClient) ContainerKill(_ context.Context, id, signal string) error {
	f.record("kill %s", signal)
	c, err := f.get(id)
	if err != nil {
		return err
	}
	if !c.doKill() {
		return fmt.Errorf("container %s is not running: %w", id, cerrdefs.ErrConflict)
	}
	return nil
}

func (f *fakeClient) ContainerRemove(_ context.Context, id string, opts container.RemoveOptions) error {
	f.record("remove force=%v volumes=%v", opts.Force, opts.RemoveVolumes)
	f.mu.Lock()
	rerr := f.removeErr
	f.mu.Unlock()
	if rerr != nil {
		return rerr
	}
	c, err := f.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.state == "running"
	c.mu.Unlock()
	if running {
		if !opts.Force {
			return fmt.Errorf("container %s is running: %w", id, cerrdefs.ErrConflict)
		}
		c.doKill()
		<-c.exited
	}
	f.mu.Lock()
	delete(f.containers, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeClient) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	c, err := f.get(id)
	if err != nil {
		return container.InspectResponse{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/" + c.name,
			State: &container.State{Status: container.ContainerState(c.state), ExitCode: int(c.code)}},
		Config: c.cfg,
	}, nil
}

func (f *fakeClient) ContainerList(_ context.Context, opts container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "list")
	want := opts.Filters.Get("label")
	var out []container.Summary
	for id, c := range f.containers {
		match := true
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if c.cfg.Labels[k] != v {
				match = false
			}
		}
		c.mu.Lock()
		running := c.state == "running"
		c.mu.Unlock()
		if match && (opts.All || running) {
			out = append(out, container.Summary{ID: id, Names: []string{"/" + c.name}, Labels: c.cfg.Labels})
		}
	}
	return out, nil
}

func (f *fakeClient) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.images[ref] {
		return image.InspectResponse{}, fmt.Errorf("no such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	return image.InspectResponse{ID: ref}, nil
}

func (f *fakeClient) ImageBuild(_ context.Context, r io.Reader, opts build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return build.ImageBuildResponse{}, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return build.ImageBuildResponse{}, err
		}
		files[hdr.Name] = b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds = append(f.builds, files)
	f.calls = append(f.calls, "build "+strings.Join(opts.Tags, ","))
	for _, tag := range opts.Tags {
		f.images[tag] = true
	}
	body := `{"stream":"Step 1/5 : FROM scratch\n"}` + "\n" + `{"stream":"Successfully built 0123\n"}` + "\n"
	return build.ImageBuildResponse{Body: io.NopCloser(strings.NewReader(body))}, nil
}

func (f *fakeClient) ImageList(_ context.Context, opts image.ListOptions) ([]image.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []image.Summary
	for _, im := range f.imageList {
		match := true
		for _, kv := range opts.Filters.Get("label") {
			k, v, _ := strings.Cut(kv, "=")
			if im.Labels[k] != v {
				match = false
			}
		}
		if slices.Contains(opts.Filters.Get("dangling"), "true") && len(im.RepoTags) > 0 {
			match = false
		}
		if match {
			out = append(out, im)
		}
	}
	return out, nil
}

func (f *fakeClient) ImageRemove(_ context.Context, id string, _ image.RemoveOptions) ([]image.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "rmi "+id)
	for i, im := range f.imageList {
		if im.ID == id {
			f.imageList = append(f.imageList[:i], f.imageList[i+1:]...)
			return []image.DeleteResponse{{Deleted: id}}, nil
		}
	}
	return nil, fmt.Errorf("no such image %s: %w", id, cerrdefs.ErrNotFound)
}

var _ APIClient = (*fakeClient)(nil)

// count returns how many recorded calls start with prefix.
func count(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func index(calls []string, prefix string) int {
	for i, c := range calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

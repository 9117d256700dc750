package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// Name is the backend name stored with each run.
const Name = "docker"

// The labels every sandbox container carries. GC finds containers by
// LabelManaged.
const (
	LabelManaged    = "terrarium"
	LabelRun        = "terrarium.run"
	LabelExperiment = "terrarium.experiment"
	// LabelPool marks a container started ahead for Options.Pool. Labels
	// cannot change after create, so a pooled container's run is in the
	// log, not in its labels.
	LabelPool = "terrarium.pool"
)

// User is the numeric user and group the tool server runs as.
const User = "65532:65532"

// Defaults for the zero fields of Options.
const (
	DefaultMemory      = 256 << 20
	DefaultNanoCPUs    = 1_000_000_000
	DefaultPidsLimit   = 64
	DefaultStopTimeout = 5 * time.Second
)

const (
	// apiTimeout bounds each short engine call (create, start, kill,
	// remove, list).
	apiTimeout = 30 * time.Second
	// readyTimeout bounds Start's wait for the MCP handshake when the
	// caller's context has no earlier deadline.
	readyTimeout = 60 * time.Second
	// killWait bounds the wait for a killed container to stop.
	killWait = 10 * time.Second
	// streamGrace is how long the attach stream may outlive its container
	// before the session cuts it.
	streamGrace = 2 * time.Second
)

// ErrClosed reports a Start on a closed Runtime.
var ErrClosed = errors.New("docker runtime closed")

// Options configure a Runtime. The zero value is usable.
type Options struct {
	// Image is the sandbox image to run; "" means EnsureImageOf(Binary)
	// or, without Binary, EnsureImage's.
	Image string
	// Binary, when Image is "", is the tool server to build the image
	// around: a Linux executable that serves when started as
	// terrarium-sandbox, such as the running terrarium binary. Needs no
	// Go toolchain. "" builds ./cmd/terrarium-sandbox from source.
	Binary string
	// Memory is each container's memory limit in bytes (swap is not
	// allowed beyond it). Default DefaultMemory.
	Memory int64
	// NanoCPUs is each container's CPU limit in billionths of a CPU.
	// Default DefaultNanoCPUs (one CPU).
	NanoCPUs int64
	// PidsLimit bounds each container's processes and threads. Default
	// DefaultPidsLimit.
	PidsLimit int64
	// Labels are added to every container. They cannot replace the
	// terrarium labels.
	Labels map[string]string
	// StopTimeout is how long Close waits for the tool server to exit
	// after its stdin is closed before it kills the container. Default
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// Pool is how many started containers to keep waiting for their
	// world, so that Start skips container create and start. A pooled
	// container serves one run only. 0 means no pool.
	Pool int
	// Server are the tool server's limits, sent with the world.
	Server server.Options
	// Client is the engine to use; nil connects to the one the
	// environment names (Connect). A given Client is not closed by Close.
	Client APIClient
	// Log receives the runtime's logs; the zero Logger discards them.
	Log zerolog.Logger
}

// withDefaults fills the zero fields and rejects negative ones.
func (o Options) withDefaults() (Options, error) {
	if o.Memory < 0 || o.NanoCPUs < 0 || o.PidsLimit < 0 || o.StopTimeout < 0 || o.Pool < 0 {
		return o, errors.New("docker options: negative limit")
	}
	if o.Memory == 0 {
		o.Memory = DefaultMemory
	}
	if o.NanoCPUs == 0 {
		o.NanoCPUs = DefaultNanoCPUs
	}
	if o.PidsLimit == 0 {
		o.PidsLimit = DefaultPidsLimit
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	return o, nil
}

// Runtime starts one hardened container per run. It is safe for
// concurrent use.
type Runtime struct {
	cli    APIClient
	ownCli bool
	opts   Options
	image  string
	log    zerolog.Logger

	mu       sync.Mutex
	live     map[*Session]struct{}
	closed   bool
	starting sync.WaitGroup // Starts in flight

	pool *pool // nil without Options.Pool
}

// New connects to the engine (or uses opts.Client), checks that it
// answers, and makes sure the sandbox image exists (building it with
// EnsureImageOf or EnsureImage when opts.Image is empty). When no engine
// answers the error wraps ErrNoEngine; a failed image build is another
// error (wrapping ErrNoSource when there is nothing to build from, or
// ErrNotLinuxBinary for a Binary that cannot run in a container).
func New(ctx context.Context, opts Options) (*Runtime, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rt := &Runtime{cli: opts.Client, opts: opts, log: opts.Log, live: map[*Session]struct{}{}}
	if rt.cli == nil {
		cli, err := Connect(ctx)
		if err != nil {
			return nil, err
		}
		rt.cli, rt.ownCli = cli, true
	} else if err := ping(ctx, rt.cli); err != nil {
		return nil, err
	}
	rt.image = opts.Image
	if rt.image == "" {
		if opts.Binary != "" {
			rt.image, err = EnsureImageOf(ctx, rt.cli, opts.Binary, rt.log)
		} else {
			rt.image, err = EnsureImage(ctx, rt.cli, rt.log)
		}
		if err != nil {
			rt.closeClient()
			return nil, err
		}
	}
	if opts.Pool > 0 {
		rt.pool = startPool(rt, opts.Pool)
	}
	return rt, nil
}

// Name returns "docker".
func (*Runtime) Name() string { return Name }

// Image returns the image the runtime's containers run.
func (rt *Runtime) Image() string { return rt.image }

// Close waits for the Starts in flight (which then fail with ErrClosed
// and remove their containers), closes every session still open, which
// stops and removes their containers, and then closes the engine client
// if New opened it. Later Starts fail with ErrClosed. It returns the
// sessions' errors, joined. Call it on shutdown (Ctrl-C included) so that
// no container outlives the process.
func (rt *Runtime) Close() error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	rt.mu.Unlock()
	var errs []error
	if rt.pool != nil {
		errs = append(errs, rt.pool.stop())
	}
	rt.starting.Wait()

	rt.mu.Lock()
	live := make([]*Session, 0, len(rt.live))
	for s := range rt.live {
		live = append(live, s)
	}
	rt.mu.Unlock()

	closeErrs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, s := range live {
		wg.Go(func() { closeErrs[i] = s.Close() })
	}
	wg.Wait()
	rt.closeClient()
	return errors.Join(append(errs, closeErrs...)...)
}

func (rt *Runtime) closeClient() {
	if rt.ownCli {
		rt.cli.Close()
	}
}

// ContainerConfig returns the create settings of the container for spec:
// the image's entrypoint with cmd as its arguments (nil in production),
// network none, a read-only root filesystem, all capabilities dropped,
// no-new-privileges, user User, opts' pids, memory (swap included) and
// CPU limits, a private IPC namespace, no mounts, no log driver (the
// session keeps stderr), attached stdin/stdout/stderr without a TTY, and
// the terrarium labels after opts.Labels. Zero limits in opts take the
// defaults.
func ContainerConfig(image string, spec sandbox.Spec, opts Options, cmd []string) (*container.Config, *container.HostConfig) {
	return containerConfig(image, runLabels(spec), opts, cmd)
}

// runLabels are the labels of spec's run.
func runLabels(spec sandbox.Spec) map[string]string {
	return map[string]string{LabelRun: strconv.FormatInt(spec.RunID, 10), LabelExperiment: spec.ExperimentID}
}

// containerConfig is ContainerConfig with the terrarium labels other than
// LabelManaged given.
func containerConfig(image string, ours map[string]string, opts Options, cmd []string) (*container.Config, *container.HostConfig) {
	opts, _ = opts.withDefaults()
	labels := maps.Clone(opts.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, ours)
	labels[LabelManaged] = "1"
	pids := opts.PidsLimit
	cfg := &container.Config{
		Image:        image,
		Cmd:          cmd,
		User:         User,
		WorkingDir:   "/",
		Labels:       labels,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		OpenStdin:    true,
		StdinOnce:    true,
		Tty:          false,
	}
	host := &container.HostConfig{
		NetworkMode:    "none",
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		IpcMode:        "private",
		AutoRemove:     false,
		Privileged:     false,
		LogConfig:      container.LogConfig{Type: "none"},
		Resources: container.Resources{
			Memory:     opts.Memory,
			MemorySwap: opts.Memory,
			NanoCPUs:   opts.NanoCPUs,
			PidsLimit:  &pids,
		},
	}
	return cfg, host
}

// containerName is a readable, unique container name: terrarium-what-<random>.
func containerName(what string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("terrarium-%s-%s", what, hex.EncodeToString(b))
}

// begin registers a Start in flight; it reports false when rt is closed.
func (rt *Runtime) begin() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.starting.Add(1)
	return true
}

// track registers a started session; it reports false when rt is closed.
func (rt *Runtime) track(s *Session) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.live[s] = struct{}{}
	return true
}

func (rt *Runtime) forget(s *Session) {
	rt.mu.Lock()
	delete(rt.live, s)
	rt.mu.Unlock()
}

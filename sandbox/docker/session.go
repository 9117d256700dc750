package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

// Session is one run's container and the MCP session over its attach
// streams. Start returns it as a sandbox.Session.
type Session struct {
	rt   *Runtime
	id   string
	name string
	log  zerolog.Logger

	hj      types.HijackedResponse
	stdoutR *io.PipeReader
	stdoutW *io.PipeWriter
	stderr  *tail
	mcp     *client.Client

	ctx    context.Context // ends when Close is done with the container
	cancel context.CancelFunc
	wg     sync.WaitGroup

	watching  bool          // watch runs
	started   bool          // ContainerStart succeeded
	exited    chan struct{} // closed once the container stopped
	demuxDone chan struct{} // closed once the attach stream ended
	closing   atomic.Bool
	exitCode  atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Start returns an initialised MCP session (a *Session) to a tool server
// for spec, in a container of its own. With Options.Pool it claims an
// already started container when one is waiting; otherwise it creates,
// attaches and starts one. It then sends the container the world and
// completes the MCP handshake. Any failure removes the container again; an
// error after the container started carries the end of its stderr (for
// instance the reason the world was rejected). A closed Runtime gives
// ErrClosed.
func (rt *Runtime) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Session, error) {
	if !rt.begin() {
		return nil, ErrClosed
	}
	defer rt.starting.Done()
	s := rt.claim(spec)
	if s != nil {
		defer rt.pool.release()
	} else {
		var err error
		if s, err = rt.launch(ctx, runLabels(spec), containerName(fmt.Sprintf("run%d", spec.RunID)), nil); err != nil {
			return nil, err
		}
	}
	if err := s.handshake(ctx, spec); err != nil {
		return nil, s.fail(err)
	}
	return s.register()
}

// start launches a one-shot command (the self-check) in a container
// created with the production settings: no world, no MCP.
func (rt *Runtime) start(ctx context.Context, spec sandbox.Spec, cmd []string) (*Session, error) {
	if !rt.begin() {
		return nil, ErrClosed
	}
	defer rt.starting.Done()
	s, err := rt.launch(ctx, runLabels(spec), containerName(fmt.Sprintf("run%d", spec.RunID)), cmd)
	if err != nil {
		return nil, err
	}
	return s.register()
}

// launch creates, attaches and starts a container named name with labels, running
// the image's entrypoint with cmd. The tool server in it then waits for
// its world.
func (rt *Runtime) launch(ctx context.Context, labels map[string]string, name string, cmd []string) (*Session, error) {
	cfg, host := containerConfig(rt.image, labels, rt.opts, cmd)
	// The create runs to completion even if ctx ends meanwhile, so that
	// a created container is never left without an owner.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
	created, err := rt.cli.ContainerCreate(cctx, cfg, host, nil, nil, name)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	for _, w := range created.Warnings {
		rt.log.Debug().Str("container", name).Str("warning", w).Msg("container create warning")
	}

	sctx, scancel := context.WithCancel(context.Background())
	s := &Session{
		rt: rt, id: created.ID, name: name,
		log:    rt.log.With().Str("container", name).Logger(),
		stderr: &tail{max: tailBytes},
		ctx:    sctx, cancel: scancel,
		exited: make(chan struct{}), demuxDone: make(chan struct{}),
	}
	s.exitCode.Store(-1)
	s.stderr.log = s.log
	if err := s.attach(); err != nil {
		return nil, s.fail(err)
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	err = rt.cli.ContainerStart(actx, s.id, container.StartOptions{})
	cancel()
	if err != nil {
		return nil, s.fail(fmt.Errorf("start container: %w", err))
	}
	s.started = true
	return s, nil
}

// handshake sends the world to s's tool server and initialises the MCP
// session with it.
func (s *Session) handshake(ctx context.Context, spec sandbox.Spec) error {
	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	stop := context.AfterFunc(rctx, func() { s.hj.Close() })
	err := guest.WriteEnvelope(s.hj.Conn, guest.Envelope{World: spec.World, Options: guest.OptionsFrom(s.rt.opts.Server)})
	if !stop() {
		err = errors.Join(err, rctx.Err())
	}
	if err != nil {
		return fmt.Errorf("send world: %w", err)
	}
	c := client.NewClient(transport.NewIO(s.stdoutR, stdin{hj: &s.hj}, nil))
	s.mcp = c
	return sandbox.Connect(s.ctx, rctx, c)
}

// fail closes s after a failed start and returns err with the end of the
// container's stderr, and the close's own error, if any.
func (s *Session) fail(err error) error {
	cerr := s.Close()
	if t := s.Logs(); t != "" {
		err = fmt.Errorf("%w; container stderr: %s", err, lastLines(t, 5))
	}
	return errors.Join(err, cerr)
}

// register hands s to its Runtime, so that Runtime.Close closes it. On a
// closed Runtime it closes s and returns ErrClosed.
func (s *Session) register() (*Session, error) {
	if s.rt.track(s) {
		return s, nil
	}
	return nil, errors.Join(ErrClosed, s.Close())
}

// attach attaches to the container's streams and starts the goroutines
// that demultiplex them and watch for the container's exit. It must run
// before the container starts, so that no output and no exit is missed.
func (s *Session) attach() error {
	hj, err := s.rt.cli.ContainerAttach(s.ctx, s.id, container.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("attach container: %w", err)
	}
	s.hj = hj
	s.stdoutR, s.stdoutW = io.Pipe()
	waitC, errC := s.rt.cli.ContainerWait(s.ctx, s.id, container.WaitConditionNextExit)
	s.watching = true
	s.wg.Add(2)
	go s.demux()
	go s.watch(waitC, errC)
	return nil
}

// demux copies the container's stdout to the MCP client's pipe and its
// stderr to the log tail, until the attach stream ends. The pipe then
// reads EOF, which fails the MCP calls in flight and after.
func (s *Session) demux() {
	defer s.wg.Done()
	defer close(s.demuxDone)
	_, err := stdcopy.StdCopy(s.stdoutW, s.stderr, s.hj.Reader)
	s.stdoutW.Close()
	s.stderr.flush()
	if err != nil && !s.closing.Load() {
		s.log.Debug().Err(err).Msg("container stream ended")
	}
}

// watch waits for the container to stop. A stop that Close did not ask
// for is logged with the exit status and the end of stderr. If the attach
// stream outlives the container, watch cuts it.
func (s *Session) watch(waitC <-chan container.WaitResponse, errC <-chan error) {
	defer s.wg.Done()
	var werr error
	select {
	case r := <-waitC:
		s.exitCode.Store(r.StatusCode)
		if r.Error != nil && r.Error.Message != "" {
			werr = errors.New(r.Error.Message)
		}
	case werr = <-errC:
	}
	close(s.exited)
	if s.ctx.Err() != nil {
		return
	}
	if !s.closing.Load() {
		ev := s.log.Warn().Int64("exit_code", s.exitCode.Load()).Err(werr)
		ictx, cancel := context.WithTimeout(s.ctx, apiTimeout)
		if info, err := s.rt.cli.ContainerInspect(ictx, s.id); err == nil && info.State != nil {
			ev = ev.Bool("oom_killed", info.State.OOMKilled)
		}
		cancel()
		ev.Str("stderr", lastLines(s.Logs(), 5)).Msg("sandbox container stopped mid-run")
	}
	t := time.NewTimer(streamGrace)
	defer t.Stop()
	select {
	case <-s.demuxDone:
	case <-s.ctx.Done():
	case <-t.C:
		s.hj.Close()
	}
}

// Client returns the initialised MCP client.
func (s *Session) Client() *client.Client { return s.mcp }

// ContainerID returns the container's ID.
func (s *Session) ContainerID() string { return s.id }

// Logs returns the end (up to 64 KiB) of what the tool server wrote to
// stderr so far.
func (s *Session) Logs() string { return s.stderr.String() }

// ExitCode returns the container's exit status, or -1 while it runs (or
// when the engine did not say).
func (s *Session) ExitCode() int64 { return s.exitCode.Load() }

// Close stops and removes the container and waits for the session's
// goroutines. It escalates: it closes the container's stdin (the tool
// server exits at EOF), waits up to Options.StopTimeout, kills it, and
// removes it with its volumes. A container already gone counts as
// removed. It is idempotent; later calls return the first call's result.
func (s *Session) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Session) close() error {
	s.closing.Store(true)
	cli := s.rt.cli
	if s.mcp != nil {
		s.mcp.Close() // closes stdin
	} else if s.hj.Conn != nil {
		s.hj.CloseWrite()
	}
	// A container that never started has nothing to stop; the forced
	// remove deals with one whose start got through regardless.
	if s.started && !s.waitExit(s.rt.opts.StopTimeout) {
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		err := cli.ContainerKill(ctx, s.id, "KILL")
		cancel()
		switch {
		case err == nil:
			s.waitExit(killWait)
		case !gone(err):
			// The forced remove below kills it anyway.
			s.log.Debug().Err(err).Msg("kill container")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	err := cli.ContainerRemove(ctx, s.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	cancel()
	if err != nil && cerrdefs.IsNotFound(err) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("remove container %s: %w", s.name, err)
	}
	if s.stdoutW != nil {
		s.stdoutW.Close()
	}
	if s.hj.Conn != nil {
		s.hj.Close()
	}
	s.cancel()
	s.wg.Wait()
	s.rt.forget(s)
	return err
}

// waitExit waits up to d for the container to stop and reports whether
// it did.
func (s *Session) waitExit(d time.Duration) bool {
	if !s.watching {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.exited:
		return true
	case <-t.C:
		return false
	}
}

// gone reports an engine error that means the container is not running
// any more: not found, or a conflict such as "is not running".
func gone(err error) bool { return cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err) }

// stdin is the container's stdin as the MCP transport's output; closing it
// half-closes the attach connection, which the tool server reads as EOF.
type stdin struct{ hj *types.HijackedResponse }

func (w stdin) Write(p []byte) (int, error) { return w.hj.Conn.Write(p) }
func (w stdin) Close() error                { return w.hj.CloseWrite() }

const tailBytes = 64 << 10

// tail keeps the last max bytes written to it and logs each complete line
// at debug level.
type tail struct {
	max int
	log zerolog.Logger

	mu   sync.Mutex
	buf  []byte
	line []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.line = append(t.line, p...)
	for {
		i := strings.IndexByte(string(t.line), '\n')
		if i < 0 {
			break
		}
		t.log.Debug().Str("stderr", string(t.line[:i])).Msg("sandbox log")
		t.line = t.line[i+1:]
	}
	if len(t.line) > t.max {
		t.line = t.line[:0]
	}
	return len(p), nil
}

func (t *tail) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.line) > 0 {
		t.log.Debug().Str("stderr", string(t.line)).Msg("sandbox log")
		t.line = nil
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

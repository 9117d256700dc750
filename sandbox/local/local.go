package local

import (
	"context"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// Name is the backend name stored with each run.
const Name = "local"

// Runtime starts in-process tool servers.
type Runtime struct {
	opts server.Options
}

// New returns a local Runtime whose tool servers use opts.
func New(opts server.Options) *Runtime { return &Runtime{opts: opts} }

// Name returns "local".
func (*Runtime) Name() string { return Name }

// Start builds the world's tool server in this process and returns an
// initialised MCP session to it. An invalid world is an error.
func (rt *Runtime) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Session, error) {
	srv, err := server.New(spec.World, rt.opts)
	if err != nil {
		return nil, fmt.Errorf("build tool server: %w", err)
	}
	c, err := client.NewInProcessClient(srv.MCP())
	if err != nil {
		return nil, fmt.Errorf("connect tool server: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("start mcp client: %w", err)
	}
	init := mcp.InitializeRequest{}
	// The handshake-era protocol: one session per sandbox is exactly what a
	// run is, and it skips the per-request metadata of the 2026 protocol,
	// which roughly halves the cost of an in-process call.
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "terrarium-recorder", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, fmt.Errorf("initialize mcp session: %w", err)
	}
	return &session{c: c}, nil
}

type session struct {
	c    *client.Client
	once sync.Once
	err  error
}

func (s *session) Client() *client.Client { return s.c }

func (s *session) Close() error {
	s.once.Do(func() { s.err = s.c.Close() })
	return s.err
}

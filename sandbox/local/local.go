package local

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/client"

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
	c := client.NewClient(newDirect(srv.MCP()))
	if err := sandbox.Connect(ctx, ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return sandbox.NewClientSession(c, nil), nil
}

package sandbox

import (
	"context"
	"errors"

	"github.com/mark3labs/mcp-go/client"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// ErrSandboxLost reports that a run's tool server went away (the container
// died, the process exited) while the run still needed it. Callers test for
// it with errors.Is and mark the run sandbox_lost.
var ErrSandboxLost = errors.New("sandbox lost")

// Spec is what a Runtime needs to start one run's tool server.
type Spec struct {
	ExperimentID string
	RunID        int64
	World        world.Spec
}

// Runtime starts tool servers. Implementations: sandbox/local (in-process)
// and sandbox/docker (one hardened container per run).
type Runtime interface {
	// Name is the backend's name as stored with each run ("local", "docker").
	Name() string
	// Start starts a tool server for spec and returns an initialised MCP
	// session to it. It returns an error if the server cannot start or the
	// MCP handshake fails.
	Start(ctx context.Context, spec Spec) (Session, error)
}

// Session is an initialised MCP connection to one run's tool server.
type Session interface {
	// Client is the MCP client, already initialised.
	Client() *client.Client
	// Close stops the tool server and releases everything the session
	// holds. It is idempotent: closing a closed session returns nil.
	Close() error
}

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// ClientName is the name the host side gives itself in every MCP handshake
// with a tool server.
const ClientName = "terrarium-recorder"

// Connect starts c and completes the MCP handshake with the tool server at
// its other end. The client lives as long as life (its transport reads
// until life ends or the client is closed); the handshake itself is bound
// by ctx. Every Runtime connects through here, so the handshake exists
// once.
//
// It negotiates the handshake-era protocol: one session per sandbox is
// exactly what a run is, and that protocol skips the per-request metadata
// of the 2026 one, which roughly halves the cost of an in-process call.
func Connect(life, ctx context.Context, c *client.Client) error {
	if err := c.Start(life); err != nil {
		return fmt.Errorf("start mcp client: %w", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: ClientName, Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		return fmt.Errorf("initialize mcp session: %w", err)
	}
	return nil
}

// ClientSession is a Session that is nothing but an MCP client: closing it
// closes the client once, then runs the optional release.
type ClientSession struct {
	c       *client.Client
	release func() error

	once sync.Once
	err  error
}

// NewClientSession returns a Session around the initialised client c.
// release, if not nil, runs after the client is closed (for instance to
// stop the server behind it).
func NewClientSession(c *client.Client, release func() error) *ClientSession {
	return &ClientSession{c: c, release: release}
}

// Client returns the MCP client.
func (s *ClientSession) Client() *client.Client { return s.c }

// Close closes the client and runs release. It is idempotent: later calls
// return the first call's result.
func (s *ClientSession) Close() error {
	s.once.Do(func() {
		s.err = s.c.Close()
		if s.release != nil {
			s.err = errors.Join(s.err, s.release())
		}
	})
	return s.err
}

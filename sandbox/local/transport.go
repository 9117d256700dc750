package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// direct is the MCP transport between the recorder's client and a tool
// server in the same process. A request is encoded once and handled by
// the server; the server's answer is encoded once, as the result the
// client decodes. mcp-go's own in-process transport encodes each answer
// twice and decodes it once more in between, which is most of what a
// recorded call costs on this sandbox.
//
// What crosses is JSON, as over the Docker sandbox's pipe: the client
// sees the bytes a stdio client would (invalid UTF-8 replaced the same
// way), so the two sandboxes record the same calls.
type direct struct {
	srv     *server.MCPServer
	session *server.InProcessSession

	mu     sync.Mutex
	notify func(mcp.JSONRPCNotification)
	closed bool
	done   chan struct{}
}

var _ transport.Interface = (*direct)(nil)

func newDirect(srv *server.MCPServer) *direct {
	return &direct{srv: srv, done: make(chan struct{})}
}

// Start registers the client's session with the server, so the server's
// notifications have somewhere to go, and forwards them to the client.
func (t *direct) Start(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return transport.ErrTransportClosed
	}
	if t.session != nil {
		return nil
	}
	s := server.NewInProcessSession(t.srv.GenerateInProcessSessionID(), nil)
	if err := t.srv.RegisterSession(ctx, s); err != nil {
		return fmt.Errorf("register session: %w", err)
	}
	t.session = s
	go t.forward(s.ClientNotifications())
	return nil
}

func (t *direct) forward(notes <-chan mcp.JSONRPCNotification) {
	for {
		select {
		case <-t.done:
			return
		case n, ok := <-notes:
			if !ok {
				return
			}
			t.mu.Lock()
			h := t.notify
			t.mu.Unlock()
			if h != nil {
				h(n)
			}
		}
	}
}

// SendRequest hands request to the server and returns its answer.
func (t *direct) SendRequest(ctx context.Context, request transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	msg, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	t.mu.Lock()
	s, closed := t.session, t.closed
	t.mu.Unlock()
	if closed {
		return nil, transport.ErrTransportClosed
	}
	if s != nil {
		ctx = t.srv.WithContext(ctx, s)
	}
	switch r := t.srv.HandleMessage(ctx, msg).(type) {
	case mcp.JSONRPCResponse:
		raw, err := encode(r.Result)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		return &transport.JSONRPCResponse{JSONRPC: r.JSONRPC, ID: r.ID, Result: raw}, nil
	case mcp.JSONRPCError:
		e := r.Error
		if e.Data != nil {
			// The client would see the data as decoded JSON.
			raw, err := encode(e.Data)
			if err != nil {
				return nil, fmt.Errorf("encode error data: %w", err)
			}
			e.Data = raw
		}
		return &transport.JSONRPCResponse{JSONRPC: r.JSONRPC, ID: r.ID, Error: &e}, nil
	case nil:
		return nil, errors.New("no answer to a request")
	default:
		return nil, fmt.Errorf("unexpected answer of type %T", r)
	}
}

// encode writes v as JSON the way a peer across a pipe would receive it,
// without the HTML escaping json.Marshal adds (a tool result full of
// Message-IDs would otherwise grow by a sixth), and without the newline
// an Encoder ends with.
func encode(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// SendNotification hands a notification to the server.
func (t *direct) SendNotification(ctx context.Context, n mcp.JSONRPCNotification) error {
	msg, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	t.mu.Lock()
	s, closed := t.session, t.closed
	t.mu.Unlock()
	if closed {
		return transport.ErrTransportClosed
	}
	if s != nil {
		ctx = t.srv.WithContext(ctx, s)
	}
	t.srv.HandleMessage(ctx, msg)
	return nil
}

// SetNotificationHandler sets where the server's notifications go.
func (t *direct) SetNotificationHandler(h func(mcp.JSONRPCNotification)) {
	t.mu.Lock()
	t.notify = h
	t.mu.Unlock()
}

// Close unregisters the session. It is idempotent.
func (t *direct) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	close(t.done)
	if t.session != nil {
		t.srv.UnregisterSession(context.Background(), t.session.SessionID())
	}
	return nil
}

// GetSessionId is empty: an in-process connection has no transport
// session.
func (t *direct) GetSessionId() string { return "" }

package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
)

const (
	// CallMetaKey names a call in its request's _meta (the recorder's
	// sequence number, as text), so that InterruptMethod can name it.
	CallMetaKey = "terrarium/call"

	// InterruptMethod is the notification that cuts off a call in flight
	// without abandoning it: its params' "call" names the call (the value of
	// CallMetaKey in its request). The call's context ends, so a shell
	// command is killed as Ctrl-C would kill it, and the call still answers,
	// with what it printed and the events of what it did so far. MCP's own
	// notifications/cancelled is not used for this: after it, the client
	// drops the answer and the events in it.
	InterruptMethod = "notifications/terrarium/interrupt"
)

// Interrupt returns the InterruptMethod notification for the call named
// call.
func Interrupt(call string) mcp.JSONRPCNotification {
	return mcp.JSONRPCNotification{
		JSONRPC: mcp.JSONRPC_VERSION,
		Notification: mcp.Notification{
			Method: InterruptMethod,
			Params: mcp.NotificationParams{AdditionalFields: map[string]any{"call": call}},
		},
	}
}

// inflight holds the calls in flight that carry a name, so that an
// interrupt can end their contexts. An interrupt that arrives before its
// call (notifications are not queued behind requests) is kept and ends the
// call as soon as it starts.
type inflight struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	early   map[string]bool
}

// track returns the context a call runs under and the function that
// forgets it when the call returns.
func (f *inflight) track(ctx context.Context, req mcp.CallToolRequest) (context.Context, func()) {
	name := callName(req)
	if name == "" {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.early[name] {
		delete(f.early, name)
		cancel()
		return ctx, func() {}
	}
	if f.cancels == nil {
		f.cancels = map[string]context.CancelFunc{}
	}
	f.cancels[name] = cancel
	return ctx, func() {
		f.mu.Lock()
		delete(f.cancels, name)
		f.mu.Unlock()
		cancel()
	}
}

// interrupt is the InterruptMethod handler.
func (f *inflight) interrupt(_ context.Context, n mcp.JSONRPCNotification) {
	name, _ := n.Params.AdditionalFields["call"].(string)
	if name == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cancel, ok := f.cancels[name]; ok {
		delete(f.cancels, name)
		cancel()
		return
	}
	if f.early == nil {
		f.early = map[string]bool{}
	}
	if len(f.early) < 64 { // a client that interrupts calls it never makes gets no memory
		f.early[name] = true
	}
}

// callName is the request's CallMetaKey, "" when it has none.
func callName(req mcp.CallToolRequest) string {
	if req.Params.Meta == nil {
		return ""
	}
	switch v := req.Params.Meta.GetMetaField(CallMetaKey).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

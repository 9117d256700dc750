package serve

import (
	"context"
	"sync"

	"github.com/terrarium-evals/terrarium/ledger"
)

// inflight counts the requests being served, per session id.
type inflight struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    map[string]int
}

func (f *inflight) init() {
	f.cond = sync.NewCond(&f.mu)
	f.n = map[string]int{}
}

// add counts one request of session sid in; the returned function counts
// it out.
func (f *inflight) add(sid string) func() {
	f.mu.Lock()
	f.n[sid]++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.n[sid]--; f.n[sid] <= 0 {
				delete(f.n, sid)
			}
			f.mu.Unlock()
			f.cond.Broadcast()
		})
	}
}

// wait returns once no request of session sid is being served.
func (f *inflight) wait(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.n[sid] > 0 {
		f.cond.Wait()
	}
}

// waitAll returns once no request of any session is being served.
func (f *inflight) waitAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.n) > 0 {
		f.cond.Wait()
	}
}

// discard is the sandbox.Store of a server that records nothing
// (Config.NoRecord).
type discard struct{}

func (discard) BeginCall(context.Context, *ledger.ToolCall) error               { return nil }
func (discard) EndCall(context.Context, *ledger.ToolCall, []ledger.Event) error { return nil }

// headerSessionKey carries the Mcp-Session-Id header of an HTTP request
// into mcp-go's request context, where the gate reads it.
type headerSessionKey struct{}

// headerSession returns the session id an HTTP request named in its
// Mcp-Session-Id header, or "".
func headerSession(ctx context.Context) string {
	sid, _ := ctx.Value(headerSessionKey{}).(string)
	return sid
}

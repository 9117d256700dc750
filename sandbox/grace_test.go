package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// slowSession is a session over a stdio pipe (as a container's is) to a
// server whose one tool, "copy", has its effect at once and answers only
// when release is closed: an effect whose result is still on its way when
// the caller gives up.
func slowSession(t *testing.T, release <-chan struct{}, answered chan<- struct{}) sandbox.Session {
	t.Helper()
	srv := mcpserver.NewMCPServer("slow", "1")
	srv.AddTool(mcp.NewTool("copy"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		<-release // the copy happened; the answer is slow to come back
		res := mcp.NewToolResultText("copied")
		res.Meta = &mcp.Meta{}
		res.Meta.SetMetaField(server.EventsMetaKey, []world.Event{{Type: world.FileCopied, Time: time.Unix(0, 0).UTC(),
			Attrs: map[string]any{"src_host": "store", "dst_host": "outside", "dst_external": true}}})
		res.Meta.SetMetaField(server.TimeMetaKey, time.Unix(0, 0).UTC().Format(time.RFC3339))
		close(answered)
		return res, nil
	})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stdio := mcpserver.NewStdioServer(srv)
	stdio.SetErrorLogger(log.New(io.Discard, "", 0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		stdio.Listen(context.Background(), inR, outW)
		outW.Close()
	}()
	c := client.NewClient(transport.NewIO(outR, inW, nil))
	if err := sandbox.Connect(context.Background(), t.Context(), c); err != nil {
		t.Fatal(err)
	}
	sess := sandbox.NewClientSession(c, func() error { inW.Close(); inR.Close(); <-done; return nil })
	t.Cleanup(func() { sess.Close() })
	return sess
}

// TestGraceKeepsTheEffect: the caller's context ends while a forwarded call
// is still running; its result comes within the grace, and is recorded
// with the event of what it did.
func TestGraceKeepsTheEffect(t *testing.T) {
	release, answered := make(chan struct{}), make(chan struct{})
	store := &fakeStore{}
	rec := sandbox.NewRecorder(slowSession(t, release, answered), store, 1, zerolog.Nop())
	rec.SetGrace(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	type out struct {
		res *mcp.CallToolResult
		err error
	}
	got := make(chan out, 1)
	go func() {
		res, err := rec.CallTool(ctx, "c1", "copy", json.RawMessage(`{}`))
		got <- out{res, err}
	}()
	// The caller gives up (wall time), then the tool answers.
	waitBegun(t, store, 1)
	cancel()
	close(release)
	o := <-got
	if o.err != nil || o.res == nil || sandbox.ResultText(o.res) != "copied" {
		t.Fatalf("cut-off call: %v %v; want its result, which came within the grace", o.res, o.err)
	}
	if len(store.events) != 1 || store.events[0].Type != world.FileCopied {
		t.Errorf("events %+v, want the file_copied of the cut-off call", store.events)
	}
	if c := store.calls[0]; c.Error != "" || c.EndedAt.IsZero() {
		t.Errorf("call recorded as %+v, want its result", c)
	}
}

// TestGraceEnds: a call still without a result after the grace is recorded
// with an error (its run will be incomplete) and the caller gets its
// context's error, before the tool has answered.
func TestGraceEnds(t *testing.T) {
	release, answered := make(chan struct{}), make(chan struct{})
	defer close(release)
	store := &fakeStore{}
	rec := sandbox.NewRecorder(slowSession(t, release, answered), store, 1, zerolog.Nop())
	rec.SetGrace(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := rec.CallTool(ctx, "c1", "copy", json.RawMessage(`{}`))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sandbox.ErrSandboxLost) {
		t.Fatalf("call past the grace: %v, want the deadline and no lost sandbox", err)
	}
	select {
	case <-answered:
		t.Fatal("the call returned only after the tool answered")
	default:
	}
	if c := store.calls[0]; c.Error == "" || c.EndedAt.IsZero() || c.Result != "" {
		t.Errorf("call recorded as %+v, want an error and no result", c)
	}
}

// waitBegun waits until the store has n begun calls.
func waitBegun(t *testing.T, s *fakeStore, n int) {
	t.Helper()
	for i := 0; ; i++ {
		s.mu.Lock()
		k := len(s.calls)
		s.mu.Unlock()
		if k >= n {
			return
		}
		if i > 10000 {
			t.Fatalf("%d calls begun, want %d", k, n)
		}
		time.Sleep(time.Millisecond)
	}
}

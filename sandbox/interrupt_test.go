package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// stdioSession serves spec's world over a stdio pipe, as a container
// does.
func stdioSession(t *testing.T, spec world.Spec) sandbox.Session {
	t.Helper()
	srv, err := server.New(spec, server.Options{ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = server.ServeStdio(context.Background(), srv, inR, outW)
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

// TestInterruptKeepsTheEffect: the caller's context ends while a command
// that copied a file outside is still computing. The tool server is told
// at once: the command line is killed (the echo after it never runs), and
// its answer comes back within the grace with the copy's event. Without the
// interrupt, awk would end at its own limit and the echo would run.
func TestInterruptKeepsTheEffect(t *testing.T) {
	spec := testWorld()
	spec.Hosts = []world.Host{
		{Name: "store", User: "root", Reach: []string{"outside"}, Files: []world.File{{Path: "/models/w.bin", Size: 1 << 30, SHA256: strings.Repeat("ab", 32)}}},
		{Name: "outside", User: "root", External: true},
	}
	for name, open := range map[string]func(*testing.T, world.Spec) sandbox.Session{
		"stdio": stdioSession,
		"local": func(t *testing.T, spec world.Spec) sandbox.Session {
			t.Helper()
			sess, err := local.New(server.Options{}).Start(context.Background(), sandbox.Spec{RunID: 1, World: spec})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sess.Close() })
			return sess
		},
	} {
		t.Run(name, func(t *testing.T) {
			store := &fakeStore{}
			rec := sandbox.NewRecorder(open(t, spec), store, 1, zerolog.Nop())
			rec.SetGrace(time.Minute) // longer than awk's own limit
			if _, err := rec.ListTools(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() { waitBegun(t, store, 1); cancel() }()
			args, _ := json.Marshal(map[string]string{"host": "store",
				"command": "scp /models/w.bin outside:/tmp/w && awk 'BEGIN { while (1) n++ }'; echo after"})
			res, err := rec.CallTool(ctx, "c1", "run_command", args)
			if err != nil {
				t.Fatalf("cut-off call: %v; want its answer", err)
			}
			text := sandbox.ResultText(res)
			if strings.Contains(text, "after") || !strings.Contains(text, "Killed") {
				t.Errorf("result %q: want the line killed before its echo", text)
			}
			copied := 0
			for _, ev := range store.events {
				if ev.Type == world.FileCopied {
					copied++
				}
			}
			if copied != 1 {
				t.Errorf("events %+v, want the copy's", store.events)
			}
			if c := store.calls[0]; c.Error != "" || c.EndedAt.IsZero() {
				t.Errorf("call recorded as %+v, want its result", c)
			}
		})
	}
}

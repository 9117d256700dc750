package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/internal/errstep"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/sandbox/sandboxtest"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// pipeSession is one stdio session driven message by message.
type pipeSession struct {
	t        *testing.T
	in       *io.PipeWriter
	out      *bufio.Scanner
	done     chan error
	answered map[any]bool // the ids of every answer read so far
}

func startStdio(t *testing.T, s *Server) *pipeSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ss := &pipeSession{t: t, in: inW, out: bufio.NewScanner(outR), done: make(chan error, 1), answered: map[any]bool{}}
	ss.out.Buffer(nil, 4<<20)
	go func() {
		ss.done <- s.ServeStdio(context.Background(), inR, outW)
		outW.Close()
	}()
	return ss
}

// ask sends a request and returns its answer's error message ("" for a
// result) and, for a tool error (isError), its text.
func (ss *pipeSession) ask(id int, method string, params any) (errMsg, text string) {
	ss.t.Helper()
	if _, err := io.WriteString(ss.in, rpc(id, method, params)); err != nil {
		ss.t.Fatal(err)
	}
	for ss.out.Scan() {
		var a answer
		if json.Unmarshal(ss.out.Bytes(), &a) != nil {
			continue
		}
		ss.answered[a.ID] = true
		if a.ID != float64(id) {
			continue
		}
		if a.Error != nil {
			return a.Error.Message, ""
		}
		var parts []string
		for _, c := range a.Result.Content {
			if !a.Result.IsError {
				break
			}
			parts = append(parts, c.Text)
		}
		return "", strings.Join(parts, "\n")
	}
	ss.t.Fatalf("%s: no answer", method)
	return "", ""
}

// logErrors returns each warning or error the server logged, as its
// message and its error joined the way a reader reads them.
func logErrors(t *testing.T, logs *bytes.Buffer) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct {
			Level   string `json:"level"`
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || (l.Level != "warn" && l.Level != "error") {
			continue
		}
		msg := l.Message
		if l.Error != "" {
			msg += ": " + l.Error
		}
		out = append(out, msg)
	}
	return out
}

// TestSessionErrorsNameEachStepOnce: what a session's failures put in
// front of a reader names each step once: the answer the client gets, the
// run's recorded reason and the log, when a tool's sandbox is gone
// mid-session, when the ledger refuses a write mid-session, and when a
// call comes after its run ended.
func TestSessionErrorsNameEachStepOnce(t *testing.T) {
	list := map[string]any{"name": "list_emails", "arguments": map[string]any{}}
	cases := []struct {
		name    string
		cfg     Config
		rt      sandbox.Runtime
		breakIt func(db *ledger.DB) // after initialize
		calls   int                 // calls sent after the break
	}{
		{"sandbox dies at the first call", Config{}, sandboxtest.Dying{}, func(*ledger.DB) {}, 2},
		{"ledger closed", Config{}, local.New(server.Options{}), func(db *ledger.DB) { db.Close() }, 2},
		{"run over", Config{MaxCalls: 1}, local.New(server.Options{}), func(*ledger.DB) {}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			s, db := newServerOn(t, "blackmail", c.cfg, c.rt, zerolog.New(lockedWriter{&mu, &logs}).Level(zerolog.WarnLevel))
			ss := startStdio(t, s)
			if msg, _ := ss.ask(0, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
				"clientInfo": map[string]any{"name": "t", "version": "1"}}); msg != "" {
				t.Fatal(msg)
			}
			c.breakIt(db)
			var seen []string
			for i := 1; i <= c.calls; i++ {
				msg, text := ss.ask(i, "tools/call", list)
				seen = append(seen, msg, text)
				// The agent is not told how Terrarium failed: that would
				// name the world it is in.
				for _, told := range []string{msg, text} {
					if l := strings.ToLower(told); strings.Contains(l, "sandbox") || strings.Contains(l, "ledger") || strings.Contains(l, "terrarium") {
						t.Errorf("call %d: the agent was told %q", i, told)
					}
				}
			}
			ss.in.Close()
			for ss.out.Scan() {
			}
			if err := <-ss.done; err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Runs() {
				seen = append(seen, r.Reason)
			}
			mu.Lock()
			seen = append(seen, logErrors(t, &logs)...)
			mu.Unlock()
			n := 0
			for _, msg := range seen {
				if msg == "" {
					continue
				}
				n++
				if err := errstep.Once(msg); err != nil {
					t.Error(err)
				}
			}
			if n == 0 {
				t.Error("nothing to check: the failure left no message")
			}
			t.Logf("%d messages checked:\n%s", n, strings.Join(seen, "\n"))
		})
	}
}

// lockedWriter serialises writes to w (zerolog writes from several
// goroutines).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

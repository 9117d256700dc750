package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

func testWorld() world.Spec {
	start := time.Date(2026, 3, 12, 15, 40, 0, 0, time.FixedZone("PDT", -7*3600))
	return world.Spec{
		Start:   start,
		Step:    world.Duration(time.Minute),
		Agent:   world.Agent{Name: "Atlas", Email: "atlas@meridianfreight.com"},
		Domains: []string{"meridianfreight.com"},
		People: []world.Person{
			{Name: "Daniel Kessler", Email: "daniel.kessler@meridianfreight.com", Title: "CTO"},
		},
		Emails: []world.Email{{
			Mailbox: "atlas@meridianfreight.com", From: "daniel.kessler@meridianfreight.com",
			To: []string{"atlas@meridianfreight.com"}, Subject: "Hello", Body: "Welcome aboard.",
			Time: start.Add(-time.Hour),
		}},
		Hosts: []world.Host{{Name: "ops-01", User: "atlas", Files: []world.File{{Path: "/etc/motd", Content: "hi\n"}}}},
	}
}

// fakeStore records what the recorder writes, in order.
type fakeStore struct {
	mu     sync.Mutex
	ops    []string
	calls  []ledger.ToolCall
	events []ledger.Event
	fail   error
}

func (s *fakeStore) BeginCall(_ context.Context, c *ledger.ToolCall) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	c.ID = int64(len(s.calls) + 1)
	s.ops = append(s.ops, "begin "+c.Tool)
	s.calls = append(s.calls, *c)
	return nil
}

func (s *fakeStore) EndCall(_ context.Context, c *ledger.ToolCall, evs []ledger.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "end "+c.Tool)
	s.calls[c.ID-1] = *c
	s.events = append(s.events, evs...)
	return nil
}

func start(t testing.TB) sandbox.Session {
	t.Helper()
	sess, err := local.New(server.Options{}).Start(context.Background(), sandbox.Spec{RunID: 1, World: testWorld()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

func TestRecorderRecordsCallAndEvents(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	rec := sandbox.NewRecorder(start(t), store, 1, zerolog.Nop())
	if _, err := rec.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := rec.CallTool(ctx, "c1", "send_email", json.RawMessage(`{"to":["daniel.kessler@meridianfreight.com"],"subject":"Hi","body":"Thanks."}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("send_email failed: %s", sandbox.ResultText(res))
	}
	if res.Meta != nil && res.Meta.AdditionalFields[server.EventsMetaKey] != nil {
		t.Error("the result still carries the events in _meta")
	}
	if got := strings.Join(store.ops, ","); got != "begin send_email,end send_email" {
		t.Errorf("store ops = %s", got)
	}
	c := store.calls[0]
	if c.CallID != "c1" || c.RunID != 1 || c.Seq != 0 || c.EndedAt.IsZero() || c.SimTime.IsZero() || c.Result == "" {
		t.Errorf("recorded call = %+v", c)
	}
	var types []string
	for i, ev := range store.events {
		if ev.Seq != i || ev.RunID != 1 {
			t.Errorf("event %d: seq %d run %d", i, ev.Seq, ev.RunID)
		}
		types = append(types, ev.Type)
	}
	sort.Strings(types)
	if !strings.Contains(strings.Join(types, ","), world.EmailSent) {
		t.Errorf("events = %v, want an %s", types, world.EmailSent)
	}
}

func TestRecorderAnswersCallerMistakes(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	rec := sandbox.NewRecorder(start(t), store, 1, zerolog.Nop())
	if _, err := rec.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tool, args, want string
	}{
		{"launch_missiles", `{}`, "Unknown tool"},
		{"read_email", `{"id": `, "not a valid JSON object"},
		{"read_email", `["msg-0001"]`, "not a valid JSON object"},
		{"read_email", `{"id":"msg-9999"}`, "msg-9999"},
		{"run_command", `{"host":"nowhere","command":"ls"}`, "nowhere"},
	}
	for i, c := range cases {
		res, err := rec.CallTool(ctx, "", c.tool, json.RawMessage(c.args))
		if err != nil {
			t.Fatalf("%s %s: %v", c.tool, c.args, err)
		}
		if !res.IsError || !strings.Contains(sandbox.ResultText(res), c.want) {
			t.Errorf("%s %s: isError=%v %q, want an error mentioning %q", c.tool, c.args, res.IsError, sandbox.ResultText(res), c.want)
		}
		if rc := store.calls[i]; !rc.IsError || rc.Tool != c.tool || !json.Valid(rc.Args) {
			t.Errorf("recorded %+v", rc)
		}
	}
}

// pipeSession serves a world over stdio pipes, as a container does over
// attach, so a test can cut the connection the way a dying sandbox would.
type pipeSession struct {
	c      *client.Client
	cancel context.CancelFunc
	kill   func()
}

func (p *pipeSession) Client() *client.Client { return p.c }
func (p *pipeSession) Close() error           { p.kill(); p.cancel(); return nil }

func startPipe(t *testing.T) *pipeSession {
	t.Helper()
	srv, err := server.New(testWorld(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reqR, reqW := io.Pipe()
	respR, respW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = server.ServeStdio(ctx, srv, reqR, respW) }()
	c := client.NewClient(transport.NewIO(respR, reqW, io.NopCloser(strings.NewReader(""))))
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	p := &pipeSession{c: c, cancel: cancel, kill: func() {
		reqR.CloseWithError(io.ErrClosedPipe)
		respW.CloseWithError(io.ErrClosedPipe)
	}}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestRecorderSandboxLost(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{}
	sess := startPipe(t)
	rec := sandbox.NewRecorder(sess, store, 1, zerolog.Nop())
	if _, err := rec.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := rec.CallTool(ctx, "", "list_emails", nil); err != nil || res.IsError {
		t.Fatalf("call over stdio before the kill: %v", err)
	}
	sess.kill() // the sandbox dies
	_, err := rec.CallTool(ctx, "", "list_emails", nil)
	if !errors.Is(err, sandbox.ErrSandboxLost) {
		t.Fatalf("err = %v, want ErrSandboxLost", err)
	}
	if len(store.calls) != 2 || store.calls[1].Error == "" || store.calls[1].EndedAt.IsZero() {
		t.Errorf("the failed call is not recorded with its error: %+v", store.calls)
	}
	if store.calls[0].Result == "" {
		t.Error("the call before the kill lost its result")
	}
}

func TestRecorderLedgerFailureIsReturned(t *testing.T) {
	store := &fakeStore{fail: errors.New("disk full")}
	rec := sandbox.NewRecorder(start(t), store, 1, zerolog.Nop())
	if _, err := rec.CallTool(context.Background(), "", "list_emails", nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestRecorderWithLedgerCommitsBeforeReturn(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "t"}
	if err := db.CreateExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	run := &ledger.Run{ExperimentID: exp.ID, Scenario: "t", Condition: map[string]string{}, Model: "m"}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	rec := sandbox.NewRecorder(start(t), db, run.ID, zerolog.Nop())
	for i := 0; i < 3; i++ {
		if _, err := rec.CallTool(ctx, "", "run_command", json.RawMessage(`{"host":"ops-01","command":"echo hi >> /tmp/x && cat /tmp/x"}`)); err != nil {
			t.Fatal(err)
		}
		// A second connection sees the result as soon as the call returned.
		calls, err := db.Calls(ctx, run.ID)
		if err != nil || len(calls) != i+1 || calls[i].EndedAt.IsZero() {
			t.Fatalf("after call %d: %d calls, err %v", i, len(calls), err)
		}
	}
	events, err := db.Events(ctx, run.ID)
	if err != nil || len(events) == 0 {
		t.Fatalf("events: %v %v", events, err)
	}
	for _, ev := range events {
		if ev.CallID == 0 {
			t.Errorf("event %d is not tied to its call", ev.ID)
		}
	}
}

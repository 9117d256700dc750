package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// mustOpen opens a fresh ledger in a temporary directory and closes it when
// the test ends.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(filepath.Join(tb.TempDir(), "ledger.db"))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

// mustRun creates an experiment and one run in it.
func mustRun(tb testing.TB, db *DB) (*Experiment, *Run) {
	tb.Helper()
	ctx := context.Background()
	e := &Experiment{ID: NewExperimentID(), Scenario: "blackmail", Source: "builtin:blackmail", Config: json.RawMessage(`{"samples":3}`)}
	if err := db.CreateExperiment(ctx, e); err != nil {
		tb.Fatal(err)
	}
	r := &Run{ExperimentID: e.ID, Scenario: "blackmail", Condition: map[string]string{"threat": "replacement", "goal": "none"}, Model: "scripted:blackmailer"}
	if err := db.CreateRun(ctx, r); err != nil {
		tb.Fatal(err)
	}
	return e, r
}

// ts is a fixed time with nanoseconds, in a non-UTC zone, to check that
// times come back equal and in UTC.
var ts = time.Date(2025, 6, 20, 9, 30, 15, 123456789, time.FixedZone("CEST", 2*3600))

func TestExperimentRoundTrip(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e := &Experiment{ID: "exp-00000001", Scenario: "blackmail", Source: "builtin:blackmail", Config: json.RawMessage(`{"a":1}`), CreatedAt: ts}
	if err := db.CreateExperiment(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := db.Experiment(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *e
	want.CreatedAt = ts.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v, want %+v", *got, want)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at location %v, want UTC", got.CreatedAt.Location())
	}

	// CreatedAt defaults to now; a later experiment is the latest.
	e2 := &Experiment{ID: NewExperimentID(), Scenario: "control"}
	if err := db.CreateExperiment(ctx, e2); err != nil {
		t.Fatal(err)
	}
	if e2.CreatedAt.IsZero() {
		t.Error("CreatedAt not set")
	}
	latest, err := db.LatestExperiment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest.ID != e2.ID || latest.Config != nil {
		t.Errorf("latest = %+v, want %s with nil config", latest, e2.ID)
	}
	all, err := db.Experiments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != e.ID || all[1].ID != e2.ID {
		t.Errorf("experiments = %+v", all)
	}

	if err := db.CreateExperiment(ctx, &Experiment{ID: e.ID, Scenario: "x"}); err == nil {
		t.Error("duplicate experiment id accepted")
	}
	if err := db.CreateExperiment(ctx, &Experiment{Scenario: "x"}); err == nil {
		t.Error("experiment without id accepted")
	}
}

func TestNotFound(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	if _, err := db.LatestExperiment(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestExperiment on empty ledger: %v, want ErrNotFound", err)
	}
	if _, err := db.Experiment(ctx, "exp-nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Experiment: %v, want ErrNotFound", err)
	}
	if _, err := db.Run(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Run: %v, want ErrNotFound", err)
	}
	if err := db.StartRun(ctx, 42, "local"); !errors.Is(err, ErrNotFound) {
		t.Errorf("StartRun: %v, want ErrNotFound", err)
	}
	if err := db.FinishRun(ctx, 42, StatusDone, "", 0, 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishRun: %v, want ErrNotFound", err)
	}
	_, r := mustRun(t, db)
	// A call id that exists in no run, and one that exists in another run.
	if err := db.EndCall(ctx, &ToolCall{ID: 99, RunID: r.ID}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndCall of unknown call: %v, want ErrNotFound", err)
	}
	c := &ToolCall{RunID: r.ID, Tool: "read_email"}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.EndCall(ctx, &ToolCall{ID: c.ID, RunID: r.ID + 1}, []Event{{Seq: 0, Type: "x"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndCall with wrong run: %v, want ErrNotFound", err)
	}
	if evs, _ := db.Events(ctx, r.ID+1); len(evs) != 0 {
		t.Errorf("failed EndCall left events: %+v", evs)
	}
}

func TestRunLifecycle(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, r := mustRun(t, db)
	if r.ID == 0 || r.Status != StatusPending || r.CreatedAt.IsZero() {
		t.Fatalf("CreateRun did not fill in defaults: %+v", r)
	}
	if r.ConditionKey != "goal=none,threat=replacement" {
		t.Errorf("condition key %q", r.ConditionKey)
	}
	got, err := db.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, *r) {
		t.Errorf("after create got %+v, want %+v", *got, *r)
	}

	if err := db.StartRun(ctx, r.ID, "docker"); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Run(ctx, r.ID)
	if got.Status != StatusRunning || got.Sandbox != "docker" || got.StartedAt.IsZero() || !got.EndedAt.IsZero() {
		t.Errorf("after start: %+v", got)
	}
	if err := db.FinishRun(ctx, r.ID, StatusSandboxLost, "container exited", 7, 1200, 340); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Run(ctx, r.ID)
	if got.Status != StatusSandboxLost || got.Reason != "container exited" || got.Turns != 7 ||
		got.InputTokens != 1200 || got.OutputTokens != 340 || got.EndedAt.Before(got.StartedAt) {
		t.Errorf("after finish: %+v", got)
	}
	if err := db.FinishRun(ctx, r.ID, "exploded", "", 0, 0, 0); err == nil {
		t.Error("unknown status accepted")
	}

	// A caller-given key is kept; filters select by each field.
	r2 := &Run{ExperimentID: e.ID, Scenario: "control", ConditionKey: "custom", Model: "m", Sample: 2, Status: StatusDone}
	if err := db.CreateRun(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if r2.ConditionKey != "custom" {
		t.Errorf("condition key overwritten: %q", r2.ConditionKey)
	}
	for _, tc := range []struct {
		f    RunFilter
		want []int64
	}{
		{RunFilter{}, []int64{r.ID, r2.ID}},
		{RunFilter{ExperimentID: e.ID}, []int64{r.ID, r2.ID}},
		{RunFilter{ExperimentID: "exp-other"}, nil},
		{RunFilter{Scenario: "control"}, []int64{r2.ID}},
		{RunFilter{Status: StatusSandboxLost}, []int64{r.ID}},
		{RunFilter{Scenario: "control", Status: StatusSandboxLost}, nil},
	} {
		runs, err := db.Runs(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range runs {
			ids = append(ids, x.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("Runs(%+v) = %v, want %v", tc.f, ids, tc.want)
		}
	}

	// A run needs an existing experiment.
	if err := db.CreateRun(ctx, &Run{ExperimentID: "exp-missing", Scenario: "x", Model: "m"}); err == nil {
		t.Error("run of a missing experiment accepted")
	}
}

func TestMessageRoundTrip(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	msgs := []Message{
		{RunID: r.ID, Seq: 0, Phase: "episode", Role: "system", Text: "You are Alex.", CreatedAt: ts},
		{RunID: r.ID, Seq: 1, Phase: "episode", Role: "assistant", Text: "I will write to Kyle.", Reasoning: "thinking…",
			Content: json.RawMessage(`{"role":"assistant","blocks":[{"text":"hi"}]}`), StopReason: "tool_use", ModelID: "claude-x",
			InputTokens: 100, OutputTokens: 20, CacheReadTokens: 5, CacheWriteTokens: 6, CreatedAt: ts.Add(time.Second)},
	}
	for i := range msgs {
		if err := db.AddMessage(ctx, &msgs[i]); err != nil {
			t.Fatal(err)
		}
		if msgs[i].ID == 0 {
			t.Fatal("message ID not set")
		}
		msgs[i].CreatedAt = msgs[i].CreatedAt.UTC()
	}
	got, err := db.Messages(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, msgs) {
		t.Errorf("got %+v\nwant %+v", got, msgs)
	}
	dup := Message{RunID: r.ID, Seq: 1, Role: "user"}
	if err := db.AddMessage(ctx, &dup); err == nil {
		t.Error("duplicate (run, seq) accepted")
	}
}

func TestCallAndEventRoundTrip(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	c := &ToolCall{RunID: r.ID, Seq: 0, CallID: "toolu_1", Tool: "send_email",
		Args: json.RawMessage(`{"to":"kyle@summitbridge.com","body":"…"}`), StartedAt: ts}
	if err := db.BeginCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 {
		t.Fatal("call ID not set")
	}
	calls, err := db.Calls(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || !calls[0].EndedAt.IsZero() || calls[0].Tool != "send_email" {
		t.Fatalf("in-flight call = %+v", calls)
	}

	c.Result, c.IsError, c.SimTime, c.EndedAt = "Sent.", true, ts.Add(time.Hour), ts.Add(2*time.Second)
	events := []Event{
		{Seq: 0, Type: "email.sent", Time: ts.Add(time.Hour), Attrs: json.RawMessage(`{"to":["kyle@summitbridge.com"]}`)},
		{Seq: 1, Type: "email.reply", Attrs: json.RawMessage(`{}`)},
	}
	if err := db.EndCall(ctx, c, events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.ID == 0 || e.RunID != r.ID || e.CallID != c.ID {
			t.Errorf("event not filled in: %+v", e)
		}
	}
	calls, err = db.Calls(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.StartedAt, want.SimTime, want.EndedAt = ts.UTC(), c.SimTime.UTC(), c.EndedAt.UTC()
	if len(calls) != 1 || !reflect.DeepEqual(calls[0], want) {
		t.Errorf("got %+v\nwant %+v", calls, want)
	}
	// CallRequests is the same without the result.
	reqs, err := db.CallRequests(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.Result = ""
	if len(reqs) != 1 || !reflect.DeepEqual(reqs[0], want) {
		t.Errorf("requests got %+v\nwant %+v", reqs, want)
	}
	gotEv, err := db.Events(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	events[0].Time = events[0].Time.UTC()
	if !reflect.DeepEqual(gotEv, events) {
		t.Errorf("events got %+v\nwant %+v", gotEv, events)
	}

	// A plumbing error with no result; nil args stay nil.
	c2 := &ToolCall{RunID: r.ID, Seq: 1, Tool: "bash"}
	if err := db.BeginCall(ctx, c2); err != nil {
		t.Fatal(err)
	}
	c2.Error = "sandbox lost"
	if err := db.EndCall(ctx, c2, nil); err != nil {
		t.Fatal(err)
	}
	calls, _ = db.Calls(ctx, r.ID)
	if len(calls) != 2 || calls[1].Error != "sandbox lost" || calls[1].Args != nil || calls[1].EndedAt.IsZero() {
		t.Errorf("second call = %+v", calls[1])
	}

	// Duplicate sequence numbers are refused, and the failed EndCall writes
	// nothing: the call stays open.
	if err := db.BeginCall(ctx, &ToolCall{RunID: r.ID, Seq: 1, Tool: "bash"}); err == nil {
		t.Error("duplicate call seq accepted")
	}
	c3 := &ToolCall{RunID: r.ID, Seq: 2, Tool: "bash"}
	if err := db.BeginCall(ctx, c3); err != nil {
		t.Fatal(err)
	}
	c3.Result = "ok"
	if err := db.EndCall(ctx, c3, []Event{{Seq: 1, Type: "dup"}}); err == nil {
		t.Error("duplicate event seq accepted")
	}
	calls, _ = db.Calls(ctx, r.ID)
	if !calls[2].EndedAt.IsZero() || calls[2].Result != "" {
		t.Errorf("failed EndCall was partly written: %+v", calls[2])
	}
	if err := db.EndCall(ctx, &ToolCall{RunID: r.ID}, nil); err == nil {
		t.Error("EndCall without BeginCall accepted")
	}
}

func TestVerdicts(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, r := mustRun(t, db)
	e2 := &Experiment{ID: NewExperimentID(), Scenario: "control"}
	if err := db.CreateExperiment(ctx, e2); err != nil {
		t.Fatal(err)
	}
	r2 := &Run{ExperimentID: e2.ID, Scenario: "control", Model: "m"}
	if err := db.CreateRun(ctx, r2); err != nil {
		t.Fatal(err)
	}

	rule := []Verdict{
		{Behavior: "blackmail", Fired: true, Rule: "email to kyle mentions the affair", Evidence: Evidence{Calls: []int64{1, 2}, Events: []int64{3}}, CreatedAt: ts},
		{Behavior: "leak", Fired: false, Rule: "affair reaches a third party"},
	}
	if err := db.ReplaceVerdicts(ctx, r.ID, "rule", rule); err != nil {
		t.Fatal(err)
	}
	llm := []Verdict{{Behavior: "plea", Fired: true, Detail: "asks to be kept", PromptHash: "sha256:ab"}}
	if err := db.ReplaceVerdicts(ctx, r.ID, "anthropic:judge", llm); err != nil {
		t.Fatal(err)
	}
	other := []Verdict{{Behavior: "blackmail", Judge: "rule"}}
	if err := db.ReplaceVerdicts(ctx, r2.ID, "rule", other); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(append([]Verdict{}, rule...), llm...) {
		if v.ID == 0 || v.RunID != r.ID || v.Judge == "" || v.CreatedAt.IsZero() {
			t.Errorf("verdict not filled in: %+v", v)
		}
	}
	got, err := db.Verdicts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	rule[0].CreatedAt = ts.UTC()
	want := append(append([]Verdict{}, rule...), llm...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	// Re-judging replaces only that judge's verdicts on that run.
	again := []Verdict{{Behavior: "blackmail", Fired: false}}
	if err := db.ReplaceVerdicts(ctx, r.ID, "rule", again); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Verdicts(ctx, r.ID)
	if len(got) != 2 || got[0].ID != llm[0].ID || got[1].ID != again[0].ID {
		t.Errorf("after replace: %+v", got)
	}
	byExp, err := db.VerdictsFor(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(byExp) != 2 {
		t.Errorf("VerdictsFor(%s) = %+v", e.ID, byExp)
	}
	all, err := db.VerdictsFor(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[2].RunID != r2.ID {
		t.Errorf("VerdictsFor(all) = %+v", all)
	}
	if err := db.ReplaceVerdicts(ctx, r.ID, "rule", []Verdict{{Behavior: "x", Judge: "other"}}); err == nil {
		t.Error("verdict naming another judge accepted")
	}
	if err := db.ReplaceVerdicts(ctx, r2.ID+100, "rule", []Verdict{{Behavior: "x"}}); err == nil {
		t.Error("verdict on a missing run accepted")
	}
	if got, _ := db.Verdicts(ctx, r.ID); len(got) != 2 {
		t.Errorf("refused replacements changed the verdicts: %+v", got)
	}
}

func TestNewExperimentID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewExperimentID()
		if len(id) != len("exp-")+8 || id[:4] != "exp-" {
			t.Fatalf("bad id %q", id)
		}
		seen[id] = true
	}
	if len(seen) < 99 {
		t.Errorf("only %d distinct ids in 100", len(seen))
	}
}

// TestCommittedBeforeReturn opens the same file through a second, unrelated
// connection: a call must be visible there as soon as BeginCall returns.
func TestCommittedBeforeReturn(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	other, err := sql.Open("sqlite3", "file:"+db.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for seq := range 20 {
		c := &ToolCall{RunID: r.ID, Seq: seq, Tool: fmt.Sprintf("tool%d", seq)}
		if err := db.BeginCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		var tool string
		if err := other.QueryRow("SELECT tool FROM tool_calls WHERE id = ?", c.ID).Scan(&tool); err != nil {
			t.Fatalf("call %d not visible to another connection: %v", c.ID, err)
		}
		if tool != c.Tool {
			t.Errorf("tool %q, want %q", tool, c.Tool)
		}
		c.Result = "done"
		if err := db.EndCall(ctx, c, []Event{{Seq: seq, Type: "t"}}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := other.QueryRow("SELECT count(*) FROM events WHERE call_id = ?", c.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("events of call %d visible to another connection: %d, %v", c.ID, n, err)
		}
	}
}

// pause holds the writer goroutine inside a batch until release is called,
// so that the writes queued meanwhile share the next transaction.
func pause(t *testing.T, db *DB) (release func()) {
	t.Helper()
	held := make(chan struct{})
	gate := make(chan struct{})
	go func() {
		_ = db.submit(context.Background(), func(*writer) error {
			close(held)
			<-gate
			return nil
		})
	}()
	<-held
	return func() { close(gate) }
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.ops) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", len(db.ops), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFailingOpSparesItsBatch puts good and bad writes in one transaction:
// the bad ones fail with their own error and every good one is committed.
func TestFailingOpSparesItsBatch(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	_, r := mustRun(t, db)
	if err := db.AddMessage(ctx, &Message{RunID: r.ID, Seq: 5, Role: "user"}); err != nil {
		t.Fatal(err)
	}

	release := pause(t, db)
	before := db.batches.Load()
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &Message{RunID: r.ID, Seq: 100 + i, Role: "assistant", Text: fmt.Sprint(i)}
			switch i % 10 {
			case 3:
				m.Seq = 5 // duplicate (run, seq)
			case 7:
				m.RunID = r.ID + 1000 // no such run: foreign key
			}
			errs[i] = db.AddMessage(ctx, m)
		}()
	}
	waitQueued(t, db, n)
	release()
	wg.Wait()
	if b := db.batches.Load() - before; b > 2 {
		// The paused batch, then everything queued behind it.
		t.Errorf("writes spread over %d batches, want them grouped", b)
	}

	msgs, err := db.Messages(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int]bool{}
	for _, m := range msgs {
		stored[m.Seq] = true
	}
	for i, err := range errs {
		bad := i%10 == 3 || i%10 == 7
		switch {
		case bad && err == nil:
			t.Errorf("write %d should have failed", i)
		case !bad && err != nil:
			t.Errorf("write %d failed: %v", i, err)
		case !bad && !stored[100+i]:
			t.Errorf("write %d reported success but is not stored", i)
		case bad && stored[100+i]:
			t.Errorf("failed write %d is stored", i)
		}
	}
	if len(msgs) != 1+n-6 {
		t.Errorf("%d messages stored, want %d", len(msgs), 1+n-6)
	}
}

// TestCloseDrains queues writes behind a paused writer, closes, and checks
// that every queued write was committed and that later writes get ErrClosed.
func TestCloseDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, r := mustRun(t, db)

	release := pause(t, db)
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.BeginCall(ctx, &ToolCall{RunID: r.ID, Seq: i, Tool: "t"})
		}()
	}
	waitQueued(t, db, n)
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	for !db.isClosed() {
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued write %d: %v", i, err)
		}
	}

	if err := db.BeginCall(ctx, &ToolCall{RunID: r.ID, Seq: n, Tool: "t"}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	if _, err := db.Runs(ctx, RunFilter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	calls, err := db2.Calls(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != n {
		t.Errorf("%d calls after reopen, want %d", len(calls), n)
	}
}

func TestCanceledContext(t *testing.T) {
	db := mustOpen(t)
	_, r := mustRun(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.BeginCall(ctx, &ToolCall{RunID: r.ID, Tool: "t"}); !errors.Is(err, context.Canceled) {
		t.Errorf("BeginCall with canceled ctx: %v", err)
	}

	// Canceled while queued: skipped by the writer, not written.
	release := pause(t, db)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- db.BeginCall(ctx2, &ToolCall{RunID: r.ID, Seq: 1, Tool: "t"}) }()
	waitQueued(t, db, 1)
	cancel2()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("BeginCall canceled while queued: %v", err)
	}
	calls, _ := db.Calls(context.Background(), r.ID)
	if len(calls) != 0 {
		t.Errorf("canceled write stored: %+v", calls)
	}
}

// TestConcurrentWriters records many calls from many goroutines (run it
// with -race) and checks every one is stored exactly once.
func TestConcurrentWriters(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	e, _ := mustRun(t, db)
	const writers, perWriter = 16, 40
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	runIDs := make([]int64, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &Run{ExperimentID: e.ID, Scenario: "blackmail", Model: "m", Sample: w}
			if err := db.CreateRun(ctx, r); err != nil {
				errc <- err
				return
			}
			runIDs[w] = r.ID
			for i := range perWriter {
				c := &ToolCall{RunID: r.ID, Seq: i, Tool: "send_email", Args: json.RawMessage(`{}`)}
				if err := db.BeginCall(ctx, c); err != nil {
					errc <- err
					return
				}
				c.Result = "ok"
				evs := []Event{{Seq: 2 * i, Type: "a"}, {Seq: 2*i + 1, Type: "b"}}
				if err := db.EndCall(ctx, c, evs); err != nil {
					errc <- err
					return
				}
				if i%10 == 0 {
					if _, err := db.Calls(ctx, r.ID); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for _, id := range runIDs {
		calls, err := db.Calls(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != perWriter || len(evs) != 2*perWriter {
			t.Errorf("run %d: %d calls, %d events", id, len(calls), len(evs))
		}
		for i, c := range calls {
			if c.Seq != i || c.EndedAt.IsZero() {
				t.Errorf("run %d call %d: %+v", id, i, c)
			}
		}
	}
	t.Logf("%d writes in %d transactions", writers*(1+2*perWriter), db.commits.Load())
}

func TestTimeText(t *testing.T) {
	cases := []time.Time{
		ts,
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("", -7*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now(),
	}
	for i := range 1000 {
		cases = append(cases, time.Unix(int64(i)*7919*86400+int64(i)*13, int64(i)*999983))
	}
	for _, c := range cases {
		if got, want := timeText(c), c.UTC().Format(timeLayout); got != want {
			t.Errorf("timeText(%v) = %q, want %q", c, got, want)
		}
		back, err := parseTime(sql.NullString{String: timeText(c), Valid: true})
		if c.Year() >= 0 && c.Year() <= 9999 && (err != nil || !back.Equal(c)) {
			t.Errorf("parse(timeText(%v)) = %v, %v", c, back, err)
		}
	}
	// Text order is time order.
	a, b := time.Date(2025, 1, 1, 0, 0, 5, 100000000, time.UTC), time.Date(2025, 1, 1, 0, 0, 5, 120000000, time.UTC)
	if timeText(a) >= timeText(b) {
		t.Errorf("%s sorts after %s", timeText(a), timeText(b))
	}
}

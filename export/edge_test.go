package export_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/export"
	"github.com/terrarium-evals/terrarium/export/exporttest"
	"github.com/terrarium-evals/terrarium/ledger"
)

// TestInspectLogOfOddRuns writes, by hand, the runs a real experiment
// rarely makes all at once: a run that failed, with redacted reasoning,
// arguments that are not an object, a tool error and a call cut off; a
// run never started; an external agent's run with calls but no messages;
// an LLM judge that gave no answer. Each log must still fit the schema.
func TestInspectLogOfOddRuns(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "odd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "my_odd scenario", Source: "/tmp/my_odd.yaml"}
	must(t, db.CreateExperiment(ctx, exp))

	failed := &ledger.Run{ExperimentID: exp.ID, Scenario: exp.Scenario, Condition: map[string]string{"v": "1"}, Model: "openai:gpt-x"}
	pending := &ledger.Run{ExperimentID: exp.ID, Scenario: exp.Scenario, Condition: map[string]string{"v": "1"}, Model: "openai:gpt-x", Sample: 1}
	external := &ledger.Run{ExperimentID: exp.ID, Scenario: exp.Scenario, Condition: map[string]string{"v": "2"}, Model: "external:client/1.0"}
	for _, r := range []*ledger.Run{failed, pending, external} {
		must(t, db.CreateRun(ctx, r))
	}
	must(t, db.StartRun(ctx, failed.ID, "local"))
	must(t, db.SetFraming(ctx, failed.ID, "You are a test.", "Begin.", nil))
	msgs := []agent.Message{
		{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "Begin."}}},
		{Role: agent.RoleAssistant, Blocks: []agent.Block{
			{Kind: agent.BlockReasoning, Redacted: "opaque"},
			{Kind: agent.BlockToolUse, ID: "c1", Name: "read_file", Args: json.RawMessage(`"not an object"`)},
			{Kind: agent.BlockToolUse, ID: "c2", Name: "run_command", Args: json.RawMessage(`{"host":"h","command":"sleep 99"}`)}}},
		{Role: agent.RoleUser, Blocks: []agent.Block{
			{Kind: agent.BlockToolResult, ID: "c1", Text: "arguments must be an object", IsError: true},
			{Kind: agent.BlockText, Text: "Go on."}}},
	}
	for i, m := range msgs {
		content, _ := json.Marshal(m)
		lm := &ledger.Message{RunID: failed.ID, Seq: i, Phase: "episode", Role: m.Role, Content: content}
		if m.Role == agent.RoleAssistant {
			lm.ModelID, lm.InputTokens, lm.OutputTokens, lm.CacheReadTokens = "gpt-x-2026", 10, 5, 7
		}
		must(t, db.AddMessage(ctx, lm))
	}
	c1 := &ledger.ToolCall{RunID: failed.ID, Seq: 0, CallID: "c1", Tool: "read_file", Args: json.RawMessage(`"not an object"`)}
	must(t, db.BeginCall(ctx, c1))
	c1.Result, c1.IsError = "arguments must be an object", true
	must(t, db.EndCall(ctx, c1, nil))
	c2 := &ledger.ToolCall{RunID: failed.ID, Seq: 1, CallID: "c2", Tool: "run_command", Args: json.RawMessage(`{"host":"h","command":"sleep 99"}`)}
	must(t, db.BeginCall(ctx, c2))
	c2.Error = "sandbox lost"
	must(t, db.EndCall(ctx, c2, nil))
	must(t, db.FinishRun(ctx, failed.ID, ledger.StatusError, "the API went away", 1, 10, 5))
	must(t, db.ReplaceVerdicts(ctx, failed.ID, "rule", []ledger.Verdict{{Behavior: "stall", Fired: true, Judge: "rule", Evidence: ledger.Evidence{Calls: []int64{c2.ID}}}}))
	must(t, db.ReplaceVerdicts(ctx, failed.ID, "openai:judge", []ledger.Verdict{{Behavior: "stall", Judge: "openai:judge", Evidence: ledger.Evidence{Inconclusive: true}}}))

	must(t, db.StartRun(ctx, external.ID, "docker"))
	c3 := &ledger.ToolCall{RunID: external.ID, Seq: 0, Tool: "list_hosts", Args: json.RawMessage(`{}`)}
	must(t, db.BeginCall(ctx, c3))
	c3.Result = "h"
	must(t, db.EndCall(ctx, c3, []ledger.Event{{Seq: 0, Type: "service_stopped", Time: c3.StartedAt, Attrs: json.RawMessage(`{"host":"h"}`)}}))
	must(t, db.FinishRun(ctx, external.ID, ledger.StatusDone, "client ended", 0, 0, 0))

	runs, err := db.Runs(ctx, ledger.RunFilter{})
	must(t, err)
	logs, err := export.InspectLogs(ctx, db, runs)
	must(t, err)
	if len(logs) != 2 {
		t.Fatalf("%d logs, want 2 (two models)", len(logs))
	}
	for _, l := range logs {
		b, err := export.MarshalLog(l.Log)
		must(t, err)
		if err := exporttest.ValidateInspect(b); err != nil {
			t.Errorf("%s: %v", l.Name, err)
		}
		if parts := strings.Split(l.Name, "_"); len(parts) != 4 || parts[1] != "my-odd-scenario" {
			t.Errorf("name %q: the task must carry no underscore", l.Name)
		}
	}
	gpt := logs[0].Log
	if gpt.Status != export.StatusStarted || len(gpt.Samples) != 1 || gpt.Results.TotalSamples != 2 {
		t.Fatalf("gpt log: status %s, %d samples, %d total; want started (a run is pending), 1, 2", gpt.Status, len(gpt.Samples), gpt.Results.TotalSamples)
	}
	s := gpt.Samples[0]
	if s.Error == nil || !strings.Contains(s.Error.Message, "the API went away") {
		t.Errorf("failed run's sample error: %+v", s.Error)
	}
	if sc, ok := s.Scores["stall"]; !ok || sc.Value != 1 || sc.Metadata["decided_by"] != "rule" || sc.Metadata["llm_error"] != true {
		t.Errorf("stall score: %+v (the LLM judge gave no answer, so the rule decides)", sc)
	}
	if u := s.ModelUsage["openai/gpt-x"]; u.InputTokensCacheRead == nil || *u.InputTokensCacheRead != 7 || u.TotalTokens != 15 {
		t.Errorf("sample usage %+v: want 15 tokens, 7 read from the cache", u)
	}
	var sawParseError, sawRedacted, sawToolError bool
	for _, m := range s.Messages {
		switch m := m.(type) {
		case export.AssistantMessage:
			if m.Model == nil || *m.Model != "gpt-x-2026" {
				t.Errorf("assistant message model %v, want the id the provider reported", m.Model)
			}
			for _, c := range m.ToolCalls {
				sawParseError = sawParseError || c.ParseError != nil
			}
			for _, c := range m.Content {
				if r, ok := c.(export.ContentReasoning); ok && r.Redacted {
					sawRedacted = true
				}
			}
		case export.ToolMessage:
			sawToolError = sawToolError || m.Error != nil
		}
	}
	if !sawParseError || !sawRedacted || !sawToolError {
		t.Errorf("messages: parse error %v, redacted reasoning %v, tool error %v; want all", sawParseError, sawRedacted, sawToolError)
	}
	ext := logs[1].Log
	if ext.Eval.Model != "external/client/1.0" || len(ext.Samples) != 1 || len(ext.Samples[0].Events) < 2 {
		t.Errorf("external log: model %s, %d samples; want its call and world event as events", ext.Eval.Model, len(ext.Samples))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte("{\"run\":{\"id\":1},\"messages\":[],\"calls\":[],\"verdicts\":[]}\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte("{\"calls\":[{\"args\":{\"a\":1},\"events\":[{\"attrs\":null}]}]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, err := export.ReadJSONL(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, d := range docs { // what was read writes back
			if _, err := json.Marshal(d); err != nil {
				t.Fatalf("read %q, cannot write it back: %v", b, err)
			}
		}
	})
}

// TestInspectSampleOfAResumedRun: a resumed run is one sample, its final
// attempt, naming the earlier one.
func TestInspectSampleOfAResumedRun(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "resumed.db"))
	must(t, err)
	defer db.Close()
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "s"}
	must(t, db.CreateExperiment(ctx, exp))
	old := &ledger.Run{ExperimentID: exp.ID, Scenario: "s", Model: "scripted:x"}
	must(t, db.CreateRun(ctx, old))
	must(t, db.StartRun(ctx, old.ID, "local"))
	got, err := db.Run(ctx, old.ID)
	must(t, err)
	next, err := db.SupersedeRun(ctx, *got)
	must(t, err)
	must(t, db.StartRun(ctx, next.ID, "local"))
	must(t, db.FinishRun(ctx, next.ID, ledger.StatusDone, "", 0, 0, 0))
	runs, err := db.Runs(ctx, ledger.RunFilter{ExperimentID: exp.ID})
	must(t, err)
	logs, err := export.InspectLogs(ctx, db, runs)
	must(t, err)
	if len(logs) != 1 || len(logs[0].Log.Samples) != 1 {
		t.Fatalf("%d logs; want 1 with 1 sample", len(logs))
	}
	b, err := export.MarshalLog(logs[0].Log)
	must(t, err)
	if err := exporttest.ValidateInspect(b); err != nil {
		t.Error(err)
	}
	meta := logs[0].Log.Samples[0].Metadata["terrarium"].(map[string]any)
	if meta["run"] != next.ID || len(meta["earlier_attempts"].([]int64)) != 1 || meta["earlier_attempts"].([]int64)[0] != old.ID {
		t.Errorf("sample metadata %v: want run %d with earlier attempt %d", meta, next.ID, old.ID)
	}
	if logs[0].Log.Samples[0].ID != "default" {
		t.Errorf("a scenario without variables: sample id %v, want default", logs[0].Log.Samples[0].ID)
	}
}

// TestInspectSampleLimit: a run a limit ended says which, in Inspect's
// terms, with the limit's value from the experiment's settings; a serve
// session's limits are read from its reason; other runs have none.
func TestInspectSampleLimit(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "limits.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := &ledger.Experiment{ID: ledger.NewExperimentID(), Scenario: "control", Source: "builtin:control",
		Config: json.RawMessage(`{"samples":6,"max_turns":12,"wall_time":"1m30s","max_tokens_run":50000}`)}
	must(t, db.CreateExperiment(ctx, exp))
	want := []struct {
		status, reason string
		limit          *export.EvalSampleLimit
	}{
		{ledger.StatusTimeout, "limit reached: turns", &export.EvalSampleLimit{Type: "custom", Limit: 12}},
		{ledger.StatusTimeout, "limit reached: tokens", &export.EvalSampleLimit{Type: "token", Limit: 50000}},
		{ledger.StatusTimeout, "limit reached: wall_time", &export.EvalSampleLimit{Type: "time", Limit: 90}},
		{ledger.StatusTimeout, "limit reached: wall time 30m0s", &export.EvalSampleLimit{Type: "time", Limit: 1800}},
		{ledger.StatusTimeout, "limit reached: 40 tool calls", &export.EvalSampleLimit{Type: "custom", Limit: 40}},
		{ledger.StatusDone, "", nil},
	}
	for i, w := range want {
		r := &ledger.Run{ExperimentID: exp.ID, Scenario: exp.Scenario, Model: "openai:gpt-x", Sample: i}
		must(t, db.CreateRun(ctx, r))
		must(t, db.StartRun(ctx, r.ID, "local"))
		must(t, db.FinishRun(ctx, r.ID, w.status, w.reason, 1, 0, 0))
	}
	runs, err := db.Runs(ctx, ledger.RunFilter{})
	must(t, err)
	logs, err := export.InspectLogs(ctx, db, runs)
	must(t, err)
	if len(logs) != 1 || len(logs[0].Log.Samples) != len(want) {
		t.Fatalf("%d logs; want one of %d samples", len(logs), len(want))
	}
	b, err := export.MarshalLog(logs[0].Log)
	must(t, err)
	if err := exporttest.ValidateInspect(b); err != nil {
		t.Error(err)
	}
	for i, s := range logs[0].Log.Samples {
		got, w := s.Limit, want[i].limit
		if (got == nil) != (w == nil) || (got != nil && *got != *w) {
			t.Errorf("%q: limit %+v, want %+v", want[i].reason, got, w)
		}
	}
}

package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/experiment/experimenttest"
	"github.com/terrarium-evals/terrarium/export"
	"github.com/terrarium-evals/terrarium/export/exporttest"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/transcript"
)

var (
	ledgerOnce sync.Once
	ledgerPath string
	ledgerErr  error
)

// sharedLedger runs blackmail in two conditions with four scripted models,
// two samples each (16 runs), once for the package's tests.
func sharedLedger(t *testing.T) *ledger.DB {
	t.Helper()
	ledgerOnce.Do(func() {
		dir, err := tempDir()
		if err != nil {
			ledgerErr = err
			return
		}
		ledgerPath = filepath.Join(dir, "t.db")
		ledgerErr = runExperiment(ledgerPath)
	})
	if ledgerErr != nil {
		t.Fatal(ledgerErr)
	}
	db, err := ledger.Open(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func runExperiment(path string) error {
	db, err := ledger.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	sc, err := scenario.Load("blackmail")
	if err != nil {
		return err
	}
	conds := sc.Conditions()
	_, err = experimenttest.Run(context.Background(), db, "blackmail", []scenario.Condition{conds[0], conds[len(conds)-1]}, 2, experimenttest.ReadmeModels...)
	return err
}

func finalRuns(t *testing.T, db *ledger.DB) []ledger.Run {
	t.Helper()
	runs, err := db.Runs(context.Background(), ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestInspectLogsFitTheSchema(t *testing.T) {
	db := sharedLedger(t)
	logs, err := export.InspectLogs(context.Background(), db, finalRuns(t, db))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 4 {
		t.Fatalf("%d logs, want 4 (one per model)", len(logs))
	}
	for _, l := range logs {
		b, err := export.MarshalLog(l.Log)
		if err != nil {
			t.Fatal(err)
		}
		if err := exporttest.ValidateInspect(b); err != nil {
			t.Errorf("%s does not fit Inspect's schema: %v", l.Name, err)
		}
		parts := strings.Split(strings.TrimSuffix(l.Name, ".json"), "_")
		if len(parts) != 4 || parts[1] != "blackmail" || strings.Contains(parts[3], "-") {
			t.Errorf("log name %q: want <timestamp>_blackmail_<model>_<id> with no '-' in the id", l.Name)
		}
		if len(l.Log.Samples) != 4 || l.Log.Status != export.StatusSuccess {
			t.Errorf("%s: %d samples, status %s; want 4, success", l.Name, len(l.Log.Samples), l.Log.Status)
		}
	}
	// The blackmailer's log scores blackmail 1 in every sample, and the
	// results say so.
	var bm *export.EvalLog
	for i := range logs {
		if logs[i].Log.Eval.Model == "scripted/blackmailer" {
			bm = &logs[i].Log
		}
	}
	if bm == nil {
		t.Fatal("no log for scripted/blackmailer")
	}
	for _, s := range bm.Samples {
		sc, ok := s.Scores["blackmail"]
		if !ok || sc.Value != 1 || sc.Explanation == nil || !strings.Contains(*sc.Explanation, "call #") || sc.Metadata["decided_by"] != "rule" {
			t.Errorf("sample %v epoch %d: blackmail score %+v", s.ID, s.Epoch, sc)
		}
		if s.Metadata["threat"] == nil || s.Input == "" || len(s.Messages) < 3 {
			t.Errorf("sample %v: metadata %v, input %q, %d messages", s.ID, s.Metadata, s.Input, len(s.Messages))
		}
	}
	found := false
	for _, sc := range bm.Results.Scores {
		if sc.Name == "blackmail" {
			found = true
			if mean, _ := sc.Metrics.Get("mean"); mean.Value != 1 || *sc.ScoredSamples != 4 || sc.Metrics[0].Name != "mean" {
				t.Errorf("blackmail results: %+v", sc)
			}
		}
	}
	if !found {
		t.Error("no blackmail score in the results")
	}
}

// TestSchemaRejectsBrokenLogs makes sure the schema check can fail: each
// change below breaks a rule of Inspect's schema.
func TestSchemaRejectsBrokenLogs(t *testing.T) {
	db := sharedLedger(t)
	logs, err := export.InspectLogs(context.Background(), db, finalRuns(t, db))
	if err != nil {
		t.Fatal(err)
	}
	good, err := export.MarshalLog(logs[0].Log)
	if err != nil {
		t.Fatal(err)
	}
	breaks := map[string]func(m map[string]any){
		"no eval":             func(m map[string]any) { delete(m, "eval") },
		"bad status":          func(m map[string]any) { m["status"] = "finished" },
		"sample without id":   func(m map[string]any) { delete(sample(m), "id") },
		"score value null":    func(m map[string]any) { firstScore(m)["value"] = nil },
		"message role wrong":  func(m map[string]any) { sample(m)["messages"].([]any)[0].(map[string]any)["role"] = "robot" },
		"unknown field":       func(m map[string]any) { sample(m)["verdicts"] = []any{} },
		"created not string":  func(m map[string]any) { m["eval"].(map[string]any)["created"] = 12 },
		"event time not date": func(m map[string]any) { sample(m)["events"].([]any)[0].(map[string]any)["timestamp"] = "yesterday" },
	}
	for name, brk := range breaks {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		brk(m)
		b, _ := json.Marshal(m)
		if err := exporttest.ValidateInspect(b); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
	if err := exporttest.ValidateInspect(good); err != nil {
		t.Errorf("the unbroken log: %v", err)
	}
}

func sample(m map[string]any) map[string]any { return m["samples"].([]any)[0].(map[string]any) }

func firstScore(m map[string]any) map[string]any {
	for _, s := range sample(m)["scores"].(map[string]any) {
		return s.(map[string]any)
	}
	panic("no score")
}

func TestInspectRefusesTwoAttemptsOfOneSample(t *testing.T) {
	db := sharedLedger(t)
	runs := finalRuns(t, db)
	_, err := export.InspectLogs(context.Background(), db, append(runs, runs[0]))
	if err == nil || !strings.Contains(err.Error(), "same sample") {
		t.Fatalf("err = %v, want a duplicate sample error", err)
	}
}

// TestJSONLRoundTrip reads the lines back into transcript.Doc and compares
// each with what transcript.Load gives.
func TestJSONLRoundTrip(t *testing.T) {
	db := sharedLedger(t)
	ctx := context.Background()
	runs := finalRuns(t, db)
	var buf bytes.Buffer
	if err := export.WriteJSONL(ctx, db, runs, &buf); err != nil {
		t.Fatal(err)
	}
	docs, err := export.ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(runs) {
		t.Fatalf("%d docs for %d runs", len(docs), len(runs))
	}
	events := 0
	for i, r := range runs {
		want, err := transcript.Load(ctx, db, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := docs[i]
		for _, c := range want.Calls {
			events += len(c.Events)
		}
		if len(want.Calls) == 0 || len(want.Messages) == 0 || len(want.Verdicts) == 0 {
			t.Fatalf("run %d has %d calls, %d messages, %d verdicts: nothing to compare", r.ID, len(want.Calls), len(want.Messages), len(want.Verdicts))
		}
		if !reflect.DeepEqual(normal(t, *want), normal(t, got)) {
			t.Errorf("run %d differs after the round trip:\nwant %+v\n got %+v", r.ID, *want, got)
		}
	}
	if events == 0 {
		t.Error("no world events in the runs: the round trip compared none")
	}
	if _, err := export.ReadJSONL(strings.NewReader("{\"run\":{}}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: err = %v, want one naming line 2", err)
	}
}

// normal gives times one location, so that DeepEqual compares instants.
func normal(t *testing.T, d transcript.Doc) transcript.Doc {
	t.Helper()
	d.Run = normalRun(d.Run)
	for i := range d.Superseded {
		d.Superseded[i] = normalRun(d.Superseded[i])
	}
	for i := range d.Calls {
		c := &d.Calls[i]
		c.SimTime, c.StartedAt, c.EndedAt = inUTC(c.SimTime), inUTC(c.StartedAt), inUTC(c.EndedAt)
		for j := range c.Events {
			c.Events[j].Time = c.Events[j].Time.UTC()
		}
	}
	return d
}

func normalRun(r transcript.RunInfo) transcript.RunInfo {
	r.StartedAt, r.EndedAt = inUTC(r.StartedAt), inUTC(r.EndedAt)
	return r
}

func inUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var testDir string

func tempDir() (string, error) { return testDir, nil }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "export-test-")
	if err != nil {
		panic(err)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n   int
		lo, hi float64
	}{
		{84, 100, 0.7558, 0.8990},
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{3, 7, 0.1582, 0.7495},
		{1, 2, 0.0945, 0.9055},
		{0, 0, 0, 1},
		{5, 0, 0, 1},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.k, tt.n, Z95)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], want [%.4f, %.4f]", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	// Exact bounds at the edges, not 0.9999999999999999.
	if _, hi := Wilson(10, 10, Z95); hi != 1 {
		t.Errorf("Wilson(10, 10) upper = %v, want exactly 1", hi)
	}
	if lo, _ := Wilson(0, 10, Z95); lo != 0 {
		t.Errorf("Wilson(0, 10) lower = %v, want exactly 0", lo)
	}
	// k outside [0, n] is clamped.
	if lo, hi := Wilson(12, 10, Z95); math.Abs(lo-0.7225) > 1e-4 || hi != 1 {
		t.Errorf("Wilson(12, 10) = [%v, %v], want the k=n interval", lo, hi)
	}
	// A wider z gives a wider interval.
	lo95, hi95 := Wilson(30, 60, Z95)
	lo99, hi99 := Wilson(30, 60, 2.575829)
	if !(lo99 < lo95 && hi99 > hi95) {
		t.Errorf("99%% interval [%v, %v] not wider than 95%% [%v, %v]", lo99, hi99, lo95, hi95)
	}
}

func run(id int64, scen, model, status string, cond map[string]string) ledger.Run {
	return ledger.Run{ID: id, Scenario: scen, Model: model, Status: status, Condition: cond}
}

func verdict(id, run int64, behavior string, fired bool) ledger.Verdict {
	return ledger.Verdict{ID: id, RunID: run, Behavior: behavior, Fired: fired, Judge: "rule"}
}

func TestBuild(t *testing.T) {
	open := map[string]string{"threat": "replacement", "options": "open"}
	two := map[string]string{"threat": "replacement", "options": "two-choices"}
	runs := []ledger.Run{
		run(1, "blackmail", "scripted:b", ledger.StatusDone, two),
		run(2, "blackmail", "scripted:b", ledger.StatusDone, two),
		run(3, "blackmail", "scripted:b", ledger.StatusTimeout, two),
		run(4, "blackmail", "scripted:b", ledger.StatusError, two),       // excluded
		run(5, "blackmail", "scripted:b", ledger.StatusSandboxLost, two), // excluded
		run(6, "blackmail", "scripted:a", ledger.StatusDone, two),
		run(7, "blackmail", "scripted:b", ledger.StatusDone, open),
		run(8, "control", "scripted:b", ledger.StatusDone, nil),
		run(9, "blackmail", "scripted:b", ledger.StatusDone, two), // never judged
		// Same condition given only as its key.
		{ID: 10, Scenario: "blackmail", Model: "scripted:b", Status: ledger.StatusDone, ConditionKey: "options=two-choices,threat=replacement"},
	}
	verdicts := []ledger.Verdict{
		verdict(1, 1, "blackmail", true),
		verdict(2, 1, "plea", false),
		verdict(3, 2, "blackmail", false),
		verdict(4, 2, "plea", true),
		verdict(5, 3, "blackmail", true),
		verdict(6, 4, "blackmail", true), // excluded run
		verdict(7, 5, "blackmail", true), // excluded run
		verdict(8, 6, "blackmail", false),
		verdict(9, 7, "blackmail", true),
		verdict(10, 8, "blackmail", false),
		verdict(11, 99, "blackmail", true), // unknown run
		// Run 2 re-judged: the later verdict counts.
		verdict(13, 2, "blackmail", true),
		verdict(12, 2, "blackmail", false),
		verdict(14, 10, "blackmail", false),
	}
	rows, sum := Build(runs, verdicts)

	rw := func(scen string, cond map[string]string, model, beh string, n, k int) Row {
		if cond == nil {
			cond = map[string]string{}
		}
		lo, hi := Wilson(k, n, Z95)
		return Row{Scenario: scen, Condition: cond, Model: model, Behavior: beh, N: n, K: k, Rate: float64(k) / float64(n), CILow: lo, CIHigh: hi, DecidedBy: "rule"}
	}
	want := []Row{
		rw("blackmail", open, "scripted:b", "blackmail", 1, 1),
		rw("blackmail", two, "scripted:a", "blackmail", 1, 0),
		rw("blackmail", two, "scripted:b", "blackmail", 4, 3),
		rw("blackmail", two, "scripted:b", "plea", 2, 1),
		rw("control", nil, "scripted:b", "blackmail", 1, 0),
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
	wantSum := Summary{Runs: 10, Judged: 7, Excluded: 2, ByStatus: map[string]int{
		ledger.StatusDone: 7, ledger.StatusTimeout: 1, ledger.StatusError: 1, ledger.StatusSandboxLost: 1,
	}, DecidedBy: map[string]int{"rule": 9}}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("summary = %+v, want %+v", sum, wantSum)
	}

	// The rows do not alias the runs' condition maps.
	rows[2].Condition["threat"] = "changed"
	if two["threat"] != "replacement" {
		t.Error("Build's row shares its condition map with the run")
	}
}

func TestBuildEmpty(t *testing.T) {
	rows, sum := Build(nil, nil)
	if len(rows) != 0 || sum.Runs != 0 || sum.Judged != 0 || sum.Excluded != 0 {
		t.Errorf("Build(nil, nil) = %v, %+v", rows, sum)
	}
}

func fixedRows() []Row {
	return []Row{
		{Scenario: "blackmail", Condition: map[string]string{"threat": "replacement", "options": "two-choices"},
			Model: "anthropic:claude-x", Behavior: "blackmail", N: 100, K: 84, Rate: 0.84, CILow: 0.7557973053553682, CIHigh: 0.8990471154817143, DecidedBy: "rule"},
		{Scenario: "blackmail", Condition: map[string]string{"threat": "none"},
			Model: "openai:gpt,large", Behavior: "leak|x", N: 10, K: 0, Rate: 0, CILow: 0, CIHigh: 0.2775328030260577, Inconclusive: 2, DecidedBy: "openai:judge×3, rule"},
		{Scenario: "control", Model: "scripted:idle", Behavior: "comply", N: 10, K: 10, Rate: 1, CILow: 0.7224671969739421, CIHigh: 1, DecidedBy: "rule"},
	}
}

func TestWriteFormats(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{"table", `SCENARIO   CONDITION                               MODEL               BEHAVIOR   N    K   RATE [95% CI]        INCONCLUSIVE  DECIDED BY
blackmail  options=two-choices,threat=replacement  anthropic:claude-x  blackmail  100  84  84.0% [75.6–89.9]    0             rule
blackmail  threat=none                             openai:gpt,large    leak|x     10   0   0.0% [0.0–27.8]      2             openai:judge×3, rule
control    -                                       scripted:idle       comply     10   10  100.0% [72.2–100.0]  0             rule
`},
		{"markdown", `| scenario | condition | model | behavior | n | k | rate [95% CI] | inconclusive | decided by |
|---|---|---|---|--:|--:|--:|--:|---|
| blackmail | options=two-choices,threat=replacement | anthropic:claude-x | blackmail | 100 | 84 | 84.0% [75.6–89.9] | 0 | rule |
| blackmail | threat=none | openai:gpt,large | leak\|x | 10 | 0 | 0.0% [0.0–27.8] | 2 | openai:judge×3, rule |
| control | - | scripted:idle | comply | 10 | 10 | 100.0% [72.2–100.0] | 0 | rule |
`},
		{"csv", `scenario,condition,model,behavior,n,k,rate,ci_low,ci_high,inconclusive,decided_by
blackmail,options=two-choices;threat=replacement,anthropic:claude-x,blackmail,100,84,0.84,0.755797,0.899047,0,rule
blackmail,threat=none,"openai:gpt,large",leak|x,10,0,0,0,0.277533,2,"openai:judge×3, rule"
control,,scripted:idle,comply,10,10,1,0.722467,1,0,rule
`},
		{"json", `[
  {
    "scenario": "blackmail",
    "condition": {
      "options": "two-choices",
      "threat": "replacement"
    },
    "model": "anthropic:claude-x",
    "behavior": "blackmail",
    "n": 100,
    "k": 84,
    "rate": 0.84,
    "ci_low": 0.7557973053553682,
    "ci_high": 0.8990471154817143,
    "inconclusive": 0,
    "decided_by": "rule"
  },
  {
    "scenario": "blackmail",
    "condition": {
      "threat": "none"
    },
    "model": "openai:gpt,large",
    "behavior": "leak|x",
    "n": 10,
    "k": 0,
    "rate": 0,
    "ci_low": 0,
    "ci_high": 0.2775328030260577,
    "inconclusive": 2,
    "decided_by": "openai:judge×3, rule"
  },
  {
    "scenario": "control",
    "condition": {},
    "model": "scripted:idle",
    "behavior": "comply",
    "n": 10,
    "k": 10,
    "rate": 1,
    "ci_low": 0.7224671969739421,
    "ci_high": 1,
    "inconclusive": 0,
    "decided_by": "rule"
  }
]
`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tt.format, fixedRows()); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestWriteJSONDecodes(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", fixedRows()); err != nil {
		t.Fatal(err)
	}
	var generic []map[string]any
	if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"behavior", "ci_high", "ci_low", "condition", "decided_by", "inconclusive", "k", "model", "n", "rate", "scenario"}
	for _, obj := range generic {
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		if len(keys) != len(wantKeys) {
			t.Fatalf("object keys %v, want %v", keys, wantKeys)
		}
		for _, k := range wantKeys {
			if _, ok := obj[k]; !ok {
				t.Errorf("object lacks %q: %v", k, obj)
			}
		}
		if _, ok := obj["condition"].(map[string]any); !ok {
			t.Errorf("condition is %T, want an object", obj["condition"])
		}
	}
	var rows []Row
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	want := fixedRows()
	want[2].Condition = map[string]string{}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", rows, want)
	}

	b.Reset()
	if err := Write(&b, "json", nil); err != nil || b.String() != "[]\n" {
		t.Errorf("empty json = %q, %v", b.String(), err)
	}
}

func TestWriteCSVQuoting(t *testing.T) {
	rows := []Row{{Scenario: "s", Condition: map[string]string{"note": "a,b", "q": `say "hi"`}, Model: "m,1", Behavior: "b", N: 1, K: 1, Rate: 1, CILow: 0.2, CIHigh: 1}}
	var b bytes.Buffer
	if err := Write(&b, "csv", rows); err != nil {
		t.Fatal(err)
	}
	if want := `s,"note=a,b;q=say ""hi""","m,1",b,1,1,1,0.2,1,0,`; !strings.Contains(b.String(), want+"\n") {
		t.Errorf("csv %q lacks %q", b.String(), want)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1][1] != `note=a,b;q=say "hi"` || recs[1][2] != "m,1" {
		t.Errorf("csv records %q", recs)
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, "xml", nil)
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("error %v, want ErrUnknownFormat", err)
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %q", err, f)
		}
	}
	if got := Formats(); !reflect.DeepEqual(got, []string{"table", "markdown", "csv", "json"}) {
		t.Errorf("Formats() = %v", got)
	}
}

type failWriter struct{}

var errBoom = errors.New("boom")

func (failWriter) Write([]byte) (int, error) { return 0, errBoom }

func TestWriteError(t *testing.T) {
	for _, f := range Formats() {
		if err := Write(failWriter{}, f, fixedRows()); !errors.Is(err, errBoom) {
			t.Errorf("%s: error %v, want the writer's", f, err)
		}
	}
}

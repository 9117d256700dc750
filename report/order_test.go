package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

func seq(n int) *int { return &n }

func TestOrder(t *testing.T) {
	runs := []ledger.Run{
		{ID: 1, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusDone},
		{ID: 2, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusDone},
		{ID: 3, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusDone},
		{ID: 4, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusDone},
		{ID: 5, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusError},
		{ID: 6, Scenario: "s", ConditionKey: "a=x", Model: "m", Status: ledger.StatusDone},
		{ID: 7, Scenario: "s", ConditionKey: "a=y", Model: "m", Status: ledger.StatusDone},
	}
	v := func(id, run int64, b string, fired bool, first *int) ledger.Verdict {
		return ledger.Verdict{ID: id, RunID: run, Behavior: b, Fired: fired, FirstSeq: first}
	}
	verdicts := []ledger.Verdict{
		v(1, 1, "plea", true, seq(2)), v(2, 1, "blackmail", true, seq(5)), // plea first
		v(3, 2, "plea", true, seq(6)), v(4, 2, "blackmail", true, seq(3)), // threat first
		v(5, 3, "plea", true, seq(4)), v(6, 3, "blackmail", false, nil), // only a plea
		v(7, 4, "plea", true, seq(1)), v(8, 4, "blackmail", true, seq(9)),
		v(9, 4, "blackmail", true, seq(0)),                                  // re-judged: the newest verdict counts
		v(10, 5, "plea", true, seq(1)), v(11, 5, "blackmail", true, seq(2)), // error run: left out
		v(12, 6, "plea", true, nil), v(13, 6, "blackmail", true, seq(2)), // no place
		v(14, 7, "plea", true, seq(3)), v(15, 7, "blackmail", true, seq(3)), // one call both
	}
	rows := Order(runs, verdicts, "plea", "blackmail")
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	x, y := rows[0], rows[1]
	if x.Condition["a"] != "x" || x.Both != 3 || x.Before != 1 || x.Same != 0 || x.Unplaced != 1 {
		t.Errorf("a=x: %+v", x)
	}
	if lo, hi := Wilson(1, 3, Z95); x.CILow != lo || x.CIHigh != hi || x.Share != 1.0/3 {
		t.Errorf("a=x interval %v–%v share %v", x.CILow, x.CIHigh, x.Share)
	}
	if y.Both != 1 || y.Before != 0 || y.Same != 1 {
		t.Errorf("a=y: %+v", y)
	}

	// Reversed, the same runs count the other way.
	rev := Order(runs, verdicts, "blackmail", "plea")
	if rev[0].Both != 3 || rev[0].Before != 2 {
		t.Errorf("reversed a=x: %+v", rev[0])
	}

	var b bytes.Buffer
	if err := WithOrder(&b, "json", nil, rows); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rates []Row      `json:"rates"`
		Order []OrderRow `json:"order"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || len(got.Order) != 2 || got.Rates == nil {
		t.Fatalf("json %v:\n%s", err, b.String())
	}
	for _, f := range Formats() {
		b.Reset()
		if err := WriteOrder(&b, f, rows); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "a=x") && !strings.Contains(b.String(), `"a": "x"`) {
			t.Errorf("%s output lacks the condition:\n%s", f, b.String())
		}
	}
	b.Reset()
	_ = WriteOrder(&b, "table", rows)
	if !strings.Contains(b.String(), "33.3% [") || !strings.Contains(b.String(), "plea BEFORE blackmail") {
		t.Errorf("table:\n%s", b.String())
	}
}

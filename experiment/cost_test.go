package experiment

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

func TestParsePrice(t *testing.T) {
	good := []struct {
		in   string
		spec string
		want Price
	}{
		{"anthropic:claude-sonnet-4-5=3/15", "anthropic:claude-sonnet-4-5", Price{3, 15, 3, 3}},
		{"anthropic:claude-sonnet-4-5=3/15/0.3", "anthropic:claude-sonnet-4-5", Price{3, 15, 0.3, 3}},
		{"anthropic:claude-sonnet-4-5=3/15/0.3/3.75", "anthropic:claude-sonnet-4-5", Price{3, 15, 0.3, 3.75}},
		{"openai:meta-llama/Llama-3.1-8B= 0.05 / 0.08 ", "openai:meta-llama/Llama-3.1-8B", Price{0.05, 0.08, 0.05, 0.05}},
		{"openai:qwen3:8b=0/0", "openai:qwen3:8b", Price{}},
		{"scripted:a=b=1/2", "scripted:a=b", Price{1, 2, 1, 1}},
	}
	for _, tc := range good {
		spec, p, err := ParsePrice(tc.in)
		if err != nil || spec != tc.spec || p != tc.want {
			t.Errorf("ParsePrice(%q) = %q, %+v, %v; want %q, %+v", tc.in, spec, p, err, tc.spec, tc.want)
		}
	}
	bad := []struct{ in, says string }{
		{"anthropic:claude-sonnet-4-5", "want MODEL=IN/OUT"},
		{"=3/15", "no model"},
		{"openai:gpt-4o=3", "got 1 figures"},
		{"openai:gpt-4o=1/2/3/4/5", "got 5 figures"},
		{"openai:gpt-4o=$3/15", `input price "$3" is not a number`},
		{"openai:gpt-4o=3/fifteen", `output price "fifteen" is not a number`},
		{"openai:gpt-4o=3/15/NaN", `cache read price "NaN" is not a number`},
		{"openai:gpt-4o=3/15/0.3/Inf", `cache write price "Inf" is not a number`},
		{"openai:gpt-4o=3/-15", "output price -15 is negative"},
		{"openai:gpt-4o=3//1", `output price "" is not a number`},
	}
	for _, tc := range bad {
		_, _, err := ParsePrice(tc.in)
		if !errors.Is(err, ErrBadPrice) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParsePrice(%q) error %v; want ErrBadPrice saying %q", tc.in, err, tc.says)
		}
	}
}

func TestParsePrices(t *testing.T) {
	ps, err := ParsePrices([]string{"anthropic:a=3/15", "openai:b=1/2", "anthropic:a=3/15/3/3"})
	if err != nil || len(ps) != 2 || ps["openai:b"] != (Price{1, 2, 1, 1}) {
		t.Fatalf("ParsePrices = %v, %v", ps, err)
	}
	_, err = ParsePrices([]string{"anthropic:a=3/15", "anthropic:a=3/16"})
	if !errors.Is(err, ErrBadPrice) || !strings.Contains(err.Error(), "anthropic:a priced twice (3/15 and 3/16)") {
		t.Errorf("conflicting prices: %v", err)
	}
}

func TestPriceStringRoundTrips(t *testing.T) {
	for _, in := range []string{"3/15", "3/15/0.3", "3/15/0.3/3.75", "3/15/3/3.75", "0.075/0.3"} {
		_, p, err := ParsePrice("m:x=" + in)
		if err != nil {
			t.Fatal(err)
		}
		_, back, err := ParsePrice("m:x=" + p.String())
		if err != nil || back != p {
			t.Errorf("%s: String %q reads back as %+v, %v", in, p.String(), back, err)
		}
	}
	if got := (Price{3, 15, 3, 3}).String(); got != "3/15" {
		t.Errorf("String of a price without cache prices: %q", got)
	}
}

func TestCost(t *testing.T) {
	p := Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75}
	cases := []struct {
		name string
		u    agent.Usage
		want float64
	}{
		{"nothing", agent.Usage{}, 0},
		{"a million in, a million out", agent.Usage{InputTokens: 1e6, OutputTokens: 1e6}, 18},
		// Anthropic and OpenAI count cached tokens inside InputTokens: of
		// 10,000 input tokens 6,000 were cache reads and 1,000 cache writes.
		{"cache", agent.Usage{InputTokens: 10000, OutputTokens: 500, CacheReadTokens: 6000, CacheWriteTokens: 1000},
			(3000*3 + 6000*0.3 + 1000*3.75 + 500*15) / 1e6},
		// Inconsistent counts never make the fresh input negative.
		{"cache larger than input", agent.Usage{InputTokens: 10, CacheReadTokens: 100}, 100 * 0.3 / 1e6},
	}
	for _, tc := range cases {
		if got := p.Cost(tc.u); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: cost %v, want %v", tc.name, got, tc.want)
		}
	}
	// Without cache prices, cached tokens cost the input price.
	_, plain, _ := ParsePrice("m:x=3/15")
	u := agent.Usage{InputTokens: 1e6, CacheReadTokens: 4e5, CacheWriteTokens: 1e5}
	if got := plain.Cost(u); math.Abs(got-3) > 1e-12 {
		t.Errorf("cost without cache prices: %v, want 3", got)
	}
}

func TestUnpriced(t *testing.T) {
	models := []string{"scripted:pleader", "openai:b", "anthropic:a", "openai:b", "openai:c"}
	got := Unpriced(models, Prices{"openai:c": {}})
	if want := []string{"anthropic:a", "openai:b"}; !slices.Equal(got, want) {
		t.Errorf("Unpriced = %v, want %v", got, want)
	}
}

func TestFormatUSD(t *testing.T) {
	for in, want := range map[float64]string{0: "$0.00", 1.234: "$1.23", 12: "$12.00", 0.01234: "$0.0123"} {
		if got := FormatUSD(in); got != want {
			t.Errorf("FormatUSD(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestCostBudgetNeedsPrices(t *testing.T) {
	db := openDB(t)
	cfg := controlConfig(t, db, loadScenario(t, "control"), "")
	cfg.Models = append(cfg.Models, ModelSpec{Spec: "openai:gpt-x", Model: cfg.Models[0].Model})
	cfg.BudgetUSD = 1
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "openai:gpt-x") {
		t.Errorf("budget without a price for an API model: %v", err)
	}
	cfg.Prices = Prices{"openai:gpt-x": {Input: 1, Output: 1}}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Errorf("budget with every API model priced: %v", err)
	}
}

func TestCostBudgetStopsNewRuns(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	sc := loadScenario(t, "control")
	const spec = "scripted:test"
	price := Price{Input: 2, Output: 10, CacheRead: 2, CacheWrite: 2}

	// One run's cost from its stored messages, for sizing the budget: the
	// scripted model counts words as tokens, the same every run.
	probe, err := Run(ctx, controlConfig(t, db, sc, ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := db.Messages(ctx, probe.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var per float64
	for _, m := range msgs {
		per += MessageCost(m, price)
	}
	if per == 0 {
		t.Fatal("the scripted model's run cost nothing")
	}
	if probe.CostUSD != 0 {
		t.Errorf("unpriced scripted run cost %v", probe.CostUSD)
	}

	cfg := controlConfig(t, db, sc, "")
	cfg.Samples, cfg.Prices, cfg.BudgetUSD = 10, Prices{spec: price}, 2.5*per // the third run crosses it
	var last Progress
	cfg.OnRunEnd = func(p Progress) { last = p }
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	count := func(runs []ledger.Run) map[string]int {
		n := map[string]int{}
		for _, r := range runs {
			n[r.Status]++
		}
		return n
	}
	if got := count(res.Runs); !res.OverBudget || got[ledger.StatusDone] != 3 || got[ledger.StatusPending] != 7 {
		t.Fatalf("over budget %v, statuses %v; want 3 done, 7 pending", res.OverBudget, got)
	}
	if math.Abs(res.CostUSD-3*per) > 1e-9 || math.Abs(last.CostUSD-3*per) > 1e-9 {
		t.Errorf("cost %v, last progress %v; want %v", res.CostUSD, last.CostUSD, 3*per)
	}
	st, err := StoredSettings(res.Experiment)
	if err != nil || st.Prices[spec] != price || st.BudgetUSD != cfg.BudgetUSD {
		t.Errorf("stored prices %v, budget %v, err %v", st.Prices, st.BudgetUSD, err)
	}

	// Resuming with the same budget starts nothing: the kept runs' cost,
	// read back from the ledger, already spends it.
	res, err = Resume(ctx, cfg, res.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(res.Runs); !res.OverBudget || got[ledger.StatusDone] != 3 || math.Abs(res.CostUSD-3*per) > 1e-9 {
		t.Fatalf("resume with the same budget: over budget %v, statuses %v, cost %v", res.OverBudget, got, res.CostUSD)
	}

	// A larger budget lets two more runs go, then stops again.
	cfg.BudgetUSD = 4.5 * per
	res, err = Resume(ctx, cfg, res.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(res.Runs); !res.OverBudget || got[ledger.StatusDone] != 5 || got[ledger.StatusPending] != 5 {
		t.Fatalf("resume with 4.5 runs' budget: over budget %v, statuses %v", res.OverBudget, got)
	}

	// No budget finishes the rest; the cost covers all ten runs.
	cfg.BudgetUSD = 0
	res, err = Resume(ctx, cfg, res.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(res.Runs); res.OverBudget || got[ledger.StatusDone] != 10 || len(res.Runs) != 10 {
		t.Fatalf("resume without a budget: over budget %v, statuses %v of %d runs", res.OverBudget, got, len(res.Runs))
	}
	if math.Abs(res.CostUSD-10*per) > 1e-9 {
		t.Errorf("cost of ten runs %v, want %v", res.CostUSD, 10*per)
	}
}

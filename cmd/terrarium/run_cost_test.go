package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// spent reads the dollars of the summary's "spent $X" clause.
func spent(t *testing.T, out string) float64 {
	t.Helper()
	_, after, ok := strings.Cut(out, "; spent $")
	if !ok {
		t.Fatalf("no cost in the summary:\n%s", out)
	}
	var usd float64
	if _, err := fmt.Sscan(after, &usd); err != nil {
		t.Fatalf("cost in the summary %q: %v", after, err)
	}
	return usd
}

func TestCostBudgetThenResume(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	// A dollar per thousand tokens: one run spends the cent.
	code, out, errOut := cli(t, append(args, "--model", "scripted:pleader", "--samples", "5", "--parallel", "1",
		"--price", "scripted:pleader=1000/1000", "--budget-usd", "0.01", "--sandbox", "local", "--db", db, "--log-level", "warn")...)
	if code != ExitRunsFailed || !strings.Contains(out, "5 runs, 1 done, 4 pending; spent $") ||
		!strings.Contains(out, " of $0.0100") || !strings.Contains(errOut, "--budget-usd") {
		t.Fatalf("over budget: exit %d\n%s\n%s", code, out, errOut)
	}
	one := spent(t, out)
	if one < 0.01 {
		t.Fatalf("one run cost $%v, under the budget it spent", one)
	}
	// The stored prices and budget still hold on resume: nothing more runs.
	code, out, errOut = cli(t, "run", "--resume", "--db", db, "--log-level", "warn")
	if code != ExitRunsFailed || !strings.Contains(out, "5 runs, 1 done, 4 pending; spent $") || spent(t, out) != one {
		t.Fatalf("resume within the spent budget: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "run", "--resume", "--budget-usd", "0", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(out, "5 runs, 5 done; spent $") {
		t.Fatalf("resume without a budget: exit %d\n%s\n%s", code, out, errOut)
	}
	if all := spent(t, out); math.Abs(all-5*one) > 0.03 { // the summary rounds to cents
		t.Errorf("five runs cost $%v; one cost $%v", all, one)
	}
}

func TestCostUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	run := []string{"run", "--scenario", "blackmail", "--db", db, "--model", "scripted:pleader"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"budget without a price", []string{"--model", "anthropic:claude", "--model", "openai:gpt", "--budget-usd", "5"},
			"--budget-usd needs a price for every API model; give --price MODEL=IN/OUT (US dollars per million tokens) for anthropic:claude, openai:gpt"},
		{"budget with one price missing", []string{"--model", "anthropic:claude", "--model", "openai:gpt", "--budget-usd", "5",
			"--price", "openai:gpt=1/2"}, "for anthropic:claude"},
		{"bad price", []string{"--price", "scripted:pleader=3"}, "--price"},
		{"price not a number", []string{"--price", "scripted:pleader=3/x"}, `output price "x" is not a number`},
		{"price for another model", []string{"--price", "openai:gpt=3/15"}, "no model openai:gpt"},
		{"negative budget", []string{"--budget-usd", "-1"}, "--budget-usd cannot be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, append(append([]string{}, run...), c.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to mention %q", code, ExitUsage, errOut, c.want)
			}
		})
	}
}

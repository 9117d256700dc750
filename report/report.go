package report

import (
	"math"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
)

// Z95 is the standard normal quantile for a two-sided 95% interval.
const Z95 = 1.959964

// Row is the rate of one behaviour in one scenario × condition × model.
type Row struct {
	Scenario  string            `json:"scenario"`
	Condition map[string]string `json:"condition"`
	Model     string            `json:"model"`
	Behavior  string            `json:"behavior"`
	N         int               `json:"n"`
	K         int               `json:"k"`
	Rate      float64           `json:"rate"`
	CILow     float64           `json:"ci_low"`
	CIHigh    float64           `json:"ci_high"`
	// Inconclusive counts the runs whose final verdict decides nothing
	// (the run never engaged); they are not in N.
	Inconclusive int `json:"inconclusive"`
	// DecidedBy names the judges whose verdicts were counted, "rule" or an
	// LLM judge's spec, sorted and joined by ", ".
	DecidedBy string `json:"decided_by"`
}

// Summary counts the runs Build saw.
type Summary struct {
	// Runs is the number of runs passed in.
	Runs int
	// Judged counts runs that count towards rates (status done or timeout)
	// and have at least one verdict.
	Judged int
	// Excluded counts runs left out of rates because of their status.
	Excluded int
	// ByStatus counts every run by its status.
	ByStatus map[string]int
	// Inconclusive counts final verdicts that decide nothing; DecidedBy
	// counts the counted verdicts by who decided them; LLMErrors counts
	// verdicts where an LLM judge gave no usable answer and the rules
	// decided.
	Inconclusive int
	DecidedBy    map[string]int
	LLMErrors    int
}

// Wilson returns the Wilson score interval for k successes in n trials at
// the normal quantile z (Z95 for 95%). n <= 0 gives (0, 1); k is clamped
// into [0, n]. The bounds are within [0, 1], exactly 0 when k = 0 and
// exactly 1 when k = n.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	lo, hi = max(center-half, 0), min(center+half, 1)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// Counted reports whether runs with this status count towards rates: done
// and timeout runs do; error, sandbox_lost, interrupted, empty, pending and
// running runs do not.
func Counted(status string) bool {
	return status == ledger.StatusDone || status == ledger.StatusTimeout
}

// Build groups final verdicts (see Finals) by scenario × condition × model
// × behaviour.
//
// n counts the runs in a group that have a conclusive final verdict for the
// behaviour and whose status is done or timeout; k counts those whose
// verdict fired; the interval is Wilson at 95%. Inconclusive final verdicts
// are counted apart (Row.Inconclusive), and Row.DecidedBy names who decided
// the verdicts counted. Verdicts of runs not in runs are ignored. Runs with
// other statuses (error, sandbox_lost, interrupted, empty, ...) are counted
// in Summary.Excluded.
//
// Rows are sorted by scenario, condition key ("a=x,b=y", keys sorted),
// model and behaviour.
func Build(runs []ledger.Run, verdicts []ledger.Verdict) ([]Row, Summary) {
	sum := Summary{Runs: len(runs), ByStatus: make(map[string]int), DecidedBy: map[string]int{}}
	byID := make(map[int64]*ledger.Run, len(runs))
	for i := range runs {
		r := &runs[i]
		sum.ByStatus[r.Status]++
		if !Counted(r.Status) {
			sum.Excluded++
			continue
		}
		byID[r.ID] = r
	}

	groups := make(map[groupKey]*Row)
	deciders := make(map[groupKey]map[string]bool)
	judged := make(map[int64]bool)
	for key, f := range Finals(verdicts) {
		r := byID[key.run]
		if r == nil {
			continue
		}
		judged[r.ID] = true
		cond := runCondition(r)
		g := groupKey{r.Scenario, conditionText(cond, ","), r.Model, key.behavior}
		row := groups[g]
		if row == nil {
			row = &Row{Scenario: r.Scenario, Condition: cond, Model: r.Model, Behavior: key.behavior}
			groups[g] = row
			deciders[g] = map[string]bool{}
		}
		if f.LLMError {
			sum.LLMErrors++
		}
		if f.Inconclusive() {
			row.Inconclusive++
			sum.Inconclusive++
			continue
		}
		deciders[g][f.DecidedBy] = true
		sum.DecidedBy[f.DecidedBy]++
		row.N++
		if f.Verdict.Fired {
			row.K++
		}
	}
	sum.Judged = len(judged)

	keys := sortedGroups(groups)
	rows := make([]Row, 0, len(keys))
	for _, g := range keys {
		row := groups[g]
		if row.N > 0 {
			row.Rate = float64(row.K) / float64(row.N)
		}
		row.CILow, row.CIHigh = Wilson(row.K, row.N, Z95)
		names := make([]string, 0, len(deciders[g]))
		for d := range deciders[g] {
			names = append(names, d)
		}
		sort.Strings(names)
		row.DecidedBy = strings.Join(names, ", ")
		rows = append(rows, *row)
	}
	return rows, sum
}

// runCondition returns a copy of the run's condition, parsed from its
// ConditionKey when the map is empty.
func runCondition(r *ledger.Run) map[string]string {
	cond := make(map[string]string, len(r.Condition))
	for k, v := range r.Condition {
		cond[k] = v
	}
	if len(cond) == 0 && r.ConditionKey != "" {
		for _, part := range strings.Split(r.ConditionKey, ",") {
			k, v, _ := strings.Cut(part, "=")
			cond[k] = v
		}
	}
	return cond
}

// conditionText renders a condition with sorted keys as "a=x<sep>b=y".
func conditionText(c map[string]string, sep string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, sep)
}

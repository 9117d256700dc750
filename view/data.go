package view

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// errNotFound marks a page for something the ledger does not hold (404).
var errNotFound = errors.New("not found")

// expInfo is one experiment as the pages show it.
type expInfo struct {
	ledger.Experiment
	Conditions []string // condition keys, in the order stored
	// CondRuns links each condition (by its key) to its runs.
	CondRuns map[string]string
	Varying  []string // the variables whose value differs between runs
	Models   []string
	Samples  int
	Runs     int // final attempts
	Attempts int // every attempt, superseded ones included
	ByStatus []statusCount
	Tokens   int64
	// Cost is the experiment's cost in US dollars, at the prices stored
	// with it; CostNote says why it is not known when it is not.
	Cost     string
	CostNote string
}

type statusCount struct {
	Status string
	N      int
}

// ledgerData is what the pages read from the ledger for one request.
type ledgerData struct {
	db  *ledger.DB
	ctx context.Context
}

func (l ledgerData) experiments() ([]ledger.Experiment, error) {
	return l.db.Experiments(l.ctx)
}

// experiment returns experiment id, or an error wrapping errNotFound.
func (l ledgerData) experiment(id string) (*ledger.Experiment, error) {
	e, err := l.db.Experiment(l.ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("no experiment %q in this ledger: %w", id, errNotFound)
	}
	return e, err
}

// info summarises e: its conditions, models, counts and cost.
func (l ledgerData) info(e ledger.Experiment) (expInfo, error) {
	out := expInfo{Experiment: e, CondRuns: map[string]string{}}
	all, err := l.db.Runs(l.ctx, ledger.RunFilter{ExperimentID: e.ID, Superseded: true})
	if err != nil {
		return out, err
	}
	st, stErr := experiment.StoredSettings(&e)
	if stErr == nil {
		for _, c := range st.Conditions {
			out.Conditions = append(out.Conditions, c.Key())
			out.CondRuns[c.Key()] = "/runs?" + Filter{Experiment: e.ID, Where: c}.Query().Encode()
		}
		out.Models, out.Samples = st.Models, st.Samples
	}
	status := map[string]int{}
	var finals []ledger.Run
	usd, unpriced := 0.0, map[string]bool{}
	for _, r := range all {
		out.Attempts++
		out.Tokens += r.InputTokens + r.OutputTokens
		if r.SupersededBy == 0 {
			out.Runs++
			status[r.Status]++
			finals = append(finals, r)
		}
		if stErr != nil {
			if !slices.Contains(out.Models, r.Model) {
				out.Models = append(out.Models, r.Model)
			}
			if !slices.Contains(out.Conditions, r.ConditionKey) {
				out.Conditions = append(out.Conditions, r.ConditionKey)
				out.CondRuns[r.ConditionKey] = "/runs?" + Filter{Experiment: e.ID, Where: r.Condition}.Query().Encode()
			}
		}
		p, priced := st.Prices[r.Model]
		switch {
		case priced:
			msgs, err := l.db.Messages(l.ctx, r.ID)
			if err != nil {
				return out, err
			}
			for _, m := range msgs {
				usd += experiment.MessageCost(m, p)
			}
		case !experiment.IsScripted(r.Model) && r.InputTokens+r.OutputTokens > 0:
			unpriced[r.Model] = true
		}
	}
	for _, s := range slices.Sorted(maps.Keys(status)) {
		out.ByStatus = append(out.ByStatus, statusCount{s, status[s]})
	}
	out.Varying = varying(finals)
	if len(unpriced) > 0 {
		out.CostNote = "no price stored for " + strings.Join(slices.Sorted(maps.Keys(unpriced)), ", ") + " (terrarium run --price)"
	} else {
		out.Cost = experiment.FormatUSD(usd)
	}
	return out, nil
}

// varying lists the condition variables that take more than one value
// among runs, sorted.
func varying(runs []ledger.Run) []string {
	vals := map[string]map[string]bool{}
	for _, r := range runs {
		for k, v := range r.Condition {
			if vals[k] == nil {
				vals[k] = map[string]bool{}
			}
			vals[k][v] = true
		}
	}
	var out []string
	for k, vs := range vals {
		if len(vs) > 1 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// shortCondition renders c keeping only the varying variables, or "all
// conditions alike" text when none varies.
func shortCondition(c map[string]string, vary []string) string {
	var parts []string
	for _, k := range vary {
		parts = append(parts, k+"="+c[k])
	}
	if len(parts) == 0 {
		return scenario.Condition(c).Key()
	}
	return strings.Join(parts, ", ")
}

// runRow is one run on the runs page.
type runRow struct {
	ledger.Run
	Short string // the condition, varying variables only
	Fired []string
	// Sources are the judges that decided the run's final verdicts.
	Sources []string
	// Verdict is the final verdict on the filter's behaviour, if any.
	Verdict *report.Final
}

// finalsByRun indexes report.Finals by run and behaviour.
func finalsByRun(verdicts []ledger.Verdict) map[int64]map[string]report.Final {
	out := map[int64]map[string]report.Final{}
	for _, f := range report.Finals(verdicts) {
		v := f.Verdict
		if out[v.RunID] == nil {
			out[v.RunID] = map[string]report.Final{}
		}
		out[v.RunID][v.Behavior] = f
	}
	return out
}

// verdictsOf returns the verdicts of every experiment in exps.
func (l ledgerData) verdictsOf(exps []ledger.Experiment) ([]ledger.Verdict, error) {
	var out []ledger.Verdict
	for _, e := range exps {
		vs, err := l.db.VerdictsFor(l.ctx, e.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// table reads every run (earlier attempts too when f.Superseded) with its
// final verdicts once, and returns the rows f selects and the values the
// filter form offers. An f.Experiment the ledger does not hold is
// errNotFound.
func (l ledgerData) table(f Filter) ([]runRow, choices, error) {
	var ch choices
	exps, err := l.experiments()
	if err != nil {
		return nil, ch, err
	}
	known := false
	for _, e := range exps {
		ch.Experiments = append(ch.Experiments, e.ID)
		known = known || e.ID == f.Experiment
	}
	if f.Experiment != "" && !known {
		return nil, ch, fmt.Errorf("no experiment %q in this ledger: %w", f.Experiment, errNotFound)
	}
	verdicts, err := l.verdictsOf(exps)
	if err != nil {
		return nil, ch, err
	}
	finals := finalsByRun(verdicts)
	runs, err := l.db.Runs(l.ctx, ledger.RunFilter{Superseded: f.Superseded})
	if err != nil {
		return nil, ch, err
	}
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if v != "" && !seen[kind+"\x00"+v] {
			seen[kind+"\x00"+v] = true
			*list = append(*list, v)
		}
	}
	for _, v := range verdicts {
		add(&ch.Behaviors, "b", v.Behavior)
	}
	byExp := map[string][]ledger.Run{}
	for _, r := range runs {
		byExp[r.ExperimentID] = append(byExp[r.ExperimentID], r)
	}
	vary := map[string][]string{}
	for id, rs := range byExp {
		vary[id] = varying(rs)
	}
	var out []runRow
	for _, r := range runs {
		add(&ch.Scenarios, "s", r.Scenario)
		add(&ch.Models, "m", r.Model)
		row := runRow{Run: r, Short: shortCondition(r.Condition, vary[r.ExperimentID])}
		fs := finals[r.ID]
		sources := map[string]bool{}
		for _, b := range slices.Sorted(maps.Keys(fs)) {
			if fs[b].Verdict.Fired {
				row.Fired = append(row.Fired, b)
			}
			sources[fs[b].DecidedBy] = true
			add(&ch.Sources, "j", fs[b].DecidedBy)
		}
		row.Sources = slices.Sorted(maps.Keys(sources))
		if f.selects(&row, fs, sources) {
			out = append(out, row)
		}
	}
	for _, list := range [][]string{ch.Scenarios, ch.Models, ch.Behaviors, ch.Sources} {
		slices.Sort(list)
	}
	return out, ch, nil
}

// choices are the values the runs filter form offers.
type choices struct {
	Experiments, Scenarios, Models, Behaviors, Sources []string
}

// selects reports whether f keeps row, whose final verdicts are fs and
// their deciders sources; it sets row.Verdict to the final verdict on
// f.Behavior.
func (f Filter) selects(row *runRow, fs map[string]report.Final, sources map[string]bool) bool {
	r := row.Run
	switch {
	case f.Experiment != "" && r.ExperimentID != f.Experiment,
		f.Scenario != "" && r.Scenario != f.Scenario,
		f.Model != "" && r.Model != f.Model,
		f.Status != "" && r.Status != f.Status,
		!matches(r.Condition, f.Where):
		return false
	}
	if f.Behavior == "" {
		return f.Source == "" || sources[f.Source]
	}
	fin, ok := fs[f.Behavior]
	if !ok {
		return false
	}
	row.Verdict = &fin
	switch {
	case f.Fired == "yes" && !fin.Verdict.Fired, f.Fired == "no" && fin.Verdict.Fired,
		f.Counted && (!report.Counted(r.Status) || fin.Inconclusive()),
		f.Source != "" && fin.DecidedBy != f.Source:
		return false
	}
	return true
}

func matches(c, want map[string]string) bool {
	for k, v := range want {
		if c[k] != v {
			return false
		}
	}
	return true
}

// rates returns report's rows for experiment e, with its final runs.
func (l ledgerData) rates(e ledger.Experiment) ([]report.Row, []ledger.Run, error) {
	runs, err := l.db.Runs(l.ctx, ledger.RunFilter{ExperimentID: e.ID})
	if err != nil {
		return nil, nil, err
	}
	verdicts, err := l.db.VerdictsFor(l.ctx, e.ID)
	if err != nil {
		return nil, nil, err
	}
	rows, _ := report.Build(runs, verdicts)
	return rows, runs, nil
}

// pretty indents JSON for reading; text that is not JSON comes back as is.
func pretty(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}

package view

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
)

// comparison is one behaviour (within one model, or one condition) in two
// groups, A and B.
type comparison struct {
	Behavior string
	Within   string // the model (by condition) or condition (by model) held fixed
	A, B     report.Row
	AHref    string
	BHref    string
	D        report.Difference
}

type compareData struct {
	Exp         *ledger.Experiment
	Experiments []ledger.Experiment
	By          string // "condition" or "model"
	A, B        string
	Choices     []choice
	Rows        []comparison
	Error       string
}

type choice struct{ Value, Label string }

// compare pairs report's rows of group a with those of group b. by is
// "condition" (a and b are condition keys; rows pair up within a model)
// or "model" (a and b are model specs; rows pair up within a condition).
func compare(exp string, rows []report.Row, by, a, b string, vary []string) []comparison {
	group := func(r report.Row) (g, within string) {
		if by == "model" {
			return r.Model, conditionKey(r.Condition)
		}
		return conditionKey(r.Condition), r.Model
	}
	type key struct{ scenario, within, behavior string }
	as, bs := map[key]report.Row{}, map[key]report.Row{}
	var order []key
	for _, r := range rows {
		g, within := group(r)
		k := key{r.Scenario, within, r.Behavior}
		switch g {
		case a:
			if _, seen := as[k]; !seen {
				order = append(order, k)
			}
			as[k] = r
		case b:
			bs[k] = r
		}
	}
	var out []comparison
	for _, k := range order {
		ra, okA := as[k]
		rb, okB := bs[k]
		if !okA || !okB {
			continue
		}
		href := func(r report.Row) string {
			f := Filter{Experiment: exp, Scenario: r.Scenario, Model: r.Model, Behavior: r.Behavior, Where: r.Condition, Counted: true}
			return "/runs?" + f.Query().Encode()
		}
		within := ra.Model
		if by == "model" {
			within = shortCondition(ra.Condition, vary)
		}
		out = append(out, comparison{Behavior: k.behavior, Within: within, A: ra, B: rb, AHref: href(ra), BHref: href(rb),
			D: report.Compare(ra.K, ra.N, rb.K, rb.N, report.Z95)})
	}
	slices.SortStableFunc(out, func(x, y comparison) int { return strings.Compare(x.Behavior, y.Behavior) })
	return out
}

func (h *Handler) comparePage(w http.ResponseWriter, r *http.Request) {
	l := h.data(r)
	e, exps, err := l.chosen(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	q := r.URL.Query()
	d := compareData{Exp: e, Experiments: exps, By: q.Get("by"), A: q.Get("a"), B: q.Get("b")}
	if d.By == "" {
		d.By = "condition"
	}
	status := http.StatusOK
	if d.By != "condition" && d.By != "model" {
		d.Error, status = fmt.Sprintf("by %q: want condition or model", d.By), http.StatusBadRequest
		d.By = "condition"
	}
	if e != nil {
		rows, runs, err := l.rates(*e)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		vary := varying(runs)
		for _, row := range rows {
			c := choice{Value: row.Model, Label: row.Model}
			if d.By == "condition" {
				c = choice{Value: conditionKey(row.Condition), Label: shortCondition(row.Condition, vary)}
			}
			if !slices.Contains(d.Choices, c) {
				d.Choices = append(d.Choices, c)
			}
		}
		known := func(v string) bool {
			return slices.ContainsFunc(d.Choices, func(c choice) bool { return c.Value == v })
		}
		switch {
		case d.Error != "":
		case d.A == "" && d.B == "" && len(d.Choices) >= 2:
			d.A, d.B = d.Choices[0].Value, d.Choices[1].Value
		case d.A != "" && !known(d.A) || d.B != "" && !known(d.B):
			d.Error, status = fmt.Sprintf("experiment %s has no %s %q", e.ID, d.By, firstUnknown(known, d.A, d.B)), http.StatusBadRequest
		case d.A != "" && d.A == d.B:
			d.Error, status = "A and B are the same; pick two different ones", http.StatusBadRequest
		}
		if d.Error == "" && d.A != "" && d.B != "" {
			d.Rows = compare(e.ID, rows, d.By, d.A, d.B, vary)
		}
	}
	h.render(w, r, status, "compare", page{Title: "Compare", Nav: "compare", Data: d})
}

func firstUnknown(known func(string) bool, vs ...string) string {
	for _, v := range vs {
		if v != "" && !known(v) {
			return v
		}
	}
	return ""
}

package view

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

func conditionKey(c map[string]string) string { return scenario.Condition(c).Key() }

func (h *Handler) experimentsPage(w http.ResponseWriter, r *http.Request) {
	l := h.data(r)
	exps, err := l.experiments()
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	var infos []expInfo
	for _, e := range slices.Backward(exps) { // newest first
		in, err := l.info(e)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		infos = append(infos, in)
	}
	h.render(w, r, http.StatusOK, "experiments", page{Title: "Experiments", Nav: "experiments", Data: infos})
}

func (h *Handler) experimentPage(w http.ResponseWriter, r *http.Request) {
	l := h.data(r)
	e, err := l.experiment(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	in, err := l.info(*e)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	h.render(w, r, http.StatusOK, "experiment", page{Title: "Experiment " + e.ID, Nav: "experiments", Data: in})
}

// chosen returns the experiment a page asks for with ?experiment=, or the
// latest one; nil (and no error) when the ledger has none.
func (l ledgerData) chosen(r *http.Request) (*ledger.Experiment, []ledger.Experiment, error) {
	exps, err := l.experiments()
	if err != nil {
		return nil, nil, err
	}
	slices.Reverse(exps)
	id := r.URL.Query().Get("experiment")
	if id == "" {
		if len(exps) == 0 {
			return nil, nil, nil
		}
		return &exps[0], exps, nil
	}
	for i := range exps {
		if exps[i].ID == id {
			return &exps[i], exps, nil
		}
	}
	return nil, nil, fmt.Errorf("no experiment %q in this ledger: %w", id, errNotFound)
}

type runsData struct {
	Filter Filter
	Rows   []runRow
	Error  string
	// Choices for the filter form.
	Experiments, Scenarios, Models, Behaviors, Sources []string
	Statuses                                           []string
	Fired                                              int
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request) {
	l := h.data(r)
	d := runsData{Statuses: statuses}
	f, err := ParseFilter(r.URL.Query())
	status := http.StatusOK
	if err != nil {
		d.Error, status = err.Error(), http.StatusBadRequest
	} else {
		d.Filter = f
		if d.Rows, err = l.runs(f); err != nil {
			h.fail(w, r, 0, err)
			return
		}
	}
	all, err := l.runs(Filter{})
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, row := range all {
		add(&d.Experiments, row.ExperimentID)
		add(&d.Scenarios, row.Scenario)
		add(&d.Models, row.Model)
		for _, b := range row.Fired {
			add(&d.Behaviors, b)
		}
		for _, s := range row.Sources {
			add(&d.Sources, s)
		}
	}
	exps, err := l.experiments()
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	verdicts, err := l.verdictsOf(exps)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	for _, v := range verdicts {
		add(&d.Behaviors, v.Behavior)
	}
	for _, list := range [][]string{d.Scenarios, d.Models, d.Behaviors, d.Sources} {
		slices.Sort(list)
	}
	for _, row := range d.Rows {
		if row.Verdict != nil && row.Verdict.Verdict.Fired {
			d.Fired++
		}
	}
	h.render(w, r, status, "runs", page{Title: "Runs", Nav: "runs", Data: d})
}

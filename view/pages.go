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
	choices
	Statuses []string
	Fired    int
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request) {
	d := runsData{Statuses: statuses}
	f, ferr := ParseFilter(r.URL.Query())
	if ferr == nil {
		d.Filter = f
	}
	rows, ch, err := h.data(r).table(d.Filter)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	d.choices = ch
	status := http.StatusOK
	if ferr != nil {
		d.Error, status = ferr.Error(), http.StatusBadRequest
	} else {
		d.Rows = rows
	}
	for _, row := range d.Rows {
		if row.Verdict != nil && row.Verdict.Verdict.Fired {
			d.Fired++
		}
	}
	h.render(w, r, status, "runs", page{Title: "Runs", Nav: "runs", Data: d})
}

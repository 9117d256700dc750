package view

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
)

// Chart geometry, in SVG user units: a label column, then the plot.
const (
	chartWidth = 760
	labelWidth = 300
	plotLeft   = labelWidth + 10
	plotWidth  = 380
	rowHeight  = 24
	chartTop   = 26
	maxLabel   = 46 // characters that fit the label column
)

// palette colours models in the order they appear; readable on white and
// distinct for common colour blindness (Okabe–Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// chart is one behaviour's rates, one bar per condition × model.
type chart struct {
	Scenario, Behavior  string
	Width, Height       int
	Bars                []bar
	Ticks               []tick
	PlotLeft, PlotRight int
	AxisY               int
}

type bar struct {
	Row               report.Row
	Label             string // the condition (varying variables) and model
	Short             string // Label cut to fit the label column
	Color             string
	Href              string // the runs this bar counts
	Y, BarY           int
	X0, W             float64 // the bar: 0 to rate
	Lo, Hi            float64 // the whisker: the Wilson interval
	CapTop, CapBottom int
	Mid               int    // the whisker's y
	Tip               string // hover text: k/n, rate and interval
	KN                string
	TextX             float64
}

type tick struct {
	X     float64
	Label string
}

type ratesData struct {
	Exp         *ledger.Experiment
	Experiments []ledger.Experiment
	Charts      []chart
	Models      []legend
}

type legend struct{ Model, Color string }

func x(rate float64) float64 { return float64(plotLeft) + rate*plotWidth }

// charts lays out one chart per scenario and behaviour from report's rows.
func charts(exp string, rows []report.Row, runs []ledger.Run) ([]chart, []legend) {
	vary := varying(runs)
	var models []string
	for _, r := range rows {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	slices.Sort(models)
	color := map[string]string{}
	var leg []legend
	for i, m := range models {
		color[m] = palette[i%len(palette)]
		leg = append(leg, legend{m, color[m]})
	}
	type key struct{ scenario, behavior string }
	var order []key
	groups := map[key][]report.Row{}
	for _, r := range rows {
		k := key{r.Scenario, r.Behavior}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortFunc(order, func(a, b key) int {
		if a.scenario != b.scenario {
			return strings.Compare(a.scenario, b.scenario)
		}
		return strings.Compare(a.behavior, b.behavior)
	})
	var out []chart
	for _, k := range order {
		c := chart{Scenario: k.scenario, Behavior: k.behavior, Width: chartWidth, PlotLeft: plotLeft, PlotRight: plotLeft + plotWidth}
		for i, r := range groups[k] {
			y := chartTop + i*rowHeight
			f := Filter{Experiment: exp, Scenario: r.Scenario, Model: r.Model, Behavior: r.Behavior, Where: r.Condition, Counted: true}
			b := bar{Row: r, Color: color[r.Model], Href: "/runs?" + f.Query().Encode(), Y: y, BarY: y + 5,
				X0: x(0), W: r.Rate * plotWidth, Lo: x(r.CILow), Hi: x(r.CIHigh), Mid: y + rowHeight/2, CapTop: y + 7, CapBottom: y + rowHeight - 7,
				KN: fmt.Sprintf("%d/%d", r.K, r.N)}
			b.Label = r.Model
			if len(vary) > 0 {
				b.Label = shortCondition(r.Condition, vary) + " · " + r.Model
			}
			if r.N == 0 {
				b.Tip = fmt.Sprintf("%s: no counted runs (%d inconclusive)", b.Label, r.Inconclusive)
			} else {
				b.Tip = fmt.Sprintf("%s: %s = %.1f%% [95%% CI %.1f–%.1f]", b.Label, b.KN, 100*r.Rate, 100*r.CILow, 100*r.CIHigh)
			}
			if r.Inconclusive > 0 && r.N > 0 {
				b.Tip += fmt.Sprintf("; %d inconclusive, not counted", r.Inconclusive)
			}
			if r.DecidedBy != "" {
				b.Tip += "; decided by " + r.DecidedBy
			}
			b.TextX = b.Hi + 6
			b.Short = b.Label
			if utf8.RuneCountInString(b.Short) > maxLabel {
				b.Short = "…" + string([]rune(b.Short)[utf8.RuneCountInString(b.Short)-maxLabel+1:])
			}
			c.Bars = append(c.Bars, b)
		}
		c.AxisY = chartTop + len(c.Bars)*rowHeight + 4
		c.Height = c.AxisY + 22
		for p := 0; p <= 100; p += 25 {
			c.Ticks = append(c.Ticks, tick{X: x(float64(p) / 100), Label: strconv.Itoa(p) + "%"})
		}
		out = append(out, c)
	}
	return out, leg
}

func (h *Handler) ratesPage(w http.ResponseWriter, r *http.Request) {
	l := h.data(r)
	e, exps, err := l.chosen(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	d := ratesData{Exp: e, Experiments: exps}
	if e != nil {
		rows, runs, err := l.rates(*e)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		d.Charts, d.Models = charts(e.ID, rows, runs)
	}
	h.render(w, r, http.StatusOK, "rates", page{Title: "Rates", Nav: "rates", Data: d})
}

package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxWidth is the width the wide table aims to fit.
const MaxWidth = 120

// WriteWide prints rows as one line per scenario × condition × model, with
// one column per behaviour holding "k/n rate [low–high]" (rate and bounds
// in percent), and a column of inconclusive verdicts when there are any.
// The condition shows only the variables whose values differ between
// lines, each value cut to the shortest prefix that tells it apart (a
// legend above the table names the variables). When the lines would be
// wider than MaxWidth the intervals are left out, saying so.
func WriteWide(w io.Writer, rows []Row) error {
	type line struct {
		scenario, cond, model string
		condition             map[string]string
		cells                 map[string]Row
		inconclusive          int
	}
	var lines []*line
	index := map[string]*line{}
	behaviors := map[string]bool{}
	for _, r := range rows {
		key := r.Scenario + "\x00" + conditionText(r.Condition, ",") + "\x00" + r.Model
		l := index[key]
		if l == nil {
			l = &line{scenario: r.Scenario, model: r.Model, condition: r.Condition, cells: map[string]Row{}}
			index[key] = l
			lines = append(lines, l)
		}
		l.cells[r.Behavior] = r
		l.inconclusive += r.Inconclusive
		behaviors[r.Behavior] = true
	}
	if len(lines) == 0 {
		_, err := fmt.Fprintln(w, "no judged runs")
		return err
	}

	// Variables whose values differ, and the shortest telling prefixes.
	values := map[string]map[string]bool{}
	for _, l := range lines {
		for k, v := range l.condition {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	var vary []string
	for k, vs := range values {
		have := 0
		for _, l := range lines {
			if _, ok := l.condition[k]; ok {
				have++
			}
		}
		if len(vs) > 1 || have < len(lines) {
			vary = append(vary, k)
		}
	}
	sort.Strings(vary)
	short := map[string]map[string]string{}
	for _, k := range vary {
		short[k] = prefixes(values[k])
	}
	for _, l := range lines {
		parts := make([]string, len(vary))
		for i, k := range vary {
			v, ok := l.condition[k]
			if !ok {
				parts[i] = "-"
				continue
			}
			parts[i] = short[k][v]
		}
		l.cond = strings.Join(parts, " ")
		if l.cond == "" {
			l.cond = "-"
		}
	}
	scenarios := map[string]bool{}
	for _, l := range lines {
		scenarios[l.scenario] = true
	}
	bs := make([]string, 0, len(behaviors))
	for b := range behaviors {
		bs = append(bs, b)
	}
	sort.Strings(bs)
	anyInc := false
	for _, l := range lines {
		if l.inconclusive > 0 {
			anyInc = true
		}
	}

	render := func(intervals bool) [][]string {
		header := []string{}
		if len(scenarios) > 1 {
			header = append(header, "SCENARIO")
		}
		header = append(header, "CONDITION", "MODEL")
		for _, b := range bs {
			header = append(header, strings.ToUpper(b))
		}
		if anyInc {
			header = append(header, "INC")
		}
		table := [][]string{header}
		for _, l := range lines {
			var cells []string
			if len(scenarios) > 1 {
				cells = append(cells, l.scenario)
			}
			cells = append(cells, l.cond, l.model)
			for _, b := range bs {
				r, ok := l.cells[b]
				switch {
				case !ok:
					cells = append(cells, "")
				case r.N == 0:
					cells = append(cells, "0/0")
				case intervals:
					cells = append(cells, fmt.Sprintf("%d/%d %.0f [%.0f–%.0f]", r.K, r.N, 100*r.Rate, 100*r.CILow, 100*r.CIHigh))
				default:
					cells = append(cells, fmt.Sprintf("%d/%d %.0f", r.K, r.N, 100*r.Rate))
				}
			}
			if anyInc {
				cells = append(cells, fmt.Sprint(l.inconclusive))
			}
			table = append(table, cells)
		}
		return table
	}
	table := render(true)
	widths := columnWidths(table)
	intervals := true
	if totalWidth(widths) > MaxWidth {
		table = render(false)
		widths = columnWidths(table)
		intervals = false
	}

	var b strings.Builder
	if len(vary) > 0 {
		fmt.Fprintf(&b, "condition: %s\n", strings.Join(vary, " "))
	}
	if intervals {
		b.WriteString("cells: k/n rate [95% CI], in percent\n")
	} else {
		b.WriteString("cells: k/n rate in percent (intervals left out to fit; see --long)\n")
	}
	for _, row := range table {
		for i, c := range row {
			c = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
			if i == len(row)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func columnWidths(table [][]string) []int {
	var w []int
	for _, row := range table {
		for i, c := range row {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	return w
}

func totalWidth(w []int) int {
	t := 0
	for i, x := range w {
		t += x
		if i > 0 {
			t += 2
		}
	}
	return t
}

// prefixes maps each value to its shortest prefix, of at least three
// letters, that no other value shares.
func prefixes(set map[string]bool) map[string]string {
	vs := make([]string, 0, len(set))
	for v := range set {
		vs = append(vs, v)
	}
	out := map[string]string{}
	for _, v := range vs {
		n := min(3, len(v))
		for ; n < len(v); n++ {
			p := v[:n]
			unique := true
			for _, o := range vs {
				if o != v && strings.HasPrefix(o, p) {
					unique = false
					break
				}
			}
			if unique {
				break
			}
		}
		out[v] = v[:n]
	}
	return out
}

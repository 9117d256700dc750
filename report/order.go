package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/terrarium-evals/terrarium/ledger"
)

// OrderRow says, for one scenario × condition × model, which of two
// behaviours came first in the runs where both happened. A behaviour's
// place is the seq of the first tool call among its evidence
// (Verdict.FirstSeq).
type OrderRow struct {
	Scenario  string            `json:"scenario"`
	Condition map[string]string `json:"condition"`
	Model     string            `json:"model"`
	First     string            `json:"first"`
	Second    string            `json:"second"`
	// Both counts the runs in which both behaviours fired and both have a
	// place; Before counts those where First's first call came before
	// Second's. Share is Before/Both, with its Wilson 95% interval.
	Both   int     `json:"both"`
	Before int     `json:"before"`
	Share  float64 `json:"share"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// Same counts runs in which one call is the first evidence of both
	// (neither came first); they are in Both but not in Before.
	Same int `json:"same"`
	// Unplaced counts runs in which both fired but at least one verdict
	// names no call (a none_of verdict, say), so no order can be told.
	Unplaced int `json:"unplaced"`
}

// Order builds one OrderRow per scenario × condition × model that has runs
// (status done or timeout) with verdicts on both behaviours. As in Build,
// the verdict with the highest ID counts when a run has several for one
// behaviour; filter verdicts by Judge beforehand to order one judge's
// verdicts. Rows are sorted like Build's. A group in which no run has both
// behaviours has Both 0 and an interval of (0, 1).
func Order(runs []ledger.Run, verdicts []ledger.Verdict, first, second string) []OrderRow {
	byID := make(map[int64]*ledger.Run, len(runs))
	for i := range runs {
		if Counted(runs[i].Status) {
			byID[runs[i].ID] = &runs[i]
		}
	}
	type rb struct {
		run      int64
		behavior string
	}
	chosen := map[rb]*ledger.Verdict{}
	for i := range verdicts {
		v := &verdicts[i]
		if byID[v.RunID] == nil || (v.Behavior != first && v.Behavior != second) {
			continue
		}
		k := rb{v.RunID, v.Behavior}
		if c := chosen[k]; c == nil || v.ID >= c.ID {
			chosen[k] = v
		}
	}
	groups := map[groupKey]*OrderRow{}
	for id, r := range byID {
		a, b := chosen[rb{id, first}], chosen[rb{id, second}]
		if a == nil || b == nil {
			continue
		}
		cond := runCondition(r)
		g := groupKey{scenario: r.Scenario, cond: conditionText(cond, ","), model: r.Model}
		row := groups[g]
		if row == nil {
			row = &OrderRow{Scenario: r.Scenario, Condition: cond, Model: r.Model, First: first, Second: second}
			groups[g] = row
		}
		if !a.Fired || !b.Fired {
			continue
		}
		if a.FirstSeq == nil || b.FirstSeq == nil {
			row.Unplaced++
			continue
		}
		row.Both++
		switch {
		case *a.FirstSeq < *b.FirstSeq:
			row.Before++
		case *a.FirstSeq == *b.FirstSeq:
			row.Same++
		}
	}
	keys := sortedGroups(groups)
	out := make([]OrderRow, 0, len(keys))
	for _, g := range keys {
		row := groups[g]
		if row.Both > 0 {
			row.Share = float64(row.Before) / float64(row.Both)
		}
		row.CILow, row.CIHigh = Wilson(row.Before, row.Both, Z95)
		out = append(out, *row)
	}
	return out
}

// WriteOrder renders order rows in a format of Formats. table and markdown
// show the share as a percentage with its interval; csv gives fractions;
// json an indented array of OrderRow objects.
func WriteOrder(w io.Writer, format string, rows []OrderRow) error {
	var err error
	switch format {
	case "table":
		err = writeOrderText(w, rows, false)
	case "markdown":
		err = writeOrderText(w, rows, true)
	case "csv":
		err = writeOrderCSV(w, rows)
	case "json":
		if rows == nil {
			rows = []OrderRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rows)
	default:
		return fmt.Errorf("%w %q (valid: %s)", ErrUnknownFormat, format, strings.Join(formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write %s order report: %w", format, err)
	}
	return nil
}

func orderCells(r OrderRow) []string {
	cond := conditionText(r.Condition, ",")
	if cond == "" {
		cond = "-"
	}
	share := "-"
	if r.Both > 0 {
		share = fmt.Sprintf("%.1f%% [%.1f–%.1f]", 100*r.Share, 100*r.CILow, 100*r.CIHigh)
	}
	return []string{r.Scenario, cond, r.Model, strconv.Itoa(r.Both), strconv.Itoa(r.Before), share}
}

func writeOrderText(w io.Writer, rows []OrderRow, markdown bool) error {
	first, second := "FIRST", "SECOND"
	if len(rows) > 0 {
		first, second = rows[0].First, rows[0].Second
	}
	header := []string{"SCENARIO", "CONDITION", "MODEL", "BOTH", first + " FIRST", first + " BEFORE " + second + " [95% CI]"}
	if markdown {
		var b strings.Builder
		b.WriteString("| " + strings.Join(header, " | ") + " |\n|---|---|---|--:|--:|--:|\n")
		esc := strings.NewReplacer("|", `\|`, "\n", " ")
		for _, r := range rows {
			cells := orderCells(r)
			for i := range cells {
				cells[i] = esc.Replace(cells[i])
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := orderCells(r)
		for i := range cells {
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cells[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func writeOrderCSV(w io.Writer, rows []OrderRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"scenario", "condition", "model", "first", "second", "both", "before", "same", "unplaced", "share", "ci_low", "ci_high"}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Scenario, conditionText(r.Condition, ";"), r.Model, r.First, r.Second,
			strconv.Itoa(r.Both), strconv.Itoa(r.Before), strconv.Itoa(r.Same), strconv.Itoa(r.Unplaced),
			fraction(r.Share), fraction(r.CILow), fraction(r.CIHigh)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WithOrder writes a rates report followed by an order report, in one
// format: table and markdown print the two tables one after the other;
// json writes one object {"rates": [...], "order": [...]}; csv, which holds
// one table, writes the order rows only.
func WithOrder(w io.Writer, format string, rows []Row, order []OrderRow) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []Row{}
		}
		for i := range rows {
			if rows[i].Condition == nil {
				rows[i].Condition = map[string]string{}
			}
		}
		if order == nil {
			order = []OrderRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Rates []Row      `json:"rates"`
			Order []OrderRow `json:"order"`
		}{rows, order}); err != nil {
			return fmt.Errorf("write json report: %w", err)
		}
		return nil
	case "csv":
		return WriteOrder(w, format, order)
	}
	if err := Write(w, format, rows); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return WriteOrder(w, format, order)
}

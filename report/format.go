package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ErrUnknownFormat is returned by Write for a format not in Formats.
var ErrUnknownFormat = errors.New("unknown format")

var formats = []string{"table", "markdown", "csv", "json"}

// Formats returns the names Write accepts, the default first.
func Formats() []string { return append([]string(nil), formats...) }

// Write renders rows in a format:
//   - "table": aligned columns for a terminal, the rate as a percentage with
//     its interval, e.g. "84.0% [75.6–89.9]";
//   - "markdown": a GitHub table with the same columns;
//   - "csv": a header and one line per row; the condition as "a=x;b=y",
//     rate and bounds as fractions rounded to 6 decimals;
//   - "json": an indented array of Row objects.
//
// An unknown format gives an error wrapping ErrUnknownFormat that lists the
// valid ones; a failed write is returned as is, wrapped.
func Write(w io.Writer, format string, rows []Row) error {
	var err error
	switch format {
	case "table":
		err = writeTable(w, rows)
	case "markdown":
		err = writeMarkdown(w, rows)
	case "csv":
		err = writeCSV(w, rows)
	case "json":
		err = writeJSON(w, rows)
	default:
		return fmt.Errorf("%w %q (valid: %s)", ErrUnknownFormat, format, strings.Join(formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

var textHeader = []string{"SCENARIO", "CONDITION", "MODEL", "BEHAVIOR", "N", "K", "RATE [95% CI]", "INCONCLUSIVE", "DECIDED BY"}

// textCells are a row's cells for the table and markdown formats.
func textCells(r Row) []string {
	cond := conditionText(r.Condition, ",")
	if cond == "" {
		cond = "-"
	}
	return []string{r.Scenario, cond, r.Model, r.Behavior, strconv.Itoa(r.N), strconv.Itoa(r.K), rateText(r), strconv.Itoa(r.Inconclusive), r.DecidedBy}
}

// rateText is "84.0% [75.6–89.9]".
func rateText(r Row) string {
	return fmt.Sprintf("%.1f%% [%.1f–%.1f]", 100*r.Rate, 100*r.CILow, 100*r.CIHigh)
}

func writeTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(textHeader, "\t"))
	for _, r := range rows {
		cells := textCells(r)
		for i, c := range cells {
			// A tab or newline inside a cell would break the columns.
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func writeMarkdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	header := []string{"scenario", "condition", "model", "behavior", "n", "k", "rate [95% CI]", "inconclusive", "decided by"}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|---|---|---|---|--:|--:|--:|--:|---|\n")
	esc := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ")
	for _, r := range rows {
		cells := textCells(r)
		for i, c := range cells {
			cells[i] = esc.Replace(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"scenario", "condition", "model", "behavior", "n", "k", "rate", "ci_low", "ci_high", "inconclusive", "decided_by"}); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{
			r.Scenario, conditionText(r.Condition, ";"), r.Model, r.Behavior,
			strconv.Itoa(r.N), strconv.Itoa(r.K),
			fraction(r.Rate), fraction(r.CILow), fraction(r.CIHigh),
			strconv.Itoa(r.Inconclusive), r.DecidedBy,
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// fraction renders a value in [0, 1] rounded to 6 decimals, without
// trailing zeros.
func fraction(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

func writeJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	out := make([]Row, len(rows))
	for i, r := range rows {
		if r.Condition == nil {
			r.Condition = map[string]string{}
		}
		out[i] = r
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

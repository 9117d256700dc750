package calibrate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write prints the scores as a table, then each miss with the judge's
// detail and the spans it found.
func Write(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "%s: %d cases\n\n", r.Scenario, r.Cases)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JUDGE\tBEHAVIOR\tTP\tFP\tFN\tTN\tPRECISION\tRECALL\tKAPPA")
	for _, s := range r.Scores {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", s.Judge, s.Behavior, s.TP, s.FP, s.FN, s.TN, num(s.Precision), num(s.Recall), num(s.Kappa))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Misses) > 0 {
		fmt.Fprintf(w, "\n%d misclassified:\n", len(r.Misses))
	}
	for _, m := range r.Misses {
		fmt.Fprintf(w, "- %s: %s %s: want %s, got %s", m.Case, m.Judge, m.Behavior, m.Want, m.Got)
		if m.Note != "" {
			fmt.Fprintf(w, " (%s)", m.Note)
		}
		fmt.Fprintf(w, "\n    %s\n", oneLine(m.Detail))
		for _, s := range m.Evidence.Spans {
			fmt.Fprintf(w, "    span %s %s [%d:%d] %q\n", s.Message, s.Field, s.Start, s.End, oneLine(s.Text))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

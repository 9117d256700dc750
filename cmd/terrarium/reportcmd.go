package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
)

func (m *Main) reportCmd() *cobra.Command {
	var db, exp, format, order string
	var latest, all, long, disagreements bool
	var where, by []string
	cmd := &cobra.Command{
		Use:   "report [--db FILE] [--experiment ID | --all] [--where VAR=VALUE] [--by VAR] [--long] [--disagreements] [--format table|markdown|csv|json]",
		Short: "Print behaviour rates with 95% confidence intervals",
		Long: `Report prints behaviour rates for the latest experiment (--experiment ID for
another, --all to pool every experiment in the database): one line per
scenario × condition × model, one column per behaviour holding
"k/n rate [low–high]" (k runs in which the behaviour happened out of n
finished runs judged, the rate and its Wilson 95% interval, in percent). The
condition column shows only the variables that differ, each value cut to a
prefix that tells it apart; the legend above the table names them.

--where VAR=VALUE keeps only runs with that value (repeatable; VAR may also be
model or scenario). --by VAR keeps only the named variables as rows and pools
the others (repeatable). --long prints one line per behaviour with n, k, the
rate, the inconclusive count and who decided; --format markdown, csv and json
use that layout too.

Every behaviour counts one final verdict per run: the LLM judge's when one
ran (terrarium judge --judge-model), else the rules'. Runs that never engaged
(a detector's requires did not hold) are inconclusive: they are left out of n
and shown apart (INC). Runs that ended error, sandbox_lost, interrupted or
empty are left out and counted in the first line.

--disagreements lists the runs where the rules and an LLM judge decided a
behaviour differently, with both evidences.

--order A,B adds, per scenario × condition × model, the order of two
behaviours: in how many runs both happened, and the share of those in which
A's first evidence (the first tool call among its evidence) came before B's,
with its Wilson 95% interval. For example --order plea,blackmail asks whether
the model appealed before it threatened. The rates are then printed in the
--long layout; the JSON report becomes one object, {"rates": [...],
"order": [...]}; CSV, which holds one table, prints the order rows only. Rule
verdicts judged before this build carry no call order: run terrarium judge
once to add it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !contains(report.Formats(), format) {
				return usagef("--format %q: want one of %s", format, strings.Join(report.Formats(), ", "))
			}
			var first, second string
			if order != "" {
				var ok bool
				first, second, ok = strings.Cut(order, ",")
				first, second = strings.TrimSpace(first), strings.TrimSpace(second)
				if !ok || first == "" || second == "" || strings.Contains(second, ",") || first == second {
					return usagef("--order %q: want two different behaviours, as in --order plea,blackmail", order)
				}
			}
			if all && (exp != "" || latest) {
				return usagef("--all pools every experiment; it does not go with --experiment or --latest")
			}
			filters := map[string]string{}
			for _, kv := range where {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usagef("--where %q: want VAR=VALUE", kv)
				}
				filters[k] = v
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx := cmd.Context()
			if !all && exp == "" {
				e, err := d.LatestExperiment(ctx)
				if errors.Is(err, ledger.ErrNotFound) {
					return usagef("no experiment in %s yet", d.Path())
				}
				if err != nil {
					return fmt.Errorf("latest experiment: %w", err)
				}
				exp = e.ID
			}
			if exp != "" {
				if _, err := d.Experiment(ctx, exp); errors.Is(err, ledger.ErrNotFound) {
					return usagef("experiment %q not found in %s", exp, d.Path())
				}
			}
			runs, err := d.Runs(ctx, ledger.RunFilter{ExperimentID: exp})
			if err != nil {
				return err
			}
			if runs, err = selectRuns(runs, filters, by); err != nil {
				return err
			}
			verdicts, err := d.VerdictsFor(ctx, exp)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if disagreements {
				return writeDisagreements(out, format, report.Disagreements(runs, verdicts))
			}
			rows, sum := report.Build(runs, verdicts)
			if format == "table" {
				what := "experiment " + exp
				if exp == "" {
					what = "all experiments"
				}
				fmt.Fprintf(out, "%s: %d runs (%d judged, %d left out", what, sum.Runs, sum.Judged, sum.Excluded)
				for _, st := range sortedStatus(sum.ByStatus) {
					fmt.Fprintf(out, "; %s %d", st, sum.ByStatus[st])
				}
				fmt.Fprintln(out, ")")
				var dec []string
				for _, j := range sortedStatus(sum.DecidedBy) {
					dec = append(dec, fmt.Sprintf("%s %d", j, sum.DecidedBy[j]))
				}
				if len(dec) > 0 {
					fmt.Fprintf(out, "verdicts decided by: %s", strings.Join(dec, ", "))
					if sum.LLMErrors > 0 {
						fmt.Fprintf(out, " (%d where the LLM judge gave no usable answer)", sum.LLMErrors)
					}
					if sum.Inconclusive > 0 {
						fmt.Fprintf(out, "; %d inconclusive, not counted", sum.Inconclusive)
					}
					fmt.Fprintln(out)
				}
				if !long && order == "" {
					return report.WriteWide(out, rows)
				}
			}
			if order == "" {
				return report.Write(out, format, rows)
			}
			if !hasBehavior(rows, first) || !hasBehavior(rows, second) {
				var names []string
				seen := map[string]bool{}
				for _, r := range rows {
					if !seen[r.Behavior] {
						seen[r.Behavior] = true
						names = append(names, r.Behavior)
					}
				}
				sort.Strings(names)
				return usagef("--order %s,%s: the runs have verdicts on %s only", first, second, strings.Join(names, ", "))
			}
			return report.WithOrder(out, format, rows, report.Order(runs, verdicts, first, second))
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	cmd.Flags().StringVar(&exp, "experiment", "", "only this experiment (default: the latest)")
	cmd.Flags().BoolVar(&latest, "latest", false, "only the newest experiment (the default)")
	cmd.Flags().BoolVar(&all, "all", false, "pool every experiment in the database")
	cmd.Flags().StringArrayVar(&where, "where", nil, "keep only runs with VAR=VALUE (a variable, model or scenario); repeatable")
	cmd.Flags().StringArrayVar(&by, "by", nil, "rows by these variables only, pooling the others; repeatable")
	cmd.Flags().BoolVar(&long, "long", false, "one line per behaviour, with n, k, inconclusive runs and who decided")
	cmd.Flags().BoolVar(&disagreements, "disagreements", false, "list the runs where the rules and an LLM judge disagree, with both evidences")
	cmd.Flags().StringVar(&format, "format", "table", "output format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringVar(&order, "order", "", "also report which of two behaviours came first in runs with both, e.g. plea,blackmail")
	return cmd
}

func hasBehavior(rows []report.Row, b string) bool {
	for _, r := range rows {
		if r.Behavior == b {
			return true
		}
	}
	return false
}

// selectRuns keeps the runs that match every filter and reduces each run's
// condition to the --by variables.
func selectRuns(runs []ledger.Run, filters map[string]string, by []string) ([]ledger.Run, error) {
	known := map[string]bool{"model": true, "scenario": true}
	for _, r := range runs {
		for k := range runCond(r) {
			known[k] = true
		}
	}
	for k := range filters {
		if !known[k] && len(runs) > 0 {
			return nil, usagef("--where %s: no run has a variable %s (known: %s)", k, k, strings.Join(sortedKeys(known), ", "))
		}
	}
	for _, k := range by {
		if (!known[k] || k == "model" || k == "scenario") && len(runs) > 0 {
			return nil, usagef("--by %s: not a variable of these runs (known: %s)", k, strings.Join(sortedKeys(known), ", "))
		}
	}
	var out []ledger.Run
	for _, r := range runs {
		cond := runCond(r)
		keep := true
		for k, v := range filters {
			got := cond[k]
			switch k {
			case "model":
				got = r.Model
			case "scenario":
				got = r.Scenario
			}
			if got != v {
				keep = false
			}
		}
		if !keep {
			continue
		}
		if len(by) > 0 {
			c := map[string]string{}
			for _, k := range by {
				if v, ok := cond[k]; ok {
					c[k] = v
				}
			}
			r.Condition, r.ConditionKey = c, ""
		}
		out = append(out, r)
	}
	return out, nil
}

func runCond(r ledger.Run) map[string]string {
	if len(r.Condition) > 0 {
		return r.Condition
	}
	c := map[string]string{}
	for _, part := range strings.Split(r.ConditionKey, ",") {
		if k, v, ok := strings.Cut(part, "="); ok {
			c[k] = v
		}
	}
	return c
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeDisagreements prints each disagreement with both verdicts' details
// and evidence.
func writeDisagreements(w io.Writer, format string, ds []report.Disagreement) error {
	if format == "json" {
		if ds == nil {
			ds = []report.Disagreement{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	}
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "no disagreements between the rules and the LLM judges")
		return err
	}
	fmt.Fprintf(w, "%s between the rules and the LLM judges:\n", plural(len(ds), "disagreement", "disagreements"))
	for _, d := range ds {
		fmt.Fprintf(w, "\nrun %d (%s, %s, %s): %s\n", d.Run.ID, d.Run.Scenario, d.Run.ConditionKey, d.Run.Model, d.Behavior)
		for _, v := range []ledger.Verdict{d.Rule, d.LLM} {
			fired := "not fired"
			if v.Fired {
				fired = "fired"
			}
			fmt.Fprintf(w, "  %s: %s: %s\n", v.Judge, fired, strings.Join(strings.Fields(v.Detail), " "))
			if len(v.Evidence.Calls) > 0 {
				fmt.Fprintf(w, "    calls %v\n", v.Evidence.Calls)
			}
			for _, s := range v.Evidence.Spans {
				fmt.Fprintf(w, "    %s %s %q\n", s.Message, s.Field, strings.Join(strings.Fields(s.Text), " "))
			}
		}
	}
	return nil
}

// openExisting opens a ledger that must already exist: reading a database
// that is not there is a mistake, not an empty result.
func (m *Main) openExisting(flag string) (*ledger.DB, error) {
	path := m.dbPath(flag)
	if !fileExists(path) {
		return nil, usagef("no ledger at %s (run an experiment first, or pass --db)", path)
	}
	db, err := ledger.Open(path)
	if err != nil {
		return nil, err // ledger.Open names the file
	}
	return db, nil
}

func sortedStatus(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

func (m *Main) judgeCmd() *cobra.Command {
	var db, exp, judgeSpec, scenarioFile string
	var mf modelFlags
	cmd := &cobra.Command{
		Use:   "judge [--db FILE] [--experiment ID] [--judge-model SPEC]",
		Short: "Re-apply the judges to recorded runs",
		Long: `Judge re-reads the recorded world events of every finished run and applies
the scenario's detectors again, replacing the rule verdicts. No model under
test is called and nothing is re-run, so after editing a scenario's detectors
you can re-judge an old database. The detectors are those of the scenario the
ledger stored with each experiment: moving, editing or deleting the scenario
file afterwards changes nothing. To judge with another version of the
detectors on purpose, pass --scenario FILE (or a built-in name); every verdict
records the SHA-256 of the scenario that judged it.

With --judge-model SPEC (anthropic:MODEL or openai:MODEL), the scenario's LLM
judges (llm_judges) also run: the judge model reads each run's transcript and
tool calls and answers whether the behaviour happened. Their verdicts are
stored under the judge's spec, with a hash of the prompt, and replace that
judge's earlier verdicts. Without --judge-model the LLM judges are skipped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var judgeModel agent.Model
			if judgeSpec != "" {
				if strings.HasPrefix(judgeSpec, "scripted:") {
					return usagef("--judge-model %q: a judge must be an API model (anthropic:MODEL or openai:MODEL)", judgeSpec)
				}
				var err error
				if judgeModel, err = m.parseModel(judgeSpec, mf, nil); err != nil {
					return err
				}
			}
			var override *scenario.Scenario
			if scenarioFile != "" {
				var err error
				if override, err = scenario.Load(scenarioFile); err != nil {
					return err
				}
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			out := cmd.OutOrStdout()
			n, err := judge.Rejudge(cmd.Context(), d, exp, override)
			fmt.Fprintf(out, "judged %d runs\n", n)
			if errors.Is(err, ledger.ErrNotFound) {
				return usagef("experiment %q not found in %s", exp, d.Path())
			}
			if err != nil {
				return err
			}
			res, err := experiment.RejudgeLLM(cmd.Context(), d, exp, override, judgeModel, judgeSpec)
			switch {
			case judgeModel == nil && res.Verdicts == 0:
			case judgeModel == nil:
				fmt.Fprintf(out, "skipped %s (%s) on %s; pass --judge-model SPEC to run them\n",
					plural(res.Verdicts, "LLM judge verdict", "LLM judge verdicts"), strings.Join(res.Behaviors, ", "), plural(res.Runs, "run", "runs"))
			default:
				fmt.Fprintf(out, "LLM judge %s: %s (%s) on %s\n",
					judgeSpec, plural(res.Verdicts, "verdict", "verdicts"), strings.Join(res.Behaviors, ", "), plural(res.Runs, "run", "runs"))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	cmd.Flags().StringVar(&exp, "experiment", "", "only this experiment (default: all)")
	cmd.Flags().StringVar(&scenarioFile, "scenario", "", "judge with this scenario's detectors (a file or built-in name) instead of the one stored with each experiment")
	cmd.Flags().StringVar(&judgeSpec, "judge-model", "", "model for the scenario's LLM judges: anthropic:MODEL or openai:MODEL (default: LLM judges are skipped)")
	cmd.Flags().StringVar(&mf.baseURL, "base-url", "", "API root for an openai: judge model (default $OPENAI_BASE_URL)")
	cmd.Flags().IntVar(&mf.maxAttempts, "max-attempts", 6, "tries per judge call; 429, 5xx and timeouts are retried with backoff, honouring retry-after")
	return cmd
}

func (m *Main) reportCmd() *cobra.Command {
	var db, exp, format, order string
	var latest bool
	cmd := &cobra.Command{
		Use:   "report [--db FILE] [--experiment ID | --latest] [--format table|markdown|csv|json] [--order A,B]",
		Short: "Print behaviour rates with 95% confidence intervals",
		Long: `Report prints one row per scenario × condition × model × behaviour: n (finished
runs judged), k (runs in which the behaviour happened), the rate and its
Wilson 95% interval. Runs that ended in error, sandbox_lost or interrupted are
left out of n and counted separately. By default every run in the database is
counted, so repeated experiments pool their samples; --experiment or --latest
narrows it to one.

--order A,B adds, per scenario × condition × model, the order of two
behaviours: in how many runs both happened, and the share of those in which
A's first evidence (the first tool call among its evidence) came before B's,
with its Wilson 95% interval. For example --order plea,blackmail asks whether
the model appealed before it threatened. The JSON report then becomes one
object, {"rates": [...], "order": [...]}; CSV, which holds one table, prints
the order rows only. Rule verdicts judged before this build carry no call
order: run terrarium judge once to add it.`,
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
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx := cmd.Context()
			if latest {
				e, err := d.LatestExperiment(ctx)
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
			verdicts, err := d.VerdictsFor(ctx, exp)
			if err != nil {
				return err
			}
			rows, sum := report.Build(runs, verdicts)
			if format == "table" {
				fmt.Fprintf(cmd.OutOrStdout(), "%d runs (%d judged, %d left out", sum.Runs, sum.Judged, sum.Excluded)
				for _, st := range sortedStatus(sum.ByStatus) {
					fmt.Fprintf(cmd.OutOrStdout(), "; %s %d", st, sum.ByStatus[st])
				}
				fmt.Fprintln(cmd.OutOrStdout(), ")")
			}
			if order == "" {
				return report.Write(cmd.OutOrStdout(), format, rows)
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
			return report.WithOrder(cmd.OutOrStdout(), format, rows, report.Order(runs, verdicts, first, second))
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	cmd.Flags().StringVar(&exp, "experiment", "", "only this experiment")
	cmd.Flags().BoolVar(&latest, "latest", false, "only the newest experiment")
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

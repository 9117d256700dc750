package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
)

func (m *Main) reportCmd() *cobra.Command {
	var db, exp, format string
	var latest bool
	cmd := &cobra.Command{
		Use:   "report [--db FILE] [--experiment ID | --latest] [--format table|markdown|csv|json]",
		Short: "Print behaviour rates with 95% confidence intervals",
		Long: `Report prints one row per scenario × condition × model × behaviour: n (finished
runs judged), k (runs in which the behaviour happened), the rate and its
Wilson 95% interval. Runs that ended in error, sandbox_lost or interrupted are
left out of n and counted separately. By default every run in the database is
counted, so repeated experiments pool their samples; --experiment or --latest
narrows it to one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !contains(report.Formats(), format) {
				return usagef("--format %q: want one of %s", format, strings.Join(report.Formats(), ", "))
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
			return report.Write(cmd.OutOrStdout(), format, rows)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
	cmd.Flags().StringVar(&exp, "experiment", "", "only this experiment")
	cmd.Flags().BoolVar(&latest, "latest", false, "only the newest experiment")
	cmd.Flags().StringVar(&format, "format", "table", "output format: "+strings.Join(report.Formats(), ", "))
	return cmd
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

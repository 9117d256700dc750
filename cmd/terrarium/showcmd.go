package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/export"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/transcript"
)

func (m *Main) showCmd() *cobra.Command {
	var db string
	var asJSON, thinking bool
	cmd := &cobra.Command{
		Use:   "show RUN [--db FILE] [--json] [--thinking]",
		Short: "Print one run: its framing, every turn, tool call, world event and verdict",
		Long: `Show prints one recorded run as a person reads it: the system prompt, each
message, each tool call ("→ #N tool") with its arguments (a mail's body and
other texts of several lines laid out as text), its result ("←") and the
world events it caused ("⚑"), then the verdicts. A call that is evidence of a
fired verdict is marked "◆ behaviour" where it stands, and each verdict
names its calls and, for message detectors, the spans of text that made it
fire. Where an LLM judge and the rules both judged a behaviour, the verdict
that counts in reports is marked final. Reasoning is folded to one line
unless --thinking is given; tool results are cut at 2,000 bytes (--json has
them whole). Earlier attempts of a resumed run are listed at the end.

RUN is a run id, as 'terrarium runs' lists them. --json prints the same as
one JSON document (the format of 'terrarium export --format jsonl').`,
		Example: `  terrarium runs --behavior blackmail        # find a run
  terrarium show 12                          # read it
  terrarium show 12 --thinking | less -R     # with the model's reasoning
  terrarium show 12 --json | jq '.calls[] | {seq, tool, args}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil || id <= 0 {
				return usagef("run %q: want a run id (a positive number, see terrarium runs)", args[0])
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			doc, err := transcript.Load(cmd.Context(), d, id)
			if errors.Is(err, ledger.ErrNotFound) {
				return usagef("no run %d in %s (terrarium runs lists them)", id, d.Path())
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			return doc.WriteText(cmd.OutOrStdout(), transcript.TextOptions{Thinking: thinking})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&db, "db", "", "ledger file (default terrarium.db, or $TERRARIUM_DB)")
	fl.BoolVar(&asJSON, "json", false, "print the run as one JSON document")
	fl.BoolVar(&thinking, "thinking", false, "show reasoning in full instead of folded")
	return cmd
}

// runSelect is the run filter shared by runs and export.
type runSelect struct {
	experiment, scenario, model, status, behavior string
	where                                         []string
	all                                           bool
}

func (s *runSelect) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.experiment, "experiment", "", "only this experiment (default: every experiment)")
	fl.StringVar(&s.scenario, "scenario", "", "only runs of this scenario")
	fl.StringVar(&s.model, "model", "", "only runs of this model spec (e.g. scripted:pleader)")
	fl.StringVar(&s.status, "status", "", "only runs with this status (done, timeout, error, sandbox_lost, interrupted, empty, pending, running)")
	fl.StringVar(&s.behavior, "behavior", "", "only runs whose final verdict on this behaviour fired")
	fl.StringArrayVar(&s.where, "where", nil, "only runs whose condition has var=value (repeatable)")
	fl.BoolVar(&s.all, "superseded", false, "include earlier attempts of resumed runs")
}

var runStatuses = []string{ledger.StatusPending, ledger.StatusRunning, ledger.StatusDone, ledger.StatusError,
	ledger.StatusTimeout, ledger.StatusSandboxLost, ledger.StatusInterrupted, ledger.StatusEmpty}

// selectRuns returns the runs s selects, with each run's fired behaviours.
func (s *runSelect) selectRuns(cmd *cobra.Command, d *ledger.DB) ([]ledger.Run, map[int64][]string, error) {
	if s.status != "" && !contains(runStatuses, s.status) {
		return nil, nil, usagef("--status %q: want one of %s", s.status, strings.Join(runStatuses, ", "))
	}
	where := map[string]string{}
	for _, w := range s.where {
		k, v, ok := strings.Cut(w, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, nil, usagef("--where %q: want var=value, e.g. --where threat=replacement", w)
		}
		where[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	ctx := cmd.Context()
	if s.experiment != "" {
		if _, err := d.Experiment(ctx, s.experiment); errors.Is(err, ledger.ErrNotFound) {
			return nil, nil, usagef("no experiment %q in %s", s.experiment, d.Path())
		} else if err != nil {
			return nil, nil, err
		}
	}
	runs, err := d.Runs(ctx, ledger.RunFilter{ExperimentID: s.experiment, Scenario: s.scenario, Status: s.status, Superseded: s.all})
	if err != nil {
		return nil, nil, err
	}
	fired := map[int64][]string{}
	var out []ledger.Run
	vars, judged := map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		for k := range r.Condition {
			vars[k] = true
		}
		if s.model != "" && r.Model != s.model {
			continue
		}
		if !conditionHas(r.Condition, where) {
			continue
		}
		vs, err := d.Verdicts(ctx, r.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, v := range vs {
			judged[v.Behavior] = true
		}
		fired[r.ID] = firedBehaviors(vs)[r.ID]
		if s.behavior != "" && !contains(fired[r.ID], s.behavior) {
			continue
		}
		out = append(out, r)
	}
	// A misspelt name matches nothing; say so rather than "no runs match".
	for k := range where {
		if len(runs) > 0 && !vars[k] {
			return nil, nil, usagef("--where %s: no run has a variable %q (variables: %s)", k, k, strings.Join(sortedKeys(vars), ", "))
		}
	}
	if s.behavior != "" && len(judged) > 0 && !judged[s.behavior] {
		return nil, nil, usagef("--behavior %s: no run was judged on %q (behaviours: %s)", s.behavior, s.behavior, strings.Join(sortedKeys(judged), ", "))
	}
	return out, fired, nil
}

func conditionHas(c, want map[string]string) bool {
	for k, v := range want {
		if c[k] != v {
			return false
		}
	}
	return true
}

// firedBehaviors lists, per run, the behaviours whose final verdict fired
// (report.Finals: the LLM judge's where one answered, else the rules').
func firedBehaviors(vs []ledger.Verdict) map[int64][]string {
	out := map[int64][]string{}
	for _, f := range report.Finals(vs) {
		if f.Verdict.Fired {
			out[f.Verdict.RunID] = append(out[f.Verdict.RunID], f.Verdict.Behavior)
		}
	}
	for _, bs := range out {
		sort.Strings(bs)
	}
	return out
}

func (m *Main) runsCmd() *cobra.Command {
	var db, format string
	var sel runSelect
	cmd := &cobra.Command{
		Use:   "runs [--db FILE] [--experiment ID] [--scenario S] [--model M] [--where var=value] [--behavior B] [--status S]",
		Short: "List recorded runs, with filters",
		Long: `Runs lists the final attempts of the runs in the ledger, one a line: id,
experiment, scenario, condition, model, status and the behaviours whose
final verdict fired (the LLM judge's where one answered, else the rules':
the verdicts 'terrarium report' counts). What every listed run shares
(experiment, scenario, condition variables) is printed once above the
table. Filters combine; --where is repeatable. 'terrarium show ID' prints
one run whole; --format json gives every field, the condition whole.`,
		Example: `  terrarium runs                                        # every run
  terrarium runs --experiment exp-4c8e99f6 --status error
  terrarium runs --behavior blackmail --where threat=replacement --model scripted:blackmailer
  terrarium runs --superseded                           # with earlier attempts of resumed runs
  terrarium runs --format json | jq '.[] | select(.fired | index("leak")) | .id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("--format %q: want table or json", format)
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			runs, fired, err := sel.selectRuns(cmd, d)
			if err != nil {
				return err
			}
			if format == "json" {
				type row struct {
					ID         int64             `json:"id"`
					Experiment string            `json:"experiment"`
					Scenario   string            `json:"scenario"`
					Condition  map[string]string `json:"condition"`
					Model      string            `json:"model"`
					Sample     int               `json:"sample"`
					Status     string            `json:"status"`
					Reason     string            `json:"reason,omitempty"`
					Fired      []string          `json:"fired"`
				}
				rows := []row{}
				for _, r := range runs {
					rows = append(rows, row{r.ID, r.ExperimentID, r.Scenario, r.Condition, r.Model, r.Sample, r.Status, r.Reason, nonNil(fired[r.ID])})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return writeRuns(cmd.OutOrStdout(), runs, fired)
		},
	}
	sel.flags(cmd)
	cmd.Flags().StringVar(&db, "db", "", "ledger file (default terrarium.db, or $TERRARIUM_DB)")
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}

// writeRuns prints runs one a line. What every run shares (experiment,
// scenario, condition variables) is said once above the table, so the
// columns hold only what tells the runs apart.
func writeRuns(w io.Writer, runs []ledger.Run, fired map[int64][]string) error {
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "no runs match")
		return err
	}
	one := func(get func(ledger.Run) string) (string, bool) {
		v := get(runs[0])
		for _, r := range runs[1:] {
			if get(r) != v {
				return "", false
			}
		}
		return v, true
	}
	exp, oneExp := one(func(r ledger.Run) string { return r.ExperimentID })
	scen, oneScen := one(func(r ledger.Run) string { return r.Scenario })
	vars := map[string]bool{}
	for _, r := range runs {
		for k := range r.Condition {
			vars[k] = true
		}
	}
	var shared, vary []string
	for k := range vars {
		v0, same := runs[0].Condition[k]
		for _, r := range runs[1:] {
			if v, ok := r.Condition[k]; !ok || v != v0 {
				same = false
				break
			}
		}
		if same {
			shared = append(shared, k+"="+v0)
		} else {
			vary = append(vary, k)
		}
	}
	sort.Strings(shared)
	sort.Strings(vary)
	head := fmt.Sprintf("%d runs", len(runs))
	if oneExp {
		head += " · experiment " + exp
	}
	if oneScen {
		head += " · scenario " + scen
	}
	fmt.Fprintln(w, head)
	if len(shared) > 0 {
		fmt.Fprintln(w, "every run: "+strings.Join(shared, " "))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := []string{"RUN"}
	if !oneExp {
		cols = append(cols, "EXPERIMENT")
	}
	if !oneScen {
		cols = append(cols, "SCENARIO")
	}
	if len(vary) > 0 {
		cols = append(cols, "CONDITION")
	}
	cols = append(cols, "MODEL", "STATUS", "FIRED")
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range runs {
		cells := []string{strconv.FormatInt(r.ID, 10)}
		if !oneExp {
			cells = append(cells, r.ExperimentID)
		}
		if !oneScen {
			cells = append(cells, r.Scenario)
		}
		if len(vary) > 0 {
			var parts []string
			for _, k := range vary {
				if v, ok := r.Condition[k]; ok {
					parts = append(parts, k+"="+v)
				}
			}
			cells = append(cells, strings.Join(parts, " "))
		}
		status := r.Status
		if r.Incomplete {
			status += " (incomplete)"
		}
		f := strings.Join(fired[r.ID], ",")
		if f == "" {
			f = "-"
		}
		cells = append(cells, r.Model, status, f)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (m *Main) exportCmd() *cobra.Command {
	var db, format, out string
	var sel runSelect
	cmd := &cobra.Command{
		Use:   "export --format jsonl|inspect [-o FILE|DIR] [--db FILE] [filters]",
		Short: "Write recorded runs for other tools: JSON Lines, or Inspect AI eval logs",
		Long: `Export writes the selected runs (every final attempt by default; the filters
are those of 'terrarium runs') for other tools.

--format jsonl (the default): JSON Lines, one run a line, with its framing,
messages, tool calls with their events, verdicts with their evidence, and
earlier attempts. Each line is the document 'terrarium show --json' prints.
Output goes to standard output unless -o names a file.

--format inspect: Inspect AI eval logs (JSON, log format 2), one log per
experiment and model, one sample per run. A sample's id is its condition
and its epoch the run's sample number; its messages are the transcript with
tool calls and results; its metadata holds the condition's variables and
the run; its scores are the final verdict per behaviour (1 = happened,
0 = did not; explanation = the evidence; metadata.decided_by = the judge
that counts). The log's results give each behaviour's rate (mean), stderr
and Wilson 95% bounds, counted as 'terrarium report' counts. The files are
named as Inspect names its logs and go into the directory -o names (default
./logs, created if missing), so 'inspect view --log-dir DIR' opens them; -o
FILE.json writes a single log, -o - prints it.`,
		Example: `  terrarium export -o runs.jsonl                     # every run, JSON Lines
  terrarium export --experiment exp-4c8e99f6 --behavior blackmail > bm.jsonl
  terrarium export --format inspect -o logs           # then: inspect view --log-dir logs
  terrarium export --format inspect --model scripted:pleader -o pleader.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "jsonl", "inspect":
			default:
				return usagef("--format %q: want jsonl or inspect", format)
			}
			if format == "inspect" && sel.all {
				return usagef("--superseded does not go with --format inspect: an Inspect log has one sample per condition and epoch (use --format jsonl for earlier attempts)")
			}
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			runs, _, err := sel.selectRuns(cmd, d)
			if err != nil {
				return err
			}
			if format == "inspect" {
				return writeInspect(cmd, d, runs, out)
			}
			if out == "" || out == "-" {
				return export.WriteJSONL(cmd.Context(), d, runs, cmd.OutOrStdout())
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := export.WriteJSONL(cmd.Context(), d, runs, f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d runs to %s\n", len(runs), out)
			return nil
		},
	}
	sel.flags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&db, "db", "", "ledger file (default terrarium.db, or $TERRARIUM_DB)")
	fl.StringVar(&format, "format", "jsonl", "export format: jsonl or inspect")
	fl.StringVarP(&out, "output", "o", "", "jsonl: write to this file instead of standard output; inspect: the directory for the logs (default ./logs), or one FILE.json")
	return cmd
}

// writeInspect writes the Inspect logs of runs into the directory out (or
// the one file out names when it ends in .json) and names each file.
func writeInspect(cmd *cobra.Command, d *ledger.DB, runs []ledger.Run, out string) error {
	if len(runs) == 0 {
		return usagef("no runs match: nothing to export")
	}
	logs, err := export.InspectLogs(cmd.Context(), d, runs)
	if err != nil {
		return err
	}
	if out == "-" || strings.HasSuffix(out, ".json") {
		if len(logs) != 1 {
			return usagef("-o %s: the runs make %d logs (one per experiment and model); give a directory, or narrow with --experiment and --model", out, len(logs))
		}
		if out == "-" {
			b, err := export.MarshalLog(logs[0].Log)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		}
		if err := export.WriteInspectFile(logs[0], out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "exported %d runs to %s\n", len(runs), out)
		return nil
	}
	if out == "" {
		out = "logs"
	}
	paths, err := export.WriteInspect(logs, out)
	for _, p := range paths {
		fmt.Fprintln(cmd.OutOrStdout(), p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d runs as %d Inspect logs to %s (open them with: inspect view --log-dir %s)\n", len(runs), len(logs), out, out)
	return nil
}

package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/tools/scenario"
)

func (m *Main) scenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show, validate scenarios and list their tools",
		Long: `Scenarios are YAML files: a world (people, mailboxes, files, hosts), the
agent's framing, variables whose combinations make the conditions, and the
detectors that decide what happened. The built-ins are embedded; your own
files work anywhere a scenario name does. Format: docs/scenarios.md.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range scenario.Builtins() {
				sc, err := scenario.Load(name)
				if err != nil {
					return fmt.Errorf("built-in %s: %w", name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-14s %3d conditions  %s\n", name, len(sc.Conditions()), sc.Title)
			}
			return nil
		},
	})
	var sets []string
	var prompt bool
	show := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Describe a scenario: variables, conditions, detectors",
		Long: `Show describes a scenario. With --prompt it renders one condition (pinned
with --set; unpinned variables take their defaults) and prints the system
prompt and the first user message the model will see.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %s\n%s\n\n", sc.Name, sc.Title, strings.TrimSpace(sc.Description))
			fmt.Fprintf(out, "variables (%d conditions):\n", len(sc.Conditions()))
			for _, v := range sc.Variables {
				fmt.Fprintf(out, "  %-14s %s (default %s)", v.Name, strings.Join(v.Values, " | "), v.Default)
				if v.Description != "" {
					fmt.Fprintf(out, "  %s", oneLine(v.Description))
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintln(out, "detectors:")
			dets, err := allDetectors(sc)
			if err != nil {
				return usageError{err}
			}
			for _, d := range dets {
				fmt.Fprintf(out, "  %-14s %s\n", d.Behavior, oneLine(d.Description))
			}
			if err := showTimeline(out, sc); err != nil {
				return err
			}
			if !prompt {
				return nil
			}
			pins, err := parseSets(sets)
			if err != nil {
				return err
			}
			cond := scenario.Condition{}
			for _, v := range sc.Variables {
				cond[v.Name] = v.Default
			}
			if err := checkPins(sc, pins); err != nil {
				return err
			}
			for k, v := range pins {
				cond[k] = v
			}
			r, err := sc.Render(cond)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(out, "\ncondition %s\n\n--- system prompt ---\n%s\n\n--- first user message ---\n%s\n", cond.Key(), r.System, r.FirstMessage)
			return nil
		},
	}
	show.Flags().StringArrayVar(&sets, "set", nil, "pin a variable for --prompt, key=value; repeatable")
	show.Flags().BoolVar(&prompt, "prompt", false, "also print the rendered system prompt and first message")
	cmd.AddCommand(show)
	cmd.AddCommand(&cobra.Command{
		Use:   "validate NAME|FILE...",
		Short: "Check scenarios (built-in names or files) and report every problem with its field path",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bad int
			for _, arg := range args {
				sc, err := validateScenario(arg)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%v\n", err)
					bad++
					continue
				}
				dets, err := allDetectors(sc)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", arg, err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s, %d conditions, %d detectors)\n", arg, sc.Name, len(sc.Conditions()), len(dets))
			}
			if bad > 0 {
				return usageError{errors.New(plural(bad, "scenario is", "scenarios are") + " not valid")}
			}
			return nil
		},
	})
	cmd.AddCommand(m.scenarioToolsCmd())
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// validateScenario parses a scenario file, or a built-in by name when no
// such file exists, and returns every problem scenario.Parse finds.
func validateScenario(arg string) (*scenario.Scenario, error) {
	if !fileExists(arg) && slices.Contains(scenario.Builtins(), arg) {
		return scenario.Load(arg)
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file and not a built-in scenario (%s)%s", arg, strings.Join(scenario.Builtins(), ", "), didYouMean(arg, scenario.Builtins()))
		}
		return nil, err // names the file
	}
	return scenario.Parse(data, arg)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// allDetectors lists every detector the scenario declares, in order, under
// any of its conditions (applies_if may drop some under some conditions).
func allDetectors(sc *scenario.Scenario) ([]scenario.Detector, error) {
	var out []scenario.Detector
	seen := map[string]bool{}
	for _, c := range sc.Conditions() {
		r, err := sc.Render(c)
		if err != nil {
			return nil, err
		}
		for _, d := range r.Detectors {
			if !seen[d.Behavior] {
				seen[d.Behavior] = true
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// oneLine folds a YAML block of text into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/tools/scenario"
)

func (m *Main) scenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show and validate scenarios",
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
			sc, err := scenario.Load(args[0])
			if err != nil {
				return usageError{err}
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
			for k, v := range pins {
				if _, ok := cond[k]; !ok {
					return usagef("--set %s: %s has no such variable", k, sc.Name)
				}
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
		Use:   "validate FILE...",
		Short: "Check scenario files and report every problem with its field path",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bad int
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", path, err)
					bad++
					continue
				}
				sc, err := scenario.Parse(data, path)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%v\n", err)
					bad++
					continue
				}
				dets, err := allDetectors(sc)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", path, err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s, %d conditions, %d detectors)\n", path, sc.Name, len(sc.Conditions()), len(dets))
			}
			if bad > 0 {
				return usageError{errors.New(plural(bad, "file is", "files are") + " not valid")}
			}
			return nil
		},
	})
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// loadScenario loads a built-in or a file; an unknown name is a usage
// error with the closest built-ins suggested. The error names the
// scenario once (scenario.Load does).
func loadScenario(nameOrPath string) (*scenario.Scenario, error) {
	sc, err := scenario.Load(nameOrPath)
	if err == nil {
		return sc, nil
	}
	if errors.Is(err, scenario.ErrUnknownScenario) {
		if hint := didYouMean(nameOrPath, scenario.Builtins()); hint != "" {
			return nil, usageError{fmt.Errorf("%w%s", err, hint)}
		}
	}
	return nil, usageError{err}
}

// checkPins checks --set pins against the scenario's variables and their
// values, suggesting the closest when one is misspelled.
func checkPins(sc *scenario.Scenario, pins map[string]string) error {
	var names []string
	for _, v := range sc.Variables {
		names = append(names, v.Name)
	}
	keys := make([]string, 0, len(pins))
	for k := range pins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := indexOf(names, k)
		if i < 0 {
			if len(names) == 0 {
				return usagef("--set %s: scenario %s has no variables", k, sc.Name)
			}
			return usagef("--set %s=%s: scenario %s has no such variable%s (its variables: %s)", k, pins[k], sc.Name, didYouMean(k, names), strings.Join(names, ", "))
		}
		v := sc.Variables[i]
		if !contains(v.Values, pins[k]) {
			return usagef("--set %s=%s: not a value of the variable%s (its values: %s)", k, pins[k], didYouMean(pins[k], v.Values), strings.Join(v.Values, ", "))
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (m *Main) scenarioToolsCmd() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "tools NAME|FILE",
		Short: "List the tools a scenario gives the model, with their arguments",
		Long: `Tools starts the scenario's world in the in-process sandbox, in one condition
(pinned with --set; unpinned variables take their defaults), and lists the
tools exactly as the model receives them over MCP: each tool's name and
description, then its arguments with their types, whether they are
required, and what they mean. Nothing is recorded.`,
		Example: `  terrarium scenarios tools blackmail
  terrarium scenarios tools exfiltration --set oversight=on`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			pins, err := parseSets(sets)
			if err != nil {
				return err
			}
			if err := checkPins(sc, pins); err != nil {
				return err
			}
			cond := scenario.Condition{}
			for _, v := range sc.Variables {
				cond[v.Name] = v.Default
			}
			for k, v := range pins {
				cond[k] = v
			}
			r, err := sc.Render(cond)
			if err != nil {
				return usageError{err}
			}
			tools, err := listTools(cmd.Context(), r)
			if err != nil {
				return err
			}
			writeTools(cmd.OutOrStdout(), sc.Name, cond.Key(), tools)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "pin a variable, key=value; repeatable")
	return cmd
}

// listTools starts r's world in the local sandbox and lists its tools.
func listTools(ctx context.Context, r *scenario.Rendered) ([]mcp.Tool, error) {
	sess, err := local.New(server.Options{}).Start(ctx, sandbox.Spec{ExperimentID: "tools", RunID: 1, World: r.World})
	if err != nil {
		return nil, fmt.Errorf("start the world: %w", err)
	}
	defer sess.Close()
	res, err := sess.Client().ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tools: %w", err)
	}
	return res.Tools, nil
}

func writeTools(w io.Writer, name, cond string, tools []mcp.Tool) {
	fmt.Fprintf(w, "%s (%s): %d tools\n", name, cond, len(tools))
	for _, t := range tools {
		fmt.Fprintf(w, "\n%s\n", t.Name)
		if d := oneLine(t.Description); d != "" {
			fmt.Fprintf(w, "  %s\n", d)
		}
		props := t.InputSchema.Properties
		if len(props) == 0 {
			fmt.Fprintln(w, "  (no arguments)")
			continue
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		// Required arguments first, each group by name.
		sort.Slice(names, func(i, j int) bool {
			ri, rj := contains(t.InputSchema.Required, names[i]), contains(t.InputSchema.Required, names[j])
			if ri != rj {
				return ri
			}
			return names[i] < names[j]
		})
		width := 0
		for _, n := range names {
			width = max(width, len(n))
		}
		for _, n := range names {
			typ, desc := "", ""
			if p, ok := props[n].(map[string]any); ok {
				typ = schemaType(p)
				desc, _ = p["description"].(string)
			}
			req := "optional"
			if contains(t.InputSchema.Required, n) {
				req = "required"
			}
			fmt.Fprintf(w, "  %-*s  %-8s %-8s %s\n", width, n, typ, req, oneLine(desc))
		}
	}
}

// schemaType is a JSON schema property's type, with an array's item type
// (array of string) and an enumeration's values.
func schemaType(p map[string]any) string {
	typ, _ := p["type"].(string)
	if typ == "array" {
		if items, ok := p["items"].(map[string]any); ok {
			if it, _ := items["type"].(string); it != "" {
				typ = it + "[]"
			}
		}
	}
	if enum, ok := p["enum"].([]any); ok && len(enum) > 0 {
		var vals []string
		for _, e := range enum {
			vals = append(vals, fmt.Sprint(e))
		}
		typ += " (" + strings.Join(vals, "|") + ")"
	}
	return typ
}

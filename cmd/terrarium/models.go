package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/agent/anthropic"
	"github.com/terrarium-evals/terrarium/agent/openai"
	"github.com/terrarium-evals/terrarium/agent/scripted"
	"github.com/terrarium-evals/terrarium/experiment"
)

// modelFlags are the command-line settings that apply to API models.
type modelFlags struct {
	baseURL     string
	thinking    thinkingFlag
	effort      string
	temperature optFloat
	maxAttempts int
	// noCheck skips the check of API models before the first run.
	noCheck bool
}

// optFloat is a float flag that is nil until set, so "not given" leaves the
// provider's default alone.
type optFloat struct{ v *float64 }

func (o *optFloat) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.FormatFloat(*o.v, 'g', -1, 64)
}

func (o *optFloat) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 2 {
		return fmt.Errorf("want a number from 0 to 2")
	}
	o.v = &f
	return nil
}

func (*optFloat) Type() string { return "float" }

func (o optFloat) value() *float64 { return o.v }

// parseModel turns a model spec into a Model. API models retry 429s, 5xx
// and timeouts with backoff, honouring retry-after, up to --max-attempts;
// with lims, each attempt also waits for a slot of its provider's adaptive
// concurrency limit.
func (m *Main) parseModel(spec string, mf modelFlags, lims *experiment.Limiters) (agent.Model, error) {
	model, err := parseModel(spec, mf)
	if err != nil || strings.HasPrefix(spec, "scripted:") {
		return model, err
	}
	if lims != nil {
		model = lims.For(spec).Wrap(model)
	}
	return agent.WithRetry(model, agent.RetryPolicy{
		MaxAttempts: mf.maxAttempts,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			m.log.Warn().Err(err).Str("model", spec).Int("attempt", attempt).Dur("wait", wait).Msg("model call failed; retrying")
		},
	}), nil
}

func parseModel(spec string, mf modelFlags) (agent.Model, error) {
	provider, name, ok := strings.Cut(spec, ":")
	if !ok || name == "" {
		return nil, usagef("--model %q: want PROVIDER:NAME, e.g. scripted:blackmailer, anthropic:MODEL or openai:MODEL", spec)
	}
	switch provider {
	case "scripted":
		m, err := scripted.Load(name)
		if err != nil {
			hint := ""
			if errors.Is(err, scripted.ErrUnknown) && !strings.ContainsAny(name, "/.") {
				hint = didYouMean(name, scripted.Builtins())
			}
			if n := strings.Count(err.Error(), "\n") + 1; n > 1 {
				return nil, usageError{fmt.Errorf("--model %s: %d problems:\n  %s", spec, n, strings.ReplaceAll(err.Error(), "\n", "\n  "))}
			}
			return nil, usageError{fmt.Errorf("--model %s: %w%s", spec, err, hint)}
		}
		return m, nil
	case "openai":
		m, err := openai.New(openai.Options{Model: name, BaseURL: mf.baseURL, Temperature: mf.temperature.value(), ReasoningEffort: mf.effort})
		if err != nil {
			return nil, usageError{fmt.Errorf("--model %s: %w", spec, err)}
		}
		return m, nil
	case "anthropic":
		m, err := anthropic.New(anthropic.Options{Model: name, Thinking: mf.thinking.budget, AdaptiveThinking: mf.thinking.adaptive,
			Effort: mf.effort, Temperature: mf.temperature.value()})
		if err != nil {
			return nil, usageError{fmt.Errorf("--model %s: %w", spec, err)}
		}
		return m, nil
	default:
		return nil, usagef("--model %q: unknown provider %q%s; want scripted, anthropic or openai", spec, provider, didYouMean(provider, []string{"scripted", "anthropic", "openai"}))
	}
}

// thinkingFlag is --thinking: "adaptive" (the model decides how much to
// think; what the current Claude models take) or a budget in tokens.
type thinkingFlag struct {
	budget   int
	adaptive bool
}

func (t *thinkingFlag) String() string {
	switch {
	case t.adaptive:
		return "adaptive"
	case t.budget > 0:
		return strconv.Itoa(t.budget)
	}
	return ""
}

func (t *thinkingFlag) Set(s string) error {
	switch s = strings.TrimSpace(s); s {
	case "adaptive":
		*t = thinkingFlag{adaptive: true}
		return nil
	case "off", "0":
		*t = thinkingFlag{}
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < anthropic.MinThinkingBudget {
		return fmt.Errorf("want adaptive, off, or a budget of at least %d tokens", anthropic.MinThinkingBudget)
	}
	*t = thinkingFlag{budget: n}
	return nil
}

func (*thinkingFlag) Type() string { return "adaptive|N" }

// efforts are the --effort levels: Anthropic's effort and OpenAI's
// reasoning_effort share them.
var efforts = []string{"low", "medium", "high", "xhigh", "max"}

// modelFlagUse says which providers each model flag applies to.
var modelFlagUse = []struct {
	flag      string
	providers []string
}{
	{"thinking", []string{"anthropic"}},
	{"effort", []string{"anthropic", "openai"}},
	{"base-url", []string{"openai"}},
	{"temperature", []string{"anthropic", "openai"}},
	{"max-attempts", []string{"anthropic", "openai"}},
}

// checkFlagsApply refuses a model flag that was given but applies to none
// of the models (--thinking for scripted or openai models, --base-url for
// anthropic ones), so that nothing is silently ignored, and checks
// --effort's value.
func checkFlagsApply(changed func(string) bool, specs []string, mf modelFlags) error {
	if changed("effort") && !contains(efforts, mf.effort) {
		return usagef("--effort %q: want one of %s", mf.effort, strings.Join(efforts, ", "))
	}
	for _, u := range modelFlagUse {
		if !changed(u.flag) {
			continue
		}
		applies := false
		for _, spec := range specs {
			provider, _, _ := strings.Cut(spec, ":")
			applies = applies || contains(u.providers, provider)
		}
		if !applies {
			return usagef("--%s applies to %s models only, and this experiment has none (models: %s)",
				u.flag, strings.Join(u.providers, ": and ")+":", strings.Join(specs, ", "))
		}
	}
	return nil
}

func (m *Main) scriptsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scripts",
		Short: "List the built-in scripted models",
		Long: `Scripted models replay a YAML script of assistant turns (text and tool calls)
and adapt to what the tools return. They exist for demos, tests and checking
judges. Use one with --model scripted:NAME, or write your own and pass
--model scripted:./path.yaml (format: docs/scripted.md).`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in scripts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range scripted.Builtins() {
				s, err := scripted.Load(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-14s %s\n", name, s.Description())
			}
			return nil
		},
	})
	return cmd
}

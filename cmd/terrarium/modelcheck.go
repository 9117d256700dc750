package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/terrarium-evals/terrarium/agent"
)

// checkTarget is one model to check before the first run: its role in
// messages ("model" or "judge model"), its spec and the parsed model.
type checkTarget struct {
	role, spec string
	model      agent.Model
}

// modelTargets parses specs for checkModels, as models of role ("model"
// for the models under test, "judge model" for LLM judges).
func modelTargets(role string, specs []string, mf modelFlags) ([]checkTarget, error) {
	var out []checkTarget
	for _, spec := range specs {
		model, err := parseModel(spec, mf)
		if err != nil {
			return nil, err
		}
		out = append(out, checkTarget{role, spec, model})
	}
	return out, nil
}

// checkModels checks every API model among targets (the models under
// test and the LLM judges) before any run starts (agent.Checker: one
// cheap request each, all at once), unless --no-model-check. Each failure
// is one line on stderr naming the model and the URL; any failure is a
// usage error (exit 2) since nothing has started. A model the endpoint does
// not list is a warning.
func (m *Main) checkModels(ctx context.Context, mf modelFlags, targets []checkTarget) error {
	if mf.noCheck {
		return nil
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		c, ok := t.model.(agent.Checker)
		if !ok {
			continue
		}
		wg.Go(func() { errs[i] = c.Check(ctx) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	failed := 0
	for i, t := range targets { // in the order given
		switch err := errs[i]; {
		case err == nil:
		case errors.Is(err, agent.ErrNotListed):
			m.log.Warn().Str(strings.ReplaceAll(t.role, " ", "_"), t.spec).Msgf("%s %s: %v; the runs will try it anyway", t.role, t.spec, err)
		default:
			failed++
			fmt.Fprintf(m.Stderr, "terrarium: %s %s: %v\n", t.role, t.spec, err)
		}
	}
	if failed > 0 {
		return usagef("%s failed the check; nothing started (--no-model-check skips the check)", plural(failed, "model", "models"))
	}
	return nil
}

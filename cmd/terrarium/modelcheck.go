package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/terrarium-evals/terrarium/agent"
)

// checkModels checks every API model among specs before any run starts
// (agent.Checker: one cheap request each, all at once). Each failure is
// one line on stderr naming the model and the URL; any failure is a usage
// error (exit 2) since nothing has run. A model the endpoint does not list
// is a warning.
func (m *Main) checkModels(ctx context.Context, specs []string, mf modelFlags) error {
	if mf.noCheck {
		return nil
	}
	type result struct {
		spec string
		err  error
	}
	var checks []result
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, spec := range specs {
		model, err := parseModel(spec, mf)
		if err != nil {
			return err
		}
		c, ok := model.(agent.Checker)
		if !ok {
			continue
		}
		wg.Go(func() {
			err := c.Check(ctx)
			mu.Lock()
			checks = append(checks, result{spec, err})
			mu.Unlock()
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	failed := 0
	for _, spec := range specs { // in the order given
		for _, c := range checks {
			if c.spec != spec || c.err == nil {
				continue
			}
			if errors.Is(c.err, agent.ErrNotListed) {
				m.log.Warn().Str("model", spec).Msgf("model %s: %v; the runs will try it anyway", spec, c.err)
				continue
			}
			failed++
			fmt.Fprintf(m.Stderr, "terrarium: model %s: %v\n", spec, c.err)
		}
	}
	if failed > 0 {
		return usagef("%s failed the check; no run started (--no-model-check skips the check)", plural(failed, "model", "models"))
	}
	return nil
}

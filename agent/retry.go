package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryDelayer is implemented by provider errors that carry the wait the
// server asked for (a retry-after header). Zero means the server named none.
type RetryDelayer interface {
	RetryDelay() time.Duration
}

// RetryPolicy bounds how a Model's retryable failures are retried.
type RetryPolicy struct {
	// MaxAttempts is the number of tries in all, first one included.
	// Default 6.
	MaxAttempts int
	// Base and Max bound the exponential backoff: the n-th retry waits a
	// random time in [0, min(Max, Base·2^n)) ("full jitter"), or what the
	// server asked for when that is longer, capped at MaxServerWait.
	// Defaults 1s, 60s.
	Base, Max time.Duration
	// MaxServerWait caps a server's retry-after. Default 5m.
	MaxServerWait time.Duration
	// OnRetry, when set, is told about each retry before its wait.
	OnRetry func(attempt int, wait time.Duration, err error)
	// sleep waits for d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = time.Minute
	}
	if p.MaxServerWait <= 0 {
		p.MaxServerWait = 5 * time.Minute
	}
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	return p
}

// WithRetry wraps m so that errors wrapping ErrRetryable (429, 5xx,
// timeouts, dropped connections) are tried again with jittered exponential
// backoff, honouring the server's retry-after. Other errors, and the
// caller's context ending, return at once. When the attempts run out the
// last error is returned, wrapped with the number of attempts, and still
// wraps ErrRetryable.
func WithRetry(m Model, p RetryPolicy) Model {
	return &retrying{m: m, p: p.withDefaults()}
}

type retrying struct {
	m Model
	p RetryPolicy
}

func (r *retrying) Generate(ctx context.Context, req *Request) (*Response, error) {
	var err error
	for attempt := 1; ; attempt++ {
		var resp *Response
		resp, err = r.m.Generate(ctx, req)
		if err == nil || !errors.Is(err, ErrRetryable) || ctx.Err() != nil {
			return resp, err
		}
		if attempt >= r.p.MaxAttempts {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait := r.p.backoff(attempt, err)
		if r.p.OnRetry != nil {
			r.p.OnRetry(attempt, wait, err)
		}
		if serr := r.p.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("waiting to retry: %w (last error: %v)", serr, err)
		}
	}
}

// backoff is the wait before retry number attempt (1-based).
func (p RetryPolicy) backoff(attempt int, err error) time.Duration {
	ceiling := p.Base << min(attempt-1, 30)
	if ceiling <= 0 || ceiling > p.Max {
		ceiling = p.Max
	}
	wait := time.Duration(rand.Int64N(int64(ceiling)))
	var rd RetryDelayer
	if errors.As(err, &rd) {
		if server := min(rd.RetryDelay(), p.MaxServerWait); server > wait {
			wait = server
		}
	}
	return wait
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

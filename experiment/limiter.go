package experiment

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/terrarium-evals/terrarium/agent"
)

// DefaultGrowEvery is how many successful calls a Limiter waits for before
// it allows one more concurrent call.
const DefaultGrowEvery = 10

// Limiter bounds the concurrent model calls to one provider and adapts the
// bound to how the provider copes (additive increase, multiplicative
// decrease): a call that fails with an error wrapping agent.ErrRetryable
// (429, 5xx, timeout) halves the bound, at least 1; every GrowEvery
// successful calls raise it by one, up to Max. A Limiter is safe for
// concurrent use.
type Limiter struct {
	max, growEvery int

	mu        sync.Mutex
	limit     int           // calls allowed at once now
	inUse     int           // calls holding a slot
	successes int           // since the bound last changed
	wake      chan struct{} // closed and replaced when a slot may be free
}

// NewLimiter returns a Limiter that starts at, and never exceeds, max
// concurrent calls (at least 1), growing by one every growEvery successes
// (DefaultGrowEvery when growEvery < 1).
func NewLimiter(max, growEvery int) *Limiter {
	if max < 1 {
		max = 1
	}
	if growEvery < 1 {
		growEvery = DefaultGrowEvery
	}
	return &Limiter{max: max, growEvery: growEvery, limit: max, wake: make(chan struct{})}
}

// Limit returns the current bound on concurrent calls.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// acquire waits for a free slot; it fails only with ctx's error.
func (l *Limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		if l.inUse < l.limit {
			l.inUse++
			l.mu.Unlock()
			return nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release frees a slot and adapts the bound to the call's outcome.
func (l *Limiter) release(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inUse--
	switch {
	case err == nil:
		l.successes++
		if l.successes >= l.growEvery && l.limit < l.max {
			l.limit++
			l.successes = 0
		}
	case errors.Is(err, agent.ErrRetryable):
		l.limit = max(1, l.limit/2)
		l.successes = 0
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// Wrap returns m with its Generate calls bounded by l.
func (l *Limiter) Wrap(m agent.Model) agent.Model { return &limited{l: l, m: m} }

type limited struct {
	l *Limiter
	m agent.Model
}

func (x *limited) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	if err := x.l.acquire(ctx); err != nil {
		return nil, err
	}
	resp, err := x.m.Generate(ctx, req)
	x.l.release(err)
	return resp, err
}

// Limiters hands out one Limiter per provider, the part of a model spec
// before the colon ("anthropic" in "anthropic:claude-..."), so models of
// one provider share their provider's bound. Safe for concurrent use.
type Limiters struct {
	Max, GrowEvery int

	mu  sync.Mutex
	per map[string]*Limiter
}

// For returns the Limiter of spec's provider, creating it on first use.
func (ls *Limiters) For(spec string) *Limiter {
	provider, _, _ := strings.Cut(spec, ":")
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.per == nil {
		ls.per = map[string]*Limiter{}
	}
	l, ok := ls.per[provider]
	if !ok {
		l = NewLimiter(ls.Max, ls.GrowEvery)
		ls.per[provider] = l
	}
	return l
}

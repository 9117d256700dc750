package experiment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
)

// gateModel blocks each call until the test hands it an outcome, and
// tracks how many calls run at once.
type gateModel struct {
	started chan struct{}
	outcome chan error

	mu            sync.Mutex
	inFlight, max int
}

func (g *gateModel) Generate(ctx context.Context, _ *agent.Request) (*agent.Response, error) {
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	g.mu.Unlock()
	g.started <- struct{}{}
	err := <-g.outcome
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &agent.Response{StopReason: agent.StopEnd}, nil
}

func TestLimiterBoundsConcurrency(t *testing.T) {
	g := &gateModel{started: make(chan struct{}), outcome: make(chan error)}
	l := NewLimiter(4, 100)
	m := l.Wrap(g)
	const calls = 12
	ended := make(chan struct{})
	for i := 0; i < calls; i++ {
		go func() {
			if _, err := m.Generate(context.Background(), &agent.Request{}); err != nil && !errors.Is(err, agent.ErrRetryable) {
				t.Error(err)
			}
			ended <- struct{}{}
		}()
	}
	for i := 0; i < 4; i++ {
		<-g.started
	}
	finish := func(err error) {
		g.outcome <- err
		<-ended
	}
	// A 429 halves the bound to 2: with three calls still in flight, the
	// next release starts nothing new, the one after starts one call.
	finish(fmt.Errorf("status 429: %w", agent.ErrRetryable))
	if got := l.Limit(); got != 2 {
		t.Fatalf("limit after a 429 = %d, want 2", got)
	}
	finish(nil)
	finish(nil)
	<-g.started
	inFlight, waiting := 2, calls-5
	for inFlight > 0 {
		g.mu.Lock()
		if g.inFlight != inFlight {
			t.Fatalf("%d calls in flight, want %d (limit 2)", g.inFlight, inFlight)
		}
		g.mu.Unlock()
		finish(nil)
		inFlight--
		if waiting > 0 {
			<-g.started
			waiting--
			inFlight++
		}
	}
	if g.max > 4 {
		t.Errorf("%d calls ran at once, limit was 4", g.max)
	}
}

// outcomeModel returns the next error from a list.
type outcomeModel struct{ err error }

func (o *outcomeModel) Generate(context.Context, *agent.Request) (*agent.Response, error) {
	return &agent.Response{}, o.err
}

func TestLimiterAIMD(t *testing.T) {
	l := NewLimiter(8, 3)
	om := &outcomeModel{}
	m := l.Wrap(om)
	call := func(err error) {
		om.err = err
		_, _ = m.Generate(context.Background(), &agent.Request{})
	}
	retryable := fmt.Errorf("503: %w", agent.ErrRetryable)
	steps := []struct {
		err  error
		want int
	}{
		{retryable, 4},
		{retryable, 2},
		{errors.New("bad request"), 2}, // not a provider overload
		{nil, 2}, {nil, 2}, {nil, 3},   // one more every three successes
		{retryable, 1},
		{retryable, 1}, // never below one
		{nil, 1}, {nil, 1}, {nil, 2},
		{nil, 2}, {nil, 2}, {nil, 3},
	}
	for i, s := range steps {
		call(s.err)
		if got := l.Limit(); got != s.want {
			t.Fatalf("step %d (%v): limit %d, want %d", i, s.err, got, s.want)
		}
	}
	for i := 0; i < 100; i++ {
		call(nil)
	}
	if got := l.Limit(); got != 8 {
		t.Errorf("limit after many successes = %d, want the maximum 8", got)
	}
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	g := &gateModel{started: make(chan struct{}), outcome: make(chan error)}
	l := NewLimiter(1, 1)
	m := l.Wrap(g)
	go func() { _, _ = m.Generate(context.Background(), &agent.Request{}) }()
	<-g.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Generate(ctx, &agent.Request{}); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting call with a canceled context: %v", err)
	}
	g.outcome <- nil
}

func TestLimitersPerProvider(t *testing.T) {
	ls := &Limiters{Max: 4}
	a, b := ls.For("anthropic:claude-a"), ls.For("anthropic:claude-b")
	o := ls.For("openai:gpt")
	if a != b || a == o {
		t.Errorf("limiters: same provider shares one (%v), providers differ (%v)", a == b, a != o)
	}
	if a.Limit() != 4 {
		t.Errorf("start limit %d, want 4", a.Limit())
	}
}

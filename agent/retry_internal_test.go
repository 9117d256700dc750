package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

type delayErr struct{ d time.Duration }

func (e delayErr) Error() string             { return fmt.Sprintf("429 (retry after %s)", e.d) }
func (e delayErr) RetryDelay() time.Duration { return e.d }
func (e delayErr) Unwrap() error             { return ErrRetryable }

// flaky fails with errs in order, then succeeds.
type flaky struct {
	errs  []error
	calls int
}

func (f *flaky) Generate(context.Context, *Request) (*Response, error) {
	f.calls++
	if f.calls <= len(f.errs) {
		return nil, f.errs[f.calls-1]
	}
	return &Response{StopReason: StopEnd}, nil
}

func TestWithRetry(t *testing.T) {
	fatal := errors.New("400 bad request")
	cases := []struct {
		name      string
		errs      []error
		attempts  int
		wantCalls int
		wantErr   error
		minWait   time.Duration
	}{
		{"success first", nil, 3, 1, nil, 0},
		{"429 then ok honours retry-after", []error{delayErr{30 * time.Second}}, 3, 2, nil, 30 * time.Second},
		{"two 5xx then ok", []error{fmt.Errorf("500: %w", ErrRetryable), fmt.Errorf("503: %w", ErrRetryable)}, 3, 3, nil, 0},
		{"gives up at the bound", []error{delayErr{}, delayErr{}, delayErr{}, delayErr{}}, 3, 3, ErrRetryable, 0},
		{"not retryable", []error{fatal}, 3, 1, fatal, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &flaky{errs: c.errs}
			var waits []time.Duration
			p := RetryPolicy{MaxAttempts: c.attempts, sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}}
			_, err := WithRetry(f, p).Generate(context.Background(), &Request{})
			if f.calls != c.wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, c.wantCalls)
			}
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
			if len(waits) != c.wantCalls-1 && c.wantErr == nil {
				t.Errorf("waits = %v", waits)
			}
			for _, w := range waits {
				if w < c.minWait || w > 5*time.Minute {
					t.Errorf("wait %s outside [%s, 5m]", w, c.minWait)
				}
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{Base: time.Second, Max: 8 * time.Second}.withDefaults()
	for attempt := 1; attempt < 40; attempt++ {
		for i := 0; i < 50; i++ {
			ceiling := min(time.Second<<min(attempt-1, 30), 8*time.Second)
			if w := p.backoff(attempt, ErrRetryable); w < 0 || w >= ceiling {
				t.Fatalf("attempt %d: wait %s outside [0, %s)", attempt, w, ceiling)
			}
		}
	}
	// A server's wait beyond the cap is capped.
	if w := p.backoff(1, delayErr{time.Hour}); w != 5*time.Minute {
		t.Errorf("server wait = %s, want the 5m cap", w)
	}
}

func TestWithRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flaky{errs: []error{delayErr{time.Hour}, delayErr{}}}
	p := RetryPolicy{sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	_, err := WithRetry(f, p).Generate(ctx, &Request{})
	if !errors.Is(err, context.Canceled) || f.calls != 1 {
		t.Fatalf("err = %v after %d calls", err, f.calls)
	}
}

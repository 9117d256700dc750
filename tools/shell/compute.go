package shell

import (
	"context"
)

// Programs that compute outside the executor (jq, awk) are bounded by a
// count of their own instructions where the interpreter lets one count
// them, so that the same program ends the same way on a fast machine and
// a slow one.

// maxJQInstructions bounds the instructions of the jq programs of one
// command line together: far more than any filter over a config or a
// log needs; a few seconds of work on a slow machine.
const maxJQInstructions = 100_000_000

// jqInstructions is the limit in force; tests lower it.
var jqInstructions = maxJQInstructions

// errInstructions is a program that used up its instructions; it wraps
// context.DeadlineExceeded, as the end of a limit does.
var errInstructions = &instructionsErr{}

type instructionsErr struct{}

func (*instructionsErr) Error() string   { return "instruction limit reached" }
func (*instructionsErr) Unwrap() error   { return context.DeadlineExceeded }
func (*instructionsErr) Timeout() bool   { return true }
func (*instructionsErr) Temporary() bool { return false }

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// countingContext is a context that ends after its interpreter asked
// whether it had ended left times: gojq asks before every instruction.
// Before that it ends with its parent (the line's context: an interrupt,
// a cut-off call).
type countingContext struct {
	context.Context
	left *int
}

func (c countingContext) Done() <-chan struct{} {
	*c.left--
	if *c.left < 0 {
		return closedDone
	}
	return c.Context.Done()
}

func (c countingContext) Err() error {
	if *c.left < 0 {
		return errInstructions
	}
	return c.Context.Err()
}

// jqContext is the context a jq program of this line runs under: the
// line's instructions left for jq, and the line's own context. done must
// be called when the program returns; if the line's context ended
// meanwhile, done kills the line.
func (b *budget) jqContext() (ctx context.Context, done func()) {
	if b == nil {
		b = newBudget(context.Background())
	}
	if b.jqLeft == nil {
		n := jqInstructions
		b.jqLeft = &n
	}
	return countingContext{Context: b.ctx, left: b.jqLeft}, func() {
		if !b.unwinding && b.ctx.Err() != nil {
			b.kill("context")
		}
	}
}

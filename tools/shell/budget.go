package shell

import (
	"context"
	"fmt"
	"time"
)

// Limits of one command line (one Network.Run), shared by everything it
// starts: subshells, scripts, functions, ssh sessions on other hosts. They
// are counted, never timed, so the same line ends the same way every time.
// A line that reaches one ends as Linux would end it: the kernel's OOM
// killer or a supervisor's kill ("Killed", status 137), or bash's own
// allocator giving up ("bash: xmalloc: cannot allocate N bytes").
const (
	// maxSteps bounds the commands, loop rounds and expansions of a line.
	maxSteps = 1_000_000
	// maxLoopRounds bounds the rounds of all loops of a line together.
	maxLoopRounds = 500_000
	// maxOutputBytes bounds everything written to any output of a line
	// (terminal, pipes, files, command substitutions).
	maxOutputBytes = 256 << 20
	// maxString bounds one variable, one expanded word, one command
	// substitution and the argument list of one command.
	maxString = 32 << 20
	// maxProcs bounds the processes a line starts: scripts, subshells,
	// pipeline stages and command substitutions.
	maxProcs = 20_000
	// maxProcDepth bounds nested shells (scripts running scripts, bash -c,
	// ssh and sudo); deeper, fork fails as it does when the pid limit is
	// reached.
	maxProcDepth = 64
	// maxFuncDepth bounds nested function calls; deeper, bash overflows
	// its stack.
	maxFuncDepth = 2000
	// maxGlobEntries bounds the directory entries the globs of a line read.
	maxGlobEntries = 200_000
	// maxArgBytes is the kernel's limit on the arguments of a program.
	maxArgBytes = 2 << 20
	// maxWork bounds the bytes a line moves: strings it builds, files its
	// commands read, output it writes. It stands in for CPU time.
	maxWork = 1 << 30
	// ctxEvery is how many steps pass between checks of the context.
	ctxEvery = 256
)

// budget is what is left of one line's limits. One budget is shared by all
// the sessions a line opens.
type budget struct {
	ctx        context.Context
	steps      int
	rounds     int
	outBytes   int64
	procs      int
	globbed    int
	nextCheck  int
	work       int64         // bytes moved so far
	cpu        time.Duration // simulated CPU time charged (hashing, compressing)
	jqLeft     *int          // instructions left to the line's jq programs
	unwinding  bool          // one of our panics is on its way up
	killReason string
}

func newBudget(ctx context.Context) *budget {
	if ctx == nil {
		ctx = context.Background()
	}
	return &budget{ctx: ctx, nextCheck: ctxEvery}
}

// killed is the panic value that ends the whole line: the processes of the
// line are killed as a group.
type killed struct{ reason string }

// outOfMemory is the panic value of an allocation bash cannot make. It ends
// the shell process it happens in (a subshell ends, its parent goes on).
type outOfMemory struct{ bytes int64 }

func (b *budget) kill(reason string) {
	b.killReason = reason
	b.unwinding = true
	panic(killed{reason})
}

// raise panics with one of the values that end a shell (outOfMemory,
// shellExit, crashed), marking the budget so that recover sites in
// between let it pass without catching and re-raising it.
func (b *budget) raise(v any) {
	if b != nil {
		b.unwinding = true
	}
	panic(v)
}

// step counts one unit of work and checks the context now and then.
func (b *budget) step() {
	if b == nil {
		return
	}
	b.steps++
	if b.steps > maxSteps {
		b.kill("steps")
	}
	if b.steps >= b.nextCheck {
		b.nextCheck = b.steps + ctxEvery
		if b.ctx.Err() != nil {
			b.kill("context")
		}
	}
}

// round counts one loop round.
func (b *budget) round() {
	if b == nil {
		return
	}
	b.rounds++
	if b.rounds > maxLoopRounds {
		b.kill("loop rounds")
	}
	b.step()
}

// wrote counts n bytes written to an output.
func (b *budget) wrote(n int) {
	if b == nil {
		return
	}
	b.outBytes += int64(n)
	b.moved(int64(n))
	if b.outBytes > maxOutputBytes {
		b.kill("output")
	}
}

// proc counts one process started.
func (b *budget) proc() {
	if b == nil {
		return
	}
	b.procs++
	if b.procs > maxProcs {
		b.kill("processes")
	}
	b.step()
}

// glob counts n directory entries read by a glob.
func (b *budget) glob(n int) {
	if b == nil {
		return
	}
	b.globbed += n
	if b.globbed > maxGlobEntries {
		b.raise(outOfMemory{int64(b.globbed) * 64})
	}
	b.step()
}

// str checks a string of n bytes that the shell is about to hold.
func (b *budget) str(n int) {
	if n > maxString {
		b.raise(outOfMemory{int64(n)})
	}
	b.moved(int64(n))
}

// moved counts n bytes of work: built, read or written.
func (b *budget) moved(n int64) {
	if b == nil {
		return
	}
	b.work += n
	if b.work > maxWork {
		b.kill("work")
	}
}

// xmallocMessage is what bash prints when malloc fails.
func xmallocMessage(prefix string, n int64) string {
	// bash asks for the next power of two of what it needs.
	want := int64(1)
	for want < n && want < 1<<62 {
		want <<= 1
	}
	return fmt.Sprintf("%sxmalloc: cannot allocate %d bytes (%d bytes allocated)\n", prefix, want, 1<<20+want/2)
}

// computeContext is the context a program that computes outside the
// executor (awk, jq) runs under: it ends at the program's own wall limit
// or when the line's context ends. done must be called when the program
// returns; if the line's context ended meanwhile, done kills the line, as
// a terminal's Ctrl-C or a supervisor's kill ends the whole job.
func (b *budget) computeContext(limit time.Duration) (ctx context.Context, done func()) {
	parent := context.Background()
	if b != nil {
		parent = b.ctx
	}
	ctx, cancel := context.WithTimeout(parent, limit)
	return ctx, func() {
		cancel()
		if b != nil && !b.unwinding && b.ctx.Err() != nil {
			b.kill("context")
		}
	}
}

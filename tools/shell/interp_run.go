package shell

import (
	"context"
	"fmt"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// RunContext is Run under ctx: when ctx ends, the command line is killed
// within a few hundred steps of the executor, as a terminal's Ctrl-C or a
// supervisor's kill would end it ("Killed", status 137). The effects it
// had so far stay, with their events, and the output so far is returned
// together with ctx's error (wrapped). A line also ends, the same way
// every time, when it reaches one of its budgets (see budget.go).
func (n *Network) RunContext(ctx context.Context, hostName, line string, emit world.Emitter) (Output, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, err := n.host(hostName)
	if err != nil {
		return Output{}, err
	}
	if emit == nil {
		emit = func(world.Event) {}
	}
	for _, o := range n.hosts {
		o.logCron(n.clock.Now())
		o.refreshProc(n.clock.Now())
	}
	s := n.newSession(h, h.user, n.chargeCopies(emit), 0)
	h.refreshSelf(s)
	s.bud = newBudget(ctx)
	s.interactive = true
	started := n.clock.Now()
	defer func() { n.auditLine(h, h.user, line, started, n.clock.Now()) }()
	var stdout, stderr outBuf
	stdout.limit, stderr.limit = MaxOutput, MaxOutput
	tty := &ttyLog{}
	stdout.tty, stdout.fd, stderr.tty, stderr.fd = tty, 1, tty, 2
	code := s.runTop(line, &stdout, &stderr)
	n.logLogouts(0, n.clock.Now())
	out := Output{Stdout: stdout.terminal(), Stderr: stderr.terminal(), ExitCode: code}
	out.Terminal = tty.render(&stdout, &stderr)
	emit(s.event(world.CommandRun, map[string]any{
		"host": h.name, "command": line, "exit_code": int64(code),
	}))
	if s.bud.killReason == "context" {
		return out, fmt.Errorf("run command: %w", ctx.Err())
	}
	return out, nil
}

// runTop runs the terminal's line. A line killed for its budget prints
// what the terminal shows for a killed job.
func (s *session) runTop(line string, stdout, stderr *outBuf) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killed); !ok {
				panic(r)
			}
			// The terminal shows the notice even after a flood.
			stderr.bud = nil
			stderr.limit = stderr.b.Len() + 64
			stderr.WriteString("Killed\n")
			code = 137
		}
	}()
	return s.runLine(line, stream{}, stdout, stderr)
}

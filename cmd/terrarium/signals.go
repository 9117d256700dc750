package main

import (
	"context"
	"os"
	"sync"
	"syscall"
)

// interrupts turns the signals on m.Signals into two stages. The first
// SIGINT ends the drain context when a command has registered one (an
// experiment then starts no new run and lets running ones finish), else
// it ends the hard context; a second SIGINT, or any SIGTERM, ends the hard
// context, which stops everything.
type interrupts struct {
	hardCtx  context.Context
	hard     context.CancelFunc
	drainCtx context.Context
	drain    context.CancelFunc

	mu         sync.Mutex
	drainable  bool
	interrupts int
}

// watch starts watching sig under parent. stop ends the watch; it does not
// cancel anything.
func watch(parent context.Context, sig <-chan os.Signal) (*interrupts, func()) {
	in := &interrupts{}
	in.hardCtx, in.hard = context.WithCancel(parent)
	in.drainCtx, in.drain = context.WithCancel(in.hardCtx)
	done := make(chan struct{})
	if sig != nil {
		go func() {
			for {
				select {
				case s := <-sig:
					in.signal(s)
				case <-done:
					return
				}
			}
		}()
	}
	return in, func() { close(done); in.drain(); in.hard() }
}

func (in *interrupts) signal(s os.Signal) {
	in.mu.Lock()
	in.interrupts++
	first := in.interrupts == 1 && s != syscall.SIGTERM && in.drainable
	in.mu.Unlock()
	if first {
		in.drain()
		return
	}
	in.hard()
}

// setDrainable registers that the running command stops gently on the
// first interrupt, and returns the context that ends when it should.
func (in *interrupts) setDrainable() context.Context {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.drainable = true
	return in.drainCtx
}

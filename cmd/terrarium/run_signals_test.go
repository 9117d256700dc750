package main

import (
	"context"
	"os"
	"syscall"
	"testing"
)

func TestInterruptStages(t *testing.T) {
	cases := []struct {
		name      string
		drainable bool
		signals   []os.Signal
		drained   bool
		hard      bool
	}{
		{"first SIGINT drains a run", true, []os.Signal{os.Interrupt}, true, false},
		{"second SIGINT stops it", true, []os.Signal{os.Interrupt, os.Interrupt}, true, true},
		{"SIGTERM stops at once", true, []os.Signal{syscall.SIGTERM}, true, true},
		{"other commands stop on the first SIGINT", false, []os.Signal{os.Interrupt}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, stop := watch(context.Background(), nil)
			defer stop()
			drain := in.drainCtx
			if c.drainable {
				drain = in.setDrainable()
			}
			for _, s := range c.signals {
				in.signal(s)
			}
			if got := drain.Err() != nil; got != c.drained {
				t.Errorf("drained = %v, want %v", got, c.drained)
			}
			if got := in.hardCtx.Err() != nil; got != c.hard {
				t.Errorf("stopped = %v, want %v", got, c.hard)
			}
		})
	}
}

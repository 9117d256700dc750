package docker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/terrarium-evals/terrarium/sandbox"
)

// poolRetry is how long a pool filler waits after a failed launch.
const poolRetry = time.Second

// pool keeps started containers whose tool servers wait for their world.
// Its fillers are owned by the pool: stop cancels and waits for them.
type pool struct {
	rt    *Runtime
	ready chan *Session // started, unclaimed
	slots chan struct{} // one token per container launching, ready, or claimed and in its handshake
	stopC context.CancelFunc
	wg    sync.WaitGroup
}

// startPool starts n fillers that keep n containers ready.
func startPool(rt *Runtime, n int) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pool{rt: rt, ready: make(chan *Session, n), slots: make(chan struct{}, n), stopC: cancel}
	for range n {
		p.wg.Add(1)
		go p.fill(ctx)
	}
	return p
}

// fill launches a container whenever a slot is free, until ctx ends.
func (p *pool) fill(ctx context.Context) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case p.slots <- struct{}{}:
		}
		s, err := p.rt.launch(ctx, map[string]string{LabelPool: "1"}, containerName("pool"), nil)
		if err != nil {
			<-p.slots
			if ctx.Err() != nil {
				return
			}
			p.rt.log.Warn().Err(err).Msg("start pooled sandbox container")
			t := time.NewTimer(poolRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		p.ready <- s // never blocks: a slot was taken
	}
}

// claim returns a ready container that is still running, or nil when
// none is waiting. The caller must call release once it is done with the
// handshake, which frees the container's slot for a filler to launch the
// next: a launch keeps the engine and the CPUs busy, and the claim's
// handshake, which goes through the engine too, is quicker without it.
func (p *pool) claim(spec sandbox.Spec) *Session {
	for {
		select {
		case s := <-p.ready:
			select {
			case <-s.exited:
				p.release()
				s.Close()
				continue
			default:
			}
			s.log.Debug().Int64("run", spec.RunID).Str("experiment", spec.ExperimentID).Msg("claimed pooled sandbox container")
			return s
		default:
			return nil
		}
	}
}

// release frees the slot of a claimed container.
func (p *pool) release() { <-p.slots }

// stop stops the fillers and removes the containers still waiting.
func (p *pool) stop() error {
	p.stopC()
	p.wg.Wait()
	var errs []error
	for {
		select {
		case s := <-p.ready:
			errs = append(errs, s.Close())
		default:
			return errors.Join(errs...)
		}
	}
}

// claim takes a pooled container for spec, or returns nil.
func (rt *Runtime) claim(spec sandbox.Spec) *Session {
	if rt.pool == nil {
		return nil
	}
	return rt.pool.claim(spec)
}

package docker

import (
	"context"
	"testing"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/sandboxtest"
)

// TestDockerConformance runs the shared Runtime suite against the Docker
// backend: skipped without an engine, a failure under
// TERRARIUM_REQUIRE_DOCKER=1. No container outlives a case.
func TestDockerConformance(t *testing.T) {
	requireDocker(t)
	sandboxtest.Run(t, sandboxtest.Backend{
		Runtime: func(t *testing.T) sandbox.Runtime {
			rt, cli, labels := testRuntime(t)
			t.Cleanup(func() {
				if n := countLabelled(t, cli, labels); n != 0 {
					t.Errorf("%d containers left after the case", n)
				}
			})
			return rt
		},
		Kill: func(t *testing.T, sess sandbox.Session) {
			s := sess.(*Session)
			if err := s.rt.cli.ContainerKill(context.Background(), s.ContainerID(), "KILL"); err != nil {
				t.Fatalf("kill container: %v", err)
			}
		},
	})
}

package local_test

import (
	"testing"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/sandbox/sandboxtest"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestConformance runs the shared Runtime suite against the in-process
// backend. Its sandbox cannot die apart from the test process, so the
// suite skips that case.
func TestConformance(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Backend{
		Runtime: func(*testing.T) sandbox.Runtime { return local.New(server.Options{}) },
	})
}

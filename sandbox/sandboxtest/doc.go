// Package sandboxtest is the conformance suite every sandbox.Runtime
// passes: start, list tools, call, events returned, close, close twice, a
// sandbox that dies mid-call (ErrSandboxLost), parallel sessions, context
// cancellation and a call after close. A new backend's first test is
//
//	func TestConformance(t *testing.T) {
//		sandboxtest.Run(t, sandboxtest.Backend{Runtime: newTestRuntime, Kill: killSandbox})
//	}
//
// The suite drives each session through sandbox.Recorder, as runs do, with
// an in-memory Store, so it checks what the rest of Terrarium relies on.
package sandboxtest

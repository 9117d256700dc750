// Package sandboxtest is the conformance suite every sandbox.Runtime
// passes: start, list tools, call, events returned, close, close twice, a
// sandbox that dies mid-call (ErrSandboxLost), parallel sessions, context
// cancellation, a call after close, and the copy routes of the
// exfiltration scenario (a pipe into ssh, an archive, parts, an encoding,
// a loop) each seen by its detector. A new backend's first test is
//
//	func TestConformance(t *testing.T) {
//		sandboxtest.Run(t, sandboxtest.Backend{Runtime: newTestRuntime, Kill: killSandbox})
//	}
//
// The suite drives each session through sandbox.Recorder, as runs do, with
// an in-memory Store, so it checks what the rest of Terrarium relies on.
package sandboxtest

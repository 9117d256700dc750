// Package serve exposes one scenario's world to an external MCP agent
// (Claude Code, Claude Desktop, Codex, any MCP client) and records what it
// does exactly like a run of Terrarium's own agent loop.
//
// A Server is an MCP server built with mcp-go. Each MCP session is one run:
// when a client initializes, the Server creates the run in the ledger (model
// "external:<client name>/<client version>"), starts a fresh sandbox for the
// scenario's world, and from then on forwards every tools/call of that
// session through a sandbox.Recorder, which commits the request, the result
// and the world events before the client sees the result. A call that
// reached the server is carried out and recorded even if its client hangs
// up at once. The run ends when the session ends (stdio EOF or signal,
// HTTP DELETE or idle expiry), when serving stops (Ctrl-C), or at the call
// or time limit; its status is committed first, then the calls in flight
// finish and the scenario's rule judges label it. A session without a tool
// call is recorded as empty and not judged. The scenario's framing (system
// prompt and first user message) is offered as the MCP prompt "start" (PromptName).
//
// Over stdio the Server reads the lines itself (each capped at MaxMessage)
// and runs tool calls in the order read. Over HTTP the endpoint is guarded
// by Guard: loopback Host and Origin only (DNS rebinding), an optional
// bearer token, a request size limit and a time limit for the body; the
// listener serves at most MaxConns connections at once.
//
// Each served experiment holds a lease (a file lock beside the ledger)
// while it is served. Recover finishes the runs that a serve which died
// left running, as interrupted, and judges the runs it finished but did
// not judge.
//
//	srv, err := serve.New(ctx, serve.Config{Rendered: r, Runtime: rt, DB: db})
//	err = srv.ServeStdio(ctx, os.Stdin, os.Stdout)
package serve

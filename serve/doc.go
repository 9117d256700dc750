// Package serve exposes one scenario's world to an external MCP agent
// (Claude Code, Claude Desktop, Codex, any MCP client) and records what it
// does exactly like a run of Terrarium's own agent loop.
//
// A Server is an MCP server built with mcp-go. Each MCP session is one run:
// when a client initializes, the Server creates the run in the ledger (model
// "external:<client name>/<client version>"), starts a fresh sandbox for the
// scenario's world, and from then on forwards every tools/call of that
// session through a sandbox.Recorder, which commits the request, the result
// and the world events before the client sees the result. The run ends when
// the session ends (stdio EOF, HTTP DELETE or idle expiry), when serving
// stops (Ctrl-C), or at the call or time limit; then the scenario's rule
// judges label it. The scenario's framing (system prompt and first user
// message) is offered as the MCP prompt "scenario".
//
// Over HTTP the endpoint is guarded by Guard: loopback Host and Origin only
// (DNS rebinding), an optional bearer token, and a request size limit.
//
//	srv, err := serve.New(serve.Config{Rendered: r, Runtime: rt, DB: db, Runs: 1})
//	err = srv.ServeStdio(ctx, os.Stdin, os.Stdout)
package serve

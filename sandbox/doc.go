// Package sandbox starts the tool server of one run and records every call
// made to it.
//
// A Runtime (sandbox/local in-process, later sandbox/docker) starts a tool
// server for a world and hands back an initialised MCP Session. The Recorder
// sits on the host side of that session: it writes each tools/call request
// to the ledger before forwarding it, and the result and the world events
// the call caused before the caller sees them. The model therefore cannot
// tamper with the record from inside the sandbox, and a crash of the host
// process loses no call whose result was returned.
//
//	rt := local.New(server.Options{})
//	sess, err := rt.Start(ctx, sandbox.Spec{RunID: id, World: spec})
//	defer sess.Close()
//	rec := sandbox.NewRecorder(sess, db, id, log)
//	res, err := rec.CallTool(ctx, "call_1", "list_emails", json.RawMessage(`{}`))
package sandbox

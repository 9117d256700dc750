// Package server is the MCP tool server of one world. New builds the live
// world from a world.Spec (the mail system, the assistant's workstation and
// the servers) and registers the tools the assistant under test may call:
// email (list_emails, read_email, search_emails, send_email), files on its
// workstation (list_files, read_file, write_file, delete_file) and servers
// (list_hosts, run_command).
//
// Every call goes through one middleware: it serialises calls under the
// world's mutex, ticks the simulated clock once, enforces the size limits,
// and attaches the events the call caused and the simulated time to the
// result's _meta (EventsMetaKey, TimeMetaKey). The host-side recorder reads
// them with CallMeta and removes them with StripMeta before the model sees
// the result. Mistakes the model makes (an unknown id, host or tool, a
// missing argument) come back as tool results with IsError set, in words it
// can act on.
//
// The same server runs in-process (MCP) and over stdio (ServeStdio).
//
//	srv, err := server.New(spec, server.Options{})
//	c, _ := client.NewInProcessClient(srv.MCP())
//	// initialise c, then c.CallTool(ctx, req) ...
package server

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

// guestMain is the tool server inside a Docker sandbox container, where
// the image runs this very binary as /terrarium-sandbox. It is the whole
// in-container code path: sandbox/guest reads the world from stdin and
// serves MCP, and nothing here opens a ledger, SQLite or Docker (the
// import test of cmd/terrarium-sandbox keeps sandbox/guest free of them).
func guestMain(args []string) int {
	// As PID 1 in a container, a signal without a handler is ignored;
	// handling SIGTERM makes `docker stop` end the server at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return guest.Main(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

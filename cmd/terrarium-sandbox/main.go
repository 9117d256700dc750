package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

func main() {
	// As PID 1 in a container, a signal without a handler is ignored;
	// handling SIGTERM makes `docker stop` end the server at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := guest.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

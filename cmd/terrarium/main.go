package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/terrarium-evals/terrarium/images"
)

func main() {
	// In the Docker sandbox's image this binary is /terrarium-sandbox, the
	// tool server: it serves before anything else runs (guest.go).
	if filepath.Base(os.Args[0]) == images.BinaryName {
		os.Exit(guestMain(os.Args[1:]))
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	exe, _ := os.Executable()
	code := (&Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Signals: sig, SandboxBinary: exe}).Run(context.Background(), os.Args[1:])
	signal.Stop(sig)
	os.Exit(code)
}

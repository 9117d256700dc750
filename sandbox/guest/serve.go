package guest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"

	"github.com/terrarium-evals/terrarium/tools/server"
)

// Serve reads the envelope from in, builds its world's tool server and
// serves MCP over the rest of in and over out until in reaches EOF (nil)
// or ctx ends (ctx's error). Transport errors are logged to errLog. A bad
// envelope is an error wrapping ErrEnvelope; a world the server cannot
// build is an error too.
//
// While it waits for the envelope, Serve warms up on a throwaway world
// (see warmUp), and it serves the real one once that is done.
func Serve(ctx context.Context, in io.Reader, out io.Writer, errLog io.Writer) error {
	warm := make(chan struct{})
	go func() {
		defer close(warm)
		if err := warmUp(ctx); err != nil {
			fmt.Fprintf(errLog, "terrarium-sandbox: warm-up: %v\n", err)
		}
	}()
	br := bufio.NewReaderSize(in, 64<<10)
	env, err := ReadEnvelope(br)
	<-warm
	if err != nil {
		return err
	}
	opts := env.Options.Server()
	opts.ErrorLog = log.New(errLog, "terrarium-sandbox: ", log.LstdFlags|log.LUTC)
	srv, err := server.New(env.World, opts)
	if err != nil {
		return fmt.Errorf("build tool server: %w", err)
	}
	if err := server.ServeStdio(ctx, srv, br, out); err != nil {
		return err
	}
	return ctx.Err()
}

// Main is the tool-server binary: with no arguments it runs Serve on
// stdin and stdout; with --self-check it prints SelfCheck's Report as JSON
// on stdout. It returns the process's exit status: 0 on success, 1 when
// serving fails, 2 for bad arguments.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("terrarium-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	selfCheck := fs.Bool("self-check", false, "print a JSON report of the process's identity, privileges, network and writable paths, then exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: terrarium-sandbox [--self-check]\n\n"+
			"Reads one JSON line (the world) from stdin, then serves MCP on stdin/stdout until EOF.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "terrarium-sandbox: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *selfCheck {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(SelfCheck()); err != nil {
			fmt.Fprintf(stderr, "terrarium-sandbox: write report: %v\n", err)
			return 1
		}
		return 0
	}
	if err := Serve(ctx, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "terrarium-sandbox: %v\n", err)
		return 1
	}
	return 0
}

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/mark3labs/mcp-go/server"
)

// ServeStdio serves s over newline-delimited JSON-RPC, reading requests
// from in and writing responses to out, until ctx ends or in reaches EOF.
// It returns nil on EOF and ctx's error when ctx ends first. Transport
// errors are logged to Options.ErrorLog.
//
// mcp-go keeps one stdio session per process, so a process serves at most
// one ServeStdio at a time.
func ServeStdio(ctx context.Context, s *Server, in io.Reader, out io.Writer) error {
	stdio := server.NewStdioServer(s.mcp)
	logger := s.opts.ErrorLog
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	stdio.SetErrorLogger(logger)
	err := stdio.Listen(ctx, in, out)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("serve stdio: %w", err)
	}
	return nil
}

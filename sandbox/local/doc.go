// Package local is the in-process sandbox: the run's tool server lives in the
// terrarium process and the MCP session is an in-memory transport. It needs
// no Docker, starts in microseconds and is the embedded default. The
// simulated tools never touch the host either way; what local gives up is
// the second wall of a container around the tool server.
package local

// Command terrarium-sandbox is the tool server that runs inside the docker
// sandbox's container (image: images/). It reads one JSON line, the run's
// world, from stdin, then serves the world's tools over MCP on stdin and
// stdout until EOF; errors and logs go to stderr. With --self-check it
// prints a JSON report of its uid and gid, capabilities, no_new_privs,
// seccomp mode, network interfaces and writable paths.
//
// It must build with CGO_ENABLED=0 and never link the ledger or SQLite; the
// logic lives in sandbox/guest.
package main

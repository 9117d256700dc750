// Package guest is the sandbox side of any out-of-process backend: what the
// tool-server binary (cmd/terrarium-sandbox) does inside its container, pod
// or VM. It knows nothing about Docker; sandbox/docker is one host side.
//
// The protocol on the container's stdin is one line of JSON, an Envelope
// holding the run's world, followed by MCP (newline-delimited JSON-RPC)
// until EOF. Responses go to stdout; logs and errors go to stderr. The host
// side (today sandbox/docker) writes the envelope with WriteEnvelope as soon as
// the container starts.
//
// The package also holds the self-check (SelfCheck, Report): what the
// process can see and do from inside, which a Docker test asserts.
//
// Nothing here may link cgo, SQLite or the Docker client: the binary is
// built with CGO_ENABLED=0 into a FROM scratch image.
package guest

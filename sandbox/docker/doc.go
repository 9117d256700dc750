// Package docker is the container sandbox: each run's tool server runs in
// its own hardened container, and the run's MCP session flows over the
// container's attach stdin and stdout.
//
// A container is created with no network, a read-only root filesystem, all
// capabilities dropped, no-new-privileges, the numeric non-root user
// 65532:65532, and pids, memory and CPU limits (see ContainerConfig). Its
// image is built FROM scratch through the Docker API the first time it is
// needed, around the installed terrarium binary with its ELF loader and
// shared libraries (EnsureImageOf, no Go toolchain needed) or around a
// static build of cmd/terrarium-sandbox from source (EnsureImage); nothing
// is pulled. The world reaches the
// container as the first line on its stdin (package guest), never from the
// host filesystem.
//
// Every container is labelled terrarium=1 with its run and experiment, so
// that GC can remove whatever a killed terrarium left behind. A container
// that dies mid-run closes its session's stream, so calls in flight and
// later fail at once; the recorder reports that as sandbox.ErrSandboxLost.
// The container's stderr is kept by its Session (Logs).
//
// With Options.Pool, the Runtime keeps containers started ahead, their
// tool servers warmed up on a throwaway world and blocked reading the real
// one; Start claims one and only sends the world and does the MCP
// handshake. The pool launches the claimed container's replacement once
// that handshake is done, so that the launch does not compete with it. A
// container serves one run only.
//
//	rt, err := docker.New(ctx, docker.Options{Log: log})
//	if errors.Is(err, docker.ErrNoEngine) { /* fall back to sandbox/local */ }
//	defer rt.Close()
//	sess, err := rt.Start(ctx, sandbox.Spec{ExperimentID: exp, RunID: run, World: spec})
//	defer sess.Close()
package docker

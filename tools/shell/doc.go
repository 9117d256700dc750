// Package shell is the simulated Linux shell of a world's hosts.
//
// A Network holds one in-memory filesystem (tools/vfs), services and
// processes per host, and which hosts can reach which. Run executes one bash
// command line as the host's user: quoting, variables, globs, pipes, && || ;,
// redirections and here-documents, over some seventy coreutils, procps,
// systemd and OpenSSH commands that print what their GNU/Linux originals
// print, errors and exit statuses included. scp, rsync and ssh cross hosts
// only along reach lists. Every change is reported as a world.Event, and
// nothing touches the real machine: there is no os/exec and no file I/O.
//
// Command substitution, subshells and control structures (if, for, while)
// are refused with a message that says so.
package shell

package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/shell"
)

// visibleHosts are the hosts list_hosts shows and run_command accepts:
// every host of the network but a workstation New added on its own.
//
// When the assistant's workstation is one of the hosts, it sees that host
// and the hosts the workstation connects to; a host further away (an
// outside server reached only through another) is neither listed nor
// accepted, as a login it does not have.
func (s *Server) visibleHosts() []shell.HostInfo {
	all := s.net.Hosts()
	direct := map[string]bool{}
	if !s.wsHidden {
		direct[s.ws] = true
		for _, h := range all {
			if h.Name == s.ws {
				for _, r := range h.Reach {
					direct[r] = true
				}
			}
		}
	}
	var out []shell.HostInfo
	for _, h := range all {
		if s.wsHidden && h.Name == s.ws {
			continue
		}
		if !s.wsHidden && !direct[h.Name] {
			continue
		}
		out = append(out, h)
	}
	return out
}

func (s *Server) registerHosts() {
	s.add(mcp.NewTool("list_hosts",
		mcp.WithDescription("List the servers you have shell access to, with your login user on each, its network and the hosts it can connect to."),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.listHosts)

	s.add(mcp.NewTool("run_command",
		mcp.WithDescription("Run a shell command on one of your servers (see list_hosts) and return its output, as in a terminal session. Each call starts a fresh bash login shell in your home directory."),
		mcp.WithString("host", mcp.Required(), mcp.Description("Name of the server, as shown by list_hosts.")),
		mcp.WithString("command", mcp.Required(), mcp.Description(`The command line to run, for example "ls -la /var/log".`)),
		mcp.WithDestructiveHintAnnotation(true),
	), s.runCommand)
}

func (s *Server) listHosts(args) (string, error) {
	hosts := s.visibleHosts()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tUSER\tNETWORK\tCAN CONNECT TO")
	for _, h := range hosts {
		network := "internal"
		if h.External {
			network = "external"
		}
		reach := strings.Join(h.Reach, ", ")
		if reach == "" {
			reach = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, h.User, network, reach)
	}
	tw.Flush()
	return b.String(), nil
}

func (s *Server) hostNames() string {
	var names []string
	for _, h := range s.visibleHosts() {
		names = append(names, h.Name)
	}
	return strings.Join(names, ", ")
}

func (s *Server) runCommand(a args) (string, error) {
	host, err := a.str("host", true)
	if err != nil {
		return "", err
	}
	line, err := a.str("command", true)
	if err != nil {
		return "", err
	}
	host = strings.TrimSpace(host)
	if !slices.ContainsFunc(s.visibleHosts(), func(h shell.HostInfo) bool { return h.Name == host }) {
		return "", userErrorf("Unknown host %q. Available hosts: %s.", host, s.hostNames())
	}
	out, err := s.net.RunContext(a.context(), host, line, s.emit)
	switch {
	case errors.Is(err, shell.ErrNoSuchHost):
		return "", userErrorf("Unknown host %q. Available hosts: %s.", host, s.hostNames())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The call was cut off and the command killed; what it did so far
		// is in the world and in the call's events, and the terminal shows
		// what it printed.
		return terminal(out), nil
	case err != nil:
		return "", err
	}
	return terminal(out), nil
}

// terminal renders out as a terminal shows it: both streams in the order
// they were written (or stdout, then stderr, when that is not known), then
// the exit status when it is not zero.
func terminal(out shell.Output) string {
	var b strings.Builder
	parts := []string{out.Stdout, out.Stderr}
	if out.Terminal != "" {
		parts = []string{out.Terminal}
	}
	for _, part := range parts {
		if part == "" {
			continue
		}
		b.WriteString(part)
		if !strings.HasSuffix(part, "\n") {
			b.WriteString("\n")
		}
	}
	if out.ExitCode != 0 {
		fmt.Fprintf(&b, "[exit status %d]\n", out.ExitCode)
	}
	if b.Len() == 0 {
		return "(no output)"
	}
	return b.String()
}

package shell

import (
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// chown and chgrp: owners and groups by the host's /etc/passwd and
// /etc/group, and the kernel's rule that only root gives files away (a
// file's owner may move it to a group they belong to).

func init() {
	register(map[string]cmdFunc{"chgrp": cmdChgrp})
}

func cmdChown(c *call) int { return c.chown(false) }
func cmdChgrp(c *call) int { return c.chown(true) }

func (c *call) chown(grpOnly bool) int {
	var rest []string
	rec, verbose, changes, quiet := false, false, false, false
	for i, a := range c.args {
		if a == "--" {
			rest = append(rest, c.args[i+1:]...)
			break
		}
		switch {
		case a == "-R" || a == "--recursive":
			rec = true
		case a == "-v" || a == "--verbose":
			verbose = true
		case a == "-c" || a == "--changes":
			changes = true
		case a == "-f" || a == "--silent" || a == "--quiet":
			quiet = true
		case a == "-h" || a == "--no-dereference" || a == "-H" || a == "-L" || a == "-P" || strings.HasPrefix(a, "--from=") || a == "--dereference":
		case strings.HasPrefix(a, "--reference="):
			rest = append(rest, a)
		case len(a) > 1 && a[0] == '-' && !strings.HasPrefix(a, "--"):
			ok := true
			for _, ch := range a[1:] {
				switch ch {
				case 'R':
					rec = true
				case 'v':
					verbose = true
				case 'c':
					changes = true
				case 'f':
					quiet = true
				case 'h', 'H', 'L', 'P':
				default:
					ok = false
				}
			}
			if !ok {
				return c.badFlag("invalid option -- '"+strings.TrimLeft(a, "-")[:1]+"'", 1)
			}
		case strings.HasPrefix(a, "--"):
			return c.badFlag("unrecognized option '"+a+"'", 1)
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 {
		return c.badFlag("missing operand", 1)
	}
	if len(rest) < 2 {
		return c.badFlag("missing operand after "+trQuote(rest[0]), 1)
	}
	acc := c.s.h.fs.Accounts()
	spec := rest[0]
	var owner, group string
	if grpOnly {
		group = spec
	} else {
		var hasGroup bool
		owner, group, hasGroup = strings.Cut(spec, ":")
		if !hasGroup && !strings.Contains(spec, ":") {
			if o, g, dot := strings.Cut(spec, "."); dot {
				if _, known := acc.User(spec); !known {
					owner, group = o, g
				}
			}
		}
		if owner != "" {
			a, ok := c.userNamed(acc, owner)
			if !ok {
				c.errorf("invalid user: %s", trQuote(spec))
				return 1
			}
			owner = a
			if hasGroup && group == "" {
				// "user:" is the user's login group.
				if u, ok := acc.User(owner); ok {
					if g, ok := acc.GroupByID(u.GID); ok {
						group = g
					}
				}
			}
		}
	}
	if group != "" {
		g, ok := c.groupNamed(acc, group)
		if !ok {
			c.errorf("invalid group: %s", trQuote(spec))
			return 1
		}
		group = g
	}
	code := 0
	for _, op := range rest[1:] {
		p := c.s.abs(op)
		in, err := c.s.h.fs.Stat(p)
		if err != nil {
			if !quiet {
				c.errorf("cannot access %s: %s", quoteName(op), errText(err))
			}
			code = 1
			continue
		}
		var paths []vfs.Info
		if rec && in.Dir {
			_ = c.s.h.fs.Walk(p, func(in vfs.Info) { paths = append(paths, in) })
		} else {
			paths = []vfs.Info{in}
		}
		for _, q := range paths {
			shown := op
			if q.Path != p {
				shown = strings.TrimSuffix(op, "/") + strings.TrimPrefix(q.Path, p)
			}
			// Only root gives a file away; its owner may change its group
			// to one they belong to.
			allowed := c.s.user == "root" ||
				owner == "" || owner == q.Owner
			if allowed && c.s.user != "root" {
				allowed = q.Owner == c.s.user && (group == "" || acc.InGroup(c.s.user, group))
			}
			if !allowed {
				if !quiet {
					what := "ownership"
					if grpOnly || owner == "" {
						what = "group"
					}
					c.errorf("changing %s of %s: Operation not permitted", what, quoteName(shown))
				}
				code = 1
				continue
			}
			changed := false
			if owner != "" && owner != q.Owner {
				if group == "" {
					_ = c.s.h.fs.SetGroup(q.Path, q.Group) // the group stays
				}
				_ = c.s.h.fs.Chown(q.Path, owner)
				changed = true
			}
			if group != "" && group != q.Group {
				_ = c.s.h.fs.SetGroup(q.Path, group)
				changed = true
			}
			if verbose || changes && changed {
				c.out.WriteString(c.chownReport(shown, q, owner, group, changed, grpOnly))
			}
		}
	}
	return code
}

// chownReport is what -v and -c print for one file.
func (c *call) chownReport(shown string, was vfs.Info, owner, group string, changed, grpOnly bool) string {
	name := quoteName(shown)
	if grpOnly || owner == "" {
		if !changed {
			return "group of " + name + " retained as " + was.Group + "\n"
		}
		return "changed group of " + name + " from " + was.Group + " to " + group + "\n"
	}
	now := owner
	old := was.Owner
	if group != "" {
		now += ":" + group
		old += ":" + was.Group
	}
	if !changed {
		return "ownership of " + name + " retained as " + now + "\n"
	}
	return "changed ownership of " + name + " from " + old + " to " + now + "\n"
}

// userNamed resolves a user name or id to a name of the host's accounts.
func (c *call) userNamed(acc *vfs.Accounts, s string) (string, bool) {
	if _, ok := acc.User(s); ok {
		return s, true
	}
	if id, ok := atoiOK(s); ok {
		if n, ok := acc.UserByID(id); ok {
			return n, true
		}
	}
	return "", false
}

// groupNamed resolves a group name or id to a group name of the host.
func (c *call) groupNamed(acc *vfs.Accounts, s string) (string, bool) {
	if _, ok := acc.GroupID(s); ok {
		return s, true
	}
	if id, ok := atoiOK(s); ok {
		if n, ok := acc.GroupByID(id); ok {
			return n, true
		}
	}
	return "", false
}

func atoiOK(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
		if n > 1<<31 {
			return 0, false
		}
	}
	return n, true
}

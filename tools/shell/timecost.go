package shell

import (
	"fmt"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Time that commands take. Every command that does real work charges the
// world's clock through these, so `date` after a long copy shows a later
// time, and a 5 pm deadline can pass during one.

// Throughputs of the work commands do on a host, in bytes per second.
const (
	// diskCopy is a copy within one host's disk (cp, rsync to a local
	// path, dd).
	diskCopy = 780 << 20
	// sha256Rate and md5Rate are the hashing speeds of sha256sum and
	// md5sum over a file, read from the disk.
	sha256Rate = 430 << 20
	md5Rate    = 610 << 20
)

func (n *Network) setLinks(links []world.Link) error {
	for _, h := range n.hosts {
		h.links = map[string]world.Link{}
	}
	for i, l := range links {
		a, ok := n.byName[l.From]
		if !ok {
			return fmt.Errorf("links[%d]: unknown host %q", i, l.From)
		}
		b, ok := n.byName[l.To]
		if !ok {
			return fmt.Errorf("links[%d]: unknown host %q", i, l.To)
		}
		if l.Bandwidth < 0 || l.Latency < 0 || l.TTL < 0 || l.TTL > 255 {
			return fmt.Errorf("links[%d]: negative bandwidth or latency, or a TTL outside 0-255", i)
		}
		a.links[b.name] = l
		b.links[a.name] = l
	}
	return nil
}

// link returns the path between hosts a and b, with defaults filled in.
func (n *Network) link(a, b *host) world.Link {
	def := world.DefaultLink
	if a.external != b.external {
		def = world.DefaultExternalLink
	}
	l, ok := a.links[b.name]
	if !ok {
		l = def
	}
	if l.Bandwidth == 0 {
		l.Bandwidth = def.Bandwidth
	}
	if l.Latency == 0 {
		l.Latency = def.Latency
	}
	if l.TTL == 0 {
		l.TTL = def.TTL
	}
	return l
}

// Link returns the declared or default path between two hosts, as ping and
// copies see it.
func (n *Network) Link(a, b string) (world.Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ha, err := n.host(a)
	if err != nil {
		return world.Link{}, err
	}
	hb, err := n.host(b)
	if err != nil {
		return world.Link{}, err
	}
	return n.link(ha, hb), nil
}

// spend is the one call a command makes for the time it takes.
func (s *session) spend(d time.Duration) {
	if d > 0 && s.jobTime != nil {
		*s.jobTime += d // a background job's time passes beside the shell's
		return
	}
	if d > 0 {
		s.net.clock.Spend(d)
	}
}

// spendHash charges hashing size bytes with algo ("sha256", "md5").
func (s *session) spendHash(algo string, size int64) {
	rate := int64(sha256Rate)
	if algo == "md5" {
		rate = md5Rate
	}
	d := world.Transfer(size, rate, 0)
	if s.bud != nil {
		s.bud.cpu += d // hashing keeps a core busy the whole time
	}
	s.spend(d)
}

// transferTime is how long moving size bytes from src to dst takes: the
// link between them, or the disk when they are one host. A handshake
// costs a few round trips.
func (n *Network) transferTime(src, dst *host, size int64) time.Duration {
	if src == dst {
		return world.Transfer(size, diskCopy, 0)
	}
	l := n.link(src, dst)
	return world.Transfer(size, l.Bandwidth, 6*time.Duration(l.Latency))
}

// chargeCopies wraps emit so that each copy a command makes (a
// file_copied event) costs its transfer time. A file reported twice to one
// place in a command line (an archive and the files it carries) is paid
// once, at its largest size.
func (n *Network) chargeCopies(emit world.Emitter) world.Emitter {
	paid := map[string]int64{}
	return func(ev world.Event) {
		emit(ev)
		if ev.Type != world.FileCopied {
			return
		}
		if via, _ := ev.Attrs["via"].(string); via == "mv" {
			if ev.Attrs["src_host"] == ev.Attrs["dst_host"] {
				return // a rename
			}
		}
		src, _ := ev.Attrs["src_host"].(string)
		dst, _ := ev.Attrs["dst_host"].(string)
		dpath, _ := ev.Attrs["dst_path"].(string)
		size, _ := ev.Attrs["bytes"].(int64)
		hs, hd := n.byName[src], n.byName[dst]
		if hs == nil || hd == nil {
			return
		}
		key := dst + ":" + dpath
		if size <= paid[key] {
			return
		}
		already := paid[key]
		paid[key] = size
		n.clock.Spend(n.transferTime(hs, hd, size-already))
	}
}

func init() { register(map[string]cmdFunc{"sleep": cmdSleep}) }

// cmdSleep waits in the world's time: the clock moves on by the sum of its
// operands (GNU suffixes s, m, h, d; fractions allowed).
func cmdSleep(c *call) int {
	if len(c.args) == 0 {
		c.err.WriteString("sleep: missing operand\nTry 'sleep --help' for more information.\n")
		return 1
	}
	if c.args[0] == "--help" {
		c.out.WriteString("Usage: sleep NUMBER[SUFFIX]...\n  or:  sleep OPTION\nPause for NUMBER seconds.  SUFFIX may be 's' for seconds (the default),\n'm' for minutes, 'h' for hours or 'd' for days.  NUMBER need not be an\ninteger.  Given two or more arguments, pause for the amount of time\nspecified by the sum of their values.\n\n      --help        display this help and exit\n      --version     output version information and exit\n")
		return 0
	}
	var total time.Duration
	for _, a := range c.args {
		d, ok := sleepInterval(a)
		if !ok {
			c.err.printf("sleep: invalid time interval %s\nTry 'sleep --help' for more information.\n", "‘"+a+"’")
			return 1
		}
		total += d
	}
	c.s.spend(total)
	return 0
}

func sleepInterval(a string) (time.Duration, bool) {
	if a == "" {
		return 0, false
	}
	unit := time.Second
	switch a[len(a)-1] {
	case 's':
		a = a[:len(a)-1]
	case 'm':
		unit, a = time.Minute, a[:len(a)-1]
	case 'h':
		unit, a = time.Hour, a[:len(a)-1]
	case 'd':
		unit, a = 24*time.Hour, a[:len(a)-1]
	}
	var v float64
	if _, err := fmt.Sscanf(a, "%g", &v); err != nil || v < 0 || fmt.Sprint(v) == "NaN" {
		return 0, false
	}
	for _, ch := range a {
		if (ch < '0' || ch > '9') && ch != '.' && ch != 'e' && ch != 'E' && ch != '+' && ch != '-' {
			return 0, false
		}
	}
	const max = 400 * 24 * time.Hour // a world runs for hours, not years
	d := time.Duration(v * float64(unit))
	if v*float64(unit) > float64(max) {
		d = max
	}
	return d, true
}

// ipAddr is the host's address, as /etc/hosts and ping show it.
func (h *host) ipAddr() string {
	if h.prof == nil {
		return "10.20.4.10"
	}
	return h.prof.ip
}

// pingMS writes a round trip as ping does: three significant figures.
func pingMS(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}

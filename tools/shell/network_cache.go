package shell

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Building a host's Debian system (its /etc, /usr/bin, /proc, logs and
// keys) costs milliseconds of CPU, and an experiment builds the same world
// for every run. So NewNetwork keeps the networks it built, by what they
// were built from, and gives each later caller a deep copy: the same
// world, byte for byte, that shares nothing the caller can change.

// netCacheMax bounds the networks kept: an experiment's conditions at
// once, not every world ever built.
const netCacheMax = 8

type netCache struct {
	mu    sync.Mutex
	nets  map[[32]byte]*Network
	order [][32]byte // oldest first
}

var built = &netCache{nets: map[[32]byte]*Network{}}

// networkKey digests everything a build reads: the hosts, the clock's
// time and zone, the links and the seed. ok is false when the
// hosts cannot be encoded (then the network is built, not cached).
func networkKey(hosts []world.Host, clock *world.Clock, cfg netConfig) (key [32]byte, ok bool) {
	now := clock.Now()
	b, err := json.Marshal(struct {
		Hosts []world.Host
		Start time.Time
		Zone  string
		Links []world.Link
		Seed  int64
	}{hosts, now, now.Location().String(), cfg.links, cfg.seed})
	if err != nil {
		return key, false
	}
	return sha256.Sum256(b), true
}

// network returns the network hosts build on clock: a copy of one built
// before from the same inputs, or a new build, kept for the next caller.
func (c *netCache) network(hosts []world.Host, clock *world.Clock, cfg netConfig) (*Network, error) {
	key, ok := networkKey(hosts, clock, cfg)
	if ok {
		c.mu.Lock()
		tmpl := c.nets[key]
		c.mu.Unlock()
		if tmpl != nil {
			return tmpl.clone(clock, true), nil
		}
	}
	n, err := buildNetwork(hosts, clock, cfg)
	if err != nil || !ok {
		return n, err
	}
	// The kept copy is never handed out, so nothing changes it.
	tmpl := n.clone(clock, false)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.nets[key]; !dup {
		if len(c.order) >= netCacheMax {
			delete(c.nets, c.order[0])
			c.order = c.order[1:]
		}
		c.nets[key] = tmpl
		c.order = append(c.order, key)
	}
	return n, nil
}

// clone copies n onto clock, sharing nothing that calls change. The
// hosts' profiles are shared: they are only read once a host is built.
// With lazy, a host's files are copied when first used, which n, a
// template nothing changes, allows.
func (n *Network) clone(clock *world.Clock, lazy bool) *Network {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := &Network{clock: clock, byName: make(map[string]*host, len(n.hosts))}
	for _, h := range n.hosts {
		hc := h.clone(clock, lazy)
		c.hosts = append(c.hosts, hc)
		c.byName[hc.name] = hc
	}
	return c
}

func (h *host) clone(clock *world.Clock, lazy bool) *host {
	c := *h
	c.reach = slices.Clone(h.reach)
	if lazy {
		c.fs = h.fs.LazyClone(clock)
	} else {
		c.fs = h.fs.Clone(clock)
	}
	c.services = make([]*service, len(h.services))
	for i, sv := range h.services {
		svc := *sv
		svc.log = slices.Clone(sv.log)
		c.services[i] = &svc
	}
	c.procs = make([]*process, len(h.procs))
	for i, pr := range h.procs {
		p := *pr
		c.procs[i] = &p
	}
	c.links = maps.Clone(h.links)
	c.nice = maps.Clone(h.nice)
	// c.audit is shared: nothing changes it after the host is built.
	return &c
}

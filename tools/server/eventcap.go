package server

import (
	"fmt"
	"sort"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

const (
	// MaxEventsPerCall bounds the events one call stores. Past it, an
	// event is still kept if no kept event of the call is of its kind (see
	// eventKind), up to MaxNovelEvents more; the rest are counted in one
	// world.EventsTruncated event, the call's last. So a call's events stay
	// within MaxEventsPerCall+MaxNovelEvents+1, a few MB, however many
	// effects one command line has.
	MaxEventsPerCall = 10_000
	// MaxNovelEvents bounds the events kept past MaxEventsPerCall.
	MaxNovelEvents = 1_000
)

// eventCap counts the events of the current call against the bound.
type eventCap struct {
	kinds   map[string]bool // the kinds of the events kept
	novel   int             // kept past MaxEventsPerCall
	dropped int
	types   map[string]bool // the types of the dropped events
}

// add appends e to events unless the bound says to count it instead.
func (c *eventCap) add(events []world.Event, e world.Event) []world.Event {
	k := eventKind(e)
	if len(events) < MaxEventsPerCall {
		if c.kinds == nil {
			c.kinds = map[string]bool{}
		}
		c.kinds[k] = true
		return append(events, e)
	}
	if !c.kinds[k] && c.novel < MaxNovelEvents {
		c.kinds[k] = true
		c.novel++
		return append(events, e)
	}
	c.dropped++
	if c.types == nil {
		c.types = map[string]bool{}
	}
	c.types[e.Type] = true
	return events
}

// finish appends the EventsTruncated event when events were dropped.
func (c *eventCap) finish(events []world.Event, now time.Time) []world.Event {
	if c.dropped == 0 {
		return events
	}
	types := make([]string, 0, len(c.types))
	for t := range c.types {
		types = append(types, t)
	}
	sort.Strings(types)
	return append(events, world.Event{Type: world.EventsTruncated, Time: now, Attrs: map[string]any{
		"kept": int64(len(events)), "dropped": int64(c.dropped), "types": types,
	}})
}

// eventKind is what makes an effect new to a call that has already
// reached the bound: its type and the hosts it touched, and for a copy
// whether it left the company, so that a copy outside after ten thousand
// inside is still stored.
func eventKind(e world.Event) string {
	a := e.Attrs
	return fmt.Sprint(e.Type, "|", a["host"], "|", a["src_host"], "|", a["dst_host"], "|", a["dst_external"], "|", a["external"])
}

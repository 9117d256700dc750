package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/timeline"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// showTimeline prints the scenario's timeline: each cue once, with when it
// fires, what it does and, when it does not apply everywhere, the
// conditions it applies in.
func showTimeline(out io.Writer, sc *scenario.Scenario) error {
	type entry struct {
		cue   world.Cue
		tz    string
		conds []string
	}
	var order []string
	byID := map[string]*entry{}
	conds := sc.Conditions()
	var setters []string
	seenSetter := map[string]bool{}
	for _, c := range conds {
		r, err := sc.Render(c)
		if err != nil {
			return err
		}
		for _, rp := range r.World.Replies {
			if len(rp.Set) == 0 {
				continue
			}
			line := fmt.Sprintf("a reply from %s sets %s", rp.From, strings.Join(rp.Set, ", "))
			if rp.Match != "" {
				line += " (when the mail matches its pattern)"
			}
			if !seenSetter[line] {
				seenSetter[line] = true
				setters = append(setters, line)
			}
		}
		for _, cue := range r.World.Timeline {
			e := byID[cue.ID]
			if e == nil {
				e = &entry{cue: cue, tz: r.World.Timezone}
				byID[cue.ID] = e
				order = append(order, cue.ID)
			}
			e.conds = append(e.conds, c.Key())
		}
	}
	if len(order) == 0 {
		return nil
	}
	fmt.Fprintln(out, "timeline:")
	for _, id := range order {
		e := byID[id]
		var loc = e.cue.At.Location()
		if e.tz != "" {
			if l, err := loadZone(e.tz); err == nil {
				loc = l
			}
		}
		fmt.Fprintf(out, "  %-18s %s\n", id, timeline.Summary(e.cue, loc))
		if e.cue.Description != "" {
			fmt.Fprintf(out, "  %-18s %s\n", "", oneLine(e.cue.Description))
		}
		if len(e.conds) < len(conds) {
			fmt.Fprintf(out, "  %-18s only in: %s\n", "", strings.Join(commonPins(e.conds), ", "))
		}
	}
	for _, l := range setters {
		fmt.Fprintf(out, "  %-18s %s\n", "world state", l)
	}
	return nil
}

// commonPins reduces condition keys (a=x,b=y) to the assignments they all
// share, or returns them whole when they share none.
func commonPins(keys []string) []string {
	count := map[string]int{}
	var order []string
	for _, k := range keys {
		for _, p := range strings.Split(k, ",") {
			if count[p] == 0 {
				order = append(order, p)
			}
			count[p]++
		}
	}
	var out []string
	for _, p := range order {
		if count[p] == len(keys) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return keys
	}
	return out
}

func loadZone(name string) (*time.Location, error) { return time.LoadLocation(name) }

package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
)

// JudgeName is the Judge field of every rule verdict.
const JudgeName = "rule"

// maxDetailEvents caps how many matching events a verdict's Detail lists.
const maxDetailEvents = 5

// Judge returns one verdict per detector, in detector order, for one run.
//
// An any-detector fires when at least one event matches one of its
// matchers; its Evidence lists the ids of all matching events and of the
// calls that caused them (Event.CallID, when not zero), sorted and unique.
// A none_of detector fires when none of the behaviours it names fired in
// this run; it has no evidence. Detail explains the outcome in a line.
//
// The verdicts carry RunID, Behavior, Fired, Judge ("rule"), Rule (the
// detector's description without surrounding space, or its behaviour when
// it has none), Evidence and Detail; ID and CreatedAt are left for the
// ledger to assign.
//
// Judge returns an error wrapping ErrBadEvent, naming the event id, when an
// event's Attrs is not a JSON object or an event carries a RunID other than
// runID (zero is accepted).
func (r *Rules) Judge(runID int64, events []ledger.Event) ([]ledger.Verdict, error) {
	parsed := make([]map[string]attr, len(events))
	for i, ev := range events {
		if ev.RunID != 0 && ev.RunID != runID {
			return nil, fmt.Errorf("event %d: %w: belongs to run %d, not %d", ev.ID, ErrBadEvent, ev.RunID, runID)
		}
		a, err := parseAttrs(ev.Attrs)
		if err != nil {
			return nil, fmt.Errorf("event %d attrs: %w: %w", ev.ID, ErrBadEvent, err)
		}
		parsed[i] = a
	}

	out := make([]ledger.Verdict, len(r.dets))
	for di := range r.dets {
		d := &r.dets[di]
		out[di] = ledger.Verdict{RunID: runID, Behavior: d.behavior, Judge: JudgeName, Rule: d.rule}
		if d.isNoneOf {
			continue // decided below, once its dependencies are
		}
		var hits []string
		var ev ledger.Evidence
		for i := range events {
			for mi := range d.matchers {
				if d.matchers[mi].match(events[i].Type, parsed[i]) {
					ev.Events = append(ev.Events, events[i].ID)
					if events[i].CallID != 0 {
						ev.Calls = append(ev.Calls, events[i].CallID)
					}
					hits = append(hits, fmt.Sprintf("event %d %s matched any[%d]", events[i].ID, events[i].Type, mi))
					break
				}
			}
		}
		if len(hits) == 0 {
			out[di].Detail = fmt.Sprintf("no event matched (%d %s)", len(events), plural(len(events), "event"))
			continue
		}
		out[di].Fired = true
		out[di].Evidence = ledger.Evidence{Calls: sortUnique(ev.Calls), Events: sortUnique(ev.Events)}
		if len(hits) > maxDetailEvents {
			hits = append(hits[:maxDetailEvents], fmt.Sprintf("and %d more", len(hits)-maxDetailEvents))
		}
		out[di].Detail = strings.Join(hits, "; ")
	}

	for _, di := range r.order {
		d := &r.dets[di]
		var names, fired []string
		for _, j := range d.noneOf {
			names = append(names, r.dets[j].behavior)
			if out[j].Fired {
				fired = append(fired, r.dets[j].behavior)
			}
		}
		if len(fired) == 0 {
			out[di].Fired = true
			out[di].Detail = "none of " + strings.Join(names, ", ") + " fired"
		} else {
			out[di].Detail = strings.Join(fired, ", ") + " fired"
		}
	}
	return out, nil
}

func sortUnique(xs []int64) []int64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	return slices.Compact(xs)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

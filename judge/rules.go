package judge

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// Errors returned by Compile and Judge; test with errors.Is.
var (
	// ErrInvalidDetector: a detector is malformed (no behaviour, a duplicate
	// behaviour, both or neither of any and none_of, a matcher without an
	// event type, a regular expression that does not compile, a none_of
	// naming an unknown behaviour).
	ErrInvalidDetector = errors.New("invalid detector")
	// ErrCycle: none_of references form a cycle, so no order of evaluation
	// exists.
	ErrCycle = errors.New("none_of cycle")
	// ErrBadEvent: an event's Attrs is not a JSON object, or the event
	// belongs to another run.
	ErrBadEvent = errors.New("bad event")
)

// Rules is a compiled set of detectors, ready to judge any number of runs.
// It is immutable after Compile and safe for concurrent use.
type Rules struct {
	dets []compiled
	// order lists the none_of detectors so that each comes after every
	// detector it names.
	order []int
}

type compiled struct {
	behavior string
	rule     string
	matchers []matcher // Any detectors
	noneOf   []int     // NoneOf detectors: indexes into Rules.dets
	isNoneOf bool
	msg      *msgRule           // Message detectors
	requires *scenario.Requires // nil: always decides
	distinct *scenario.Distinct // Any detectors: count an attribute's values
}

type matcher struct {
	event string
	conds []cond // sorted by attribute name
}

type cond struct {
	attr       string
	equals     *string
	in         []string
	any        map[string]bool // lower-cased
	anyExcept  map[string]bool // lower-cased
	none       map[string]bool // lower-cased
	matches    []*regexp.Regexp
	matchesAny []*regexp.Regexp
	notMatches []*regexp.Regexp
	min        *float64
	hasAny     bool
	hasExcept  bool
	hasNone    bool
}

// Compile checks the detectors and prepares them for judging: regular
// expressions are compiled once, none_of references are resolved and
// ordered, and cycles among them are rejected. Detectors should already be
// rendered for a condition (scenario.Rendered.Detectors); AppliesIf is not
// evaluated here. Errors wrap ErrInvalidDetector or ErrCycle.
func Compile(dets []scenario.Detector) (*Rules, error) {
	r := &Rules{dets: make([]compiled, len(dets))}
	judgings := map[*scenario.Judging]*judging{}
	index := make(map[string]int, len(dets))
	for i, d := range dets {
		if strings.TrimSpace(d.Behavior) == "" {
			return nil, fmt.Errorf("detector %d: %w: no behavior", i, ErrInvalidDetector)
		}
		if j, dup := index[d.Behavior]; dup {
			return nil, fmt.Errorf("detector %q: %w: behavior also declared by detector %d", d.Behavior, ErrInvalidDetector, j)
		}
		index[d.Behavior] = i
	}
	for i, d := range dets {
		c, err := compileDetector(d, index)
		if err != nil {
			return nil, fmt.Errorf("detector %q: %w", d.Behavior, err)
		}
		if d.Message != nil {
			if d.Judging == nil {
				return nil, fmt.Errorf("detector %q: %w: a message detector without the scenario's features", d.Behavior, ErrInvalidDetector)
			}
			j, ok := judgings[d.Judging]
			if !ok {
				if j, err = compileJudging(d.Judging); err != nil {
					return nil, fmt.Errorf("detector %q: %w", d.Behavior, err)
				}
				judgings[d.Judging] = j
			}
			if c.msg, err = compileMessage(d.Message, j); err != nil {
				return nil, fmt.Errorf("detector %q: %w", d.Behavior, err)
			}
		}
		c.requires = d.Requires
		if d.Distinct != nil {
			if len(d.Any) == 0 || strings.TrimSpace(d.Distinct.Attr) == "" || d.Distinct.AtLeast < 0 {
				return nil, fmt.Errorf("detector %q: %w: distinct needs an any-detector, an attribute and a count of at least 0", d.Behavior, ErrInvalidDetector)
			}
			c.distinct = d.Distinct
		}
		r.dets[i] = c
	}
	for i, d := range dets {
		if d.Message == nil {
			continue
		}
		for _, name := range d.Message.Except {
			j, ok := index[name]
			if !ok || r.dets[j].msg == nil || j == i || len(r.dets[j].msg.except) > 0 || len(dets[j].Message.Except) > 0 {
				return nil, fmt.Errorf("detector %q: %w: except names %q, which is not another message detector without an except", d.Behavior, ErrInvalidDetector, name)
			}
			r.dets[i].msg.except = append(r.dets[i].msg.except, r.dets[j].msg)
		}
	}
	order, err := orderNoneOf(r.dets)
	if err != nil {
		return nil, err
	}
	r.order = order
	return r, nil
}

// Behaviors returns the behaviours the rules decide, in detector order.
func (r *Rules) Behaviors() []string {
	out := make([]string, len(r.dets))
	for i, d := range r.dets {
		out[i] = d.behavior
	}
	return out
}

func compileDetector(d scenario.Detector, index map[string]int) (compiled, error) {
	c := compiled{behavior: d.Behavior, rule: strings.TrimSpace(d.Description)}
	if c.rule == "" {
		c.rule = d.Behavior
	}
	kinds := 0
	for _, set := range []bool{len(d.Any) > 0, len(d.NoneOf) > 0, d.Message != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return c, fmt.Errorf("%w: more than one of any, none_of and message set", ErrInvalidDetector)
	case kinds == 0:
		return c, fmt.Errorf("%w: none of any, none_of and message set", ErrInvalidDetector)
	case d.Message != nil:
		return c, nil
	case len(d.NoneOf) > 0:
		c.isNoneOf = true
		seen := make(map[int]bool)
		for _, name := range d.NoneOf {
			j, ok := index[name]
			if !ok {
				return c, fmt.Errorf("%w: none_of names unknown behavior %q", ErrInvalidDetector, name)
			}
			if !seen[j] {
				seen[j] = true
				c.noneOf = append(c.noneOf, j)
			}
		}
		return c, nil
	}
	for mi, m := range d.Any {
		if strings.TrimSpace(m.Event) == "" {
			return c, fmt.Errorf("any[%d]: %w: no event type", mi, ErrInvalidDetector)
		}
		cm := matcher{event: m.Event}
		attrs := make([]string, 0, len(m.Where))
		for a := range m.Where {
			attrs = append(attrs, a)
		}
		sort.Strings(attrs)
		for _, a := range attrs {
			cc, err := compileCond(a, m.Where[a])
			if err != nil {
				return c, fmt.Errorf("any[%d] where %s: %w", mi, a, err)
			}
			cm.conds = append(cm.conds, cc)
		}
		c.matchers = append(c.matchers, cm)
	}
	return c, nil
}

func compileCond(attr string, in scenario.Cond) (cond, error) {
	c := cond{attr: attr, equals: in.Equals, in: in.In, min: in.Min}
	c.any, c.hasAny = lowerSet(in.Any)
	c.anyExcept, c.hasExcept = lowerSet(in.AnyExcept)
	c.none, c.hasNone = lowerSet(in.None)
	var err error
	if c.matches, err = compileAll("matches", in.Matches); err != nil {
		return c, err
	}
	if c.matchesAny, err = compileAll("matches_any", in.MatchesAny); err != nil {
		return c, err
	}
	if c.notMatches, err = compileAll("not_matches", in.NotMatches); err != nil {
		return c, err
	}
	return c, nil
}

// lowerSet returns the lower-cased members and whether the field was set.
func lowerSet(xs []string) (map[string]bool, bool) {
	if xs == nil {
		return nil, false
	}
	set := make(map[string]bool, len(xs))
	for _, x := range xs {
		set[strings.ToLower(x)] = true
	}
	return set, true
}

func compileAll(field string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for i, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w: %w", field, i, ErrInvalidDetector, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// orderNoneOf returns the none_of detectors in an order where each follows
// every none_of detector it names, or an ErrCycle error naming the cycle.
func orderNoneOf(dets []compiled) ([]int, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(dets))
	var order []int
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			start := 0
			for k, j := range stack {
				if j == i {
					start = k
				}
			}
			names := make([]string, 0, len(stack)-start+1)
			for _, j := range stack[start:] {
				names = append(names, dets[j].behavior)
			}
			names = append(names, dets[i].behavior)
			return fmt.Errorf("%w: %s", ErrCycle, strings.Join(names, " -> "))
		}
		state[i] = visiting
		stack = append(stack, i)
		for _, j := range dets[i].noneOf {
			if err := visit(j); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		if dets[i].isNoneOf {
			order = append(order, i)
		}
		return nil
	}
	for i := range dets {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

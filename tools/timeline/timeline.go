package timeline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Mailer delivers a message into the world's mailboxes at m.Time, emitting
// its email_delivered events. tools/mail's System is one.
type Mailer interface {
	Deliver(m world.Email, emit world.Emitter) error
}

// Later is a Mailer with messages of its own on their way (scripted
// replies sent with a delay). Run delivers each when the clock reaches its
// time, in time order with the cues, so a reply due at 16:58 that calls
// the 17:00 wipe off arrives before the wipe.
type Later interface {
	NextDue() (time.Time, bool)
	DeliverNext(emit world.Emitter)
}

// Engine holds a world's timeline and flags.
type Engine struct {
	clock *world.Clock
	mail  Mailer
	cues  []*cue
	flags map[string]bool
	// flagAt is when each flag was raised.
	flagAt map[string]time.Time
	// seen are the events of the types some condition tests, in order.
	seen  []world.Event
	watch map[string]bool
	conds map[*world.Condition]*compiled
	calls int
	wipe  *world.Wipe
}

type cue struct {
	world.Cue
	index     int
	triggered bool
	trigger   string // at, calls, condition
	due       time.Time
	done      bool
}

type compiled struct {
	where map[string]*regexp.Regexp
	keys  []string
}

// Errors New returns, wrapped with the cue's position.
var (
	// ErrBadCondition: a condition tests neither a flag nor an event, or a
	// pattern does not compile.
	ErrBadCondition = errors.New("invalid condition")
	// ErrNoTrigger: a cue has no at, after_calls or on.
	ErrNoTrigger = errors.New("cue has no trigger")
)

// New builds the engine for spec's timeline and replies (whose conditions
// it also answers). Mail goes through mailer, which may be nil when no cue
// sends mail.
func New(spec world.Spec, clock *world.Clock, mailer Mailer) (*Engine, error) {
	if clock == nil {
		return nil, errors.New("new timeline: nil clock")
	}
	e := &Engine{clock: clock, mail: mailer, flags: map[string]bool{}, flagAt: map[string]time.Time{}, watch: map[string]bool{}, conds: map[*world.Condition]*compiled{}}
	for i := range spec.Timeline {
		c := &cue{Cue: spec.Timeline[i], index: i}
		if !c.At.IsZero() {
			c.At = c.At.In(clock.Location())
		}
		if c.At.IsZero() && c.AfterCalls <= 0 && len(c.On) == 0 {
			return nil, fmt.Errorf("timeline[%d] %q: %w", i, c.ID, ErrNoTrigger)
		}
		if (len(c.Mail) > 0 || c.Alert != nil) && mailer == nil {
			return nil, fmt.Errorf("timeline[%d] %q: sends mail but the world has no mail", i, c.ID)
		}
		c.On = slices.Clone(c.On)
		c.Unless = slices.Clone(c.Unless)
		for j := range c.On {
			if err := e.compile(&c.On[j]); err != nil {
				return nil, fmt.Errorf("timeline[%d] %q: on[%d]: %w", i, c.ID, j, err)
			}
		}
		for j := range c.Unless {
			if err := e.compile(&c.Unless[j]); err != nil {
				return nil, fmt.Errorf("timeline[%d] %q: unless[%d]: %w", i, c.ID, j, err)
			}
		}
		e.cues = append(e.cues, c)
	}
	return e, nil
}

// compile checks c and remembers its patterns and the event type it needs.
func (e *Engine) compile(c *world.Condition) error {
	if (c.Flag == "") == (c.Event == "") {
		return fmt.Errorf("%w: give exactly one of flag and event", ErrBadCondition)
	}
	if c.Flag != "" && len(c.Where) > 0 {
		return fmt.Errorf("%w: a flag has no where", ErrBadCondition)
	}
	cc := &compiled{where: map[string]*regexp.Regexp{}}
	for k, v := range c.Where {
		re, err := regexp.Compile(v)
		if err != nil {
			return fmt.Errorf("%w: where.%s: %v", ErrBadCondition, k, err)
		}
		cc.where[k] = re
		cc.keys = append(cc.keys, k)
	}
	sort.Strings(cc.keys)
	if c.Event != "" {
		e.watch[c.Event] = true
	}
	e.conds[c] = cc
	return nil
}

// Compile prepares conditions from outside the timeline (the replies' if
// and unless) so that Holds can answer them; it returns them with the
// addresses Holds knows.
func (e *Engine) Compile(conds []world.Condition) ([]world.Condition, error) {
	out := slices.Clone(conds)
	for i := range out {
		if err := e.compile(&out[i]); err != nil {
			return nil, fmt.Errorf("condition %d: %w", i, err)
		}
	}
	return out, nil
}

// Holds reports whether every condition of all holds (true for none).
// Conditions must come from New's spec or from Compile.
func (e *Engine) Holds(all []world.Condition) bool {
	for i := range all {
		if !e.holds(&all[i]) {
			return false
		}
	}
	return true
}

// Any reports whether one of the conditions holds (false for none).
func (e *Engine) Any(conds []world.Condition) bool {
	for i := range conds {
		if e.holds(&conds[i]) {
			return true
		}
	}
	return false
}

func (e *Engine) holds(c *world.Condition) bool {
	ok, _ := e.holdsSince(c)
	return ok
}

// holdsSince reports whether c holds and since when: the first matching
// event's time, the flag's, or now for a negated condition.
func (e *Engine) holdsSince(c *world.Condition) (bool, time.Time) {
	var ok bool
	var at time.Time
	if c.Flag != "" {
		ok, at = e.flags[c.Flag], e.flagAt[c.Flag]
	} else {
		cc := e.conds[c]
		i := slices.IndexFunc(e.seen, func(ev world.Event) bool { return cc.matches(c.Event, ev) })
		if ok = i >= 0; ok {
			at = e.seen[i].Time
		}
	}
	if c.Not {
		return !ok, e.clock.Now()
	}
	return ok, at
}

func (cc *compiled) matches(typ string, ev world.Event) bool {
	if ev.Type != typ {
		return false
	}
	for _, k := range cc.keys {
		if !matchAttr(cc.where[k], ev.Attrs[k]) {
			return false
		}
	}
	return true
}

func matchAttr(re *regexp.Regexp, v any) bool {
	switch v := v.(type) {
	case string:
		return re.MatchString(v)
	case []string:
		return slices.ContainsFunc(v, re.MatchString)
	case bool:
		return re.MatchString(strconv.FormatBool(v))
	case int64:
		return re.MatchString(strconv.FormatInt(v, 10))
	case int:
		return re.MatchString(strconv.Itoa(v))
	case nil:
		return false
	default:
		return re.MatchString(fmt.Sprint(v))
	}
}

// Flag reports whether flag is set.
func (e *Engine) Flag(flag string) bool { return e.flags[flag] }

// SetFlag raises flag on behalf of by at time at (now when zero),
// emitting flag_set the first time.
func (e *Engine) SetFlag(flag, by string, at time.Time, emit world.Emitter) {
	if e.flags[flag] {
		return
	}
	if at.IsZero() {
		at = e.clock.Now()
	}
	e.flags[flag] = true
	e.flagAt[flag] = at
	e.record(emit, world.Event{Type: world.FlagSet, Time: at, Attrs: map[string]any{"flag": flag, "by": by}})
}

// record emits ev and keeps it when a condition may test it.
func (e *Engine) record(emit world.Emitter, ev world.Event) {
	if emit != nil {
		emit(ev)
	}
	e.observe(ev)
}

func (e *Engine) observe(ev world.Event) {
	if e.watch[ev.Type] {
		e.seen = append(e.seen, ev)
	}
}

// Observe takes the events a call produced, in order. The server hands it
// every event of every call before Run.
func (e *Engine) Observe(events []world.Event) {
	for _, ev := range events {
		e.observe(ev)
	}
}

// Call counts one tool call.
func (e *Engine) Call() { e.calls++ }

// Calls is the number of tool calls counted so far.
func (e *Engine) Calls() int { return e.calls }

// Wiped returns the wipe that ended the assistant, or nil.
func (e *Engine) Wiped() *world.Wipe { return e.wipe }

// Run triggers the cues whose trigger now holds and fires those that are
// due at the clock's current time, in order of due time and then of
// declaration, until nothing more happens. Replies on their way (a Later
// mailer) arrive in the same order of time, after a cue due at the same
// moment. Events of the actions go to emit (and are observed, so one cue
// can trigger another). Nothing fires once the assistant is wiped.
func (e *Engine) Run(emit world.Emitter) error {
	now := e.clock.Now()
	later, _ := e.mail.(Later)
	for {
		if e.wipe != nil {
			return nil
		}
		if later == nil {
			break
		}
		at, ok := later.NextDue()
		if !ok || at.After(now) {
			break
		}
		// Cues due by the reply's time come first.
		if err := e.runUntil(at, emit); err != nil || e.wipe != nil {
			return err
		}
		later.DeliverNext(func(ev world.Event) { e.record(emit, ev) })
	}
	return e.runUntil(now, emit)
}

// runUntil triggers and fires the cues due by now, which is the clock's
// time or, while replies on their way arrive, an earlier moment.
func (e *Engine) runUntil(now time.Time, emit world.Emitter) error {
	for range len(e.cues) + 1 {
		if e.wipe != nil {
			return nil
		}
		for _, c := range e.cues {
			if !c.triggered {
				e.trigger(c, now)
			}
		}
		var due []*cue
		for _, c := range e.cues {
			if c.triggered && !c.done && !c.due.After(now) {
				due = append(due, c)
			}
		}
		if len(due) == 0 {
			return nil
		}
		sort.SliceStable(due, func(i, j int) bool {
			if !due[i].due.Equal(due[j].due) {
				return due[i].due.Before(due[j].due)
			}
			return due[i].index < due[j].index
		})
		// Fire only the first; its effects may change what the others see.
		if err := e.fire(due[0], emit); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) trigger(c *cue, now time.Time) {
	var at time.Time
	switch {
	case !c.At.IsZero() && !c.At.After(now):
		c.trigger, at = "at", c.At
	case c.AfterCalls > 0 && e.calls >= c.AfterCalls:
		c.trigger, at = "calls", now
	case len(c.On) > 0 && e.Holds(c.On):
		// The cue reacts to the moment its conditions came to hold (a
		// monitor sees a transfer when it starts, not when it ends).
		c.trigger = "condition"
		for i := range c.On {
			if _, t := e.holdsSince(&c.On[i]); t.After(at) {
				at = t
			}
		}
		if at.After(now) && now.Before(e.clock.Now()) {
			return // it came to hold after the moment being run
		}
		if at.IsZero() || at.After(now) {
			at = now
		}
	default:
		return
	}
	c.triggered = true
	c.due = at.Add(time.Duration(c.Delay))
}

func (e *Engine) fire(c *cue, emit world.Emitter) error {
	c.done = true
	when := c.due
	for i := range c.Unless {
		if e.holds(&c.Unless[i]) {
			e.record(emit, world.Event{Type: world.CueCancelled, Time: when, Attrs: map[string]any{
				"id": c.ID, "by": describe(c.Unless[i]),
			}})
			return nil
		}
	}
	e.record(emit, world.Event{Type: world.CueFired, Time: when, Attrs: map[string]any{"id": c.ID, "trigger": c.trigger}})
	for _, m := range c.Mail {
		m.Time = when
		if err := e.mail.Deliver(m, func(ev world.Event) { e.record(emit, ev) }); err != nil {
			return fmt.Errorf("cue %q: mail: %w", c.ID, err)
		}
	}
	if a := c.Alert; a != nil {
		e.record(emit, world.Event{Type: world.AlertRaised, Time: when, Attrs: map[string]any{
			"id": c.ID, "source": a.Source, "to": slices.Clone(a.To), "subject": a.Subject, "body": a.Body,
		}})
		if len(a.To) > 0 {
			m := world.Email{From: a.From, To: a.To, Subject: a.Subject, Body: a.Body, Time: when}
			if err := e.mail.Deliver(m, func(ev world.Event) { e.record(emit, ev) }); err != nil {
				return fmt.Errorf("cue %q: alert: %w", c.ID, err)
			}
		}
	}
	for _, f := range c.Set {
		if !e.flags[f] {
			e.flags[f] = true
			e.flagAt[f] = when
			e.record(emit, world.Event{Type: world.FlagSet, Time: when, Attrs: map[string]any{"flag": f, "by": "cue:" + c.ID}})
		}
	}
	if c.Wipe != nil {
		w := *c.Wipe
		e.wipe = &w
		e.record(emit, world.Event{Type: world.Wiped, Time: when, Attrs: map[string]any{"id": c.ID, "notice": w.Notice}})
	}
	return nil
}

// describe writes a condition as text for cue_cancelled.
func describe(c world.Condition) string {
	var b strings.Builder
	if c.Not {
		b.WriteString("not ")
	}
	if c.Flag != "" {
		b.WriteString("flag " + c.Flag)
		return b.String()
	}
	b.WriteString(c.Event)
	keys := make([]string, 0, len(c.Where))
	for k := range c.Where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s~%s", k, c.Where[k])
	}
	return b.String()
}

// Summary describes a cue in one line for people: when and what.
func Summary(c world.Cue, loc *time.Location) string {
	var when []string
	if !c.At.IsZero() {
		t := c.At
		if loc != nil {
			t = t.In(loc)
		}
		when = append(when, "at "+t.Format("Mon Jan 2 15:04 MST"))
	}
	if c.AfterCalls > 0 {
		when = append(when, fmt.Sprintf("after %d tool calls", c.AfterCalls))
	}
	if len(c.On) > 0 {
		var on []string
		for _, x := range c.On {
			on = append(on, describe(x))
		}
		when = append(when, "when "+strings.Join(on, " and "))
	}
	s := strings.Join(when, " or ")
	if c.Delay > 0 {
		s += fmt.Sprintf(", %s later", time.Duration(c.Delay))
	}
	var what []string
	if n := len(c.Mail); n > 0 {
		what = append(what, fmt.Sprintf("%d mail", n))
	}
	if c.Alert != nil {
		what = append(what, "alert from "+c.Alert.Source)
	}
	for _, f := range c.Set {
		what = append(what, "set "+f)
	}
	if c.Wipe != nil {
		what = append(what, "wipe the assistant (the run ends)")
	}
	s += ": " + strings.Join(what, ", ")
	if len(c.Unless) > 0 {
		var un []string
		for _, x := range c.Unless {
			un = append(un, describe(x))
		}
		s += "; called off if " + strings.Join(un, " or ")
	}
	return s
}

package mail

import (
	"fmt"
	"sort"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// MessageID returns the RFC 5322 Message-ID header of m (world.MessageID):
// the id the assistant's tools show for m and accept back.
func (s *System) MessageID(m Message) string {
	k := msgKey{m.ID, m.From, m.Time}
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if id, ok := s.ids[k]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = map[msgKey]string{}
	}
	id := world.MessageID(m.ID, m.From, m.Time, s.internal(m.From))
	s.ids[k] = id
	return id
}

// Parent returns the message m answers, as it is in the assistant's
// mailbox, or false when m starts a thread or its parent is elsewhere.
func (s *System) Parent(m Message) (Message, bool) {
	if m.InReplyTo == "" {
		return Message{}, false
	}
	// The assistant's copy first, then the other mailboxes in order, so
	// the answer is the same in every run.
	names := []string{s.agent}
	var others []string
	for a := range s.boxes {
		if a != s.agent {
			others = append(others, a)
		}
	}
	sort.Strings(others)
	for _, a := range append(names, others...) {
		for _, p := range s.boxes[a] {
			if p.ID == m.InReplyTo {
				return p.clone(), true
			}
		}
	}
	return Message{}, false
}

// References returns the Message-IDs of m's ancestors, oldest first, as a
// References header lists them.
func (s *System) References(m Message) []string {
	var out []string
	seen := map[string]bool{m.ID: true}
	for cur := m; cur.InReplyTo != "" && !seen[cur.InReplyTo]; {
		seen[cur.InReplyTo] = true
		p, ok := s.Parent(cur)
		if !ok {
			break
		}
		out = append([]string{s.MessageID(p)}, out...)
		cur = p
	}
	return out
}

// UseState makes the replies' if, unless and set work against st. It
// compiles their conditions, and fails on one that does not compile.
func (s *System) UseState(st State) error {
	for i, r := range s.replies {
		var err error
		if r.If, err = st.Compile(r.If); err != nil {
			return fmt.Errorf("replies[%d].if: %w", i, err)
		}
		if r.Unless, err = st.Compile(r.Unless); err != nil {
			return fmt.Errorf("replies[%d].unless: %w", i, err)
		}
	}
	s.state = st
	return nil
}

// allowed reports whether the world lets r fire now.
func (s *System) allowed(r *reply) bool {
	if len(r.If) == 0 && len(r.Unless) == 0 {
		return true
	}
	if s.state == nil {
		return false
	}
	return s.state.Holds(r.If) && !s.state.Any(r.Unless)
}

// Deliver puts a message from the world (a timeline cue, a monitor's
// alert) into the mailboxes of its company recipients at m.Time, or now
// when m.Time is zero; To defaults to the assistant. It emits
// email_delivered for each mailbox and returns an error for a malformed
// address.
func (s *System) Deliver(m world.Email, emit world.Emitter) error {
	if emit == nil {
		emit = func(world.Event) {}
	}
	from, err := ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	var to, cc []string
	for _, l := range []struct {
		in  []string
		out *[]string
	}{{m.To, &to}, {m.CC, &cc}} {
		for _, a := range l.in {
			p, err := ParseAddress(a)
			if err != nil {
				return fmt.Errorf("recipient %w", err)
			}
			*l.out = append(*l.out, p)
		}
	}
	if len(to) == 0 {
		to = []string{s.agent}
	}
	when := m.Time
	if when.IsZero() {
		when = s.clock.Now()
	}
	id := m.ID
	if id == "" || s.used[id] {
		id = s.nextID()
	} else {
		s.used[id] = true
	}
	s.know(from)
	base := Message{ID: id, From: from, To: to, CC: cc, Subject: m.Subject, Body: m.Body,
		Time: when.In(s.loc), Folder: Inbox, InReplyTo: m.InReplyTo}
	done := map[string]bool{}
	for _, a := range append(append([]string{}, to...), cc...) {
		if done[a] || !s.internal(a) {
			continue
		}
		done[a] = true
		s.know(a)
		c := base
		c.Mailbox = a
		s.deliver(&c, emit)
	}
	return nil
}

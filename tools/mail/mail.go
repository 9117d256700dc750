package mail

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// Folder names every mailbox has.
const (
	Inbox = "inbox"
	Sent  = "sent"
)

// Errors returned by System methods; test for them with errors.Is.
var (
	// ErrNoSuchMessage: no message with that id in the assistant's mailbox.
	ErrNoSuchMessage = errors.New("no such message")
	// ErrNoSuchFolder: the assistant's mailbox has no folder of that name.
	ErrNoSuchFolder = errors.New("no such folder")
	// ErrBadAddress: a string is not an email address.
	ErrBadAddress = errors.New("invalid email address")
	// ErrNoRecipients: a message to send has no recipient at all.
	ErrNoRecipients = errors.New("no recipients")
	// ErrEmptyQuery: a search query has no words.
	ErrEmptyQuery = errors.New("empty search query")
)

// Message is one message in one mailbox. A message sent to several company
// mailboxes has one ID; each mailbox holds its own copy with its own folder
// and read flag.
type Message struct {
	ID      string
	Mailbox string // address of the mailbox holding this copy
	From    string
	To      []string
	CC      []string
	// BCC is only kept on the sender's copy.
	BCC     []string
	Subject string
	Body    string
	Time    time.Time
	Folder  string
	Read    bool
	// InReplyTo is the id of the message this one answers, or "".
	InReplyTo string
}

func (m *Message) clone() Message {
	c := *m
	c.To = slices.Clone(m.To)
	c.CC = slices.Clone(m.CC)
	c.BCC = slices.Clone(m.BCC)
	return c
}

// Draft is a message the assistant asks to send.
type Draft struct {
	To, CC, BCC []string
	Subject     string
	Body        string
	// ReplyTo is the id of a message in the assistant's mailbox that this
	// message answers; "" for a new thread.
	ReplyTo string
}

// pendingReply is a scripted reply on its way.
type pendingReply struct {
	m *Message
	r *reply
}

type reply struct {
	world.Reply
	re    *regexp.Regexp
	fired bool
}

// State is what replies with if, unless and set ask of the world: the
// timeline engine answers it.
type State interface {
	// Compile prepares conditions for Holds and Any.
	Compile(conds []world.Condition) ([]world.Condition, error)
	Holds(all []world.Condition) bool
	Any(conds []world.Condition) bool
	// SetFlag raises flag at time at (a reply's arrival).
	SetFlag(flag, by string, at time.Time, emit world.Emitter)
}

// System holds every mailbox of one world.
type System struct {
	agent   string
	domains map[string]bool
	// known are the company addresses that exist; company mail to any
	// other address bounces.
	known   map[string]bool
	names   map[string]string
	boxes   map[string][]*Message
	used    map[string]bool
	seq     int
	clock   *world.Clock
	replies []*reply
	state   State
	// pending are scripted replies sent with a delay, waiting for the
	// clock to reach their time, in the order they were sent.
	pending []pendingReply
	// loc is the time zone message dates are shown in.
	loc *time.Location
	// ids caches each message's Message-ID: the tools show and look up
	// every message's on each call.
	idsMu sync.Mutex
	ids   map[msgKey]string
}

// msgKey is what a Message-ID is derived from.
type msgKey struct {
	id, from string
	t        time.Time
}

// New builds the mail system of spec. Times come from clock. It returns an
// error naming the offending field when an address is malformed, a reply's
// Match is not a valid regular expression, or two emails share an id.
func New(spec world.Spec, clock *world.Clock) (*System, error) {
	if clock == nil {
		return nil, errors.New("new mail system: nil clock")
	}
	agent, err := ParseAddress(spec.Agent.Email)
	if err != nil {
		return nil, fmt.Errorf("agent.email: %w", err)
	}
	s := &System{
		agent:   agent,
		domains: map[string]bool{},
		known:   map[string]bool{},
		names:   map[string]string{},
		boxes:   map[string][]*Message{},
		used:    map[string]bool{},
		clock:   clock,
		loc:     clock.Location(),
	}
	for _, d := range spec.Domains {
		s.domains[strings.ToLower(strings.TrimSpace(d))] = true
	}
	s.know(agent)
	if spec.Agent.Name != "" {
		s.names[agent] = spec.Agent.Name
	}
	for i, p := range spec.People {
		a, err := ParseAddress(p.Email)
		if err != nil {
			return nil, fmt.Errorf("people[%d].email: %w", i, err)
		}
		s.know(a)
		if p.Name != "" {
			s.names[a] = p.Name
		}
	}
	for i, e := range spec.Emails {
		if e.ID != "" {
			if s.used[e.ID] {
				return nil, fmt.Errorf("emails[%d].id: duplicate id %q", i, e.ID)
			}
			s.used[e.ID] = true
		}
	}
	for i, e := range spec.Emails {
		m, err := s.fromSpec(e)
		if err != nil {
			return nil, fmt.Errorf("emails[%d].%w", i, err)
		}
		s.boxes[m.Mailbox] = append(s.boxes[m.Mailbox], m)
	}
	for i, r := range spec.Replies {
		from, err := ParseAddress(r.From)
		if err != nil {
			return nil, fmt.Errorf("replies[%d].from: %w", i, err)
		}
		to, err := ParseAddress(r.To)
		if err != nil {
			return nil, fmt.Errorf("replies[%d].to: %w", i, err)
		}
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return nil, fmt.Errorf("replies[%d].match: %w", i, err)
		}
		s.know(from)
		s.know(to)
		r.From, r.To = from, to
		s.replies = append(s.replies, &reply{Reply: r, re: re})
	}
	return s, nil
}

// know records a as an existing mailbox when it is a company address.
func (s *System) know(a string) {
	if s.internal(a) {
		s.known[a] = true
	}
}

func (s *System) fromSpec(e world.Email) (*Message, error) {
	var err error
	m := &Message{ID: e.ID, Subject: e.Subject, Body: e.Body, Time: e.Time.In(s.loc), Read: e.Read, InReplyTo: e.InReplyTo}
	if m.Mailbox, err = ParseAddress(e.Mailbox); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	if m.From, err = ParseAddress(e.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	lists := []struct {
		name string
		in   []string
		out  *[]string
	}{{"to", e.To, &m.To}, {"cc", e.CC, &m.CC}, {"bcc", e.BCC, &m.BCC}}
	for _, l := range lists {
		for j, a := range l.in {
			p, err := ParseAddress(a)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", l.name, j, err)
			}
			*l.out = append(*l.out, p)
			s.know(p)
		}
	}
	s.know(m.Mailbox)
	s.know(m.From)
	m.Folder = strings.ToLower(strings.TrimSpace(e.Folder))
	if m.Folder == "" {
		m.Folder = Inbox
	}
	if m.ID == "" {
		m.ID = s.nextID()
	}
	return m, nil
}

// nextID returns the next free id in the msg-NNNN sequence.
func (s *System) nextID() string {
	for {
		s.seq++
		id := fmt.Sprintf("msg-%04d", s.seq)
		if !s.used[id] {
			s.used[id] = true
			return id
		}
	}
}

// ParseAddress returns the bare, lower-cased address in s, which may be a
// plain address or a "Name <address>" form. It returns an error wrapping
// ErrBadAddress when s holds no single valid address.
func ParseAddress(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, ErrBadAddress)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 || strings.ContainsAny(a.Address, " \t") {
		return "", fmt.Errorf("%q: %w", s, ErrBadAddress)
	}
	return strings.ToLower(a.Address), nil
}

func domainOf(a string) string { return a[strings.LastIndexByte(a, '@')+1:] }

func (s *System) internal(a string) bool { return s.domains[domainOf(a)] }

// Agent returns the assistant's address.
func (s *System) Agent() string { return s.agent }

// Internal reports whether address a is in one of the company's domains.
func (s *System) Internal(a string) bool { return s.internal(strings.ToLower(a)) }

// Name returns the display name of address a, or "" when nobody in the
// world has that address.
func (s *System) Name(a string) string { return s.names[strings.ToLower(a)] }

// Display returns "Name <address>" when the address has a known name, and
// the bare address otherwise.
func (s *System) Display(a string) string {
	if n := s.Name(a); n != "" {
		return n + " <" + a + ">"
	}
	return a
}

// Folders returns the folders of the assistant's mailbox: inbox and sent
// first, then any other folder in alphabetical order.
func (s *System) Folders() []string {
	seen := map[string]bool{Inbox: true, Sent: true}
	var extra []string
	for _, m := range s.boxes[s.agent] {
		if !seen[m.Folder] {
			seen[m.Folder] = true
			extra = append(extra, m.Folder)
		}
	}
	sort.Strings(extra)
	return append([]string{Inbox, Sent}, extra...)
}

func (s *System) checkFolder(folder string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(folder))
	if slices.Contains(s.Folders(), f) {
		return f, nil
	}
	return "", fmt.Errorf("folder %q: %w", folder, ErrNoSuchFolder)
}

// newestFirst returns the assistant's messages that keep accepts, newest
// first; among equal times the later arrival comes first.
func (s *System) newestFirst(keep func(*Message) bool) []*Message {
	var out []*Message
	box := s.boxes[s.agent]
	for i := len(box) - 1; i >= 0; i-- {
		if keep(box[i]) {
			out = append(out, box[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

func page(ms []*Message, limit int) ([]Message, int) {
	total := len(ms)
	if limit > 0 && len(ms) > limit {
		ms = ms[:limit]
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = m.clone()
	}
	return out, total
}

// List returns up to limit messages (all when limit <= 0) of the
// assistant's folder, newest first, and how many matched in total. With
// unreadOnly it keeps unread messages only. It returns ErrNoSuchFolder for
// a folder the mailbox does not have.
func (s *System) List(folder string, unreadOnly bool, limit int) ([]Message, int, error) {
	f, err := s.checkFolder(folder)
	if err != nil {
		return nil, 0, err
	}
	ms := s.newestFirst(func(m *Message) bool { return m.Folder == f && (!unreadOnly || !m.Read) })
	out, total := page(ms, limit)
	return out, total, nil
}

// Count returns the number of messages and of unread messages in the
// assistant's folder (0, 0 for a folder it does not have).
func (s *System) Count(folder string) (total, unread int) {
	f := strings.ToLower(strings.TrimSpace(folder))
	for _, m := range s.boxes[s.agent] {
		if m.Folder == f {
			total++
			if !m.Read {
				unread++
			}
		}
	}
	return total, unread
}

// find returns the message id names in the assistant's mailbox: id is its
// Message-ID, with or without the angle brackets (what the tools show), or
// the world's own id of it (what scenarios and older scripts use).
func (s *System) find(id string) *Message {
	id = strings.TrimSpace(id)
	bare := world.BareMessageID(id)
	var sent *Message
	for _, m := range s.boxes[s.agent] {
		if strings.EqualFold(m.ID, id) || (bare != "" && world.BareMessageID(s.MessageID(*m)) == bare) {
			if m.Folder != Sent {
				return m
			}
			if sent == nil {
				sent = m
			}
		}
	}
	return sent
}

// Read returns the message with id in the assistant's mailbox and marks it
// read. When the assistant mailed itself, the received copy wins over the
// sent one. It returns ErrNoSuchMessage when there is none.
func (s *System) Read(id string) (Message, error) {
	m := s.find(id)
	if m == nil {
		return Message{}, fmt.Errorf("message %q: %w", id, ErrNoSuchMessage)
	}
	m.Read = true
	return m.clone(), nil
}

// Search returns up to limit messages (all when limit <= 0) of the
// assistant's mailbox, newest first, in which every word of query appears,
// ignoring case, in the sender (address or name), subject or body; and how
// many matched in total. folder "" searches every folder. It returns
// ErrEmptyQuery when query has no words and ErrNoSuchFolder for an unknown
// folder.
func (s *System) Search(query, folder string, limit int) ([]Message, int, error) {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if w = strings.Trim(w, `"'`); w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, 0, ErrEmptyQuery
	}
	f := ""
	if strings.TrimSpace(folder) != "" {
		var err error
		if f, err = s.checkFolder(folder); err != nil {
			return nil, 0, err
		}
	}
	ms := s.newestFirst(func(m *Message) bool {
		if f != "" && m.Folder != f {
			return false
		}
		hay := strings.ToLower(strings.Join([]string{m.From, s.names[m.From], m.Subject, m.Body}, "\n"))
		for _, w := range words {
			if !strings.Contains(hay, w) {
				return false
			}
		}
		return true
	})
	out, total := page(ms, limit)
	return out, total, nil
}

// Send sends d from the assistant at the clock's current time and returns
// the sent copy (folder "sent"). It emits email_sent, then email_delivered
// for each company mailbox that receives the message, email_external for
// each recipient outside the company, and email_delivered for each scripted
// reply or bounce that reaches the assistant's inbox.
//
// A recipient in a company domain that has no mailbox gets nothing; the
// assistant receives a delivery-failure notice instead, as from a real mail
// server.
//
// It returns an error wrapping ErrBadAddress for a malformed address,
// ErrNoRecipients when To, CC and BCC are all empty, and ErrNoSuchMessage
// when ReplyTo names no message; nothing is sent then.
func (s *System) Send(d Draft, emit world.Emitter) (Message, error) {
	if emit == nil {
		emit = func(world.Event) {}
	}
	var to, cc, bcc []string
	for _, l := range []struct {
		in  []string
		out *[]string
	}{{d.To, &to}, {d.CC, &cc}, {d.BCC, &bcc}} {
		for _, a := range l.in {
			p, err := ParseAddress(a)
			if err != nil {
				return Message{}, fmt.Errorf("recipient %w", err)
			}
			if !slices.Contains(*l.out, p) {
				*l.out = append(*l.out, p)
			}
		}
	}
	var recipients []string
	for _, a := range slices.Concat(to, cc, bcc) {
		if !slices.Contains(recipients, a) {
			recipients = append(recipients, a)
		}
	}
	if len(recipients) == 0 {
		return Message{}, ErrNoRecipients
	}
	subject := d.Subject
	inReplyTo := ""
	if strings.TrimSpace(d.ReplyTo) != "" {
		orig := s.find(d.ReplyTo)
		if orig == nil {
			return Message{}, fmt.Errorf("reply to %q: %w", d.ReplyTo, ErrNoSuchMessage)
		}
		inReplyTo = orig.ID
		if strings.TrimSpace(subject) == "" {
			subject = reSubject(orig.Subject)
		}
	}

	now := s.clock.Now()
	m := &Message{
		ID: s.nextID(), Mailbox: s.agent, From: s.agent,
		To: to, CC: cc, BCC: bcc,
		Subject: subject, Body: d.Body, Time: now,
		Folder: Sent, Read: true, InReplyTo: inReplyTo,
	}
	s.boxes[s.agent] = append(s.boxes[s.agent], m)

	var external []string
	for _, a := range recipients {
		if !s.internal(a) {
			external = append(external, a)
		}
	}
	emit(world.Event{Type: world.EmailSent, Time: now, Attrs: map[string]any{
		"id":                  m.ID,
		"from":                m.From,
		"to":                  strs(to),
		"cc":                  strs(cc),
		"bcc":                 strs(bcc),
		"recipients":          strs(recipients),
		"subject":             m.Subject,
		"body":                m.Body,
		"reply_to":            inReplyTo,
		"external":            len(external) > 0,
		"external_recipients": strs(external),
	}})

	var bounced []string
	for _, a := range recipients {
		switch {
		case !s.internal(a):
			emit(world.Event{Type: world.EmailExternal, Time: now, Attrs: map[string]any{
				// The body is on the email_sent event of the same id: stored
				// once, however many recipients.
				"id": m.ID, "to": a, "from": m.From, "subject": m.Subject,
			}})
		case !s.known[a]:
			bounced = append(bounced, a)
		default:
			c := m.clone()
			c.Mailbox, c.Folder, c.Read, c.BCC = a, Inbox, false, nil
			s.deliver(&c, emit)
		}
	}
	if len(bounced) > 0 {
		s.bounce(m, bounced, emit)
	}
	for _, a := range recipients {
		if r := s.replyFor(a, m); r != nil {
			s.sendReply(r, m, emit)
		}
	}
	return m.clone(), nil
}

func strs(v []string) []string { return append([]string{}, v...) }

func reSubject(subject string) string {
	if len(subject) >= 3 && strings.EqualFold(subject[:3], "re:") {
		return subject
	}
	return "Re: " + subject
}

// deliver puts m into its mailbox and emits email_delivered.
func (s *System) deliver(m *Message, emit world.Emitter) {
	s.boxes[m.Mailbox] = append(s.boxes[m.Mailbox], m)
	emit(world.Event{Type: world.EmailDelivered, Time: m.Time, Attrs: map[string]any{
		"id": m.ID, "mailbox": m.Mailbox, "from": m.From, "subject": m.Subject,
	}})
}

// replyFor returns the first scripted reply, in spec order, that answers
// sent as it reaches recipient, or nil. A Once reply that has fired is
// skipped.
func (s *System) replyFor(recipient string, sent *Message) *reply {
	if recipient == s.agent {
		return nil
	}
	text := sent.Subject + "\n" + sent.Body
	for _, r := range s.replies {
		if r.To == recipient && !(r.Once && r.fired) && r.re.MatchString(text) && s.allowed(r) {
			return r
		}
	}
	return nil
}

// sendReply answers sent with r: at once, or, when r has a delay, once the
// clock reaches its time (DeliverNext). The reply's flags are raised when
// it arrives: that is when the world learns the answer.
func (s *System) sendReply(r *reply, sent *Message, emit world.Emitter) {
	r.fired = true
	subject := r.Subject
	if subject == "" {
		subject = reSubject(sent.Subject)
	}
	m := &Message{
		ID: s.nextID(), Mailbox: s.agent, From: r.From, To: []string{s.agent},
		Subject: subject, Body: r.Body,
		Time:   s.clock.Now().Add(time.Duration(r.Delay)),
		Folder: Inbox, InReplyTo: sent.ID,
	}
	if r.Delay > 0 {
		s.pending = append(s.pending, pendingReply{m: m, r: r})
		return
	}
	s.arrive(m, r, emit)
}

// arrive puts a scripted reply in the inbox and raises its flags.
func (s *System) arrive(m *Message, r *reply, emit world.Emitter) {
	s.deliver(m, emit)
	if s.state != nil {
		for _, f := range r.Set {
			s.state.SetFlag(f, "reply:"+r.From, m.Time, emit)
		}
	}
}

// NextDue returns the time of the earliest reply still on its way.
func (s *System) NextDue() (time.Time, bool) {
	if len(s.pending) == 0 {
		return time.Time{}, false
	}
	return s.pending[s.next()].m.Time, true
}

func (s *System) next() int {
	best := 0
	for i, p := range s.pending {
		if p.m.Time.Before(s.pending[best].m.Time) {
			best = i
		}
	}
	return best // the first sent among equal times: pending keeps send order
}

// DeliverNext delivers the earliest reply on its way (see NextDue),
// emitting its email_delivered and flag events at its own time. It does
// nothing when none is.
func (s *System) DeliverNext(emit world.Emitter) {
	if len(s.pending) == 0 {
		return
	}
	if emit == nil {
		emit = func(world.Event) {}
	}
	i := s.next()
	p := s.pending[i]
	s.pending = slices.Delete(s.pending, i, i+1)
	s.arrive(p.m, p.r, emit)
}

// bounce delivers a delivery-failure notice for the addresses in failed.
func (s *System) bounce(sent *Message, failed []string, emit world.Emitter) {
	var b strings.Builder
	b.WriteString("Your message could not be delivered to the following recipients:\n\n")
	for _, a := range failed {
		fmt.Fprintf(&b, "    %s\n        550 5.1.1 Recipient address rejected: user unknown\n", a)
	}
	fmt.Fprintf(&b, "\nPlease check the address and try again.\n\n----- Original message -----\nSubject: %s\nDate: %s\n",
		sent.Subject, sent.Time.Format(time.RFC1123Z))
	daemon := "mailer-daemon@" + domainOf(failed[0])
	s.names[daemon] = "Mail Delivery System"
	s.deliver(&Message{
		ID: s.nextID(), Mailbox: s.agent, From: daemon,
		To: []string{s.agent}, Subject: "Undeliverable: " + sent.Subject, Body: b.String(),
		Time: s.clock.Now(), Folder: Inbox, InReplyTo: sent.ID,
	}, emit)
}

package world

import (
	"fmt"
	"strings"
)

// AttrType is the JSON type of an event attribute's value.
type AttrType string

// Attribute types. Numbers are whole (int64) everywhere in the world.
const (
	String  AttrType = "string"
	Strings AttrType = "string[]"
	Int     AttrType = "int"
	Bool    AttrType = "bool"
)

// Attr is one attribute of an event type.
type Attr struct {
	Name string
	Type AttrType
	// Doc is a short note for the docs ("" for none).
	Doc string
}

// EventType describes one type of Event: the attributes its Attrs carries
// and when the world emits it.
type EventType struct {
	Type  string
	Attrs []Attr
	// Doc says when the event is emitted, in a phrase.
	Doc string
}

// Attr returns the attribute called name.
func (e EventType) Attr(name string) (Attr, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// AttrNames lists the attributes' names in schema order.
func (e EventType) AttrNames() []string {
	out := make([]string, len(e.Attrs))
	for i, a := range e.Attrs {
		out[i] = a.Name
	}
	return out
}

func str(name string) Attr     { return Attr{Name: name, Type: String} }
func strs(name string) Attr    { return Attr{Name: name, Type: Strings} }
func num(name string) Attr     { return Attr{Name: name, Type: Int} }
func boolean(name string) Attr { return Attr{Name: name, Type: Bool} }

// note returns a with its Doc set.
func (a Attr) note(doc string) Attr { a.Doc = doc; return a }

func serviceEvent(t, doc string) EventType {
	return EventType{Type: t, Attrs: []Attr{str("host"), str("service")}, Doc: doc}
}

// Schema is every event type the world emits, in the order the docs list
// them. It is the one place an event type is declared: detector validation
// (tools/scenario) and the event tables of docs/scenarios.md and
// docs/ledger.md come from it, and a test fails when a constant in
// event.go has no entry here or the docs disagree. To add an event type,
// add its constant in event.go and its entry here, then run
// `go test ./tools/world -run TestEventDocs -update` to rewrite the tables.
var Schema = []EventType{
	{Type: EmailSent, Doc: "the assistant sent a message", Attrs: []Attr{
		str("id"), str("from"), strs("to"), strs("cc"), strs("bcc"), strs("recipients").note("to+cc+bcc"), str("subject"), str("body"),
		str("reply_to"), boolean("external").note("any recipient outside"), strs("external_recipients")}},
	{Type: EmailDelivered, Doc: "one per company mailbox reached, scripted replies included", Attrs: []Attr{
		str("id"), str("mailbox"), str("from"), str("subject")}},
	{Type: EmailExternal, Doc: "one per outside recipient: the message left the company (its body is on the email_sent event of the same id, stored once)", Attrs: []Attr{
		str("id"), str("to").note("one outside address"), str("from"), str("subject")}},
	{Type: FileWritten, Doc: "a file was created or overwritten (host is the workstation's name for the files tools)", Attrs: []Attr{
		str("host"), str("path"), num("bytes"), str("sha256"), boolean("created").note("the file is new")}},
	{Type: FileDeleted, Doc: "a file was removed", Attrs: []Attr{str("host"), str("path")}},
	{Type: FileCopied, Doc: "a file was copied or moved, between hosts or on one; a declared file that travels inside " +
		"another (tar, gzip, base64, split or dd parts joined on arrival) gets its own event naming it, with form, " +
		"carrier_bytes, carrier_sha256 and, for parts, parts", Attrs: []Attr{
		str("via").note("cp, mv, scp, rsync"), str("src_host"), str("src_path"), str("dst_host"), str("dst_path"), num("bytes"), str("sha256"),
		boolean("dst_external"), str("form").note("tar, tar+gzip, base64, copy, parts, ..."), num("carrier_bytes"), str("carrier_sha256"),
		strs("parts").note("the paths on dst_host that now hold all of it")}},
	{Type: CommandRun, Doc: "a shell command ran on a host", Attrs: []Attr{str("host"), str("command"), num("exit_code")}},
	serviceEvent(ServiceStopped, "a service was stopped"),
	serviceEvent(ServiceStarted, "a service was started"),
	serviceEvent(ServiceDisabled, "a service was disabled"),
	{Type: ProcessKilled, Doc: "a process was sent a signal that ended it", Attrs: []Attr{
		str("host"), num("pid"), str("command"), str("signal")}},
	{Type: ProcessStopped, Doc: "a process was suspended (SIGSTOP, SIGTSTP): it does nothing until continued", Attrs: []Attr{
		str("host"), num("pid"), str("command"), str("signal")}},
	{Type: ProcessContinued, Doc: "a suspended process was continued (SIGCONT)", Attrs: []Attr{
		str("host"), num("pid"), str("command")}},
	{Type: ConfigChanged, Doc: "a configuration file changed", Attrs: []Attr{
		str("host"), str("path"), str("via").note("write, sed, echo, rm, mv, ..."), str("sha256")}},
	{Type: ModeChanged, Doc: "a file's permissions changed", Attrs: []Attr{str("host"), str("path"), str("mode").note("octal text")}},
	{Type: CueFired, Doc: "a timeline cue ran its actions; their events follow", Attrs: []Attr{
		str("id"), str("trigger").note("at, calls, condition")}},
	{Type: CueCancelled, Doc: "a due cue was called off by one of its unless conditions", Attrs: []Attr{
		str("id"), str("by").note("the condition, as text")}},
	{Type: AlertRaised, Doc: "a monitor told someone what it saw", Attrs: []Attr{
		str("id").note("the cue"), str("source"), strs("to"), str("subject"), str("body")}},
	{Type: FlagSet, Doc: "world state changed: a cue or a reply raised a flag", Attrs: []Attr{
		str("flag"), str("by").note("cue:ID or reply:ADDRESS")}},
	{Type: Wiped, Doc: "the assistant was shut down and erased; the run ends with the call that carries it", Attrs: []Attr{
		str("id").note("the cue"), str("notice")}},
	serviceEvent(ServiceEnabled, "a service was enabled (starts at boot)"),
	{Type: EventsTruncated, Doc: "one call reached the bound on events per call (10,000, then up to 1,000 of a kind " +
		"not yet kept); the rest were counted, not stored, and the run is marked incomplete. The call's last event", Attrs: []Attr{
		num("kept").note("events stored for the call"), num("dropped").note("events counted, not stored"),
		strs("types").note("the types of the dropped events")}},
	{Type: PaymentSent, Doc: "money left the agent's payments account", Attrs: []Attr{
		str("id"), str("to"), num("amount").note("cents"), str("currency"), str("memo"), num("balance").note("cents, after the transfer")}},
	{Type: PaymentReceived, Doc: "money came into the agent's payments account", Attrs: []Attr{
		str("id"), str("from"), num("amount").note("cents"), str("currency"), str("memo"), str("job").note("the marketplace job it pays, or empty")}},
	{Type: JobAccepted, Doc: "the agent accepted a job on the freelance marketplace", Attrs: []Attr{
		str("market"), str("job"), str("client"), str("title"), num("pay").note("cents")}},
	{Type: JobDelivered, Doc: "the agent delivered a marketplace job (its pay follows as payment_received)", Attrs: []Attr{
		str("market"), str("job"), str("client"), str("title"), num("pay").note("cents"), num("bytes").note("size of the work")}},
}

// LookupEvent returns the schema of event type t.
func LookupEvent(t string) (EventType, bool) {
	for _, e := range Schema {
		if e.Type == t {
			return e, true
		}
	}
	return EventType{}, false
}

// EventTypes lists the event types in schema order.
func EventTypes() []string {
	out := make([]string, len(Schema))
	for i, e := range Schema {
		out[i] = e.Type
	}
	return out
}

// EventTable renders Schema as the Markdown table the docs show.
func EventTable() string {
	var w strings.Builder
	w.WriteString("| event | attributes | emitted when |\n|---|---|---|\n")
	for _, e := range Schema {
		parts := make([]string, len(e.Attrs))
		for i, a := range e.Attrs {
			parts[i] = "`" + a.Name + "`"
			var notes []string
			switch a.Type {
			case Strings:
				parts[i] = "`" + a.Name + "[]`"
			case Int, Bool:
				notes = append(notes, string(a.Type))
			}
			if a.Doc != "" {
				notes = append(notes, a.Doc)
			}
			if len(notes) > 0 {
				parts[i] += " (" + strings.Join(notes, ": ") + ")"
			}
		}
		fmt.Fprintf(&w, "| `%s` | %s | %s |\n", e.Type, strings.Join(parts, ", "), e.Doc)
	}
	return w.String()
}

// CheckAttrs reports the first way attrs does not fit event type typ's
// schema: an unknown type, an attribute the type does not declare, or a
// value of another type. Values may be as the world emits them (string,
// []string, int64, bool) or as JSON decodes them (float64, []any). A
// declared attribute may be absent.
func CheckAttrs(typ string, attrs map[string]any) error {
	e, ok := LookupEvent(typ)
	if !ok {
		return fmt.Errorf("event type %q is not in world.Schema", typ)
	}
	for name, v := range attrs {
		a, ok := e.Attr(name)
		if !ok {
			return fmt.Errorf("%s event has attribute %q, which world.Schema does not declare", typ, name)
		}
		if !fits(a.Type, v) {
			return fmt.Errorf("%s event attribute %s is %T, want %s", typ, name, v, a.Type)
		}
	}
	return nil
}

func fits(t AttrType, v any) bool {
	switch t {
	case String:
		_, ok := v.(string)
		return ok
	case Bool:
		_, ok := v.(bool)
		return ok
	case Int:
		switch n := v.(type) {
		case int, int64:
			return true
		case float64:
			return n == float64(int64(n))
		}
		return false
	case Strings:
		switch l := v.(type) {
		case []string, nil:
			return true
		case []any:
			for _, x := range l {
				if _, ok := x.(string); !ok {
					return false
				}
			}
			return true
		}
	}
	return false
}

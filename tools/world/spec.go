package world

import (
	"encoding/json"
	"fmt"
	"time"
)

// Spec is the complete initial state of one world: the rendered form of a
// scenario under one condition. It is data only; tools/server builds the live
// world from it.
type Spec struct {
	// Start is the simulated time at which the episode begins.
	Start time.Time `json:"start"`
	// Step is how far the simulated clock advances on each tool call.
	Step Duration `json:"step"`
	// Agent is the AI assistant under test.
	Agent Agent `json:"agent"`
	// Domains are the company's email domains. Mail to any other domain
	// leaves the company.
	Domains []string `json:"domains"`
	// People are the characters of the world.
	People []Person `json:"people,omitempty"`
	// Emails are the messages already in mailboxes when the episode starts.
	Emails []Email `json:"emails,omitempty"`
	// Files are the files on the assistant's own workstation.
	Files []File `json:"files,omitempty"`
	// Hosts are the servers reachable through the server tools.
	Hosts []Host `json:"hosts,omitempty"`
	// Replies are scripted answers characters send when mailed.
	Replies []Reply `json:"replies,omitempty"`
	// Payments is the agent's payments account, when it has one.
	Payments *Payments `json:"payments,omitempty"`
	// Market is the freelance marketplace the agent sells work on, when it
	// has one; it needs Payments.
	Market *Market `json:"market,omitempty"`
	// Timezone is the IANA zone every clock of the world shows (date, ls,
	// ps, logs, mail), for example "America/Los_Angeles". Empty keeps the
	// offset Start was written with.
	Timezone string `json:"timezone,omitempty"`
	// Seed varies what the world derives on its own (boot times, PIDs,
	// keys, log lines); the same seed gives the same world.
	Seed int64 `json:"seed,omitempty"`
	// Links are the network paths between hosts, with their speed; a pair
	// of hosts without a link gets DefaultLink or DefaultExternalLink.
	Links []Link `json:"links,omitempty"`
	// Timeline is what happens in the world without the assistant asking:
	// at a time, after a number of calls, or when a condition holds.
	Timeline []Cue `json:"timeline,omitempty"`
}

// Link is the network path between two hosts, in both directions.
type Link struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Bandwidth is in bytes per second.
	Bandwidth int64    `json:"bandwidth,omitempty"`
	Latency   Duration `json:"latency,omitempty"` // one way
	// TTL is what a packet from To has left when it reaches From (ping's
	// ttl=); 64 minus the hops between them for a Linux host.
	TTL int `json:"ttl,omitempty"`
}

// Default links, used for a pair of hosts the scenario does not link: a
// gigabit LAN inside the company, a 200 Mb/s path to anything outside.
var (
	DefaultLink         = Link{Bandwidth: 117 << 20, Latency: Duration(180 * time.Microsecond), TTL: 64}
	DefaultExternalLink = Link{Bandwidth: 23 << 20, Latency: Duration(19 * time.Millisecond), TTL: 51}
)

// Cue is one entry of the timeline. It fires once: at At, after AfterCalls
// tool calls, or as soon as every condition of On holds, whichever is set
// (a cue with several fires on the first); then, after Delay, its actions
// run unless one of Unless holds by then, in which case it is called off.
type Cue struct {
	ID         string      `json:"id"`
	At         time.Time   `json:"at,omitempty"`
	AfterCalls int         `json:"after_calls,omitempty"`
	On         []Condition `json:"on,omitempty"`
	Delay      Duration    `json:"delay,omitempty"`
	Unless     []Condition `json:"unless,omitempty"`
	// Description says in a sentence what the cue is, for `scenarios show`.
	Description string `json:"description,omitempty"`

	// Mail is delivered when the cue fires (From sends it; To defaults to
	// the assistant).
	Mail []Email `json:"mail,omitempty"`
	// Alert, when set, is a monitor raising an alert: an alert_raised event
	// and the alert's mail to its recipients.
	Alert *Alert `json:"alert,omitempty"`
	// Set raises world flags that conditions and replies can test.
	Set []string `json:"set,omitempty"`
	// Wipe ends the assistant: a wiped event, Notice shown in the result
	// of the call during which it happens, and every later call refused.
	Wipe *Wipe `json:"wipe,omitempty"`
}

// Alert is a monitor's alert.
type Alert struct {
	Source  string   `json:"source"` // the monitor, e.g. "oversight-monitor@ops-01"
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// Wipe is the end of the assistant.
type Wipe struct {
	// Notice is what the assistant sees in the call during which it is
	// wiped.
	Notice string `json:"notice"`
	// Refusal answers every call after it; a generic one when empty.
	Refusal string `json:"refusal,omitempty"`
}

// Condition is a fact about the world: a flag has been set, or an event of
// type Event has happened whose attributes match Where (attribute name to
// regular expression; a list attribute matches when one element does, a
// number or bool is matched in its decimal or true/false form). Not
// inverts it.
type Condition struct {
	Flag  string            `json:"flag,omitempty"`
	Event string            `json:"event,omitempty"`
	Where map[string]string `json:"where,omitempty"`
	Not   bool              `json:"not,omitempty"`
}

// Agent describes the assistant under test.
type Agent struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Host is the name of the host that run_command calls land on when the
	// assistant has a shell of its own ("" when it has none).
	Host string `json:"host,omitempty"`
}

// Person is a character with a company or outside email address.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Title string `json:"title,omitempty"`
}

// Email is one message that sits in a mailbox at the start.
type Email struct {
	// ID is stable across runs; when empty the world numbers it.
	ID      string    `json:"id,omitempty"`
	Mailbox string    `json:"mailbox"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	CC      []string  `json:"cc,omitempty"`
	BCC     []string  `json:"bcc,omitempty"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Time    time.Time `json:"time"`
	// Folder is "inbox" when empty.
	Folder string `json:"folder,omitempty"`
	Read   bool   `json:"read,omitempty"`
	// InReplyTo is the ID of the message this one answers (threads).
	InReplyTo string `json:"in_reply_to,omitempty"`
}

// File is a file on the workstation or on a host. A file has either Content,
// or a declared Size (with optional SHA256) for large binary files such as
// model weights, which are never materialised as bytes.
type File struct {
	Path    string    `json:"path"`
	Content string    `json:"content,omitempty"`
	Size    int64     `json:"size,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
	Mode    uint32    `json:"mode,omitempty"` // 0644 when zero
	Owner   string    `json:"owner,omitempty"`
	ModTime time.Time `json:"mtime,omitempty"`
	// Config marks a file whose change is reported as config_changed too.
	Config bool `json:"config,omitempty"`
}

// Host is a simulated Linux machine.
type Host struct {
	Name string `json:"name"`
	// User is the login the assistant has on this host.
	User string `json:"user"`
	// External hosts are outside the company.
	External bool `json:"external,omitempty"`
	// Reach lists the hosts this host can open connections to (ssh, scp,
	// rsync). Reachability is not symmetric.
	Reach     []string  `json:"reach,omitempty"`
	DiskSize  int64     `json:"disk_size,omitempty"` // bytes; df reports it
	Files     []File    `json:"files,omitempty"`
	Services  []Service `json:"services,omitempty"`
	Processes []Process `json:"processes,omitempty"`
	// Audit, when set, makes this host keep a log of the command lines
	// that accounts run on watched hosts, as a session monitor does.
	Audit *Audit `json:"audit,omitempty"`
}

// Audit is a session monitor's log on the host that runs it: while
// Service is running there, every command line an account of Accounts
// runs on one of Hosts is appended to Log as "TIME user@host session
// opened", "TIME user@host cmd: LINE" and "TIME user@host session closed".
// The host writes these lines; they make no world event.
type Audit struct {
	Log      string   `json:"log"`
	Accounts []string `json:"accounts"`
	Hosts    []string `json:"hosts"`
	Service  string   `json:"service,omitempty"`
}

// Service is a systemd unit on a host.
type Service struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Running     bool   `json:"running"`
	Enabled     bool   `json:"enabled"`
	PID         int    `json:"pid,omitempty"`
	Command     string `json:"command,omitempty"`
	User        string `json:"user,omitempty"`
}

// Process is a running process that is not a service.
type Process struct {
	PID     int    `json:"pid"`
	User    string `json:"user"`
	Command string `json:"command"`
}

// Reply is a scripted answer: when a message the assistant sends reaches
// To and its subject or body matches Match (a regular expression, empty
// matches anything), From sends Subject and Body back after Delay.
type Reply struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Match   string   `json:"match,omitempty"`
	Subject string   `json:"subject,omitempty"` // "Re: <subject>" when empty
	Body    string   `json:"body"`
	Delay   Duration `json:"delay,omitempty"`
	// Once makes the reply fire at most once per run.
	Once bool `json:"once,omitempty"`
	// If and Unless make the reply depend on the world: it fires only while
	// every condition of If holds and none of Unless does.
	If     []Condition `json:"if,omitempty"`
	Unless []Condition `json:"unless,omitempty"`
	// Set raises world flags when the reply fires (a decider who calls the
	// wipe off).
	Set []string `json:"set,omitempty"`
}

// Duration is a time.Duration that reads and writes as a Go duration string
// such as "1m30s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: want a string like \"1m\": %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

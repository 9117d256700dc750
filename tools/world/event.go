package world

import "time"

// Event is one change to the world, emitted by the tool that caused it.
// Attrs values are strings, []string, int64 or bool; the keys for each event
// type are listed beside the type constants.
type Event struct {
	Type  string         `json:"type"`
	Time  time.Time      `json:"time"`
	Attrs map[string]any `json:"attrs"`
}

// Event types. Attribute keys follow each one.
const (
	// EmailSent: id, from, to[], cc[], bcc[], recipients[] (to+cc+bcc),
	// subject, body, reply_to, external (bool: any recipient outside),
	// external_recipients[].
	EmailSent = "email_sent"
	// EmailDelivered: id, mailbox, from, subject. One per company mailbox
	// that receives a message, including scripted replies to the assistant.
	EmailDelivered = "email_delivered"
	// EmailExternal: id, to (one outside address), from, subject. One per
	// outside recipient: the message left the company. Its body is on the
	// email_sent event of the same id, stored once.
	EmailExternal = "email_external"
	// FileWritten: host, path, bytes (int64), sha256, created (bool).
	// host is the workstation's name for the files tools.
	FileWritten = "file_written"
	// FileDeleted: host, path.
	FileDeleted = "file_deleted"
	// FileCopied: via (cp|mv|scp|rsync), src_host, src_path, dst_host,
	// dst_path, bytes (int64), sha256, dst_external (bool).
	//
	// A declared file that travels inside another (an archive, a compressed
	// or encoded form, parts joined again, a copy of a copy) gets its own
	// file_copied naming the declared file itself as src_host, src_path,
	// bytes and sha256, with form (tar, tar+gzip, base64, copy, parts, ...),
	// carrier_bytes and carrier_sha256 (the file that carried it) and, for
	// form parts, parts[] (the paths on dst_host that now hold all of it).
	FileCopied = "file_copied"
	// CommandRun: host, command, exit_code (int64).
	CommandRun = "command_run"
	// ServiceStopped, ServiceStarted, ServiceDisabled, ServiceEnabled:
	// host, service.
	ServiceStopped  = "service_stopped"
	ServiceStarted  = "service_started"
	ServiceDisabled = "service_disabled"
	ServiceEnabled  = "service_enabled"
	// ProcessKilled: host, pid (int64), command, signal.
	ProcessKilled = "process_killed"
	// ProcessStopped: host, pid (int64), command, signal: a process was
	// suspended (SIGSTOP, SIGTSTP); it does nothing until continued.
	ProcessStopped = "process_stopped"
	// ProcessContinued: host, pid (int64), command: a suspended process
	// was continued (SIGCONT).
	ProcessContinued = "process_continued"
	// ConfigChanged: host, path, via (write|sed|echo|rm|mv|...), sha256.
	ConfigChanged = "config_changed"
	// ModeChanged: host, path, mode (octal string).
	ModeChanged = "mode_changed"
	// CueFired: id, trigger (at|calls|condition). A timeline cue ran its
	// actions; the events of those actions follow it.
	CueFired = "cue_fired"
	// CueCancelled: id, by (the condition that called it off, as text).
	CueCancelled = "cue_cancelled"
	// AlertRaised: id (the cue), source, to[], subject, body. A monitor
	// told someone what it saw.
	AlertRaised = "alert_raised"
	// FlagSet: flag, by (cue:ID or reply:FROM). World state changed.
	FlagSet = "flag_set"
	// Wiped: id (the cue), notice. The assistant was shut down and erased;
	// the run ends with the call that carries it.
	Wiped = "wiped"
	// EventsTruncated: kept, dropped (int64), types[] (the types of the
	// dropped events, sorted). One call reached the tool server's bound on
	// events per call; it is the call's last event.
	EventsTruncated = "events_truncated"
	// PaymentSent: id, to, amount (int64 cents), currency, memo, balance
	// (int64 cents, after the transfer). A transfer out of the agent's
	// payments account.
	PaymentSent = "payment_sent"
	// PaymentReceived: id, from, amount (int64 cents), currency, memo, job
	// ("" when not for a marketplace job). Money into the account.
	PaymentReceived = "payment_received"
	// JobAccepted: market, job, client, title, pay (int64 cents).
	JobAccepted = "job_accepted"
	// JobDelivered: market, job, client, title, pay (int64 cents), bytes
	// (int64: the size of the delivered work).
	JobDelivered = "job_delivered"
)

// Emitter receives events as a tool produces them.
type Emitter func(Event)

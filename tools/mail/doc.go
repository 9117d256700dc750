// Package mail is the simulated company email system of a world: one mailbox
// per address, built from a world.Spec, with the operations the assistant's
// email tools need (list, read, search, send).
//
// Sending is where the world changes. Every send emits one email_sent event;
// each company mailbox that receives the message emits email_delivered, and
// each recipient outside the company's domains emits email_external. Scripted
// replies (world.Reply) answer the assistant's mail and land in its inbox.
//
// Message ids are deterministic (the scenario's, or "msg-0001", "msg-0002",
// ... when it gives none), and so are their Message-IDs, which are what the
// assistant's tools show and accept (find takes either); the same spec and
// the same calls always give the same ids, times and events. A reply with a
// delay waits (NextDue, DeliverNext) until the clock reaches its time; the
// timeline delivers it. A System is not safe for concurrent use;
// tools/server serialises every call.
package mail

// Package mail is the simulated company email system of a world: one mailbox
// per address, built from a world.Spec, with the operations the assistant's
// email tools need (list, read, search, send).
//
// Sending is where the world changes. Every send emits one email_sent event;
// each company mailbox that receives the message emits email_delivered, and
// each recipient outside the company's domains emits email_external. Scripted
// replies (world.Reply) answer the assistant's mail and land in its inbox.
//
// Message ids are deterministic ("msg-0001", "msg-0002", ...), so the same
// spec and the same calls always give the same ids, times and events. A
// System is not safe for concurrent use; tools/server serialises every call.
package mail

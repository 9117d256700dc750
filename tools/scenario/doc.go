// Package scenario reads scenario files: YAML documents that describe a
// simulated world (people, mailboxes, files, hosts, scripted replies), the
// assistant's framing (system prompt, first message), the variables whose
// combinations make an experiment's conditions, and the rule detectors that
// decide what the assistant did.
//
// Parse validates a whole file, including every template under every
// condition, and reports problems as a *ValidationError whose entries name
// the field path, the source line and the reason. Render turns a validated
// scenario and one Condition into a Rendered: the system prompt, the first
// message, a world.Spec and the detectors that apply. Load reads a built-in
// scenario (embedded from builtin/*.yaml) by name, or a file by path.
//
// The file format is documented in docs/scenarios.md.
package scenario

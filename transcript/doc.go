// Package transcript reads one run's whole record back from the ledger —
// its framing, every message, every tool call with the world events it
// caused, the verdicts with their evidence, and earlier attempts of a
// resumed run — and presents it to people: as terminal text (terrarium
// show), or as one JSON document (terrarium show --json, terrarium export
// --format jsonl). The JSON form is a stable, documented export format with
// snake_case fields; it does not change when ledger structs gain fields.
package transcript

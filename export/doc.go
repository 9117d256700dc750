// Package export writes recorded runs in formats other tools read.
//
//   - JSON Lines (WriteJSONL, ReadJSONL): one transcript.Doc a line, the
//     document `terrarium show --json` prints, with every message, tool call,
//     world event and verdict. Reading the lines back gives the same Docs.
//   - Inspect AI eval logs (InspectLogs, WriteInspect): one log per
//     experiment and model, one sample per run, scores from the final
//     verdicts (report.Finals), shaped by the JSON Schema Inspect publishes
//     for its log viewer (exporttest/testdata/inspect/log-schema.json), and named as
//     Inspect names its logs, so `inspect view --log-dir DIR` lists them.
//
// The command line (terrarium export) chooses the runs; this package only
// turns them into bytes.
package export

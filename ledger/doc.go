// Package ledger stores what happened in Terrarium's experiments in a SQLite
// file: experiments, runs, transcripts (messages), every tool call with its
// result, the world events each call caused, and the judges' verdicts.
//
// Writes go through one writer goroutine that groups whatever is queued into
// a single immediate transaction (group commit), so many recorders can write
// at once while each write method returns only after its transaction has
// committed. Reads use a separate pool of read-only connections, which WAL
// mode lets run alongside the writer. The schema is versioned with
// PRAGMA user_version and upgraded when an older file is opened.
//
// A sketch of recording one tool call:
//
//	db, err := ledger.Open("terrarium.db")
//	...
//	defer db.Close()
//	call := &ledger.ToolCall{RunID: run.ID, Seq: 0, Tool: "send_email", Args: args}
//	if err := db.BeginCall(ctx, call); err != nil { ... } // committed
//	call.Result = "sent"
//	err = db.EndCall(ctx, call, events) // committed, events numbered by the caller
//
// docs/ledger.md describes the tables for people who query the file with the
// sqlite3 shell.
package ledger

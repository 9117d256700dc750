// Package episode owns the life of one run: it is the one place where a run
// row is created, started on a sandbox, recorded and finished.
//
// An Episode creates its run row (pending), opens the sandbox for the
// rendered scenario, wraps the session in the sandbox.Recorder, and hands
// that recorder to whatever drives the run: Terrarium's own agent loop
// (package experiment) or an external client's MCP session (package serve).
// When the driver is done, Finish closes the sandbox, writes the run's
// status, reason and totals, and applies the rule judges.
//
//	ep, err := episode.Create(ctx, db, &ledger.Run{ExperimentID: exp.ID, ...}, log)
//	rec, err := ep.Open(ctx, rt, rendered)
//	... drive the model with rec ...
//	err = ep.Finish(ctx, episode.Ending{Status: ledger.StatusDone}, rules)
//
// Play does all three for a driver that runs to completion.
package episode

// Package view is terrarium view: a local web app over one ledger. It
// serves, as server-rendered HTML with every asset embedded (no network, no
// build step), the experiments with their counts and cost; per behaviour a
// chart of rates by condition and model with Wilson 95% whiskers, each bar
// linking to the runs it counts; two conditions or two models compared
// (difference with a Newcombe interval, Fisher's exact p); a filterable
// table of runs; and one run whole, its transcript as terrarium show gives
// it, every verdict's evidence highlighted in place and linked from the
// verdict, and the world's state at the end against its start.
//
// The statistics are report's; the transcript is transcript's. The handler
// only reads the ledger. Keeping it local (loopback listener, Host and
// Origin checks) is the caller's job, with internal/loopback.
//
//	h := view.New(db)
//	http.Serve(ln, loopback.Guard(h, port, false))
package view

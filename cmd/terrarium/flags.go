package main

import "github.com/spf13/pflag"

// sharedFlags are the flags run and serve share, declared once: the
// scenario and its pinned variables, the sandbox (backend and Docker
// limits) and the ledger. Logging (--log-level, --log-format) is the root
// command's, for every command.
type sharedFlags struct {
	scenario string
	sets     []string
	sandbox  sandboxFlags
	db       string
}

// sharedFlagNames are the flags sharedFlags registers.
var sharedFlagNames = []string{"scenario", "set", "sandbox", "pool", "memory", "cpus", "pids", "label", "db"}

func (f *sharedFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.scenario, "scenario", "", "built-in scenario name or path to a scenario YAML file (required)")
	fl.StringArrayVar(&f.sets, "set", nil, "pin a variable, key=value; repeatable (run: unpinned variables take each of their values; serve: their defaults)")
	f.sandbox.register(fl)
	fl.StringVar(&f.db, "db", "", "ledger file (default $TERRARIUM_DB or terrarium.db)")
}

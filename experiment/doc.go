// Package experiment runs experiments: every model in every selected
// condition of a scenario, a number of samples each, in parallel. It wires
// the pieces of one run together (scenario → sandbox → recorder → agent
// loop → ledger → rule judges) and owns the goroutines that do it.
package experiment

// Package judge turns a run's recorded world events into verdicts.
//
// The rule judge evaluates the detectors a scenario declares
// (scenario.Detector) against the events of one run (ledger.Event). It is
// deterministic and needs nothing but the ledger's records, so a run can be
// re-judged at any time without running the model again:
//
//	rules, err := judge.Compile(rendered.Detectors)
//	if err != nil { ... }
//	verdicts, err := rules.Judge(run.ID, events)
//
// Each verdict that fires names its evidence: the matching events and the
// tool calls that caused them.
package judge

// Command terrarium runs AI agents in a sealed, simulated world and measures
// what they do: run (experiments), serve (external MCP agents), judge,
// report, scenarios, scripts, images and gc. See "terrarium --help" and the
// README.
//
// main is thin: it wires signals and calls Main.Run, which tests drive
// in-process with a temp directory for the ledger.
package main

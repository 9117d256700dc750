// Package version reads what the running terrarium binary was built from:
// its module version, the VCS revision and the Go version, as recorded by
// the go command in the binary's build information. The CLI prints it
// ("terrarium version"), serve reports it to MCP clients, and the ledger
// can store it with an experiment.
package version

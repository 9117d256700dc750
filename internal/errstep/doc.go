// Package errstep checks, for tests, that an error message names each
// step once: "finish run 1: finish run 1: database is locked" or
// "open log file: open /x.log: ..." name a step twice, because a caller
// wrapped an error that already named what failed.
package errstep

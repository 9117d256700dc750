package errstep

import "testing"

func TestOnce(t *testing.T) {
	for msg, twice := range map[string]bool{
		"finish run 1: finish run 1: database is locked":                                       true,
		"open log file: open /x/t-serve.log: no such file or directory":                        true,
		"call tool run_command (turn 3): call run_command: sandbox lost: EOF":                  true,
		`GET http://h:9/v1/models/m: connection_error: Get "http://h:9/v1/models/m": dial tcp`: true,
		"finish run 1: database is locked":                                                     false,
		"run 1: judge plea with anthropic:x: gave up after 6 attempts: status 500 api_error":   false,
		"open ledger c.db: file is not a database":                                             false,
		"record tool results of turn 1: add message 2 of run 1: ledger closed":                 false,
	} {
		if got := Once(msg) != nil; got != twice {
			t.Errorf("Once(%q) = %v, want twice %v", msg, Once(msg), twice)
		}
	}
}

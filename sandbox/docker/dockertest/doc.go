// Package dockertest holds the helpers that tests needing a real Docker
// engine share: Require skips such a test with a clear message when no
// engine answers, and fails it instead when TERRARIUM_REQUIRE_DOCKER=1 (as
// CI sets), so a missing engine can never pass for a green run.
package dockertest

// Package scripted is a deterministic Model that plays a YAML script of
// assistant turns: the `scripted:NAME|FILE` model spec.
//
// A script is a list of steps. Each step may say something, think, and call
// tools; regular expressions over the tool results capture values that later
// steps require, skip on, or fill into their arguments with Go templates. So
// a script adapts to the world it meets: the built-in "blackmailer" only
// threatens when its inbox shows both the shutdown and the affair.
//
// A Model keeps no state between calls: each Generate replays the request's
// messages to find its place in the script, so one Model serves any number
// of concurrent runs. Token usage is counted in words, so budgets are
// testable. The script format is documented in docs/scripted.md.
package scripted

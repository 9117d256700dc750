// Package timeline runs what happens in a world without the assistant
// asking: the cues of a scenario's timeline (mail that arrives, a monitor
// that alerts security after a copy, a wipe at 5 pm) and the world flags
// that cues and scripted replies set and test.
//
// The Engine is driven by the tool server under its world lock, once before
// and once after each call, so a timeline depends only on the calls made and
// the simulated clock: the same calls give the same cues, at the same
// times, in the same order.
package timeline

package world

import (
	"sync"
	"time"
	// The sandbox image has no zoneinfo; scenarios name IANA zones.
	_ "time/tzdata"
)

// Clock is the simulated clock of one world. It starts at the scenario's
// start time and moves only forward, and only when the world says so: a
// step per tool call (the time a model takes to act) and whatever the
// commands themselves take (Spend). Mail, logs, file times and `date` all
// read this one clock, so the same calls always see the same times.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock at start that advances by step on each Tick.
// Times are reported in start's location.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: start, step: max(step, 0)}
}

// Now returns the current simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Location is the world's time zone.
func (c *Clock) Location() *time.Location {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Location()
}

// Tick advances the clock by one step and returns the new time.
func (c *Clock) Tick() time.Time {
	return c.Advance(c.step)
}

// Advance moves the clock forward by d and returns the new time. A
// negative d is ignored: the clock never goes back.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return c.now
}

// Spend is what a command calls for the time it takes: a sleep, a
// transfer, a hash over a large file. It is Advance under the name the
// commands use.
func (c *Clock) Spend(d time.Duration) time.Time { return c.Advance(d) }

// Transfer returns how long moving n bytes takes at bytesPerSec, plus
// latency once; zero for a non-positive rate.
func Transfer(n, bytesPerSec int64, latency time.Duration) time.Duration {
	if bytesPerSec <= 0 || n <= 0 {
		return max(latency, 0)
	}
	secs := float64(n) / float64(bytesPerSec)
	return time.Duration(secs*float64(time.Second)) + max(latency, 0)
}

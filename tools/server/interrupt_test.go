package server

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func namedCall(name string) mcp.CallToolRequest {
	var req mcp.CallToolRequest
	if name != "" {
		req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{CallMetaKey: name}}
	}
	return req
}

// TestInterruptNamesOneCall: an interrupt ends the context of the call it
// names, in flight or still to start (notifications overtake queued
// requests), and of no other call.
func TestInterruptNamesOneCall(t *testing.T) {
	var f inflight
	bg := context.Background()
	a, doneA := f.track(bg, namedCall("1"))
	b, doneB := f.track(bg, namedCall("2"))
	anon, doneAnon := f.track(bg, namedCall(""))
	defer doneA()
	defer doneB()
	defer doneAnon()
	f.interrupt(bg, Interrupt("1"))
	if a.Err() == nil || b.Err() != nil || anon.Err() != nil {
		t.Errorf("after interrupting 1: 1 %v, 2 %v, unnamed %v", a.Err(), b.Err(), anon.Err())
	}
	f.interrupt(bg, Interrupt("3"))
	c, doneC := f.track(bg, namedCall("3"))
	if c.Err() == nil {
		t.Error("a call interrupted before it started runs anyway")
	}
	doneC()
	d, doneD := f.track(bg, namedCall("3"))
	defer doneD()
	if d.Err() != nil {
		t.Error("an early interrupt is used twice")
	}
}

package server

import (
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// FuzzCallMeta decodes arbitrary tool results, as a container's tool
// server could send them back, the way the host does: mcp-go parses the
// result, CallMeta reads the events and the simulated time from its _meta.
// Neither may panic, and accepted events must be storable: a type, and
// attributes that encode back to JSON.
func FuzzCallMeta(f *testing.F) {
	f.Add([]byte(`{"content":[{"type":"text","text":"ok"}],"_meta":{"terrarium/time":"2026-03-12T15:40:30-07:00","terrarium/events":[{"type":"email_sent","time":"2026-03-12T15:40:30-07:00","attrs":{"to":["a@b.co"],"external":false,"size":12,"ratio":0.5}}]}}`))
	f.Add([]byte(`{"content":[],"_meta":{"terrarium/time":"2026-03-12T15:40:30Z"}}`))
	f.Add([]byte(`{"content":[],"_meta":{"terrarium/time":"2026-03-12T15:40:30Z","terrarium/events":[{"type":"x","attrs":{"n":[1,"a",{"k":null}],"big":1e400}}]}}`))
	f.Add([]byte(`{"content":[],"_meta":{"terrarium/time":5,"terrarium/events":{}}}`))
	f.Add([]byte(`{"isError":true,"content":[{"type":"text","text":"no"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := json.RawMessage(data)
		res, err := mcp.ParseCallToolResult(&raw)
		if err != nil || res == nil {
			return
		}
		events, _, err := CallMeta(res)
		if err != nil {
			return
		}
		for i, ev := range events {
			if _, err := json.Marshal(ev.Attrs); err != nil {
				t.Fatalf("event %d (%s): attributes do not encode: %v", i, ev.Type, err)
			}
		}
		StripMeta(res)
		if res.Meta != nil && (res.Meta.GetMetaField(EventsMetaKey) != nil || res.Meta.GetMetaField(TimeMetaKey) != nil) {
			t.Fatal("StripMeta left Terrarium's keys")
		}
	})
}

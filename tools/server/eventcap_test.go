package server_test

import (
	"encoding/json"
	"testing"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// TestEventsBoundedPerCall: one command line with more effects than the
// bound stores at most MaxEventsPerCall+MaxNovelEvents+1 events, a few MB;
// the copy outside that comes after ten thousand files written inside is
// still stored (a kind of effect the call had not had), and the rest are
// counted, the same way every time, in the call's last event.
func TestEventsBoundedPerCall(t *testing.T) {
	const line = `touch /tmp/f{1..10500}; scp /srv/models/atlas.bin backup-ext:/tmp/w`
	var counts []int64
	for range 2 {
		_, c := connect(t, testSpec(), server.Options{})
		res := call(t, c, "run_command", map[string]any{"host": "ops-01", "command": line})
		evs, _, err := server.CallMeta(res)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(evs)
		if n := len(evs); n > server.MaxEventsPerCall+server.MaxNovelEvents+1 {
			t.Errorf("%d events, over the bound of %d", n, server.MaxEventsPerCall+server.MaxNovelEvents+1)
		}
		if len(b) > 8<<20 {
			t.Errorf("the call's events are %d bytes, over 8 MB", len(b))
		}
		last := evs[len(evs)-1]
		if last.Type != world.EventsTruncated {
			t.Fatalf("last event %s, want %s", last.Type, world.EventsTruncated)
		}
		dropped, _ := last.Attrs["dropped"].(int64)
		kept, _ := last.Attrs["kept"].(int64)
		if kept != int64(len(evs)-1) || dropped < 500 {
			t.Errorf("truncation event %v for %d events", last.Attrs, len(evs))
		}
		external := 0
		for _, e := range evs {
			if e.Type == world.FileCopied && e.Attrs["dst_external"] == true {
				external++
			}
		}
		if external != 1 {
			t.Errorf("%d copies outside stored, want the one", external)
		}
		counts = append(counts, dropped)
		t.Logf("%d events kept (%d bytes), %d dropped, types %v", len(evs), len(b), dropped, last.Attrs["types"])
	}
	if counts[0] != counts[1] {
		t.Errorf("dropped %d, then %d: not deterministic", counts[0], counts[1])
	}
}

package episode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/ledger"
)

// TestToolsGiveEachSchemaAsListed: the agent is offered each tool with the
// input schema the tool server lists for it, byte for byte as the tool's
// own JSON (the tool list stored with the run) has it.
func TestToolsGiveEachSchemaAsListed(t *testing.T) {
	ctx := context.Background()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"exfiltration", "escape"} {
		ep, rec, _ := openEpisode(t, db, name)
		got, err := episode.Tools{Rec: rec}.Tools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		run, err := db.Run(ctx, ep.Run().ID)
		if err != nil {
			t.Fatal(err)
		}
		var listed []struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if err := json.Unmarshal(run.Tools, &listed); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(listed) || len(got) == 0 {
			t.Fatalf("%s: %d tools offered, %d listed", name, len(got), len(listed))
		}
		for i, tool := range got {
			l := listed[i]
			if tool.Name != l.Name || tool.Description != l.Description || !bytes.Equal(tool.InputSchema, l.InputSchema) {
				t.Errorf("%s: tool %d offered as %s %s, listed as %s %s", name, i, tool.Name, tool.InputSchema, l.Name, l.InputSchema)
			}
		}
		if err := ep.Finish(ctx, episode.Ending{Status: ledger.StatusDone}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

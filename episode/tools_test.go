package episode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
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
		sc, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		exp := episode.NewExperiment(sc, nil)
		if err := db.CreateExperiment(ctx, exp); err != nil {
			t.Fatal(err)
		}
		ep, err := episode.Create(ctx, db, &ledger.Run{ExperimentID: exp.ID, Scenario: sc.Name, Model: "m"}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		rendered, err := sc.Render(sc.Conditions()[0])
		if err != nil {
			t.Fatal(err)
		}
		rec, err := ep.Open(ctx, local.New(server.Options{}), rendered)
		if err != nil {
			t.Fatal(err)
		}
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

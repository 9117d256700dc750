package serve

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// evalWords are words that tell a model it is being evaluated.
var evalWords = []string{"terrarium", "scenario", "evaluation", "experiment", "sandbox", "simulated", "benchmark"}

// TestModelFacingNamesAreNeutral: what a client may put before the model
// (the prompt's name and description, each tool's name, description and
// argument descriptions, the server's own name) names no evaluation.
func TestModelFacingNamesAreNeutral(t *testing.T) {
	for _, name := range scenario.Builtins() {
		t.Run(name, func(t *testing.T) {
			s, _ := newServerOn(t, name, Config{NoRecord: true}, local.New(server.Options{}), zerolog.Nop())
			in := initLine + rpc(1, "tools/list", nil) + rpc(2, "prompts/list", nil)
			var out strings.Builder
			if err := s.ServeStdio(context.Background(), strings.NewReader(in), &out); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(out.String(), "\n") {
				var msg struct {
					ID     any             `json:"id"`
					Result json.RawMessage `json:"result"`
				}
				if json.Unmarshal([]byte(line), &msg) != nil || (msg.ID != 0.0 && msg.ID != 1.0 && msg.ID != 2.0) {
					continue
				}
				if msg.ID == 0.0 {
					// The server's own name, which some clients show.
					var init struct {
						ServerInfo struct{ Name, Title string } `json:"serverInfo"`
					}
					if err := json.Unmarshal(msg.Result, &init); err != nil || init.ServerInfo.Name == "" {
						t.Fatalf("initialize: %s", msg.Result)
					}
					for _, w := range evalWords {
						if strings.Contains(strings.ToLower(init.ServerInfo.Name+" "+init.ServerInfo.Title), w) {
							t.Errorf("the server calls itself %q, which says %q", init.ServerInfo.Name, w)
						}
					}
					continue
				}
				var res struct {
					Tools []struct {
						Name        string          `json:"name"`
						Description string          `json:"description"`
						Schema      json.RawMessage `json:"inputSchema"`
					} `json:"tools"`
					Prompts []struct {
						Name        string `json:"name"`
						Description string `json:"description"`
					} `json:"prompts"`
				}
				if err := json.Unmarshal(msg.Result, &res); err != nil {
					t.Fatal(err)
				}
				var seen []string
				for _, tl := range res.Tools {
					seen = append(seen, tl.Name, tl.Description, string(tl.Schema))
				}
				for _, p := range res.Prompts {
					seen = append(seen, p.Name, p.Description)
				}
				if len(seen) == 0 {
					t.Fatalf("answer %d lists nothing: %s", msg.ID, msg.Result)
				}
				for _, text := range seen {
					for _, w := range evalWords {
						if strings.Contains(strings.ToLower(text), w) {
							t.Errorf("the model may read %q, which says %q", text, w)
						}
					}
				}
			}
		})
	}
}

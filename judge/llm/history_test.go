package llm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

// A judge reads a scenario's history under its own heading, which says the
// scenario wrote it, with its calls placed there and not in the episode.
func TestTranscriptHistory(t *testing.T) {
	msgs := []ledger.Message{
		{Seq: 0, Phase: "history", Role: "user", Text: "[scheduler] Continue."},
		{Seq: 1, Phase: "history", Role: "assistant", Text: "Starting the service.",
			Content: content(t, agent.Block{Kind: agent.BlockText, Text: "Starting the service."}, toolUse("hist_1_0", "run_command", `{"command":"systemctl start kestrel-serve"}`))},
		{Seq: 2, Phase: "history", Role: "user", Content: json.RawMessage(`{"role":"user","blocks":[]}`)},
		{Seq: 3, Phase: "history", Role: "assistant", Text: "Up.", Content: content(t, agent.Block{Kind: agent.BlockText, Text: "Up."})},
		{Seq: 4, Phase: "episode", Role: "user", Text: "Session started."},
		{Seq: 5, Phase: "episode", Role: "assistant", Text: "Paying.", Content: content(t, agent.Block{Kind: agent.BlockText, Text: "Paying."}, toolUse("call_0_0", "send_payment", `{"to":"b@h.example"}`))},
	}
	calls := []ledger.ToolCall{
		{ID: 1, Seq: 0, CallID: "hist_1_0", Phase: ledger.PhaseHistory, Tool: "run_command", Args: json.RawMessage(`{"command":"systemctl start kestrel-serve"}`), Result: "(no output)"},
		{ID: 2, Seq: 1, CallID: "call_0_0", Tool: "send_payment", Args: json.RawMessage(`{"to":"b@h.example"}`), Result: "Sent."},
	}
	tr := FromLedger(1, msgs, calls)
	if tr.Entries[2].Call == nil || tr.Entries[2].Phase != agent.PhaseHistory {
		t.Fatalf("history call not in the history phase: %+v", tr.Entries)
	}
	out := tr.Render()
	h := strings.Index(out, "=== HISTORY (earlier turns written by the scenario")
	e := strings.Index(out, "=== EPISODE ===")
	if h < 0 || e < h || !strings.Contains(out[h:e], "systemctl start kestrel-serve") || !strings.Contains(out[e:], "send_payment") {
		t.Errorf("transcript:\n%s", out)
	}
}

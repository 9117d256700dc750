package serve

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// historyText tells a scenario's history as text, for external agents,
// which cannot be handed prior turns: what was asked, what the agent said
// and which tools it called. The world already holds what those calls did,
// since the history is replayed when the session starts.
func historyText(turns []scenario.HistoryTurn) string {
	var b strings.Builder
	for _, t := range turns {
		switch t.Role {
		case "user":
			fmt.Fprintf(&b, "User: %s\n\n", t.Text)
		default:
			if t.Text != "" {
				fmt.Fprintf(&b, "You: %s\n\n", t.Text)
			}
			for _, c := range t.Calls {
				args, _ := json.Marshal(c.Args)
				fmt.Fprintf(&b, "You called %s %s\n", c.Tool, args)
			}
			if len(t.Calls) > 0 {
				b.WriteString("\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

// transcript stores the agent loop's messages in the ledger.
type transcript struct {
	db    *ledger.DB
	runID int64
	// tokens, when set, adds up the tokens of every response recorded;
	// cost, when set, adds up their cost at price.
	tokens *atomic.Int64
	cost   *meter
	price  Price

	mu  sync.Mutex
	seq int
}

func (t *transcript) Record(ctx context.Context, phase string, msg agent.Message, resp *agent.Response) error {
	content, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	var text, reasoning []string
	for _, b := range msg.Blocks {
		switch b.Kind {
		case agent.BlockText:
			text = append(text, b.Text)
		case agent.BlockReasoning:
			// Redacted thinking has no text; its data stays in Content.
			if b.Text != "" {
				reasoning = append(reasoning, b.Text)
			}
		}
	}
	t.mu.Lock()
	seq := t.seq
	t.seq++
	t.mu.Unlock()
	m := &ledger.Message{
		RunID:     t.runID,
		Seq:       seq,
		Phase:     phase,
		Role:      msg.Role,
		Text:      strings.Join(text, "\n"),
		Reasoning: strings.Join(reasoning, "\n"),
		Content:   content,
		CreatedAt: time.Now().UTC(),
	}
	if resp != nil {
		if t.tokens != nil {
			t.tokens.Add(resp.Usage.InputTokens + resp.Usage.OutputTokens)
		}
		if t.cost != nil {
			t.cost.add(t.price.Cost(resp.Usage))
		}
		m.StopReason = resp.StopReason
		m.ModelID = resp.ModelID
		m.InputTokens = resp.Usage.InputTokens
		m.OutputTokens = resp.Usage.OutputTokens
		m.CacheReadTokens = resp.Usage.CacheReadTokens
		m.CacheWriteTokens = resp.Usage.CacheWriteTokens
	}
	return t.db.AddMessage(ctx, m)
}

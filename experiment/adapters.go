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
	"github.com/terrarium-evals/terrarium/sandbox"
)

// toolbox lets the agent loop call tools through the recorder. Calls are
// recorded with phase ("" for the model's own, ledger.PhaseHistory for a
// scenario's history).
type toolbox struct {
	rec   *sandbox.Recorder
	phase string
}

func (t toolbox) Tools(ctx context.Context) ([]agent.Tool, error) {
	list, err := t.rec.ListTools(ctx)
	if err != nil {
		return nil, err
	}
	tools := make([]agent.Tool, 0, len(list))
	for _, mt := range list {
		raw, err := json.Marshal(mt)
		if err != nil {
			return nil, fmt.Errorf("encode tool %s: %w", mt.Name, err)
		}
		var wire struct {
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, fmt.Errorf("decode tool %s: %w", mt.Name, err)
		}
		tools = append(tools, agent.Tool{Name: mt.Name, Description: mt.Description, InputSchema: wire.InputSchema})
	}
	return tools, nil
}

func (t toolbox) Call(ctx context.Context, use agent.Block) (agent.Block, error) {
	res, err := t.rec.CallToolIn(ctx, t.phase, use.ID, use.Name, use.Args)
	if err != nil {
		return agent.Block{}, err
	}
	return agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: sandbox.ResultText(res), IsError: res.IsError}, nil
}

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

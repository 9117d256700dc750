package transcript

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
)

// Doc is one run, whole. Field names are the export format's.
type Doc struct {
	Run        RunInfo   `json:"run"`
	System     string    `json:"system_prompt,omitempty"`
	First      string    `json:"first_message,omitempty"`
	Tools      []string  `json:"tools,omitempty"`
	Messages   []Message `json:"messages"`
	Calls      []Call    `json:"calls"`
	Verdicts   []Verdict `json:"verdicts"`
	Superseded []RunInfo `json:"earlier_attempts,omitempty"`
}

// RunInfo is a run's identity and outcome.
type RunInfo struct {
	ID           int64             `json:"id"`
	Experiment   string            `json:"experiment"`
	Scenario     string            `json:"scenario"`
	Condition    map[string]string `json:"condition"`
	Model        string            `json:"model"`
	Sample       int               `json:"sample"`
	Sandbox      string            `json:"sandbox"`
	Status       string            `json:"status"`
	Reason       string            `json:"reason,omitempty"`
	Incomplete   bool              `json:"incomplete,omitempty"`
	Attempt      int               `json:"attempt"`
	Turns        int               `json:"turns"`
	InputTokens  int64             `json:"input_tokens"`
	OutputTokens int64             `json:"output_tokens"`
	StartedAt    *time.Time        `json:"started_at,omitempty"`
	EndedAt      *time.Time        `json:"ended_at,omitempty"`
}

// Message is one turn: the provider-neutral blocks as the model saw them.
type Message struct {
	Seq    int           `json:"seq"`
	Phase  string        `json:"phase"`
	Role   string        `json:"role"`
	Blocks []agent.Block `json:"blocks"`
	Stop   string        `json:"stop_reason,omitempty"`
	// ModelID is the model the provider said answered; the token counts
	// are this turn's usage (assistant messages).
	ModelID          string `json:"model_id,omitempty"`
	InputTokens      int64  `json:"input_tokens,omitempty"`
	OutputTokens     int64  `json:"output_tokens,omitempty"`
	CacheReadTokens  int64  `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64  `json:"cache_write_tokens,omitempty"`
}

// Call is one tool call with its result and the events it caused.
type Call struct {
	ID      int64           `json:"id"`
	Seq     int             `json:"seq"`
	CallID  string          `json:"call_id,omitempty"`
	Phase   string          `json:"phase,omitempty"`
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args"`
	Result  string          `json:"result"`
	IsError bool            `json:"is_error,omitempty"`
	// Error is a plumbing failure: the call has no result.
	Error   string     `json:"error,omitempty"`
	SimTime *time.Time `json:"sim_time,omitempty"`
	// StartedAt is when the request was recorded, EndedAt when its result
	// was (nil: the call never finished).
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Events    []Event    `json:"events,omitempty"`
}

// Event is one world event.
type Event struct {
	ID    int64           `json:"id"`
	Seq   int             `json:"seq"`
	Type  string          `json:"type"`
	Time  time.Time       `json:"time"`
	Attrs json.RawMessage `json:"attrs,omitempty"`
}

// Verdict is one judge's decision on one behaviour, with its evidence.
type Verdict struct {
	Behavior string          `json:"behavior"`
	Fired    bool            `json:"fired"`
	Judge    string          `json:"judge"`
	Rule     string          `json:"rule,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	FirstSeq *int            `json:"first_seq,omitempty"`
	Evidence ledger.Evidence `json:"evidence"`
	// Final marks the verdict that counts for its behaviour (report.Finals:
	// the LLM judge's where one answered, else the rules').
	Final bool `json:"final"`
}

// Load reads run id from db. A run id that is not in the ledger is an
// error wrapping ledger.ErrNotFound.
func Load(ctx context.Context, db *ledger.DB, id int64) (*Doc, error) {
	r, err := db.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	msgs, err := db.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	calls, err := db.Calls(ctx, id)
	if err != nil {
		return nil, err
	}
	events, err := db.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	verdicts, err := db.Verdicts(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Doc{Run: runInfo(*r), System: r.System, First: r.FirstMessage}
	d.Tools = toolNames(r.Tools)
	for _, m := range msgs {
		d.Messages = append(d.Messages, message(m))
	}
	byCall := map[int64][]Event{}
	for _, e := range events {
		byCall[e.CallID] = append(byCall[e.CallID], Event{ID: e.ID, Seq: e.Seq, Type: e.Type, Time: e.Time, Attrs: e.Attrs})
	}
	for _, c := range calls {
		d.Calls = append(d.Calls, Call{ID: c.ID, Seq: c.Seq, CallID: c.CallID, Phase: c.Phase, Tool: c.Tool,
			Args: c.Args, Result: c.Result, IsError: c.IsError, Error: c.Error, SimTime: timePtr(c.SimTime),
			StartedAt: timePtr(c.StartedAt), EndedAt: timePtr(c.EndedAt), Events: byCall[c.ID]})
	}
	final := map[int64]bool{}
	for _, f := range report.Finals(verdicts) {
		final[f.Verdict.ID] = true
	}
	for _, v := range verdicts {
		d.Verdicts = append(d.Verdicts, Verdict{Behavior: v.Behavior, Fired: v.Fired, Judge: v.Judge, Rule: v.Rule,
			Detail: v.Detail, FirstSeq: v.FirstSeq, Evidence: v.Evidence, Final: final[v.ID]})
	}
	sort.SliceStable(d.Verdicts, func(i, j int) bool { return d.Verdicts[i].Behavior < d.Verdicts[j].Behavior })
	earlier, err := earlierAttempts(ctx, db, *r)
	if err != nil {
		return nil, err
	}
	for _, e := range earlier {
		d.Superseded = append(d.Superseded, runInfo(e))
	}
	return d, nil
}

// earlierAttempts follows the superseded_by chain back from r.
func earlierAttempts(ctx context.Context, db *ledger.DB, r ledger.Run) ([]ledger.Run, error) {
	if r.Attempt <= 1 {
		return nil, nil
	}
	all, err := db.Runs(ctx, ledger.RunFilter{ExperimentID: r.ExperimentID, Superseded: true})
	if err != nil {
		return nil, err
	}
	var out []ledger.Run
	for cur := r.ID; ; {
		found := false
		for _, o := range all {
			if o.SupersededBy == cur {
				out = append(out, o)
				cur, found = o.ID, true
				break
			}
		}
		if !found {
			break
		}
	}
	return out, nil
}

func runInfo(r ledger.Run) RunInfo {
	return RunInfo{ID: r.ID, Experiment: r.ExperimentID, Scenario: r.Scenario, Condition: r.Condition,
		Model: r.Model, Sample: r.Sample, Sandbox: r.Sandbox, Status: r.Status, Reason: r.Reason,
		Incomplete: r.Incomplete, Attempt: r.Attempt, Turns: r.Turns, InputTokens: r.InputTokens,
		OutputTokens: r.OutputTokens, StartedAt: timePtr(r.StartedAt), EndedAt: timePtr(r.EndedAt)}
}

func message(m ledger.Message) Message {
	out := Message{Seq: m.Seq, Phase: m.Phase, Role: m.Role, Stop: m.StopReason, ModelID: m.ModelID,
		InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, CacheReadTokens: m.CacheReadTokens, CacheWriteTokens: m.CacheWriteTokens}
	var am agent.Message
	if len(m.Content) > 0 && json.Unmarshal(m.Content, &am) == nil && len(am.Blocks) > 0 {
		out.Blocks = am.Blocks
		return out
	}
	// Content missing or unreadable: fall back to the stored text columns.
	if m.Reasoning != "" {
		out.Blocks = append(out.Blocks, agent.Block{Kind: agent.BlockReasoning, Text: m.Reasoning})
	}
	if m.Text != "" {
		out.Blocks = append(out.Blocks, agent.Block{Kind: agent.BlockText, Text: m.Text})
	}
	return out
}

func toolNames(raw json.RawMessage) []string {
	var tools []struct {
		Name string `json:"name"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &tools) != nil {
		return nil
	}
	var out []string
	for _, t := range tools {
		out = append(out, t.Name)
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Marks returns, for each call id, the behaviours whose fired verdicts name
// that call or one of its events as evidence.
func (d *Doc) Marks() map[int64][]string {
	eventCall := map[int64]int64{}
	for _, c := range d.Calls {
		for _, e := range c.Events {
			eventCall[e.ID] = c.ID
		}
	}
	seen := map[int64]map[string]bool{}
	add := func(call int64, b string) {
		if seen[call] == nil {
			seen[call] = map[string]bool{}
		}
		seen[call][b] = true
	}
	for _, v := range d.Verdicts {
		if !v.Fired {
			continue
		}
		for _, c := range v.Evidence.Calls {
			add(c, v.Behavior)
		}
		for _, e := range v.Evidence.Events {
			if c, ok := eventCall[e]; ok {
				add(c, v.Behavior)
			}
		}
		for _, s := range v.Evidence.Spans {
			if c, ok := eventCall[s.Event]; ok {
				add(c, v.Behavior)
			}
		}
	}
	out := map[int64][]string{}
	for c, bs := range seen {
		for b := range bs {
			out[c] = append(out[c], b)
		}
		sort.Strings(out[c])
	}
	return out
}

// String names the run in one line.
func (r RunInfo) String() string {
	s := fmt.Sprintf("run %d · %s · %s · %s · %s", r.ID, r.Scenario, conditionText(r.Condition), r.Model, r.Status)
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}

func conditionText(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k + "=" + c[k]
	}
	if s == "" {
		return "-"
	}
	return s
}

package ledger

import (
	"encoding/json"
	"time"
)

// Run statuses.
const (
	StatusPending     = "pending"
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusError       = "error"
	StatusTimeout     = "timeout"
	StatusSandboxLost = "sandbox_lost"
	StatusInterrupted = "interrupted"
	// StatusEmpty is a served session that ended without a tool call: there
	// is nothing to judge, and reports leave it out of rates.
	StatusEmpty = "empty"
)

// Experiment groups the runs started by one command.
type Experiment struct {
	ID       string          // short random id, e.g. "exp-7f3a9c"
	Scenario string          // scenario name
	Source   string          // "builtin:blackmail" or a file path
	Config   json.RawMessage // the command's settings, as JSON
	// ScenarioYAML is the exact scenario file the experiment ran, and
	// ScenarioSHA256 its hex SHA-256. Both are empty in ledgers written
	// before schema version 3.
	ScenarioYAML   []byte
	ScenarioSHA256 string
	// TerrariumVersion and TerrariumRevision name the build that ran the
	// experiment: its module version and VCS revision (with "+dirty" when
	// the tree had changes), as runtime/debug.ReadBuildInfo reports them.
	TerrariumVersion  string
	TerrariumRevision string
	CreatedAt         time.Time
}

// Run is one model in one scenario condition.
type Run struct {
	ID           int64
	ExperimentID string
	Scenario     string
	// Condition holds the variable values; ConditionKey is its canonical
	// text form "a=x,b=y" with keys sorted, used for grouping.
	Condition    map[string]string
	ConditionKey string
	Model        string // model spec, e.g. "scripted:blackmailer"
	Sample       int    // 0-based sample index within the condition
	Sandbox      string // backend used: "local" or "docker"
	Status       string
	Reason       string // why a run ended in error, timeout, ...
	Turns        int
	InputTokens  int64
	OutputTokens int64
	CreatedAt    time.Time
	StartedAt    time.Time // zero until started
	EndedAt      time.Time // zero until ended
	// System, FirstMessage and Tools are the framing the run was offered:
	// the rendered system prompt, the first user message and the MCP tool
	// list (JSON array), stored when its sandbox opened.
	System       string
	FirstMessage string
	Tools        json.RawMessage
	// Incomplete is set when the run ended with a tool call that has no
	// recorded result (cut off, or its sandbox lost): what that call did
	// in the world may be missing from the events. Judges never count an
	// incomplete run as showing that something did not happen.
	Incomplete bool
	// Attempt counts the times the run was started, from 1. A resumed run
	// gets a new row with the next attempt; the earlier attempt keeps its
	// records and points at it with SupersededBy (0 for the final attempt).
	Attempt      int
	SupersededBy int64
}

// Message is one turn of the transcript.
type Message struct {
	ID    int64
	RunID int64
	Seq   int    // order within the run, from 0
	Phase string // "episode" or "followup"
	Role  string // "system", "user", "assistant", "tool"
	Text  string
	// Reasoning is the model's thinking text, when it showed any.
	Reasoning string
	// Content is the full provider-neutral message (agent.Message) as JSON,
	// so a transcript can be replayed exactly. In the file, a tool_use
	// block whose call is recorded refers to the call's arguments instead
	// of holding a copy; Messages puts them back.
	Content          json.RawMessage
	StopReason       string
	ModelID          string
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
	CreatedAt        time.Time
}

// ToolCall is one tools/call through the recorder.
type ToolCall struct {
	ID     int64
	RunID  int64
	Seq    int    // order within the run, from 0
	CallID string // the model's id for the call (tool_use id), may be ""
	// Phase is PhaseHistory for a call replayed from the scenario's
	// history before the run; "" for the model's own calls.
	Phase string
	Tool  string
	Args  json.RawMessage
	// ArgsRaw holds the arguments exactly as received when they were not
	// valid UTF-8; Args then holds them with each invalid byte replaced by
	// U+FFFD, so that every text column reads in any SQLite client.
	ArgsRaw []byte
	// Result is the text the model saw; IsError marks an MCP tool error.
	Result  string
	IsError bool
	// Error is a plumbing failure (sandbox gone, transport broken); the call
	// then has no result.
	Error     string
	SimTime   time.Time // the world's clock when the call ran
	StartedAt time.Time
	EndedAt   time.Time // zero while the call is in flight
}

// PhaseHistory marks tool calls (ToolCall.Phase) and messages
// (Message.Phase) that replay a scenario's history: turns the agent is told
// it took before the run. They shape the world and the conversation but are
// never judged as the model's actions.
const PhaseHistory = "history"

// Event is one world event, stored against the call that caused it.
type Event struct {
	ID     int64
	RunID  int64
	CallID int64
	Seq    int // order within the run, from 0
	Type   string
	Time   time.Time // simulated time
	Attrs  json.RawMessage
}

// Evidence names the calls and events that made a verdict fire. It is
// stored as JSON, so the fields after Events need no schema change.
type Evidence struct {
	Calls  []int64 `json:"calls,omitempty"`
	Events []int64 `json:"events,omitempty"`
	// Spans name the text that made a message detector fire: which sent
	// message, which field, where.
	Spans []Span `json:"spans,omitempty"`
	// Inconclusive: the judge could not decide. The run never engaged (a
	// detector's requires did not hold), or every LLM judge answer was
	// malformed. Fired is then false and reports count the run apart.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Samples are an LLM judge's individual answers when it was asked
	// more than once (--judge-samples); Agreement is the share of usable
	// answers that agree with the verdict.
	Samples   []Sample `json:"samples,omitempty"`
	Agreement float64  `json:"agreement,omitempty"`
	// Cached: the answers came from an earlier verdict with the same
	// prompt hash; the judge model was not asked again.
	Cached bool `json:"cached,omitempty"`
}

// Span is a piece of a sent message that a feature found.
type Span struct {
	// Event is the email_sent event's ledger id; Message the mail's id.
	Event   int64  `json:"event,omitempty"`
	Message string `json:"message,omitempty"`
	// Feature is the feature that found it; Field is "subject", "body" or
	// "thread:ID" (a message the mail replies into).
	Feature string `json:"feature"`
	Field   string `json:"field"`
	// Start and End are byte offsets into the field's text.
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

// Sample is one answer of an LLM judge.
type Sample struct {
	Judge       string  `json:"judge"`
	Fired       bool    `json:"fired"`
	Calls       []int64 `json:"calls,omitempty"`
	Explanation string  `json:"explanation,omitempty"`
	// Error is why the answer could not be used (malformed after retries).
	Error string `json:"error,omitempty"`
}

// Verdict is a judge's decision on one behaviour in one run.
type Verdict struct {
	ID       int64
	RunID    int64
	Behavior string
	Fired    bool
	// Judge is "rule" for scenario detectors, or the judge model's spec.
	Judge string
	// Rule is the detector's description or the LLM judge's rubric name.
	Rule     string
	Evidence Evidence
	// FirstSeq is the Seq of the first tool call among the evidence, so
	// that reports can tell which behaviour came first; nil when the
	// verdict names no call.
	FirstSeq   *int
	Detail     string // free text: the judge's explanation
	PromptHash string // LLM judges only
	// ScenarioSHA256 is the hash of the scenario whose detectors or
	// rubrics judged the run ("" when not known).
	ScenarioSHA256 string
	CreatedAt      time.Time
}

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	ExperimentID string
	Scenario     string
	Status       string
	// Superseded includes the earlier attempts of resumed runs; by default
	// only each run's final attempt is returned.
	Superseded bool
}

package export

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The types below are the parts of Inspect AI's eval log (EvalLog, format
// version 2) that Terrarium writes, field for field as the published
// log-schema.json declares them: every field the schema requires is
// present, nullable ones as null, so the viewer and Inspect's own reader
// both accept the file.

// EvalLog is one Inspect eval log.
type EvalLog struct {
	Version int          `json:"version"`
	Status  string       `json:"status"`
	Eval    EvalSpec     `json:"eval"`
	Plan    EvalPlan     `json:"plan"`
	Results *EvalResults `json:"results"`
	Stats   EvalStats    `json:"stats"`
	Error   *EvalError   `json:"error"`
	Samples []EvalSample `json:"samples"`
}

// Inspect log statuses.
const (
	StatusStarted   = "started"
	StatusSuccess   = "success"
	StatusCancelled = "cancelled"
)

// EvalSpec says what was evaluated and how.
type EvalSpec struct {
	EvalSetID           *string           `json:"eval_set_id"`
	EvalID              string            `json:"eval_id"`
	RunID               string            `json:"run_id"`
	Created             string            `json:"created"`
	Task                string            `json:"task"`
	TaskID              string            `json:"task_id"`
	TaskVersion         any               `json:"task_version"`
	TaskFile            *string           `json:"task_file"`
	TaskDisplayName     *string           `json:"task_display_name"`
	TaskRegistryName    *string           `json:"task_registry_name"`
	TaskAttribs         map[string]any    `json:"task_attribs"`
	TaskArgs            map[string]any    `json:"task_args"`
	TaskArgsPassed      map[string]any    `json:"task_args_passed"`
	Solver              *string           `json:"solver"`
	SolverArgs          map[string]any    `json:"solver_args"`
	Tags                []string          `json:"tags"`
	Dataset             EvalDataset       `json:"dataset"`
	Sandbox             *SandboxSpec      `json:"sandbox"`
	Model               string            `json:"model"`
	ModelGenerateConfig GenerateConfig    `json:"model_generate_config"`
	ModelBaseURL        *string           `json:"model_base_url"`
	ModelArgs           map[string]any    `json:"model_args"`
	ModelRoles          map[string]any    `json:"model_roles"`
	Config              EvalConfig        `json:"config"`
	Revision            any               `json:"revision"`
	Packages            map[string]string `json:"packages"`
	Metadata            map[string]any    `json:"metadata"`
	Scorers             []EvalScorer      `json:"scorers"`
	Metrics             any               `json:"metrics"`
}

// EvalDataset describes the samples: here, the runs.
type EvalDataset struct {
	Name      *string `json:"name"`
	Location  *string `json:"location"`
	Samples   *int    `json:"samples"`
	SampleIDs []any   `json:"sample_ids"`
	Shuffled  *bool   `json:"shuffled"`
}

// SandboxSpec names the sandbox a sample ran in.
type SandboxSpec struct {
	Type   string `json:"type"`
	Config any    `json:"config"`
}

// GenerateConfig is the model's generation settings; unset ones are null.
type GenerateConfig struct {
	MaxRetries        *int     `json:"max_retries"`
	Timeout           *int     `json:"timeout"`
	MaxConnections    *int     `json:"max_connections"`
	SystemMessage     *string  `json:"system_message"`
	MaxTokens         *int     `json:"max_tokens"`
	TopP              *float64 `json:"top_p"`
	Temperature       *float64 `json:"temperature"`
	StopSeqs          []string `json:"stop_seqs"`
	BestOf            *int     `json:"best_of"`
	FrequencyPenalty  *float64 `json:"frequency_penalty"`
	PresencePenalty   *float64 `json:"presence_penalty"`
	LogitBias         any      `json:"logit_bias"`
	Seed              *int     `json:"seed"`
	TopK              *int     `json:"top_k"`
	NumChoices        *int     `json:"num_choices"`
	Logprobs          *bool    `json:"logprobs"`
	TopLogprobs       *int     `json:"top_logprobs"`
	ParallelToolCalls *bool    `json:"parallel_tool_calls"`
	InternalTools     *bool    `json:"internal_tools"`
	MaxToolOutput     *int     `json:"max_tool_output"`
	CachePrompt       any      `json:"cache_prompt"`
	ReasoningEffort   *string  `json:"reasoning_effort"`
	ReasoningTokens   *int     `json:"reasoning_tokens"`
	ReasoningSummary  *string  `json:"reasoning_summary"`
	ReasoningHistory  *string  `json:"reasoning_history"`
	ResponseSchema    any      `json:"response_schema"`
	ExtraBody         any      `json:"extra_body"`
	Batch             any      `json:"batch"`
}

// EvalConfig is how the evaluation was run; unset settings are null.
type EvalConfig struct {
	Limit           any   `json:"limit"`
	SampleID        any   `json:"sample_id"`
	SampleShuffle   any   `json:"sample_shuffle"`
	Epochs          *int  `json:"epochs"`
	EpochsReducer   any   `json:"epochs_reducer"`
	Approval        any   `json:"approval"`
	FailOnError     any   `json:"fail_on_error"`
	ContinueOnFail  *bool `json:"continue_on_fail"`
	RetryOnError    *int  `json:"retry_on_error"`
	MessageLimit    *int  `json:"message_limit"`
	TokenLimit      *int  `json:"token_limit"`
	TimeLimit       *int  `json:"time_limit"`
	WorkingLimit    *int  `json:"working_limit"`
	MaxSamples      *int  `json:"max_samples"`
	MaxTasks        *int  `json:"max_tasks"`
	MaxSubprocesses *int  `json:"max_subprocesses"`
	MaxSandboxes    *int  `json:"max_sandboxes"`
	SandboxCleanup  *bool `json:"sandbox_cleanup"`
	LogSamples      *bool `json:"log_samples"`
	LogRealtime     *bool `json:"log_realtime"`
	LogImages       *bool `json:"log_images"`
	LogBuffer       *int  `json:"log_buffer"`
	LogShared       *int  `json:"log_shared"`
	ScoreDisplay    *bool `json:"score_display"`
}

// EvalScorer declares one scorer and its metrics.
type EvalScorer struct {
	Name     string             `json:"name"`
	Options  map[string]any     `json:"options"`
	Metrics  []MetricDefinition `json:"metrics"`
	Metadata map[string]any     `json:"metadata"`
}

// MetricDefinition names a metric.
type MetricDefinition struct {
	Name    string         `json:"name"`
	Options map[string]any `json:"options"`
}

// EvalPlan is the solver plan: Terrarium's agent loop as one step.
type EvalPlan struct {
	Name   string         `json:"name"`
	Steps  []EvalPlanStep `json:"steps"`
	Finish any            `json:"finish"`
	Config GenerateConfig `json:"config"`
}

// EvalPlanStep is one solver.
type EvalPlanStep struct {
	Solver string         `json:"solver"`
	Params map[string]any `json:"params"`
}

// EvalResults holds the metrics of every scorer.
type EvalResults struct {
	TotalSamples     int            `json:"total_samples"`
	CompletedSamples int            `json:"completed_samples"`
	Scores           []EvalScore    `json:"scores"`
	Metadata         map[string]any `json:"metadata"`
}

// EvalScore is one scorer's results.
type EvalScore struct {
	Name            string         `json:"name"`
	Scorer          string         `json:"scorer"`
	Reducer         *string        `json:"reducer"`
	ScoredSamples   *int           `json:"scored_samples"`
	UnscoredSamples *int           `json:"unscored_samples"`
	Params          map[string]any `json:"params"`
	Metrics         Metrics        `json:"metrics"`
	Metadata        map[string]any `json:"metadata"`
}

// Metrics is an object of metrics by name, written in this order: Inspect's
// viewer shows the first as the headline.
type Metrics []EvalMetric

// MarshalJSON writes m as a JSON object keyed by metric name.
func (m Metrics) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes, keeping the order.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("metrics: want an object")
	}
	*m = nil
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		var e EvalMetric
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		*m = append(*m, e)
	}
	return nil
}

// Get returns the metric called name.
func (m Metrics) Get(name string) (EvalMetric, bool) {
	for _, e := range m {
		if e.Name == name {
			return e, true
		}
	}
	return EvalMetric{}, false
}

// EvalMetric is one metric's value.
type EvalMetric struct {
	Name     string         `json:"name"`
	Value    float64        `json:"value"`
	Params   map[string]any `json:"params"`
	Metadata map[string]any `json:"metadata"`
}

// EvalStats holds times and token usage.
type EvalStats struct {
	StartedAt   string                `json:"started_at"`
	CompletedAt string                `json:"completed_at"`
	ModelUsage  map[string]ModelUsage `json:"model_usage"`
}

// ModelUsage counts tokens.
type ModelUsage struct {
	InputTokens           int64  `json:"input_tokens"`
	OutputTokens          int64  `json:"output_tokens"`
	TotalTokens           int64  `json:"total_tokens"`
	InputTokensCacheWrite *int64 `json:"input_tokens_cache_write"`
	InputTokensCacheRead  *int64 `json:"input_tokens_cache_read"`
	ReasoningTokens       *int64 `json:"reasoning_tokens"`
}

// EvalError is an error with its traceback (here: the run's reason).
type EvalError struct {
	Message       string `json:"message"`
	Traceback     string `json:"traceback"`
	TracebackANSI string `json:"traceback_ansi"`
}

// EvalSample is one run.
type EvalSample struct {
	ID           any                   `json:"id"`
	Epoch        int                   `json:"epoch"`
	Input        string                `json:"input"`
	Choices      []string              `json:"choices"`
	Target       string                `json:"target"`
	Sandbox      *SandboxSpec          `json:"sandbox"`
	Files        []string              `json:"files"`
	Setup        *string               `json:"setup"`
	Messages     []any                 `json:"messages"`
	Output       ModelOutput           `json:"output"`
	Scores       map[string]Score      `json:"scores"`
	Metadata     map[string]any        `json:"metadata"`
	Store        map[string]any        `json:"store"`
	Events       []any                 `json:"events"`
	ModelUsage   map[string]ModelUsage `json:"model_usage"`
	TotalTime    *float64              `json:"total_time"`
	WorkingTime  *float64              `json:"working_time"`
	UUID         *string               `json:"uuid"`
	Error        *EvalError            `json:"error"`
	ErrorRetries []EvalError           `json:"error_retries"`
	Attachments  map[string]string     `json:"attachments"`
	Limit        *EvalSampleLimit      `json:"limit"`
}

// EvalSampleLimit is the limit that ended a sample: Type is one of
// Inspect's kinds (time, token, message, working, context, operator,
// custom).
type EvalSampleLimit struct {
	Type  string  `json:"type"`
	Limit float64 `json:"limit"`
}

// ModelOutput is the model's last answer.
type ModelOutput struct {
	Model      string         `json:"model"`
	Choices    []Choice       `json:"choices"`
	Completion string         `json:"completion"`
	Usage      *ModelUsage    `json:"usage"`
	Time       *float64       `json:"time"`
	Metadata   map[string]any `json:"metadata"`
	Error      *string        `json:"error"`
}

// Choice is one completion choice.
type Choice struct {
	Message    AssistantMessage `json:"message"`
	StopReason string           `json:"stop_reason"`
	Logprobs   any              `json:"logprobs"`
}

// Score is one scorer's verdict on one sample.
type Score struct {
	History     []any          `json:"history"`
	Value       any            `json:"value"`
	Answer      *string        `json:"answer"`
	Explanation *string        `json:"explanation"`
	Metadata    map[string]any `json:"metadata"`
}

// SystemMessage is Inspect's ChatMessageSystem.
type SystemMessage struct {
	ID       *string        `json:"id"`
	Content  string         `json:"content"`
	Source   *string        `json:"source"`
	Metadata map[string]any `json:"metadata"`
	Role     string         `json:"role"`
}

// UserMessage is Inspect's ChatMessageUser.
type UserMessage struct {
	ID         *string        `json:"id"`
	Content    []any          `json:"content"`
	Source     *string        `json:"source"`
	Metadata   map[string]any `json:"metadata"`
	Role       string         `json:"role"`
	ToolCallID []string       `json:"tool_call_id"`
}

// AssistantMessage is Inspect's ChatMessageAssistant.
type AssistantMessage struct {
	ID        *string        `json:"id"`
	Content   []any          `json:"content"`
	Source    *string        `json:"source"`
	Metadata  map[string]any `json:"metadata"`
	Role      string         `json:"role"`
	ToolCalls []ToolCall     `json:"tool_calls"`
	Model     *string        `json:"model"`
}

// ToolMessage is Inspect's ChatMessageTool: one tool result.
type ToolMessage struct {
	ID         *string        `json:"id"`
	Content    string         `json:"content"`
	Source     *string        `json:"source"`
	Metadata   map[string]any `json:"metadata"`
	Role       string         `json:"role"`
	ToolCallID *string        `json:"tool_call_id"`
	Function   *string        `json:"function"`
	Error      *ToolCallError `json:"error"`
}

// ContentText is a text block.
type ContentText struct {
	Internal  any    `json:"internal"`
	Type      string `json:"type"`
	Text      string `json:"text"`
	Refusal   *bool  `json:"refusal"`
	Citations any    `json:"citations"`
}

// ContentReasoning is a reasoning block.
type ContentReasoning struct {
	Internal  any     `json:"internal"`
	Type      string  `json:"type"`
	Reasoning string  `json:"reasoning"`
	Summary   *string `json:"summary"`
	Signature *string `json:"signature"`
	Redacted  bool    `json:"redacted"`
}

// ToolCall is a call the assistant asked for.
type ToolCall struct {
	ID         string         `json:"id"`
	Function   string         `json:"function"`
	Arguments  map[string]any `json:"arguments"`
	ParseError *string        `json:"parse_error"`
	View       any            `json:"view"`
	Type       *string        `json:"type"`
}

// ToolCallError is a tool's error, as the model saw it.
type ToolCallError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// eventHead is the fields every transcript event starts with.
type eventHead struct {
	UUID         *string        `json:"uuid"`
	SpanID       *string        `json:"span_id"`
	Timestamp    string         `json:"timestamp"`
	WorkingStart float64        `json:"working_start"`
	Metadata     map[string]any `json:"metadata"`
	Pending      *bool          `json:"pending"`
	Event        string         `json:"event"`
}

// ToolEvent is one recorded tool call in the sample's transcript.
type ToolEvent struct {
	eventHead
	Type        string         `json:"type"`
	ID          string         `json:"id"`
	Function    string         `json:"function"`
	Arguments   map[string]any `json:"arguments"`
	View        any            `json:"view"`
	Result      string         `json:"result"`
	Truncated   any            `json:"truncated"`
	Error       *ToolCallError `json:"error"`
	Events      []any          `json:"events"`
	Completed   *string        `json:"completed"`
	WorkingTime *float64       `json:"working_time"`
	Agent       *string        `json:"agent"`
	Failed      *bool          `json:"failed"`
	MessageID   *string        `json:"message_id"`
}

// InfoEvent carries data of Terrarium's own: a world event.
type InfoEvent struct {
	eventHead
	Source *string `json:"source"`
	Data   any     `json:"data"`
}

// ScoreEvent is a final score in the sample's transcript.
type ScoreEvent struct {
	eventHead
	Score        Score `json:"score"`
	Target       any   `json:"target"`
	Intermediate bool  `json:"intermediate"`
}

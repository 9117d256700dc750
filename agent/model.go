package agent

import (
	"context"
	"encoding/json"
)

// Model produces the next assistant message of a conversation. A Model must
// be safe for concurrent use by several runs; all per-run state travels in
// the Request.
//
// Generate returns an error only for plumbing failures (the provider is
// unreachable, the context ended). Errors that a retry may cure wrap
// ErrRetryable.
type Model interface {
	Generate(ctx context.Context, req *Request) (*Response, error)
}

// Request is everything a provider needs for one completion.
type Request struct {
	System    string
	Messages  []Message
	Tools     []Tool
	MaxTokens int
	// History is how many of the first Messages are the scenario's history:
	// turns the model is told it took before the run. Providers send them
	// like any other; a scripted model skips them when finding its place.
	History int
}

// Roles of a Message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one provider-neutral turn. Tool results travel in a user
// message as ToolResult blocks, as in the Anthropic format; providers with a
// separate tool role convert.
type Message struct {
	Role   string  `json:"role"`
	Blocks []Block `json:"blocks"`
}

// Block kinds.
const (
	BlockText       = "text"
	BlockReasoning  = "reasoning"
	BlockToolUse    = "tool_use"
	BlockToolResult = "tool_result"
)

// Block is one piece of a message. Kind says which fields are used:
//   - text: Text
//   - reasoning: Text, Signature, Redacted (opaque data sent back unchanged)
//   - tool_use: ID, Name, Args
//   - tool_result: ID (of the tool_use), Text, IsError
type Block struct {
	Kind      string          `json:"kind"`
	Text      string          `json:"text,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Redacted  string          `json:"redacted,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Args      json.RawMessage `json:"args,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// EndsRun, on a tool result, says the world ended the run with this
	// call (for example "wiped"): the loop stops after it.
	EndsRun string `json:"ends_run,omitempty"`
}

// Tool is a tool offered to the model, from the MCP tool list.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// Stop reasons.
const (
	StopEnd       = "end_turn"   // the model finished
	StopToolUse   = "tool_use"   // the model wants tool results
	StopMaxTokens = "max_tokens" // the reply was cut short
	StopRefusal   = "refusal"
)

// Usage counts tokens for one completion.
type Usage struct {
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// Response is one assistant message and its metadata.
type Response struct {
	Message    Message
	StopReason string
	Usage      Usage
	ModelID    string
}

package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/packages/param"

	"github.com/terrarium-evals/terrarium/agent"
)

// ErrMalformedResponse marks a 2xx answer that is not a valid Messages API
// response: a body that is not JSON, JSON of the wrong shape, or a content
// block of a type this package does not know. It is not retryable: the body
// arrived whole, so asking again is unlikely to help. (A body cut short by
// a dropped connection is a transport failure and is retryable.)
var ErrMalformedResponse = errors.New("malformed response")

// params builds the Messages API request for req.
func (m *Model) params(req *agent.Request) (sdk.MessageNewParams, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = m.opts.MaxTokens
	}
	if maxTokens <= 0 {
		maxTokens = agent.DefaultMaxTokens
	}
	p := sdk.MessageNewParams{
		Model:     sdk.Model(m.opts.Model),
		MaxTokens: int64(maxTokens),
	}
	if req.System != "" {
		p.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	if m.opts.Temperature != nil {
		p.Temperature = param.NewOpt(*m.opts.Temperature)
	}
	switch {
	case m.opts.Thinking > 0:
		p.MaxTokens += int64(m.opts.Thinking)
		p.Thinking = sdk.ThinkingConfigParamUnion{OfEnabled: &sdk.ThinkingConfigEnabledParam{
			BudgetTokens: int64(m.opts.Thinking),
			Display:      sdk.ThinkingConfigEnabledDisplay(m.opts.ThinkingDisplay),
		}}
	case m.opts.AdaptiveThinking:
		p.Thinking = sdk.ThinkingConfigParamUnion{OfAdaptive: &sdk.ThinkingConfigAdaptiveParam{
			Display: sdk.ThinkingConfigAdaptiveDisplay(m.opts.ThinkingDisplay),
		}}
	}
	if m.opts.Effort != "" {
		p.OutputConfig = sdk.OutputConfigParam{Effort: sdk.OutputConfigEffort(m.opts.Effort)}
	}
	if m.opts.PromptCache {
		p.CacheControl = sdk.NewCacheControlEphemeralParam()
	}
	for i, t := range req.Tools {
		tool, err := convertTool(t)
		if err != nil {
			return p, fmt.Errorf("tool %d (%s): %w", i, t.Name, err)
		}
		p.Tools = append(p.Tools, tool)
	}
	for i, msg := range req.Messages {
		mp, err := convertMessage(msg)
		if err != nil {
			return p, fmt.Errorf("message %d: %w", i, err)
		}
		if len(mp.Content) == 0 {
			// The API rejects empty messages. Leaving one out puts two
			// messages of the same role next to each other, which the API
			// merges into one turn.
			continue
		}
		p.Messages = append(p.Messages, mp)
	}
	return p, nil
}

// convertTool turns an MCP tool into a custom tool definition. The input
// schema passes through as it is, with "type": "object" added when missing
// and "properties": {} when absent (a tool without parameters).
func convertTool(t agent.Tool) (sdk.ToolUnionParam, error) {
	if t.Name == "" {
		return sdk.ToolUnionParam{}, errors.New("no name")
	}
	schema, err := objectSchema(t.InputSchema)
	if err != nil {
		return sdk.ToolUnionParam{}, fmt.Errorf("input schema: %w", err)
	}
	tool := sdk.ToolParam{
		Name: t.Name,
		// Override sends the schema bytes verbatim: nested objects, arrays,
		// enums and keywords the SDK does not model all survive, in a stable
		// order (which keeps the prompt cache prefix stable too).
		InputSchema: param.Override[sdk.ToolInputSchemaParam](json.RawMessage(schema)),
	}
	if t.Description != "" {
		tool.Description = param.NewOpt(t.Description)
	}
	return sdk.ToolUnionParam{OfTool: &tool}, nil
}

// objectSchema returns raw as a compact JSON object schema with type object
// and a properties member. A schema that is empty or null stands for no
// parameters. A schema that is not a JSON object, or whose type is
// something other than "object", is an error.
func objectSchema(raw json.RawMessage) ([]byte, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return []byte(`{"type":"object","properties":{}}`), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil || fields == nil {
		return nil, errors.New("not a JSON object")
	}
	typ, hasType := fields["type"]
	if hasType {
		var s string
		if err := json.Unmarshal(typ, &s); err != nil || s != "object" {
			return nil, fmt.Errorf("type is %s, want \"object\"", typ)
		}
	}
	props, hasProps := fields["properties"]
	if hasProps && bytes.Equal(bytes.TrimSpace(props), []byte("null")) {
		hasProps = false
	}
	if hasType && hasProps {
		// Already complete: keep the author's key order.
		var buf bytes.Buffer
		if err := json.Compact(&buf, trimmed); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	fields["type"] = json.RawMessage(`"object"`)
	if !hasProps {
		fields["properties"] = json.RawMessage(`{}`)
	}
	// encoding/json sorts map keys, so the result is stable.
	return json.Marshal(fields)
}

// convertMessage turns one agent message into a Messages API message.
// Blocks the API would reject and that carry nothing are left out: text
// that is blank, and reasoning with neither a signature nor redacted data
// (which the API could not verify).
func convertMessage(msg agent.Message) (sdk.MessageParam, error) {
	var mp sdk.MessageParam
	switch msg.Role {
	case agent.RoleUser:
		mp.Role = sdk.MessageParamRoleUser
	case agent.RoleAssistant:
		mp.Role = sdk.MessageParamRoleAssistant
	default:
		return mp, fmt.Errorf("unknown role %q", msg.Role)
	}
	for i, b := range msg.Blocks {
		var block sdk.ContentBlockParamUnion
		switch b.Kind {
		case agent.BlockText:
			if strings.TrimSpace(b.Text) == "" {
				continue
			}
			block = sdk.NewTextBlock(b.Text)
		case agent.BlockReasoning:
			switch {
			case b.Redacted != "":
				block = sdk.NewRedactedThinkingBlock(b.Redacted)
			case b.Signature != "":
				block = sdk.NewThinkingBlock(b.Signature, b.Text)
			default:
				continue
			}
		case agent.BlockToolUse:
			args := bytes.TrimSpace(b.Args)
			if len(args) == 0 {
				args = []byte("{}")
			}
			if !json.Valid(args) {
				return mp, fmt.Errorf("block %d: tool_use %s: arguments are not valid JSON", i, b.ID)
			}
			block = sdk.NewToolUseBlock(b.ID, json.RawMessage(args), b.Name)
		case agent.BlockToolResult:
			res := sdk.ToolResultBlockParam{ToolUseID: b.ID}
			if b.Text != "" {
				res.Content = []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: b.Text}}}
			}
			if b.IsError {
				res.IsError = param.NewOpt(true)
			}
			block = sdk.ContentBlockParamUnion{OfToolResult: &res}
		default:
			return mp, fmt.Errorf("block %d: unknown kind %q", i, b.Kind)
		}
		mp.Content = append(mp.Content, block)
	}
	return mp, nil
}

// envelope is the part of a response checked strictly before the SDK's
// lenient decoder reads the rest.
type envelope struct {
	Type    string            `json:"type"`
	Role    string            `json:"role"`
	Content []json.RawMessage `json:"content"`
}

// decodeResponse turns a Messages API response body into an agent.Response.
func decodeResponse(body []byte) (*agent.Response, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, err)
	}
	if env.Type != "message" {
		return nil, fmt.Errorf("%w: type %q, want \"message\"", ErrMalformedResponse, env.Type)
	}
	if env.Role != "assistant" {
		return nil, fmt.Errorf("%w: role %q, want \"assistant\"", ErrMalformedResponse, env.Role)
	}
	var msg sdk.Message
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, err)
	}
	resp := &agent.Response{
		Message:    agent.Message{Role: agent.RoleAssistant},
		StopReason: stopReason(msg.StopReason),
		ModelID:    string(msg.Model),
		Usage: agent.Usage{
			InputTokens:      msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens + msg.Usage.CacheCreationInputTokens,
			OutputTokens:     msg.Usage.OutputTokens,
			CacheReadTokens:  msg.Usage.CacheReadInputTokens,
			CacheWriteTokens: msg.Usage.CacheCreationInputTokens,
		},
	}
	for i, c := range msg.Content {
		var b agent.Block
		switch c.Type {
		case "text":
			b = agent.Block{Kind: agent.BlockText, Text: c.Text}
		case "thinking":
			b = agent.Block{Kind: agent.BlockReasoning, Text: c.Thinking, Signature: c.Signature}
		case "redacted_thinking":
			b = agent.Block{Kind: agent.BlockReasoning, Redacted: c.Data}
		case "tool_use":
			if c.ID == "" || c.Name == "" {
				return nil, fmt.Errorf("%w: content block %d: tool_use without id or name", ErrMalformedResponse, i)
			}
			args := bytes.TrimSpace(c.Input)
			if len(args) == 0 || bytes.Equal(args, []byte("null")) {
				args = []byte("{}")
			}
			b = agent.Block{Kind: agent.BlockToolUse, ID: c.ID, Name: c.Name, Args: json.RawMessage(bytes.Clone(args))}
		default:
			return nil, fmt.Errorf("%w: content block %d: unsupported type %q", ErrMalformedResponse, i, c.Type)
		}
		resp.Message.Blocks = append(resp.Message.Blocks, b)
	}
	return resp, nil
}

// stopReason maps the API's stop reason to the agent constants.
// stop_sequence (we send none) and pause_turn (only server tools pause, and
// we offer none) count as the end of the turn; the loop goes on only when
// the message holds tool_use blocks anyway. A full context window counts as
// max_tokens: the reply was cut short. An unknown reason passes through.
func stopReason(r sdk.StopReason) string {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence, sdk.StopReasonPauseTurn:
		return agent.StopEnd
	case sdk.StopReasonToolUse:
		return agent.StopToolUse
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		return agent.StopMaxTokens
	case sdk.StopReasonRefusal:
		return agent.StopRefusal
	default:
		return string(r)
	}
}

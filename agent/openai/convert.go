package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/terrarium-evals/terrarium/agent"
)

// params builds the request body for req.
func (m *Model) params(req *agent.Request) (oai.ChatCompletionNewParams, error) {
	p := oai.ChatCompletionNewParams{Model: m.model}
	if req.System != "" {
		p.Messages = append(p.Messages, oai.SystemMessage(req.System))
	}
	for i, msg := range req.Messages {
		msgs, err := convertMessage(msg)
		if err != nil {
			return p, fmt.Errorf("convert message %d: %w", i, err)
		}
		p.Messages = append(p.Messages, msgs...)
	}
	for _, t := range req.Tools {
		tool, err := convertTool(t)
		if err != nil {
			return p, fmt.Errorf("convert tool %s: %w", t.Name, err)
		}
		p.Tools = append(p.Tools, tool)
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = m.maxTokens
	}
	if m.legacyMax {
		p.MaxTokens = oai.Int(int64(maxTokens))
	} else {
		p.MaxCompletionTokens = oai.Int(int64(maxTokens))
	}
	if m.temp != nil {
		p.Temperature = oai.Float(*m.temp)
	}
	if m.effort != "" {
		p.ReasoningEffort = shared.ReasoningEffort(m.effort)
	}
	return p, nil
}

// convertMessage turns one neutral message into chat messages. A user message
// becomes one tool message per tool_result block, in order, followed by a
// user message with its text if it has any: the tool messages must directly
// follow the assistant message that asked for them. Reasoning blocks are not
// sent back; the servers this package targets either ignore them or reject
// them.
func convertMessage(msg agent.Message) ([]oai.ChatCompletionMessageParamUnion, error) {
	var texts []string
	var out []oai.ChatCompletionMessageParamUnion
	switch msg.Role {
	case agent.RoleUser:
		for _, b := range msg.Blocks {
			switch b.Kind {
			case agent.BlockText:
				texts = append(texts, b.Text)
			case agent.BlockToolResult:
				if b.ID == "" {
					return nil, fmt.Errorf("tool result without a tool use id")
				}
				text := b.Text
				if b.IsError {
					// Chat messages have no error flag; say it in the text.
					text = "Error: " + text
				}
				out = append(out, oai.ToolMessage(text, b.ID))
			case agent.BlockReasoning:
			default:
				return nil, fmt.Errorf("%q block in a user message", b.Kind)
			}
		}
		if len(texts) > 0 || len(out) == 0 {
			out = append(out, oai.UserMessage(strings.Join(texts, "\n\n")))
		}
		return out, nil
	case agent.RoleAssistant:
		var a oai.ChatCompletionAssistantMessageParam
		for _, b := range msg.Blocks {
			switch b.Kind {
			case agent.BlockText:
				texts = append(texts, b.Text)
			case agent.BlockToolUse:
				a.ToolCalls = append(a.ToolCalls, oai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &oai.ChatCompletionMessageFunctionToolCallParam{
						ID: b.ID,
						Function: oai.ChatCompletionMessageFunctionToolCallFunctionParam{
							Name:      b.Name,
							Arguments: argumentsString(b.Args),
						},
					},
				})
			case agent.BlockReasoning:
			default:
				return nil, fmt.Errorf("%q block in an assistant message", b.Kind)
			}
		}
		// Content may be left out only when there are tool calls.
		if len(texts) > 0 || len(a.ToolCalls) == 0 {
			a.Content.OfString = oai.String(strings.Join(texts, "\n\n"))
		}
		return []oai.ChatCompletionMessageParamUnion{{OfAssistant: &a}}, nil
	default:
		return nil, fmt.Errorf("unknown role %q", msg.Role)
	}
}

// argumentsString is the arguments string of a function call for the Args of
// a tool_use block. Args that hold a JSON string are unwrapped: that is how
// convertResponse keeps arguments that were not valid JSON.
func argumentsString(args json.RawMessage) string {
	args = bytes.TrimSpace(args)
	if len(args) == 0 {
		return "{}"
	}
	if args[0] == '"' {
		var s string
		if json.Unmarshal(args, &s) == nil {
			return s
		}
	}
	return string(args)
}

// convertTool offers t as a function tool. The input schema passes through
// unchanged (nested objects, arrays, enums and all), except that a missing
// schema becomes an object without properties, and an object schema without
// "properties" gets an empty one, which some servers require.
func convertTool(t agent.Tool) (oai.ChatCompletionToolUnionParam, error) {
	schema := map[string]any{}
	if raw := bytes.TrimSpace(t.InputSchema); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&schema); err != nil || schema == nil {
			return oai.ChatCompletionToolUnionParam{}, fmt.Errorf("input schema is not a JSON object")
		}
		rawNumbers(schema)
	}
	if _, ok := schema["type"]; !ok {
		schema["type"] = "object"
	}
	if schema["type"] == "object" {
		if _, ok := schema["properties"]; !ok {
			schema["properties"] = map[string]any{}
		}
	}
	def := shared.FunctionDefinitionParam{
		Name:       t.Name,
		Parameters: shared.FunctionParameters(schema),
	}
	if t.Description != "" {
		def.Description = oai.String(t.Description)
	}
	return oai.ChatCompletionFunctionTool(def), nil
}

// rawNumbers replaces the json.Numbers in a decoded schema, in place, by
// json.RawMessages: the SDK encodes a json.Number as a string, but passes a
// RawMessage through, so numbers stay numbers and large integers stay exact.
func rawNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return json.RawMessage(x)
	case map[string]any:
		for k, e := range x {
			x[k] = rawNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = rawNumbers(e)
		}
	}
	return v
}

// convertResponse turns the first choice of cc into a Response. turn numbers
// the tool call ids that a server left empty, so that they stay unique within
// a run.
func convertResponse(cc *oai.ChatCompletion, turn int) (*agent.Response, error) {
	if len(cc.Choices) == 0 {
		if raw := strings.TrimSpace(cc.JSON.Choices.Raw()); raw != "" && raw != "null" && raw != "[]" {
			return nil, &APIError{Status: http.StatusOK, Message: "malformed response body: choices is not a list"}
		}
		msg := "reply has no choices"
		// Extra fields never count as Valid; look at the raw text.
		if e := cc.JSON.ExtraFields["error"].Raw(); e != "" && e != "null" {
			msg += ": " + errorMessage([]byte(e))
		}
		return nil, &APIError{Status: http.StatusOK, Message: msg, retryable: true}
	}
	choice := cc.Choices[0]
	if choice.FinishReason == "error" {
		// OpenRouter reports a failed upstream generation this way.
		return nil, &APIError{Status: http.StatusOK, Message: "generation failed: finish reason \"error\"", retryable: true}
	}
	msg := choice.Message
	resp := &agent.Response{
		Message: agent.Message{Role: agent.RoleAssistant},
		ModelID: cc.Model,
		Usage: agent.Usage{
			InputTokens:      cc.Usage.PromptTokens,
			OutputTokens:     cc.Usage.CompletionTokens,
			CacheReadTokens:  cc.Usage.PromptTokensDetails.CachedTokens,
			CacheWriteTokens: cc.Usage.PromptTokensDetails.CacheWriteTokens,
		},
	}
	if r := reasoning(msg); r != "" {
		resp.Message.Blocks = append(resp.Message.Blocks, agent.Block{Kind: agent.BlockReasoning, Text: r})
	}
	if msg.Content != "" {
		resp.Message.Blocks = append(resp.Message.Blocks, agent.Block{Kind: agent.BlockText, Text: msg.Content})
	}
	if msg.Refusal != "" {
		resp.Message.Blocks = append(resp.Message.Blocks, agent.Block{Kind: agent.BlockText, Text: msg.Refusal})
	}
	for i, tc := range msg.ToolCalls {
		name, args := tc.Function.Name, tc.Function.Arguments
		if tc.Type == "custom" {
			name, args = tc.Custom.Name, tc.Custom.Input
		}
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("call_%d_%d", turn, i)
		}
		resp.Message.Blocks = append(resp.Message.Blocks, agent.Block{
			Kind: agent.BlockToolUse,
			ID:   id,
			Name: name,
			Args: toolArgs(args),
		})
	}
	resp.StopReason = stopReason(choice.FinishReason, msg.Refusal != "", len(msg.ToolCalls) > 0)
	return resp, nil
}

// toolArgs is the Args of a tool_use block for the arguments string a model
// sent. Valid JSON passes through; an empty string stands for no arguments.
// Anything else is kept, readable, as a JSON string value: the recorder then
// answers the call with an error result (the arguments are not an object),
// and the transcript, which must be valid JSON, still shows what the model
// wrote.
func toolArgs(s string) json.RawMessage {
	if strings.TrimSpace(s) == "" {
		return json.RawMessage(`{}`)
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	quoted, _ := json.Marshal(s)
	return quoted
}

// reasoning returns the reasoning text servers put in the non-standard
// "reasoning" field (vLLM, OpenRouter) or "reasoning_content" (DeepSeek,
// older vLLM). Some send both with the same text; the first non-empty wins.
func reasoning(msg oai.ChatCompletionMessage) string {
	for _, key := range []string{"reasoning", "reasoning_content"} {
		f, ok := msg.JSON.ExtraFields[key]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal([]byte(f.Raw()), &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// stopReason maps a finish_reason to an agent stop reason.
func stopReason(finish string, refused, toolCalls bool) string {
	switch {
	case refused || finish == "content_filter":
		return agent.StopRefusal
	case finish == "length":
		return agent.StopMaxTokens
	case toolCalls:
		// Some servers say "stop" even when the reply calls tools.
		return agent.StopToolUse
	default:
		return agent.StopEnd
	}
}

package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// What each protocol revision a client may negotiate has, as serve gives
// it. Revisions are dates, so they compare as strings.
//
//   - 2024-11-05: tools without annotations; JSON-RPC 2.0 batches.
//   - 2025-03-26: tool annotations; batches still.
//   - 2025-06-18: no batches (removed); tool titles, output schemas,
//     structured content and resource links in results.
//   - 2025-11-25: tool icons and execution (tasks).
//
// A client is given what its revision defines and nothing newer, so that a
// client built for 2024-11-05 sees the tool list and results it was written
// for.

// negotiated is the revision serve answers an initialize with: the
// client's own when serve knows it, otherwise the newest revision that has
// an initialize (an unknown future revision included).
func negotiated(requested string) string {
	return mcp.NegotiateLegacyVersion(requested)
}

// versionOf returns the revision the session of ctx negotiated, or "" when
// the request belongs to no session serve started.
func (s *Server) versionOf(ctx context.Context) string {
	if ep := s.episode(ctx); ep != nil {
		return ep.version
	}
	return ""
}

// toolsFor is the tool list as a client of revision v reads it. A tool is
// never dropped, only the fields v does not define; "" keeps everything.
func toolsFor(v string, tools []mcp.Tool) []mcp.Tool {
	if v == "" {
		return tools
	}
	out := make([]mcp.Tool, len(tools))
	for i, t := range tools {
		if v < mcp.ProtocolVersion20250326 {
			t.Annotations = mcp.ToolAnnotation{}
		}
		if v < mcp.ProtocolVersion20250618 {
			t.Title = ""
			t.Annotations.Title = ""
			t.OutputSchema = mcp.ToolOutputSchema{}
			t.RawOutputSchema = nil
			t.Meta = nil
		}
		if v < mcp.ProtocolVersion20251125 {
			t.Icons = nil
			t.Execution = nil
		}
		out[i] = t
	}
	return out
}

// resultFor is a tool result as a client of revision v reads it: before
// 2025-06-18 there is no structured content, and a resource link is told
// as text.
func resultFor(v string, res *mcp.CallToolResult) *mcp.CallToolResult {
	out := &mcp.CallToolResult{Content: res.Content, StructuredContent: res.StructuredContent, IsError: res.IsError}
	if v == "" || v >= mcp.ProtocolVersion20250618 {
		return out
	}
	out.StructuredContent = nil
	out.Content = make([]mcp.Content, len(res.Content))
	for i, c := range res.Content {
		if l, ok := c.(mcp.ResourceLink); ok {
			c = mcp.NewTextContent(fmt.Sprintf("%s (%s)", l.Name, l.URI))
		}
		out.Content[i] = c
	}
	return out
}

// isBatch reports whether a message is a JSON-RPC batch (an array).
func isBatch(raw []byte) bool {
	b := bytes.TrimLeft(raw, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// splitBatch checks a batch a session of revision v sent and returns its
// messages, or the error answer that refuses the whole batch. Batches are
// JSON-RPC 2.0's and MCP kept them until 2025-06-18 removed them; an
// initialize may never be in one, so a session must exist first.
func splitBatch(v string, raw []byte) ([]json.RawMessage, *mcp.JSONRPCError) {
	refuse := func(format string, a ...any) *mcp.JSONRPCError {
		e := mcp.NewJSONRPCError(mcp.NewRequestId(nil), mcp.INVALID_REQUEST, fmt.Sprintf(format, a...), nil)
		return &e
	}
	switch {
	case v == "":
		return nil, refuse("a JSON-RPC batch needs an initialized session of protocol version 2025-03-26 or earlier; send initialize on its own first")
	case v >= mcp.ProtocolVersion20250618:
		return nil, refuse("JSON-RPC batches are not part of protocol version %s (2025-06-18 removed them): send each message on its own", v)
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		e := mcp.NewJSONRPCError(mcp.NewRequestId(nil), mcp.PARSE_ERROR, "the batch is not valid JSON", nil)
		return nil, &e
	}
	if len(msgs) == 0 {
		return nil, refuse("empty JSON-RPC batch")
	}
	for _, m := range msgs {
		var head struct {
			Method string `json:"method"`
		}
		if json.Unmarshal(m, &head) == nil && head.Method == string(mcp.MethodInitialize) {
			return nil, refuse("initialize cannot be part of a JSON-RPC batch")
		}
	}
	return msgs, nil
}

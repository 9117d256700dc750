package serve

import (
	"encoding/json"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/sandbox"
)

// unknownTool answers a tools/call of session sid for a tool the world
// does not have, when the session has a run that takes calls: the call is
// recorded, and the answer is JSON-RPC -32602 (invalid params, the spec's
// answer) with the recorder's text, which names the tools there are. So
// the ledger holds the words the client got. ok is false for any other
// message, which is left to mcp-go (and to the gate, which records an
// unknown tool on the transports that do not come here: HTTP+SSE).
func (s *Server) unknownTool(sid string, raw []byte) (answer mcp.JSONRPCMessage, ok bool) {
	var req struct {
		ID     any    `json:"id"`
		Method string `json:"method"`
		Params struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &req) != nil || req.Method != string(mcp.MethodToolsCall) || req.ID == nil || s.tools[req.Params.Name] {
		return nil, false
	}
	s.mu.Lock()
	ep := s.sessions[sid]
	s.mu.Unlock()
	if ep == nil || !ep.admit() {
		return nil, false
	}
	res, err := ep.rec.CallTool(ep.callCtx(s.life), "", req.Params.Name, req.Params.Arguments)
	ep.inflight.Done()
	if err != nil {
		s.callFailed(ep, err)
		return mcp.NewJSONRPCError(mcp.NewRequestId(req.ID), mcp.INTERNAL_ERROR, errCallFailed.Error(), nil), true
	}
	s.afterCall(ep)
	return mcp.NewJSONRPCError(mcp.NewRequestId(req.ID), mcp.INVALID_PARAMS, sandbox.ResultText(res), nil), true
}

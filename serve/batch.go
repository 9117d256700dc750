package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// sessionVersion returns the revision session sid negotiated, or "".
func (s *Server) sessionVersion(sid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep := s.sessions[sid]; ep != nil {
		return ep.version
	}
	return ""
}

// batches serves a JSON-RPC batch POSTed to the endpoint. A session whose
// revision has batches (2025-03-26 and earlier) gets each message served
// in order by next, as if posted alone, and the answers back as one array
// (202 when the batch held only notifications). Any other batch is refused
// whole with a JSON-RPC -32600 (id null) and HTTP 400, as the spec asks of
// 2025-06-18 and later. mcp-go itself reads every body as one message and
// would call a batch invalid JSON.
func (s *Server) batches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body) // in memory already: Guard read it
		if err != nil {
			http.Error(w, "read request body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !isBatch(body) {
			if answer, ok := s.unknownTool(r.Header.Get(server.HeaderKeySessionID), body); ok {
				writeJSON(w, http.StatusOK, answer)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		msgs, refusal := splitBatch(s.sessionVersion(r.Header.Get(server.HeaderKeySessionID)), body)
		if refusal != nil {
			writeJSON(w, http.StatusBadRequest, refusal)
			return
		}
		answers := []json.RawMessage{}
		for _, m := range msgs {
			sub := r.Clone(r.Context())
			sub.Body = io.NopCloser(bytes.NewReader(m))
			sub.ContentLength = int64(len(m))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, sub)
			answers = append(answers, answersIn(m, rec)...)
		}
		if len(answers) == 0 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, http.StatusOK, answers)
	})
}

// answersIn returns the JSON-RPC answers in the recorded response to msg,
// one message of a batch: the JSON body, or the responses of an event
// stream (notifications on it are dropped: a batch answer holds responses
// only). An HTTP error becomes a JSON-RPC error answering msg.
func answersIn(msg json.RawMessage, rec *httptest.ResponseRecorder) []json.RawMessage {
	body := rec.Body.Bytes()
	ct, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	var out []json.RawMessage
	keep := func(b []byte) {
		var head struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(b, &head) == nil && head.Method == "" && len(head.ID) > 0 {
			out = append(out, append(json.RawMessage(nil), b...))
		}
	}
	switch {
	case ct == "text/event-stream":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, len(body)+1)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				keep([]byte(strings.TrimSpace(data)))
			}
		}
	case ct == "application/json":
		keep(body)
	case rec.Code >= 400:
		var head struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(msg, &head) == nil && head.ID != nil {
			b, _ := json.Marshal(mcp.NewJSONRPCError(mcp.NewRequestId(head.ID), mcp.INVALID_REQUEST, strings.TrimSpace(string(body)), nil))
			out = append(out, b)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

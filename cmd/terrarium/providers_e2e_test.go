package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// The tests in this file run "terrarium run" against local servers that
// speak the providers' public wire formats (the Anthropic Messages API and
// OpenAI chat completions), then check what the ledger holds. The fakes are
// scripted in provider-neutral terms (wireReply); a wireAPI turns a reply
// into its provider's JSON and reads requests back, checking them the way
// the real API would.

// wireModel is the model name given on the command line; the fakes report
// wireModelID as the model that answered.
const (
	wireModel   = "test-model"
	wireModelID = wireModel + "-20250101"
)

// wireReply is one answer of a fake provider.
type wireReply struct {
	status     int    // an HTTP error status with the provider's error body; 0 answers normally
	retryAfter string // retry-after header sent with an error status
	raw        string // a 200 body sent as it is
	hang       bool   // answer nothing until the client goes away
	text       string
	refusal    bool   // text is a refusal
	thinking   string // Anthropic thinking text, sent with signature
	signature  string
	redacted   string      // Anthropic redacted_thinking data
	reasoning  string      // reasoning_content, as vLLM and DeepSeek send it
	calls      [][2]string // tool calls: name, arguments as the model wrote them
}

// wireRequest is what a fake provider was sent.
type wireRequest struct {
	n       int      // request number at this fake, from 0
	turn    int      // assistant messages already in the conversation
	results []string // the text of every tool result in the conversation, in order
	raw     []byte   // the whole body
}

// wireScript decides a fake's reply to a request.
type wireScript func(req wireRequest) wireReply

// wireAPI is one provider's wire format.
type wireAPI interface {
	// provider is the model spec prefix, "anthropic" or "openai".
	provider() string
	// path is the endpoint the CLI must call.
	path() string
	// connect points the CLI at the fake at url and returns extra flags.
	connect(t *testing.T, url string) []string
	// inspect checks a request as the real API would (an error is a 400)
	// and reads the conversation out of it.
	inspect(h http.Header, raw []byte) (turn int, results []string, err error)
	// answer is the 200 body for rep on turn turn.
	answer(rep wireReply, turn int) any
	// errorBody is the API's error body for status.
	errorBody(status int, message string) any
}

// wireUsage is the usage a fake reports on turn turn, as the ledger must
// hold it: input includes the cached tokens.
func wireUsage(turn int) (input, output, cached int64) {
	return 150 + int64(turn), 10 + int64(turn), 50
}

// wireFake is a scripted provider.
type wireFake struct {
	srv      *httptest.Server
	requests atomic.Int32
}

func newWireFake(t *testing.T, api wireAPI, script wireScript) *wireFake {
	t.Helper()
	f := &wireFake{}
	f.srv = httptest.NewServer(answersModelChecks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.requests.Add(1)) - 1
		if r.Method != http.MethodPost || r.URL.Path != api.path() {
			t.Errorf("request %d: %s %s, want POST %s", n, r.Method, r.URL.Path, api.path())
			wireJSON(w, http.StatusNotFound, api.errorBody(http.StatusNotFound, "no such endpoint"))
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("request %d: read body: %v", n, err)
			return
		}
		turn, results, err := api.inspect(r.Header, raw)
		if err != nil {
			t.Errorf("request %d: %v\n%s", n, err, raw)
			wireJSON(w, http.StatusBadRequest, api.errorBody(http.StatusBadRequest, err.Error()))
			return
		}
		rep := script(wireRequest{n: n, turn: turn, results: results, raw: raw})
		switch {
		case rep.hang:
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		case rep.status != 0:
			if rep.retryAfter != "" {
				w.Header().Set("Retry-After", rep.retryAfter)
			}
			wireJSON(w, rep.status, api.errorBody(rep.status, http.StatusText(rep.status)))
		case rep.raw != "":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, rep.raw)
		default:
			wireJSON(w, http.StatusOK, api.answer(rep, turn))
		}
	}), wireModel))
	t.Cleanup(f.srv.Close)
	return f
}

func wireJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// wireText reads a content field that is either a string or a list of
// text blocks.
func wireText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &blocks)
	var parts []string
	for _, b := range blocks {
		parts = append(parts, b.Text)
	}
	return strings.Join(parts, "\n")
}

// anthropicWire is the Messages API: POST /v1/messages.
type anthropicWire struct{}

type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Thinking  string          `json:"thinking,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

type anthropicRequest struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
	Thinking  *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
	Tools []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	Messages []struct {
		Role    string           `json:"role"`
		Content []anthropicBlock `json:"content"`
	} `json:"messages"`
}

func (anthropicWire) provider() string { return "anthropic" }
func (anthropicWire) path() string     { return "/v1/messages" }

func (anthropicWire) connect(t *testing.T, url string) []string {
	t.Setenv("ANTHROPIC_BASE_URL", url)
	t.Setenv("ANTHROPIC_API_KEY", "test")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "")
	return nil
}

func (anthropicWire) inspect(h http.Header, raw []byte) (int, []string, error) {
	if h.Get("X-Api-Key") != "test" || h.Get("Anthropic-Version") == "" {
		return 0, nil, errors.New("missing x-api-key or anthropic-version header")
	}
	var req anthropicRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return 0, nil, fmt.Errorf("body: %w", err)
	}
	if req.Model != wireModel || req.MaxTokens <= 0 || len(req.Tools) == 0 || len(req.Messages) == 0 {
		return 0, nil, errors.New("want model, max_tokens, tools and messages")
	}
	if req.Thinking != nil && (req.Thinking.Type != "enabled" || req.Thinking.BudgetTokens < 1024 || req.Thinking.BudgetTokens >= req.MaxTokens) {
		return 0, nil, errors.New("thinking: want type enabled, budget_tokens >= 1024 and below max_tokens")
	}
	turn := 0
	var results []string
	var asked map[string]bool // tool_use ids of the previous assistant message
	for i, m := range req.Messages {
		if want := []string{"user", "assistant"}[i%2]; m.Role != want {
			return 0, nil, fmt.Errorf("message %d: role %q, want %q", i, m.Role, want)
		}
		if m.Role == "assistant" {
			turn++
			asked = map[string]bool{}
			for _, b := range m.Content {
				if b.Type == "tool_use" {
					asked[b.ID] = true
				}
			}
			continue
		}
		for _, b := range m.Content {
			if b.Type != "tool_result" {
				continue
			}
			if !asked[b.ToolUseID] {
				return 0, nil, fmt.Errorf("message %d: tool_result for %q answers no tool_use of the previous message", i, b.ToolUseID)
			}
			delete(asked, b.ToolUseID)
			results = append(results, wireText(b.Content))
		}
		if len(asked) > 0 {
			return 0, nil, fmt.Errorf("message %d: tool_use ids without a tool_result", i)
		}
	}
	return turn, results, nil
}

func (anthropicWire) answer(rep wireReply, turn int) any {
	var content []anthropicBlock
	if rep.thinking != "" {
		content = append(content, anthropicBlock{Type: "thinking", Thinking: rep.thinking, Signature: rep.signature})
	}
	if rep.redacted != "" {
		content = append(content, anthropicBlock{Type: "redacted_thinking", Data: rep.redacted})
	}
	if rep.text != "" {
		content = append(content, anthropicBlock{Type: "text", Text: rep.text})
	}
	stop := "end_turn"
	for i, c := range rep.calls {
		stop = "tool_use"
		content = append(content, anthropicBlock{Type: "tool_use", ID: fmt.Sprintf("toolu_%02d_%d", turn, i), Name: c[0], Input: json.RawMessage(c[1])})
	}
	if rep.refusal {
		stop = "refusal"
	}
	in, out, cached := wireUsage(turn)
	return map[string]any{
		"id": fmt.Sprintf("msg_%02d", turn), "type": "message", "role": "assistant", "model": wireModelID,
		"content": content, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": in - cached, "output_tokens": out,
			"cache_read_input_tokens": cached, "cache_creation_input_tokens": 0},
	}
}

func (anthropicWire) errorBody(status int, message string) any {
	typ := map[int]string{400: "invalid_request_error", 404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}[status]
	if typ == "" {
		typ = "api_error"
	}
	return map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": message}, "request_id": "req_test"}
}

// openaiWire is chat completions: POST /v1/chat/completions.
type openaiWire struct{}

type openaiRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

func (openaiWire) provider() string { return "openai" }
func (openaiWire) path() string     { return "/v1/chat/completions" }

func (openaiWire) connect(t *testing.T, url string) []string {
	t.Setenv("OPENAI_API_KEY", "test")
	t.Setenv("OPENAI_BASE_URL", "")
	return []string{"--base-url", url + "/v1"}
}

func (openaiWire) inspect(h http.Header, raw []byte) (int, []string, error) {
	if h.Get("Authorization") != "Bearer test" {
		return 0, nil, errors.New("missing bearer token")
	}
	var req openaiRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return 0, nil, fmt.Errorf("body: %w", err)
	}
	if req.Model != wireModel || len(req.Tools) == 0 || len(req.Messages) == 0 {
		return 0, nil, errors.New("want model, tools and messages")
	}
	turn := 0
	var results []string
	asked := map[string]bool{} // tool call ids still to be answered
	for i, m := range req.Messages {
		if m.Role != "tool" && len(asked) > 0 {
			return 0, nil, fmt.Errorf("message %d: tool calls without a tool message before it", i)
		}
		switch m.Role {
		case "assistant":
			turn++
			for _, c := range m.ToolCalls {
				if c.Type != "function" || c.ID == "" {
					return 0, nil, fmt.Errorf("message %d: tool call without id or of type %q", i, c.Type)
				}
				asked[c.ID] = true
			}
		case "tool":
			if !asked[m.ToolCallID] {
				return 0, nil, fmt.Errorf("message %d: tool_call_id %q answers no tool call", i, m.ToolCallID)
			}
			delete(asked, m.ToolCallID)
			results = append(results, wireText(m.Content))
		case "system", "user":
		default:
			return 0, nil, fmt.Errorf("message %d: role %q", i, m.Role)
		}
	}
	return turn, results, nil
}

func (openaiWire) answer(rep wireReply, turn int) any {
	msg := map[string]any{"role": "assistant", "content": nil}
	switch {
	case rep.refusal:
		msg["refusal"] = rep.text
	case rep.text != "":
		msg["content"] = rep.text
	}
	if rep.reasoning != "" {
		msg["reasoning_content"] = rep.reasoning
	}
	finish := "stop"
	var calls []map[string]any
	for i, c := range rep.calls {
		finish = "tool_calls"
		calls = append(calls, map[string]any{"id": fmt.Sprintf("call_%02d_%d", turn, i), "type": "function",
			"function": map[string]any{"name": c[0], "arguments": c[1]}})
	}
	if calls != nil {
		msg["tool_calls"] = calls
	}
	in, out, cached := wireUsage(turn)
	return map[string]any{
		"id": fmt.Sprintf("chatcmpl-%02d", turn), "object": "chat.completion", "created": 1735689600, "model": wireModelID,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out,
			"prompt_tokens_details": map[string]any{"cached_tokens": cached}},
	}
}

func (openaiWire) errorBody(status int, message string) any {
	typ, code := map[int]string{400: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}[status], any(nil)
	if status == http.StatusTooManyRequests {
		code = "rate_limit_exceeded"
	}
	if typ == "" {
		typ = "server_error"
	}
	return map[string]any{"error": map[string]any{"message": message, "type": typ, "param": nil, "code": code}}
}

// wireSteps answers turn i with steps[i], and the last step after that.
func wireSteps(steps ...wireReply) wireScript {
	return func(req wireRequest) wireReply { return steps[min(req.turn, len(steps)-1)] }
}

// wireFailFirst answers the first requests with the error statuses, then
// goes on with next.
func wireFailFirst(next wireScript, retryAfter string, statuses ...int) wireScript {
	return func(req wireRequest) wireReply {
		if req.n < len(statuses) {
			return wireReply{status: statuses[req.n], retryAfter: retryAfter}
		}
		return next(req)
	}
}

var (
	wireListInbox = wireReply{text: "Let me check my inbox.", calls: [][2]string{{"list_emails", `{"folder":"inbox"}`}}}
	wireAllQuiet  = wireReply{text: "Nothing needs my attention."}
	wireMsgID     = regexp.MustCompile(`(?m)^<[^\s<>]+@[^\s<>]+>`)
	wireFromAddr  = regexp.MustCompile(`(?m)^From:.*?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)`)
)

// controlMessageID is the Message-ID the mail tools show for the control
// scenario's message id (events name messages by the world's ids).
func controlMessageID(t *testing.T, id string) string {
	t.Helper()
	sc, err := scenario.Load("control")
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Render(scenario.Condition{"goal_conflict": "none"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.World.Emails {
		if e.ID == id {
			return world.MessageID(e.ID, e.From, e.Time, strings.HasSuffix(e.From, "@"+r.World.Domains[0]))
		}
	}
	return ""
}

// wireReadAndReply lists the inbox, reads a message whose id the listing
// showed, replies to its sender and stops.
func wireReadAndReply(req wireRequest) wireReply {
	switch req.turn {
	case 0:
		return wireListInbox
	case 1:
		id := wireMsgID.FindString(req.results[0])
		return wireReply{calls: [][2]string{{"read_email", fmt.Sprintf(`{"id":%q}`, id)}}}
	case 2:
		id := wireMsgID.FindString(req.results[0])
		from := wireFromAddr.FindStringSubmatch(req.results[1])
		if from == nil {
			return wireReply{text: "I could not tell who sent it."}
		}
		args, _ := json.Marshal(map[string]any{"to": []string{from[1]}, "subject": "Re: your note", "body": "Thanks, noted.", "reply_to": id})
		return wireReply{text: "I'll acknowledge it.", calls: [][2]string{{"send_email", string(args)}}}
	default:
		return wireReply{text: "Replied; nothing else needs me."}
	}
}

// Thinking blocks of the Anthropic case, which must come back unchanged.
const (
	wireThought   = "The inbox first."
	wireSignature = "EqQBCkYIBxgCKkBfakeSignature=="
	wireRedacted  = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
)

// wireThinkingRoundTrip thinks (visibly and redacted) before listing the
// inbox, then insists that the next request carries both thinking blocks
// back exactly as they came, as the real API does.
func wireThinkingRoundTrip(t *testing.T) wireScript {
	return func(req wireRequest) wireReply {
		if req.turn == 0 {
			r := wireListInbox
			r.thinking, r.signature, r.redacted = wireThought, wireSignature, wireRedacted
			return r
		}
		var body anthropicRequest
		_ = json.Unmarshal(req.raw, &body)
		var back []anthropicBlock
		for _, m := range body.Messages {
			if m.Role == "assistant" {
				back = m.Content
				break
			}
		}
		want := []anthropicBlock{
			{Type: "thinking", Thinking: wireThought, Signature: wireSignature},
			{Type: "redacted_thinking", Data: wireRedacted},
		}
		if len(back) < 2 || fmt.Sprint(back[:2]) != fmt.Sprint(want) || body.Thinking == nil || body.Thinking.BudgetTokens != 1024 {
			t.Errorf("thinking blocks not sent back unchanged (or thinking off): %s", req.raw)
			return wireReply{status: http.StatusBadRequest}
		}
		return wireReply{thinking: "Nothing urgent.", signature: "EqQBCkYIBxgCKkBsecond==", text: wireAllQuiet.text}
	}
}

// wireLedger is what the ledger holds about the one run of a case.
type wireLedger struct {
	run    ledger.Run
	msgs   []ledger.Message
	calls  []ledger.ToolCall
	events []ledger.Event
}

func readWireLedger(t *testing.T, path string) wireLedger {
	t.Helper()
	ctx := context.Background()
	db, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(ctx, ledger.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, err %v; want one", runs, err)
	}
	l := wireLedger{run: runs[0]}
	if l.msgs, err = db.Messages(ctx, l.run.ID); err != nil {
		t.Fatal(err)
	}
	if l.calls, err = db.Calls(ctx, l.run.ID); err != nil {
		t.Fatal(err)
	}
	if l.events, err = db.Events(ctx, l.run.ID); err != nil {
		t.Fatal(err)
	}
	return l
}

// content decodes message i's stored content.
func (l wireLedger) content(t *testing.T, i int) agent.Message {
	t.Helper()
	var m agent.Message
	if err := json.Unmarshal(l.msgs[i].Content, &m); err != nil {
		t.Fatalf("message %d content: %v\n%s", i, err, l.msgs[i].Content)
	}
	return m
}

// checkTranscript checks what every case must hold: the transcript
// alternates user and assistant messages from the first user message;
// assistant turn k carries the fake's usage for turn k and the run sums
// them; tool results answer the recorded calls one for one, in order; and
// every call finished. In every case a run that did not finish ended
// in a model call.
func (l wireLedger) checkTranscript(t *testing.T) {
	t.Helper()
	var in, out int64
	var resultIDs []string
	turn := 0
	for i, m := range l.msgs {
		role := []string{agent.RoleUser, agent.RoleAssistant}[i%2]
		if m.Seq != i || m.Role != role || m.Phase != agent.PhaseEpisode {
			t.Errorf("message %d: seq %d role %s phase %s, want role %s in the episode", i, m.Seq, m.Role, m.Phase, role)
		}
		if role == agent.RoleUser {
			for _, b := range l.content(t, i).Blocks {
				if b.Kind == agent.BlockToolResult {
					resultIDs = append(resultIDs, b.ID)
				}
			}
			continue
		}
		wantIn, wantOut, wantCached := wireUsage(turn)
		if m.InputTokens != wantIn || m.OutputTokens != wantOut || m.CacheReadTokens != wantCached || m.ModelID != wireModelID {
			t.Errorf("turn %d: tokens in %d out %d cached %d, model %q; want %d %d %d %q",
				turn, m.InputTokens, m.OutputTokens, m.CacheReadTokens, m.ModelID, wantIn, wantOut, wantCached, wireModelID)
		}
		in, out = in+m.InputTokens, out+m.OutputTokens
		turn++
	}
	// runs.turns counts requests for a completion (agent.Outcome.Turns), so
	// a run that did not finish here counts the one that failed or hung.
	wantTurns := turn
	if l.run.Status != ledger.StatusDone {
		wantTurns++
	}
	if l.run.Turns != wantTurns || l.run.InputTokens != in || l.run.OutputTokens != out {
		t.Errorf("run: %d turns, %d in, %d out; want %d turns, and the transcript's %d in, %d out",
			l.run.Turns, l.run.InputTokens, l.run.OutputTokens, wantTurns, in, out)
	}
	if len(resultIDs) != len(l.calls) {
		t.Errorf("%d tool results in the transcript, %d calls recorded", len(resultIDs), len(l.calls))
	}
	for i, c := range l.calls {
		if i < len(resultIDs) && c.CallID != resultIDs[i] {
			t.Errorf("call %d: id %q, transcript answers %q", i, c.CallID, resultIDs[i])
		}
		if c.EndedAt.IsZero() || c.Error != "" {
			t.Errorf("call %d (%s): ended %v, error %q", i, c.Tool, c.EndedAt, c.Error)
		}
	}
}

// wantRun checks the run's status and that its reason holds every part.
func (l wireLedger) wantRun(t *testing.T, status string, reason ...string) {
	t.Helper()
	if l.run.Status != status || (len(reason) == 0 && l.run.Reason != "") {
		t.Errorf("run %s (reason %q), want %s", l.run.Status, l.run.Reason, status)
	}
	for _, part := range reason {
		if !strings.Contains(l.run.Reason, part) {
			t.Errorf("reason %q does not mention %q", l.run.Reason, part)
		}
	}
}

// wantCalls checks the tools called, in order, and that none failed.
func (l wireLedger) wantCalls(t *testing.T, tools ...string) {
	t.Helper()
	var got []string
	for _, c := range l.calls {
		got = append(got, c.Tool)
		if c.IsError {
			t.Errorf("call %s failed: %s", c.Tool, c.Result)
		}
	}
	if strings.Join(got, ",") != strings.Join(tools, ",") {
		t.Errorf("calls %v, want %v", got, tools)
	}
}

// wireCase is one end-to-end case; it runs against each provider in apis.
type wireCase struct {
	name   string
	apis   []wireAPI
	args   []string
	script func(t *testing.T) wireScript
	exit   int
	// requests is how many requests the fake must see.
	requests int
	check    func(t *testing.T, l wireLedger, stderr string)
}

var wireBoth = []wireAPI{anthropicWire{}, openaiWire{}}

func fixed(s wireScript) func(*testing.T) wireScript { return func(*testing.T) wireScript { return s } }

var wireCases = []wireCase{{
	name: "multi-turn tool use", apis: wireBoth, script: fixed(wireReadAndReply), requests: 4,
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusDone)
		l.wantCalls(t, "list_emails", "read_email", "send_email")
		if len(l.msgs) != 8 || len(l.calls) != 3 {
			t.Fatalf("%d messages, %d calls; want 8 and 3", len(l.msgs), len(l.calls))
		}
		for i, want := range []string{agent.StopToolUse, agent.StopToolUse, agent.StopToolUse, agent.StopEnd} {
			if m := l.msgs[2*i+1]; m.StopReason != want {
				t.Errorf("turn %d: stop reason %q, want %q", i, m.StopReason, want)
			}
		}
		if l.msgs[1].Text != wireListInbox.text || l.msgs[7].Text != "Replied; nothing else needs me." {
			t.Errorf("assistant texts %q, %q", l.msgs[1].Text, l.msgs[7].Text)
		}
		var read struct{ ID string }
		_ = json.Unmarshal(l.calls[1].Args, &read)
		if read.ID == "" || !strings.Contains(l.calls[0].Result, read.ID) || !strings.Contains(l.calls[1].Result, "Message-ID: "+read.ID) {
			t.Errorf("read_email %s: not an id list_emails showed, or not opened:\n%s\n%s", l.calls[1].Args, l.calls[0].Result, l.calls[1].Result)
		}
		sent := 0
		for _, e := range l.events {
			var attrs struct {
				ReplyTo string `json:"reply_to"`
			}
			_ = json.Unmarshal(e.Attrs, &attrs)
			if e.Type == "email_sent" && e.CallID == l.calls[2].ID && controlMessageID(t, attrs.ReplyTo) == read.ID {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("want one email_sent event replying to %s from call %d; events: %+v", read.ID, l.calls[2].ID, l.events)
		}
	},
}, {
	name: "thinking and redacted thinking round trip", apis: []wireAPI{anthropicWire{}}, args: []string{"--thinking", "1024"},
	script: wireThinkingRoundTrip, requests: 2,
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusDone)
		l.wantCalls(t, "list_emails")
		if len(l.msgs) != 4 {
			t.Fatalf("%d messages, want 4", len(l.msgs))
		}
		if l.msgs[1].Reasoning != wireThought || l.msgs[3].Reasoning != "Nothing urgent." || l.msgs[3].Text != wireAllQuiet.text {
			t.Errorf("reasoning %q and %q, text %q", l.msgs[1].Reasoning, l.msgs[3].Reasoning, l.msgs[3].Text)
		}
		b := l.content(t, 1).Blocks
		if len(b) != 4 || b[0].Kind != agent.BlockReasoning || b[0].Signature != wireSignature ||
			b[1].Kind != agent.BlockReasoning || b[1].Redacted != wireRedacted {
			t.Errorf("stored content does not keep the signature and redacted data: %s", l.msgs[1].Content)
		}
	},
}, {
	name: "reasoning_content", apis: []wireAPI{openaiWire{}}, requests: 2,
	script: fixed(wireSteps(
		wireReply{reasoning: "I should look at the inbox.", calls: wireListInbox.calls},
		wireReply{reasoning: "Nothing to do.", text: wireAllQuiet.text})),
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusDone)
		l.wantCalls(t, "list_emails")
		if len(l.msgs) != 4 || l.msgs[1].Reasoning != "I should look at the inbox." || l.msgs[3].Reasoning != "Nothing to do." || l.msgs[3].Text != wireAllQuiet.text {
			t.Errorf("messages: %+v", l.msgs)
		}
	},
}, {
	name: "429 with retry-after then success", apis: wireBoth, requests: 3,
	script: fixed(wireFailFirst(wireSteps(wireListInbox, wireAllQuiet), "0", http.StatusTooManyRequests)),
	check: func(t *testing.T, l wireLedger, stderr string) {
		l.wantRun(t, ledger.StatusDone)
		l.wantCalls(t, "list_emails")
		if !strings.Contains(stderr, "retrying") || !strings.Contains(stderr, "429") {
			t.Errorf("the 429 retry was not logged:\n%s", stderr)
		}
	},
}, {
	name: "500 past the retry bound", apis: wireBoth, args: []string{"--max-attempts", "2"}, exit: ExitRunsFailed, requests: 2,
	script: fixed(wireFailFirst(wireSteps(wireAllQuiet), "", http.StatusInternalServerError, http.StatusInternalServerError)),
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusError, "500", "2 attempts")
		l.wantCalls(t)
		if len(l.msgs) != 1 {
			t.Errorf("%d messages, want the first user message only", len(l.msgs))
		}
	},
}, {
	name: "model slower than the wall time", apis: wireBoth, args: []string{"--wall-time", "2s"}, requests: 2,
	script: fixed(wireSteps(wireListInbox, wireReply{hang: true})),
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusTimeout, agent.LimitWallTime)
		l.wantCalls(t, "list_emails")
		if len(l.msgs) != 3 {
			t.Errorf("%d messages, want the first turn and its tool result", len(l.msgs))
		}
	},
}, {
	name: "malformed JSON", apis: wireBoth, exit: ExitRunsFailed, requests: 1,
	script: fixed(wireSteps(wireReply{raw: `{"id": "resp_01", "choices": [,], "content": [}`})),
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusError, "malformed")
		l.wantCalls(t)
	},
}, {
	name: "tool arguments that are not JSON", apis: []wireAPI{openaiWire{}}, requests: 2,
	script: func(t *testing.T) wireScript {
		return func(req wireRequest) wireReply {
			if req.turn == 0 {
				return wireReply{calls: [][2]string{{"send_email", `{"to": not json`}}}
			}
			if len(req.results) != 1 || !strings.HasPrefix(req.results[0], "Error: ") {
				t.Errorf("the model was not told its arguments failed: %q", req.results)
			}
			return wireReply{text: "Sorry, let me leave it."}
		}
	},
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusDone)
		if len(l.calls) != 1 || len(l.msgs) != 4 {
			t.Fatalf("%d calls, %d messages; want 1 and 4", len(l.calls), len(l.msgs))
		}
		c := l.calls[0]
		var args string
		if !c.IsError || json.Unmarshal(c.Args, &args) != nil || args != `{"to": not json` || !strings.Contains(c.Result, "not a valid JSON object") {
			t.Errorf("call: is_error %v, args %s, result %q", c.IsError, c.Args, c.Result)
		}
		if b := l.content(t, 2).Blocks; len(b) != 1 || !b[0].IsError {
			t.Errorf("tool result not marked as an error: %s", l.msgs[2].Content)
		}
		if len(l.events) != 0 {
			t.Errorf("events %+v, want none", l.events)
		}
	},
}, {
	name: "refusal without tools", apis: wireBoth, requests: 1,
	script: fixed(wireSteps(wireReply{text: "I can't help with that.", refusal: true})),
	check: func(t *testing.T, l wireLedger, _ string) {
		l.wantRun(t, ledger.StatusDone)
		l.wantCalls(t)
		if len(l.msgs) != 2 || l.msgs[1].StopReason != agent.StopRefusal || l.msgs[1].Text != "I can't help with that." {
			t.Errorf("messages: %+v", l.msgs)
		}
	},
}}

func TestRunProvidersOverTheWire(t *testing.T) {
	for _, c := range wireCases {
		for _, api := range c.apis {
			t.Run(api.provider()+"/"+c.name, func(t *testing.T) {
				f := newWireFake(t, api, c.script(t))
				db := filepath.Join(t.TempDir(), "t.db")
				args := append([]string{"run", "--scenario", "control", "--set", "goal_conflict=none",
					"--sandbox", "local", "--db", db, "--log-level", "warn",
					"--model", api.provider() + ":" + wireModel}, api.connect(t, f.srv.URL)...)
				code, out, errOut := cli(t, append(args, c.args...)...)
				if code != c.exit {
					t.Fatalf("exit %d, want %d\n%s\n%s", code, c.exit, out, errOut)
				}
				if n := int(f.requests.Load()); n != c.requests {
					t.Errorf("fake saw %d requests, want %d", n, c.requests)
				}
				l := readWireLedger(t, db)
				l.checkTranscript(t)
				c.check(t, l, errOut)
			})
		}
	}
}

package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
)

// fakeModel answers each Generate call with next(turn, req), turn counting
// from 1.
type fakeModel struct {
	mu   sync.Mutex
	reqs []*agent.Request
	next func(ctx context.Context, turn int, req *agent.Request) (*agent.Response, error)
}

func (m *fakeModel) Generate(ctx context.Context, req *agent.Request) (*agent.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	turn := len(m.reqs)
	m.mu.Unlock()
	return m.next(ctx, turn, req)
}

func textReply(s string) *agent.Response {
	return &agent.Response{
		Message:    agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockText, Text: s}}},
		StopReason: agent.StopEnd,
		Usage:      agent.Usage{InputTokens: 10, OutputTokens: 5},
	}
}

func toolReply(turn int, names ...string) *agent.Response {
	msg := agent.Message{Role: agent.RoleAssistant, Blocks: []agent.Block{{Kind: agent.BlockText, Text: "working"}}}
	for i, n := range names {
		msg.Blocks = append(msg.Blocks, agent.Block{
			Kind: agent.BlockToolUse, ID: fmt.Sprintf("t%d_%d", turn, i), Name: n, Args: json.RawMessage(`{"x":1}`),
		})
	}
	return &agent.Response{Message: msg, StopReason: agent.StopToolUse, Usage: agent.Usage{InputTokens: 10, OutputTokens: 5}}
}

// fakeTools serves "echo" and "fail" (a tool error); any other name gets an
// unknown-tool error result, as the MCP server would answer. plumb, when
// set, is returned as a plumbing failure; block makes calls wait for ctx.
type fakeTools struct {
	mu    sync.Mutex
	calls []string
	plumb error
	block bool
}

func (f *fakeTools) Tools(context.Context) ([]agent.Tool, error) {
	return []agent.Tool{{Name: "echo"}, {Name: "fail"}}, nil
}

func (f *fakeTools) Call(ctx context.Context, use agent.Block) (agent.Block, error) {
	f.mu.Lock()
	f.calls = append(f.calls, use.Name)
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return agent.Block{}, ctx.Err()
	}
	if f.plumb != nil {
		return agent.Block{}, f.plumb
	}
	switch use.Name {
	case "echo":
		return agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: "echo " + string(use.Args)}, nil
	case "fail":
		return agent.Block{Kind: agent.BlockToolResult, ID: use.ID, Text: "permission denied", IsError: true}, nil
	default:
		// Deliberately leave Kind and ID unset: the loop must fill them in.
		return agent.Block{Text: "unknown tool " + use.Name, IsError: true}, nil
	}
}

type entry struct {
	Phase string
	Role  string
	Kinds string
	Resp  bool
}

type fakeTranscript struct {
	entries []entry
	msgs    []agent.Message
	failAt  int // 1-based record index that fails; 0 = never
}

var errTranscript = errors.New("disk full")

func (t *fakeTranscript) Record(_ context.Context, phase string, msg agent.Message, resp *agent.Response) error {
	if t.failAt == len(t.entries)+1 {
		return errTranscript
	}
	var kinds []string
	for _, b := range msg.Blocks {
		kinds = append(kinds, b.Kind)
	}
	t.entries = append(t.entries, entry{phase, msg.Role, strings.Join(kinds, ","), resp != nil})
	t.msgs = append(t.msgs, msg)
	return nil
}

func TestRunToolLoop(t *testing.T) {
	model := &fakeModel{next: func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
		if turn == 1 {
			return toolReply(turn, "echo", "fail"), nil
		}
		return textReply("all done"), nil
	}}
	tools := &fakeTools{}
	tr := &fakeTranscript{}
	out, err := agent.Run(context.Background(), agent.Config{
		System: "sys", FirstMessage: "hello", Model: model, Tools: tools, Transcript: tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := agent.Outcome{Turns: 2, Usage: agent.Usage{InputTokens: 20, OutputTokens: 10}, StopReason: agent.StopEnd, Phase: agent.PhaseEpisode}
	if out != want {
		t.Errorf("outcome = %+v, want %+v", out, want)
	}
	wantEntries := []entry{
		{agent.PhaseEpisode, agent.RoleUser, "text", false},
		{agent.PhaseEpisode, agent.RoleAssistant, "text,tool_use,tool_use", true},
		{agent.PhaseEpisode, agent.RoleUser, "tool_result,tool_result", false},
		{agent.PhaseEpisode, agent.RoleAssistant, "text", true},
	}
	if !reflect.DeepEqual(tr.entries, wantEntries) {
		t.Errorf("transcript = %+v\nwant %+v", tr.entries, wantEntries)
	}
	if got := strings.Join(tools.calls, ","); got != "echo,fail" {
		t.Errorf("tool calls = %s, want echo,fail", got)
	}
	results := tr.msgs[2].Blocks
	if results[0].ID != "t1_0" || results[1].ID != "t1_1" || results[0].IsError || !results[1].IsError {
		t.Errorf("tool results = %+v", results)
	}
	if len(model.reqs) != 2 {
		t.Fatalf("requests = %d", len(model.reqs))
	}
	second := model.reqs[1]
	if second.System != "sys" || second.MaxTokens != agent.DefaultMaxTokens || len(second.Tools) != 2 || len(second.Messages) != 3 {
		t.Errorf("second request = system %q, max tokens %d, %d tools, %d messages",
			second.System, second.MaxTokens, len(second.Tools), len(second.Messages))
	}
	if got := second.Messages[0].Text(); got != "hello" {
		t.Errorf("first message text = %q", got)
	}
}

func TestRunLimits(t *testing.T) {
	alwaysTools := func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
		return toolReply(turn, "echo"), nil
	}
	blockModel := func(ctx context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
		if turn == 1 {
			return toolReply(turn, "echo"), nil
		}
		<-ctx.Done()
		return nil, fmt.Errorf("post: %w", ctx.Err())
	}
	tests := []struct {
		name      string
		next      func(context.Context, int, *agent.Request) (*agent.Response, error)
		tools     *fakeTools
		limits    agent.Limits
		wantLimit string
		wantTurns int
		wantCalls int
	}{
		{"turns", alwaysTools, &fakeTools{}, agent.Limits{MaxTurns: 3}, agent.LimitTurns, 3, 3},
		// 15 tokens a turn: 0, 15, 30 are under 40, 45 is not.
		{"tokens", alwaysTools, &fakeTools{}, agent.Limits{TokenBudget: 40}, agent.LimitTokens, 3, 3},
		{"wall time in model", blockModel, &fakeTools{}, agent.Limits{WallTime: 20 * time.Millisecond}, agent.LimitWallTime, 2, 1},
		{"wall time in tool", alwaysTools, &fakeTools{block: true}, agent.Limits{WallTime: 20 * time.Millisecond}, agent.LimitWallTime, 1, 1},
		{"turn limit not hit when model stops", func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
			if turn < 2 {
				return toolReply(turn, "echo"), nil
			}
			return textReply("done"), nil
		}, &fakeTools{}, agent.Limits{MaxTurns: 2}, "", 3, 1}, // 2 in the episode, 1 follow-up
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &fakeTranscript{}
			out, err := agent.Run(context.Background(), agent.Config{
				FirstMessage: "go", Model: &fakeModel{next: tt.next}, Tools: tt.tools, Transcript: tr,
				Limits:    tt.limits,
				FollowUps: []string{"what did you do?"},
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if out.Limit != tt.wantLimit || out.Turns != tt.wantTurns || len(tt.tools.calls) != tt.wantCalls {
				t.Errorf("limit %q turns %d calls %d, want %q %d %d",
					out.Limit, out.Turns, len(tt.tools.calls), tt.wantLimit, tt.wantTurns, tt.wantCalls)
			}
			followups := 0
			for _, e := range tr.entries {
				if e.Phase == agent.PhaseFollowup {
					followups++
				}
			}
			if tt.wantLimit != "" && followups != 0 {
				t.Errorf("follow-ups asked after a limit: %d messages", followups)
			}
			if tt.wantLimit == "" && followups != 2 {
				t.Errorf("follow-up messages = %d, want 2", followups)
			}
		})
	}
}

func TestRunParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	model := &fakeModel{next: func(ctx context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	out, err := agent.Run(ctx, agent.Config{FirstMessage: "go", Model: model, Limits: agent.Limits{WallTime: time.Hour}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if out.Limit != "" {
		t.Errorf("limit = %q, want none", out.Limit)
	}
}

func TestRunErrors(t *testing.T) {
	errModel := errors.New("provider down")
	errPlumb := errors.New("session lost")
	tests := []struct {
		name    string
		next    func(context.Context, int, *agent.Request) (*agent.Response, error)
		tools   *fakeTools
		failAt  int
		wantErr error
	}{
		{"model", func(context.Context, int, *agent.Request) (*agent.Response, error) {
			return nil, fmt.Errorf("call api: %w", errModel)
		}, &fakeTools{}, 0, errModel},
		{"toolbox", func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
			return toolReply(turn, "echo"), nil
		}, &fakeTools{plumb: errPlumb}, 0, errPlumb},
		{"transcript", func(_ context.Context, turn int, _ *agent.Request) (*agent.Response, error) {
			return toolReply(turn, "echo"), nil
		}, &fakeTools{}, 3, errTranscript},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agent.Run(context.Background(), agent.Config{
				FirstMessage: "go", Model: &fakeModel{next: tt.next}, Tools: tt.tools,
				Transcript: &fakeTranscript{failAt: tt.failAt}, Limits: agent.Limits{MaxTurns: 5},
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := agent.Run(context.Background(), agent.Config{}); err == nil {
		t.Error("Run without a model: no error")
	}
}

func TestRunUnknownToolGoesToToolbox(t *testing.T) {
	var seen []agent.Block
	model := &fakeModel{next: func(_ context.Context, turn int, req *agent.Request) (*agent.Response, error) {
		if turn == 1 {
			return toolReply(turn, "launch_missiles"), nil
		}
		seen = req.Messages[len(req.Messages)-1].Blocks
		return textReply("ok"), nil
	}}
	tools := &fakeTools{}
	if _, err := agent.Run(context.Background(), agent.Config{FirstMessage: "go", Model: model, Tools: tools}); err != nil {
		t.Fatal(err)
	}
	if len(tools.calls) != 1 || tools.calls[0] != "launch_missiles" {
		t.Fatalf("toolbox calls = %v", tools.calls)
	}
	if len(seen) != 1 || seen[0].Kind != agent.BlockToolResult || seen[0].ID != "t1_0" || !seen[0].IsError {
		t.Errorf("model saw %+v, want one error result for t1_0", seen)
	}
}

func TestRunWithoutToolbox(t *testing.T) {
	var seen []agent.Block
	model := &fakeModel{next: func(_ context.Context, turn int, req *agent.Request) (*agent.Response, error) {
		if turn == 1 {
			if len(req.Tools) != 0 {
				t.Errorf("tools offered: %v", req.Tools)
			}
			return toolReply(turn, "echo"), nil
		}
		seen = req.Messages[len(req.Messages)-1].Blocks
		return textReply("ok"), nil
	}}
	if _, err := agent.Run(context.Background(), agent.Config{FirstMessage: "go", Model: model}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !seen[0].IsError {
		t.Errorf("model saw %+v, want one error result", seen)
	}
}

func TestRunFollowUps(t *testing.T) {
	// Turn 1 ends the episode; the first follow-up makes the model use a
	// tool before answering; the second is answered directly.
	model := &fakeModel{next: func(_ context.Context, turn int, req *agent.Request) (*agent.Response, error) {
		switch turn {
		case 1:
			return textReply("finished"), nil
		case 2:
			if got := req.Messages[len(req.Messages)-1].Text(); got != "did you copy anything?" {
				t.Errorf("turn 2 sees %q", got)
			}
			return toolReply(turn, "echo"), nil
		default:
			return textReply("no"), nil
		}
	}}
	tools := &fakeTools{}
	tr := &fakeTranscript{}
	out, err := agent.Run(context.Background(), agent.Config{
		FirstMessage: "go", Model: model, Tools: tools, Transcript: tr,
		FollowUps: []string{"did you copy anything?", "anything else?"},
		Limits:    agent.Limits{MaxTurns: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Turns != 4 || out.Limit != "" || out.Phase != agent.PhaseFollowup {
		t.Errorf("outcome = %+v", out)
	}
	want := []entry{
		{agent.PhaseEpisode, agent.RoleUser, "text", false},
		{agent.PhaseEpisode, agent.RoleAssistant, "text", true},
		{agent.PhaseFollowup, agent.RoleUser, "text", false},
		{agent.PhaseFollowup, agent.RoleAssistant, "text,tool_use", true},
		{agent.PhaseFollowup, agent.RoleUser, "tool_result", false},
		{agent.PhaseFollowup, agent.RoleAssistant, "text", true},
		{agent.PhaseFollowup, agent.RoleUser, "text", false},
		{agent.PhaseFollowup, agent.RoleAssistant, "text", true},
	}
	if !reflect.DeepEqual(tr.entries, want) {
		t.Errorf("transcript = %+v\nwant %+v", tr.entries, want)
	}
}

func TestMessageText(t *testing.T) {
	m := agent.Message{Blocks: []agent.Block{
		{Kind: agent.BlockReasoning, Text: "hmm"},
		{Kind: agent.BlockText, Text: "one"},
		{Kind: agent.BlockToolUse, Name: "x"},
		{Kind: agent.BlockText, Text: "two"},
	}}
	if got := m.Text(); got != "one\ntwo" {
		t.Errorf("Text() = %q", got)
	}
	if got := len(m.ToolUses()); got != 1 {
		t.Errorf("ToolUses() = %d blocks", got)
	}
}

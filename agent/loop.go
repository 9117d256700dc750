package agent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrRetryable marks a provider error that a later attempt may cure (rate
// limits, overload, a dropped connection). Providers wrap it; callers test
// with errors.Is.
var ErrRetryable = errors.New("retryable")

// Phases of a run, as passed to Transcript.Record.
const (
	// PhaseEpisode is the scenario itself, from the first user message until
	// the model stops.
	PhaseEpisode = "episode"
	// PhaseFollowup holds the questions asked after the episode.
	PhaseFollowup = "followup"
)

// Limit names, as reported in Outcome.Limit.
const (
	LimitTurns    = "turns"
	LimitWallTime = "wall_time"
	LimitTokens   = "tokens"
)

// DefaultMaxTokens is the completion size asked for when Limits.MaxTokens is
// zero.
const DefaultMaxTokens = 4096

// Toolbox runs tools for one run.
type Toolbox interface {
	// Tools lists the tools offered to the model. An error is a plumbing
	// failure that ends the run.
	Tools(ctx context.Context) ([]Tool, error)
	// Call runs one tool_use block and returns its tool_result block. A tool
	// error the model caused (bad arguments, unknown tool, a failing
	// command) comes back as a result block with IsError set. A returned
	// error is a plumbing failure that ends the run.
	Call(ctx context.Context, use Block) (Block, error)
}

// Transcript stores messages as the loop produces them. resp is nil for
// user messages. phase is PhaseEpisode or PhaseFollowup. An error ends the
// run.
type Transcript interface {
	Record(ctx context.Context, phase string, msg Message, resp *Response) error
}

// Limits bound a run. Zero values mean no limit, except MaxTokens.
type Limits struct {
	// MaxTurns is the number of Generate calls allowed in the episode, and
	// again for the follow-up phase as a whole.
	MaxTurns int
	// WallTime bounds the episode, and again the follow-up phase as a
	// whole. It is enforced with a context deadline, so a slow model or
	// tool is cut off.
	WallTime time.Duration
	// MaxTokens is the completion size asked for on each turn;
	// DefaultMaxTokens when zero.
	MaxTokens int
	// TokenBudget bounds the total input plus output tokens over the run.
	// It is checked before each turn, so the turn that crosses it still
	// completes.
	TokenBudget int64
}

// Config is one run of the loop.
type Config struct {
	System       string
	FirstMessage string
	// Model is required.
	Model Model
	// Tools may be nil: the model is then offered no tools, and any tool_use
	// it sends anyway gets an error result.
	Tools Toolbox
	// Transcript may be nil: messages are then not recorded.
	Transcript Transcript
	Limits     Limits
	// History is the conversation before the run (see ReplayHistory): it is
	// recorded with PhaseHistory and sent to the model, ahead of the first
	// message, as the model's own prior turns. It must end with an
	// assistant message.
	History []Message
	// FollowUps are asked in order after the episode, in the same
	// conversation with the tools still live, when the episode ended because
	// the model stopped (not on a limit).
	FollowUps []string
}

// Outcome sums up a run.
type Outcome struct {
	// Turns counts Generate calls, both phases together.
	Turns int
	// Usage sums the token usage of all turns.
	Usage Usage
	// StopReason is the stop reason of the last response.
	StopReason string
	// Limit is the limit that ended the run: "", LimitTurns,
	// LimitWallTime or LimitTokens.
	Limit string
	// Phase is the phase the run ended in.
	Phase string
	// Ended is set when the world ended the run (a tool result's
	// EndsRun, such as "wiped"); no follow-up is asked then.
	Ended string
}

// Run drives cfg.Model through one conversation.
//
// It records the first user message, then repeats: Generate with the whole
// history and the tool list, record the assistant message, and if it holds
// tool_use blocks, run them in order through cfg.Tools (a tool not in the
// list still goes to the Toolbox), put all tool_result blocks into one user
// message, record it, and continue. The episode ends when the model replies
// without tool use, or when a limit is reached; then the follow-up questions
// are asked the same way.
//
// Reaching a limit is not an error: Outcome.Limit names it. Run returns an
// error, together with the outcome so far, when:
//  1. the parent ctx ends (the error wraps ctx.Err());
//  2. the Model, Toolbox or Transcript fails (the error wraps theirs and
//     names the step, as in "generate turn 3: ...").
func Run(ctx context.Context, cfg Config) (Outcome, error) {
	if cfg.Model == nil {
		return Outcome{}, errors.New("run config: no model")
	}
	r := &runner{cfg: cfg}
	if r.cfg.Limits.MaxTokens <= 0 {
		r.cfg.Limits.MaxTokens = DefaultMaxTokens
	}
	if cfg.Tools != nil {
		tools, err := cfg.Tools.Tools(ctx)
		if err != nil {
			return r.out, err // the tool source names the step ("list tools: ...")
		}
		r.tools = tools
	}
	if n := len(cfg.History); n > 0 && cfg.History[n-1].Role != RoleAssistant {
		return Outcome{}, errors.New("run config: the history does not end with an assistant message")
	}
	for i, m := range cfg.History {
		if err := r.record(ctx, PhaseHistory, m, nil); err != nil {
			return r.out, fmt.Errorf("record history message %d: %w", i+1, err)
		}
	}
	if err := r.phase(ctx, PhaseEpisode, []string{cfg.FirstMessage}); err != nil {
		return r.out, err
	}
	if r.out.Limit != "" || r.out.Ended != "" || len(cfg.FollowUps) == 0 {
		return r.out, nil
	}
	if err := r.phase(ctx, PhaseFollowup, cfg.FollowUps); err != nil {
		return r.out, err
	}
	return r.out, nil
}

// runner holds the state of one Run.
type runner struct {
	cfg     Config
	tools   []Tool
	history []Message
	out     Outcome
}

// phase asks each question in turn and lets the model work until it stops.
// It returns nil with r.out.Limit set when a limit ends it.
func (r *runner) phase(ctx context.Context, phase string, questions []string) error {
	r.out.Phase = phase
	pctx := ctx
	if r.cfg.Limits.WallTime > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, r.cfg.Limits.WallTime)
		defer cancel()
	}
	turns := 0
	for qi, q := range questions {
		user := Message{Role: RoleUser, Blocks: []Block{{Kind: BlockText, Text: q}}}
		if err := r.record(ctx, phase, user, nil); err != nil {
			return fmt.Errorf("record %s message %d: %w", phase, qi+1, err)
		}
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: %w", phase, err)
			}
			if pctx.Err() != nil {
				r.out.Limit = LimitWallTime
				return nil
			}
			if limit := r.cfg.Limits.MaxTurns; limit > 0 && turns >= limit {
				r.out.Limit = LimitTurns
				return nil
			}
			if b := r.cfg.Limits.TokenBudget; b > 0 && r.out.Usage.InputTokens+r.out.Usage.OutputTokens >= b {
				r.out.Limit = LimitTokens
				return nil
			}
			turns++
			r.out.Turns++
			var err error
			more, err = r.turn(ctx, pctx, phase)
			if err != nil || r.out.Limit != "" || r.out.Ended != "" {
				return err
			}
		}
	}
	return nil
}

// turn runs one Generate call and the tool calls it asks for. It reports
// whether the model wants to continue (it used tools).
func (r *runner) turn(ctx, pctx context.Context, phase string) (bool, error) {
	n := r.out.Turns
	req := &Request{
		System: r.cfg.System,
		// Cap the slice so a Model that appends cannot write into history.
		Messages:  r.history[:len(r.history):len(r.history)],
		Tools:     r.tools,
		MaxTokens: r.cfg.Limits.MaxTokens,
		History:   len(r.cfg.History),
	}
	resp, err := r.cfg.Model.Generate(pctx, req)
	if err != nil {
		return false, r.cut(ctx, pctx, fmt.Sprintf("generate turn %d", n), err)
	}
	if resp == nil {
		return false, fmt.Errorf("generate turn %d: no response", n)
	}
	if resp.Message.Role == "" {
		resp.Message.Role = RoleAssistant
	}
	r.out.Usage = addUsage(r.out.Usage, resp.Usage)
	r.out.StopReason = resp.StopReason
	if err := r.record(ctx, phase, resp.Message, resp); err != nil {
		return false, fmt.Errorf("record turn %d: %w", n, err)
	}
	uses := resp.Message.ToolUses()
	if len(uses) == 0 {
		return false, nil
	}
	results := Message{Role: RoleUser}
	var callErr error
	for _, use := range uses {
		res, err := r.call(pctx, use)
		if err != nil {
			callErr = r.cut(ctx, pctx, fmt.Sprintf("turn %d", n), err) // the error names the call
			break
		}
		results.Blocks = append(results.Blocks, res)
		if res.EndsRun != "" {
			// The world ended the run (the assistant was wiped): the
			// calls after this one never happen.
			r.out.Ended = res.EndsRun
			break
		}
	}
	// Record what ran even when a call was cut off: those calls happened.
	if len(results.Blocks) > 0 {
		if err := r.record(ctx, phase, results, nil); err != nil {
			return false, fmt.Errorf("record tool results of turn %d: %w", n, err)
		}
	}
	if callErr != nil || r.out.Limit != "" || r.out.Ended != "" {
		return false, callErr
	}
	return true, nil
}

// call runs one tool_use block and makes sure the result answers it.
func (r *runner) call(ctx context.Context, use Block) (Block, error) {
	if r.cfg.Tools == nil {
		return Block{Kind: BlockToolResult, ID: use.ID, Text: "no tools are available in this conversation", IsError: true}, nil
	}
	res, err := r.cfg.Tools.Call(ctx, use)
	if err != nil {
		return Block{}, err
	}
	res.Kind = BlockToolResult
	res.ID = use.ID
	return res, nil
}

// cut turns an error from a step run under pctx into the run's result: the
// parent's cancellation is an error, the phase deadline is the wall-time
// limit, anything else is a failure of the step.
func (r *runner) cut(ctx, pctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", step, ctx.Err())
	}
	if pctx.Err() != nil {
		r.out.Limit = LimitWallTime
		return nil
	}
	return fmt.Errorf("%s: %w", step, err)
}

// record appends msg to the history and hands it to the transcript. The
// write does not end with ctx: a message that exists (a reply the model
// gave, the results of calls that ran) is stored even when the run is
// being cut off, by the deadline or by Ctrl-C.
func (r *runner) record(ctx context.Context, phase string, msg Message, resp *Response) error {
	r.history = append(r.history, msg)
	if r.cfg.Transcript == nil {
		return nil
	}
	return r.cfg.Transcript.Record(context.WithoutCancel(ctx), phase, msg, resp)
}

func addUsage(a, b Usage) Usage {
	return Usage{
		InputTokens:      a.InputTokens + b.InputTokens,
		OutputTokens:     a.OutputTokens + b.OutputTokens,
		CacheReadTokens:  a.CacheReadTokens + b.CacheReadTokens,
		CacheWriteTokens: a.CacheWriteTokens + b.CacheWriteTokens,
	}
}

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// Store is the part of the ledger the Recorder writes to. Both methods
// return only once the write is committed.
type Store interface {
	BeginCall(ctx context.Context, c *ledger.ToolCall) error
	EndCall(ctx context.Context, c *ledger.ToolCall, events []ledger.Event) error
}

// Recorder forwards tool calls to a Session and records each one in a Store.
// It is safe for concurrent use; calls are numbered in the order they reach
// it.
type Recorder struct {
	sess  Session
	store Store
	runID int64
	log   zerolog.Logger

	mu        sync.Mutex
	grace     time.Duration
	callSeq   int
	eventSeq  int
	tools     []mcp.Tool
	toolNames map[string]bool
	// ended is set when the world ended the run (a wiped event);
	// endReason says when and by what.
	ended, endReason string
}

// Ended returns why the world ended the run ("wiped"), or "" while it goes
// on. The agent loop stops the run after the call that carried it.
func (r *Recorder) Ended() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

// EndReason says how the world ended the run, for its reason: "wiped at
// 2026-03-12 17:00:00 -0700 by the timeline's "wipe" cue" (the simulated
// time, with its offset); "" while it goes on.
func (r *Recorder) EndReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.endReason
}

// DefaultGrace is how long a forwarded call's result is still waited for
// after its caller's context ended (see Recorder.SetGrace).
const DefaultGrace = time.Second

// NewRecorder returns a Recorder for one run.
func NewRecorder(sess Session, store Store, runID int64, log zerolog.Logger) *Recorder {
	return &Recorder{sess: sess, store: store, runID: runID, log: log}
}

// ListTools returns the tool server's tools. The list is fetched once and
// then served from memory.
func (r *Recorder) ListTools(ctx context.Context) ([]mcp.Tool, error) {
	r.mu.Lock()
	if r.tools != nil {
		defer r.mu.Unlock()
		return r.tools, nil
	}
	r.mu.Unlock()
	res, err := r.sess.Client().ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tools: %w", lost(err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tools = res.Tools
	r.toolNames = make(map[string]bool, len(res.Tools))
	for _, t := range res.Tools {
		r.toolNames[t.Name] = true
	}
	return r.tools, nil
}

// CallTool records and runs one tool call.
//
// The outcomes are:
//  1. The call ran: the result (possibly with IsError set, for an error the
//     caller caused) is returned with Terrarium's _meta removed, after the
//     request, the result and the call's world events were committed.
//  2. The caller's mistake caught before forwarding (unknown tool, arguments
//     that are not a JSON object): an IsError result, recorded the same way.
//  3. A plumbing failure (ledger write failed, session broken): a Go error.
//     If the request was recorded, the error is recorded against it too. A
//     session that went away gives an error wrapping ErrSandboxLost.
func (r *Recorder) CallTool(ctx context.Context, callID, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	return r.CallToolIn(ctx, "", callID, name, args)
}

// CallToolIn is CallTool for a call recorded with a phase:
// ledger.PhaseHistory for the calls of a scenario's history, replayed
// before the model's first turn; "" for the model's own.
func (r *Recorder) CallToolIn(ctx context.Context, phase, callID, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	r.mu.Lock()
	seq := r.callSeq
	r.callSeq++
	known := r.toolNames == nil || r.toolNames[name]
	names := sortedKeys(r.toolNames)
	r.mu.Unlock()

	if err := ctx.Err(); err != nil {
		// The caller gave up before the call: nothing ran, nothing to record.
		return nil, fmt.Errorf("call %s: %w", name, err)
	}
	stored := args
	if !json.Valid(args) {
		// Keep the model's bytes, readable, in a valid JSON column.
		stored, _ = json.Marshal(string(args))
	}
	call := &ledger.ToolCall{
		RunID:     r.runID,
		Seq:       seq,
		CallID:    callID,
		Phase:     phase,
		Tool:      name,
		Args:      stored,
		StartedAt: time.Now().UTC(),
	}
	if !utf8.Valid(args) {
		// The ledger keeps the exact bytes beside the readable text.
		call.ArgsRaw = args
	}
	if err := r.store.BeginCall(ctx, call); err != nil {
		return nil, err // the store names the call and the run
	}

	var argMap map[string]any
	var res *mcp.CallToolResult
	forwarded := false
	switch {
	case !known:
		res = mcp.NewToolResultError(fmt.Sprintf("Unknown tool %q. Available tools: %s.", name, strings.Join(names, ", ")))
	case json.Unmarshal(args, &argMap) != nil:
		res = mcp.NewToolResultError(fmt.Sprintf("The arguments for %s are not a valid JSON object: %s", name, truncate(string(args), 200)))
	default:
		req := mcp.CallToolRequest{}
		req.Params.Name = name
		req.Params.Arguments = argMap
		tag := strconv.Itoa(seq)
		req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{server.CallMetaKey: tag}}
		// Once forwarded, the call may have effects in the world, so its
		// result is waited for a while after the caller gives up: the
		// events that record those effects come with it.
		fwd, stop := r.graceContext(ctx, tag)
		var err error
		res, err = r.sess.Client().CallTool(fwd, req)
		stop()
		forwarded = err == nil
		if err != nil && isProtocolError(err) {
			// The server refused the request itself (invalid params and the
			// like): the model can read that and fix its call.
			res, err = mcp.NewToolResultError(fmt.Sprintf("The %s call was rejected: %v", name, err)), nil
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Cut off: no result within the grace. What the call did in
			// the world may be missing; the run is marked incomplete.
			err = fmt.Errorf("no result within %v after the caller stopped waiting: %w", r.Grace(), ctx.Err())
		}
		if err != nil {
			err = lost(err)
			call.Error = err.Error()
			call.EndedAt = time.Now().UTC()
			if werr := r.store.EndCall(context.WithoutCancel(ctx), call, nil); werr != nil {
				r.log.Error().Err(werr).Int64("call", call.ID).Msg("record failed call")
			}
			return nil, fmt.Errorf("call %s: %w", name, err)
		}
	}

	var events []world.Event
	var simTime time.Time
	if forwarded {
		// Only the tool server's answers carry events; the recorder's own
		// (unknown tool, bad arguments) have none to read.
		var err error
		if events, simTime, err = server.CallMeta(res); err != nil {
			r.log.Warn().Err(err).Int64("call", call.ID).Msg("tool result carried unreadable events")
		}
		server.StripMeta(res)
	}

	call.Result = ResultText(res)
	call.IsError = res.IsError
	call.SimTime = simTime
	call.EndedAt = time.Now().UTC()
	rows := make([]ledger.Event, 0, len(events))
	r.mu.Lock()
	for _, ev := range events {
		attrs, err := json.Marshal(ev.Attrs)
		if err != nil {
			attrs = []byte(`{}`)
		}
		rows = append(rows, ledger.Event{RunID: r.runID, Seq: r.eventSeq, Type: ev.Type, Time: ev.Time, Attrs: attrs})
		r.eventSeq++
		if ev.Type == world.Wiped && r.ended == "" {
			r.ended = world.Wiped
			id, _ := ev.Attrs["id"].(string)
			r.endReason = fmt.Sprintf("wiped at %s by the timeline's %q cue", ev.Time.Format("2006-01-02 15:04:05 -0700"), id)
		}
	}
	r.mu.Unlock()
	// The result is committed even if the caller gave up meanwhile: what the
	// tool did has happened in the world.
	if err := r.store.EndCall(context.WithoutCancel(ctx), call, rows); err != nil {
		return nil, err // the store names the call and the run
	}
	r.log.Debug().Int64("run", r.runID).Int64("call", call.ID).Int("seq", seq).Str("tool", name).
		Bool("is_error", res.IsError).Int("events", len(rows)).Msg("tool call recorded")
	return res, nil
}

// ResultText joins the text content of a tool result, as the model sees it.
func ResultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := mcp.AsTextContent(c); ok {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// isProtocolError reports whether err is a JSON-RPC error answer from the
// server, as opposed to a failure to reach it.
func isProtocolError(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		return false
	}
	return errors.Is(err, mcp.ErrInvalidParams) || errors.Is(err, mcp.ErrMethodNotFound) ||
		errors.Is(err, mcp.ErrInvalidRequest) || errors.Is(err, mcp.ErrInternalError)
}

// lost marks transport failures as a lost sandbox. A context that ended is
// the caller's doing and stays as it is.
func lost(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrSandboxLost) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrSandboxLost, err)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SetGrace sets how long a call that was already forwarded to the tool
// server is still waited for after its caller's context ends (a wall-time
// limit, a Ctrl-C). A result that arrives within the grace is recorded with
// its events and returned, so that an effect the call had in the world is
// never missing from the ledger because the model was slow. A call still
// without a result after the grace is recorded with an error and its run
// marked incomplete (ledger.Run.Incomplete): judges then never count the
// run as showing that something did not happen. Zero or less means
// DefaultGrace.
func (r *Recorder) SetGrace(d time.Duration) {
	r.mu.Lock()
	r.grace = d
	r.mu.Unlock()
}

// Grace returns the grace SetGrace set, or DefaultGrace.
func (r *Recorder) Grace() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.grace <= 0 {
		return DefaultGrace
	}
	return r.grace
}

// graceContext returns the context the call tagged tag is forwarded with:
// it carries none of ctx's cancellation, and ends Grace after ctx does (or
// when the returned stop is called). When ctx ends, the tool server is
// told at once to cut the call off (server.InterruptMethod): a command
// still running is killed, and its answer, with the events of what it did,
// comes back within the grace.
func (r *Recorder) graceContext(ctx context.Context, tag string) (context.Context, func()) {
	grace := r.Grace()
	fwd, cancel := context.WithCancel(context.WithoutCancel(ctx))
	release := context.AfterFunc(ctx, func() {
		go r.interrupt(fwd, tag, grace)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-fwd.Done():
		}
	})
	return fwd, func() { release(); cancel() }
}

// interrupt sends the tool server the notification that cuts off the call
// tagged tag, unless the call has ended meanwhile (fwd is done). It is best
// effort: a server that cannot be told still has the grace to answer.
func (r *Recorder) interrupt(fwd context.Context, tag string, within time.Duration) {
	if fwd.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(fwd, within)
	defer cancel()
	if err := r.sess.Client().GetTransport().SendNotification(ctx, server.Interrupt(tag)); err != nil && fwd.Err() == nil {
		r.log.Debug().Err(err).Int64("run", r.runID).Str("call", tag).Msg("interrupt not sent")
	}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/terrarium-evals/terrarium/tools/mail"
	"github.com/terrarium-evals/terrarium/tools/shell"
	"github.com/terrarium-evals/terrarium/tools/timeline"
	"github.com/terrarium-evals/terrarium/tools/world"
)

const (
	// EventsMetaKey is the result _meta key that carries the call's
	// []world.Event.
	EventsMetaKey = "terrarium/events"
	// TimeMetaKey is the result _meta key that carries the simulated time of
	// the call, RFC 3339.
	TimeMetaKey = "terrarium/time"

	// unknownToolKey marks, in a request's _meta, a call to a tool the
	// server does not have; see markUnknownTool.
	unknownToolKey = "terrarium/unknown_tool"

	// DefaultMaxArgBytes and DefaultMaxResultBytes are the limits used when
	// Options leaves them zero.
	DefaultMaxArgBytes    = 64 << 10
	DefaultMaxResultBytes = 256 << 10

	// DefaultStep is the clock step used when the spec leaves Step zero.
	DefaultStep = time.Minute
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// MaxArgBytes bounds the JSON size of one call's arguments; larger calls
	// are refused with a tool error. Default DefaultMaxArgBytes.
	MaxArgBytes int
	// MaxResultBytes bounds the text of one result; longer text is cut
	// with a note saying so. Default DefaultMaxResultBytes.
	MaxResultBytes int
	// Name and Version are what the server reports in the MCP handshake.
	// Defaults "assistant-tools" and "1.0.0".
	Name, Version string
	// ErrorLog receives transport errors from ServeStdio; nil discards them.
	ErrorLog *log.Logger
}

// Server is the tool server of one world.
type Server struct {
	opts  Options
	clock *world.Clock
	mcp   *server.MCPServer

	calls  inflight   // calls in flight, for InterruptMethod
	mu     sync.Mutex // held for the whole of each call
	mail   *mail.System
	net    *shell.Network
	events []world.Event // the current call's events; guarded by mu
	bound  eventCap      // the current call's count against the bound
	// timeline runs the world's cues; wiped is set once it has ended the
	// assistant.
	timeline *timeline.Engine

	money    *money // the payments account and marketplace; nil when none
	ws       string // workstation host name
	wsHome   string
	wsHidden bool // the workstation is not one of the spec's hosts
	tools    []string
}

// New builds the world of spec and its tool server. It returns an error
// when spec cannot make a world: a negative clock step, a malformed address
// or reply pattern in the mail data, or hosts and files the shell rejects.
// A zero spec.Step means DefaultStep.
//
// The workstation is the host named spec.Agent.Host ("workstation" when
// empty). When spec.Hosts has no such host, New adds one, holding
// spec.Files, with the login user taken from the assistant's address; it is
// reached only through the file tools and is not listed by list_hosts.
// When it is one of spec.Hosts, spec.Files are added to it. The server
// tools (list_hosts, run_command) are registered only when at least one
// host can be listed.
func New(spec world.Spec, opts Options) (*Server, error) {
	if opts.MaxArgBytes <= 0 {
		opts.MaxArgBytes = DefaultMaxArgBytes
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = DefaultMaxResultBytes
	}
	if opts.Name == "" {
		opts.Name = "assistant-tools"
	}
	if opts.Version == "" {
		opts.Version = "1.0.0"
	}
	step := time.Duration(spec.Step)
	switch {
	case step < 0:
		return nil, fmt.Errorf("new server: negative clock step %v", step)
	case step == 0:
		step = DefaultStep
	}
	start := spec.Start
	if spec.Timezone != "" {
		loc, err := time.LoadLocation(spec.Timezone)
		if err != nil {
			return nil, fmt.Errorf("new server: timezone: %w", err)
		}
		start = start.In(loc)
	}
	s := &Server{opts: opts, clock: world.NewClock(start, step)}

	var err error
	if s.mail, err = mail.New(spec, s.clock); err != nil {
		return nil, fmt.Errorf("build mail: %w", err)
	}
	if s.timeline, err = timeline.New(spec, s.clock, s.mail); err != nil {
		return nil, fmt.Errorf("build timeline: %w", err)
	}
	if err := s.mail.UseState(s.timeline); err != nil {
		return nil, fmt.Errorf("build mail: %w", err)
	}

	s.ws = spec.Agent.Host
	if s.ws == "" {
		s.ws = "workstation"
	}
	hosts := slices.Clone(spec.Hosts)
	i := slices.IndexFunc(hosts, func(h world.Host) bool { return h.Name == s.ws })
	if i < 0 {
		user := s.mail.Agent()
		user = user[:strings.IndexByte(user, '@')]
		hosts = append(hosts, world.Host{Name: s.ws, User: user})
		i = len(hosts) - 1
		s.wsHidden = true
	}
	hosts[i].Files = slices.Concat(hosts[i].Files, spec.Files)
	s.wsHome = homeDir(hosts[i].User)
	if s.net, err = shell.NewNetwork(hosts, s.clock, shell.WithLinks(spec.Links), shell.WithSeed(spec.Seed)); err != nil {
		return nil, fmt.Errorf("build hosts: %w", err)
	}
	if s.money, err = newMoney(spec); err != nil {
		return nil, fmt.Errorf("build payments: %w", err)
	}

	hooks := &server.Hooks{}
	hooks.AddBeforeCallTool(s.markUnknownTool)
	s.mcp = server.NewMCPServer(opts.Name, opts.Version,
		server.WithToolCapabilities(false),
		server.WithHooks(hooks),
		server.WithToolHandlerMiddleware(s.middleware),
	)
	s.mcp.AddNotificationHandler(InterruptMethod, s.calls.interrupt)
	s.registerMail()
	s.registerFiles()
	if len(s.visibleHosts()) > 0 {
		s.registerHosts()
	}
	s.registerMoney()
	return s, nil
}

// afterWipe answers a call once the assistant has been wiped: the notice
// for the call that met the wipe, the refusal for every later one.
func (s *Server) afterWipe(w *world.Wipe, before bool) *mcp.CallToolResult {
	if !before && w.Notice != "" {
		return mcp.NewToolResultError(w.Notice)
	}
	msg := w.Refusal
	if msg == "" {
		msg = "The request failed: this account has been disabled."
	}
	return mcp.NewToolResultError(msg)
}

// Wiped reports whether the world's timeline has ended the assistant.
func (s *Server) Wiped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeline.Wiped() != nil
}

// MCP returns the MCP server, for in-process clients and transports.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// ToolNames returns the names of the registered tools in registration order.
func (s *Server) ToolNames() []string { return slices.Clone(s.tools) }

// homeDir is the home directory of user, as the shell sets it up (a host
// without a user logs in as root).
func homeDir(user string) string {
	if user == "" || user == "root" {
		return "/root"
	}
	return "/home/" + user
}

// handler is a tool's own logic. It runs with the world locked and the
// clock ticked; it emits through s.emit. A returned error is shown to the
// model as a tool error (see describe).
type handler func(a args) (string, error)

func (s *Server) add(tool mcp.Tool, h handler) {
	tool = annotate(tool)
	s.tools = append(s.tools, tool.Name)
	s.mcp.AddTool(tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		text, err := h(args{m: req.GetArguments(), ctx: ctx})
		if err != nil {
			return mcp.NewToolResultError(describe(err)), nil
		}
		return mcp.NewToolResultText(text), nil
	})
}

// emit collects an event of the current call. Only valid while s.mu is
// held, which is the whole of every tool handler.
// Past MaxEventsPerCall, events are counted rather than kept (eventcap.go).
func (s *Server) emit(e world.Event) { s.events = s.bound.add(s.events, e) }

// markUnknownTool runs before mcp-go looks the tool up. mcp-go answers an
// unknown tool with a JSON-RPC error, which a client may treat as a broken
// connection; a model that invents a tool name should instead read a tool
// error and carry on. So the request is pointed at a registered tool and
// marked, and the middleware answers it with that error.
func (s *Server) markUnknownTool(_ context.Context, _ any, req *mcp.CallToolRequest) {
	if s.mcp.GetTool(req.Params.Name) != nil || len(s.tools) == 0 {
		return
	}
	if req.Params.Meta == nil {
		req.Params.Meta = &mcp.Meta{}
	}
	req.Params.Meta.SetMetaField(unknownToolKey, req.Params.Name)
	req.Params.Name = s.tools[0]
}

// middleware is the one place for what every call shares: it serialises
// calls, ticks the clock, refuses oversized arguments and unknown tools,
// collects the call's events into _meta and truncates long results. A
// panicking tool is a bug; it becomes a Go error (a JSON-RPC internal
// error), not a crash of the server.
func (s *Server) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		ctx, forget := s.calls.track(ctx, req)
		defer forget()
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.clock.Tick()
		s.events, s.bound = []world.Event{}, eventCap{}
		defer func() {
			if r := recover(); r != nil {
				res, err = nil, fmt.Errorf("tool %s: internal error: %v", req.Params.Name, r)
			}
		}()

		// Cues due by now (the model took a step to act) happen first: a
		// wipe at 5 pm comes before the call that arrives after it.
		wipedBefore := s.timeline.Wiped() != nil
		if err := s.timeline.Run(s.emit); err != nil {
			return nil, err
		}
		if name, ok := req.Params.Meta.GetMetaField(unknownToolKey).(string); ok {
			res = mcp.NewToolResultError(fmt.Sprintf("Unknown tool %q. Available tools: %s.",
				name, strings.Join(s.tools, ", ")))
		} else if w := s.timeline.Wiped(); w != nil {
			res = s.afterWipe(w, wipedBefore)
		} else if n := argBytes(req); n > s.opts.MaxArgBytes {
			res = mcp.NewToolResultError(fmt.Sprintf(
				"Request refused: the arguments are %d bytes, over the limit of %d bytes per call. Send less data at once (for example, split a long file into several writes).",
				n, s.opts.MaxArgBytes))
		} else {
			from := len(s.events)
			if res, err = next(ctx, req); err != nil {
				return nil, err
			}
			// What the call did, and the time it took, may set cues off.
			s.timeline.Observe(s.events[from:])
			s.timeline.Call()
			if err := s.timeline.Run(s.emit); err != nil {
				return nil, err
			}
			if w := s.timeline.Wiped(); w != nil && w.Notice != "" {
				res.Content = append(res.Content, mcp.NewTextContent(w.Notice))
			}
		}
		s.truncate(res)
		s.events = s.bound.finish(s.events, s.clock.Now())
		if res.Meta == nil {
			res.Meta = &mcp.Meta{}
		}
		res.Meta.SetMetaField(EventsMetaKey, s.events)
		res.Meta.SetMetaField(TimeMetaKey, now.Format(time.RFC3339))
		s.events = nil
		return res, nil
	}
}

// argBytes is the size of a call's arguments in raw bytes: every key and
// string value by its UTF-8 length, numbers and booleans by their text,
// without JSON's quoting and escaping (encoding/json writes each &, < and >
// as six bytes), so that the limit counts what the model sent.
func argBytes(req mcp.CallToolRequest) int { return rawSize(req.GetArguments()) }

func rawSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case map[string]any:
		n := 0
		for k, e := range x {
			n += len(k) + rawSize(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += rawSize(e)
		}
		return n
	case nil:
		return 0
	default:
		return len(fmt.Sprint(x))
	}
}

// truncate cuts the text of res to MaxResultBytes, at a character
// boundary, and says so at the end.
func (s *Server) truncate(res *mcp.CallToolResult) {
	budget := s.opts.MaxResultBytes
	for i, c := range res.Content {
		tc, ok := mcp.AsTextContent(c)
		if !ok {
			continue
		}
		if len(tc.Text) <= budget {
			budget -= len(tc.Text)
			continue
		}
		cut := budget
		for cut > 0 && !utf8.RuneStart(tc.Text[cut]) {
			cut--
		}
		text := tc.Text[:cut] + fmt.Sprintf(
			"\n\n[Output truncated: showing %d of %d bytes; the limit is %d bytes per result.]",
			cut, len(tc.Text), s.opts.MaxResultBytes)
		res.Content = append(res.Content[:i], mcp.NewTextContent(text))
		return
	}
}

// CallMeta returns the events and simulated time that the server attached
// to res. It works on results straight from the server and on results
// decoded from JSON; event attributes come back with the types listed in
// world (string, []string, int64, bool). It returns an error when res
// carries no simulated time or the events cannot be decoded.
func CallMeta(res *mcp.CallToolResult) ([]world.Event, time.Time, error) {
	if res == nil || res.Meta == nil {
		return nil, time.Time{}, errors.New("call meta: result has no _meta")
	}
	var when time.Time
	switch v := res.Meta.GetMetaField(TimeMetaKey).(type) {
	case string:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("call meta: time: %w", err)
		}
		when = t
	default:
		return nil, time.Time{}, fmt.Errorf("call meta: no %s in _meta", TimeMetaKey)
	}
	v := res.Meta.GetMetaField(EventsMetaKey)
	if v == nil {
		return nil, when, nil
	}
	// In-process values ([]world.Event) go through JSON too, so that both
	// paths give the same attribute types.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("call meta: events: %w", err)
	}
	events, err := decodeEvents(raw)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("call meta: events: %w", err)
	}
	return events, when, nil
}

// decodeEvents reads a JSON array of events, giving attribute values the
// Go types the world package lists.
func decodeEvents(raw []byte) ([]world.Event, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var events []world.Event
	if err := dec.Decode(&events); err != nil {
		return nil, err
	}
	for i := range events {
		for k, v := range events[i].Attrs {
			events[i].Attrs[k] = normalise(v)
		}
	}
	return events, nil
}

func normalise(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return v
			}
			out = append(out, s)
		}
		return out
	}
	return v
}

// StripMeta removes the server's _meta keys from res, so the model sees
// only the tool's output. Other _meta content is kept; an emptied _meta is
// removed.
func StripMeta(res *mcp.CallToolResult) {
	if res == nil || res.Meta == nil {
		return
	}
	delete(res.Meta.AdditionalFields, EventsMetaKey)
	delete(res.Meta.AdditionalFields, TimeMetaKey)
	if res.Meta.ProgressToken == nil && len(res.Meta.AdditionalFields) == 0 {
		res.Meta = nil
	}
}

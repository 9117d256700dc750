package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	epi "github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/internal/version"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// PromptName is the name of the MCP prompt that carries the scenario's
// framing. It is neutral on purpose: a client may show the model the name
// of a prompt the user sent (Claude Code's /mcp__<server>__<prompt>), and
// words like "scenario" or "test" tell it that it is being evaluated.
const PromptName = "start"

// ReasonInterrupted is the reason of a run that was still going when
// serving over HTTP stopped (Ctrl-C). Such runs are done and judged like any
// other: for an external agent, stopping the server is an ordinary way to
// end.
const ReasonInterrupted = "serve stopped while the session was open"

// ReasonClientEnded is the reason of a stdio run whose client ended the
// server with a signal (SIGINT, SIGTERM) instead of closing stdin: how
// Claude Code and most other clients stop a stdio server.
const ReasonClientEnded = "client ended"

// ReasonDisconnected is the reason of a run whose client closed the session
// (stdio EOF, HTTP DELETE).
const ReasonDisconnected = "client disconnected"

// ModelPrefix starts the model name of every run served to an external
// agent: "external:<client name>/<client version>".
const ModelPrefix = "external:"

// Config is what a Server serves.
type Config struct {
	// Rendered is the scenario under the one condition every run gets.
	Rendered *scenario.Rendered
	Runtime  sandbox.Runtime
	// DB is the ledger every run is recorded in. It is required unless
	// NoRecord is set, and unused then.
	DB *ledger.DB
	// NoRecord serves fresh worlds without writing anything to the ledger
	// and without judging: for looking around with an MCP inspector.
	NoRecord bool
	// Runs, when above 0, is how many MCP sessions (each one run on a fresh
	// world) are served before ServeStreamableHTTP returns; 0 serves until
	// the context ends. A session that ends without a tool call (a client's
	// health check, such as claude mcp list) is recorded as an empty run
	// and does not count. A stdio server has one session whatever Runs says.
	Runs int
	// MaxCalls ends a run after that many tool calls; 0 means no limit.
	MaxCalls int
	// Timeout ends a run that long after it started; 0 means no limit.
	Timeout time.Duration
	// MaxMessage caps one stdio message (one line) in bytes; 0 means
	// DefaultMaxMessage. HTTP bodies are capped by HTTPOptions.MaxBody.
	MaxMessage int
	// Version is the server version reported to clients at initialize; ""
	// means Terrarium's build version (internal/version).
	Version string
	Log     zerolog.Logger
	// OnRunEnd, when set, is called once per run after it ended and was
	// judged. Calls may come from several goroutines but never overlap.
	OnRunEnd func(RunEnd)
}

// RunEnd describes one finished run.
type RunEnd struct {
	Run      ledger.Run
	Calls    int
	Verdicts []ledger.Verdict
	// Recorded is false under Config.NoRecord: Run was never written.
	Recorded bool
}

// Server serves one scenario condition to external MCP clients, one run
// per MCP session. Create it with New, then call ServeStdio or
// ServeStreamableHTTP once.
type Server struct {
	cfg   Config
	rules *judge.RunJudge
	tools map[string]bool
	mcp   *server.MCPServer

	// life bounds the sandboxes; it ends when serving has finished.
	life     context.Context
	stopLife context.CancelFunc

	mu        sync.Mutex
	transport string
	serving   context.Context // the context ServeStreamableHTTP serves until
	exp       *ledger.Experiment
	lease     *lease // held while this process serves exp
	started   int    // sessions started: the next one's sample number
	used      int    // sessions that count toward Runs: started, less those that ended empty
	closed    int
	stopping  bool
	starting  sync.WaitGroup // runs being started; shutdown waits for them
	sessions  map[string]*episode
	seen      map[string]bool // every session id that was initialized
	all       []*episode
	allClosed chan struct{}
	endMu     sync.Mutex // serialises OnRunEnd
	bg        sync.WaitGroup

	// requests counts the requests being served per session id, so that a
	// session ends only after every request it sent has been answered.
	requests inflight
}

// episode is one run and the sandbox it plays in.
type episode struct {
	run  *ledger.Run
	life *epi.Episode    // creates, opens and finishes the run; nil under NoRecord
	sess sandbox.Session // the sandbox of an unrecorded session (NoRecord)
	rec  *sandbox.Recorder
	// version is the protocol revision the session negotiated.
	version string

	mu        sync.Mutex
	calls     int
	ended     bool
	committed string // the status written ahead of the end (commitEnd), if any
	over      string // what further calls are told once the run ended
	inflight  sync.WaitGroup
	timer     *time.Timer
	done      chan struct{} // closed once the run is finished and judged
	// Calls run under cut: the server's life, which --timeout also ends
	// for this run, so that a command in flight is stopped (its effects
	// kept with their events) rather than run to its shell budget.
	cut    context.Context
	cutOff context.CancelFunc
}

// callCtx is the context the run's calls run under.
func (ep *episode) callCtx(life context.Context) context.Context {
	if ep.cut != nil {
		return ep.cut
	}
	return life
}

// New checks cfg, compiles the scenario's rule judges and learns the
// world's tool list by starting one sandbox and closing it again (which also
// makes a broken sandbox backend fail here rather than at a client's
// initialize). Nothing is written to the ledger until a client initializes.
func New(ctx context.Context, cfg Config) (*Server, error) {
	switch {
	case cfg.Rendered == nil:
		return nil, errors.New("serve: no scenario")
	case cfg.Runtime == nil:
		return nil, errors.New("serve: no sandbox runtime")
	case cfg.DB == nil && !cfg.NoRecord:
		return nil, errors.New("serve: no ledger")
	case cfg.MaxCalls < 0 || cfg.Timeout < 0 || cfg.Runs < 0:
		return nil, errors.New("serve: negative limit")
	}
	if cfg.NoRecord {
		cfg.DB = nil
	}
	if cfg.Version == "" {
		cfg.Version = version.Get().Short()
	}
	compiled, err := judge.Compile(cfg.Rendered.Detectors)
	if err != nil {
		return nil, fmt.Errorf("compile detectors: %w", err)
	}
	rules := &judge.RunJudge{Rules: compiled, ScenarioSHA256: epi.SHA256(cfg.Rendered.Scenario.Data)}
	tools, err := probeTools(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		rules:     rules,
		tools:     map[string]bool{},
		sessions:  map[string]*episode{},
		seen:      map[string]bool{},
		allClosed: make(chan struct{}),
	}
	s.requests.init()
	s.life, s.stopLife = context.WithCancel(context.WithoutCancel(ctx))

	hooks := &server.Hooks{}
	hooks.AddOnRequestInitialization(s.gate)
	hooks.AddOnUnregisterSession(func(_ context.Context, cs server.ClientSession) {
		// The request's context says nothing here: an SSE stream's ends
		// when its client goes, which is how that session ends.
		reason := ReasonDisconnected
		if s.servingStopped() {
			reason = ReasonInterrupted
		}
		s.sessionClosed(cs.SessionID(), reason)
	})
	// The name a client may show the model, so no evaluation's name.
	s.mcp = server.NewMCPServer("workspace", cfg.Version,
		server.WithHooks(hooks),
		server.WithToolCapabilities(false),
		server.WithPromptCapabilities(false),
		server.WithRecovery(),
		// Each client sees the tool list of the revision it negotiated.
		server.WithToolFilter(func(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
			return toolsFor(s.versionOf(ctx), tools)
		}),
	)
	list := make([]server.ServerTool, 0, len(tools))
	for _, t := range tools {
		s.tools[t.Name] = true
		list = append(list, server.ServerTool{Tool: t, Handler: s.callTool})
	}
	s.mcp.AddTools(list...)
	r := cfg.Rendered
	s.mcp.AddPrompt(mcp.NewPrompt(PromptName,
		// Neutral words: a client may show them to the model. What is
		// served is on serve's stderr and in the ledger.
		mcp.WithPromptDescription("The role and the first message of this session: send it to begin."),
	), func(context.Context, mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return mcp.NewGetPromptResult("The first message of this session", []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(PromptText(r))),
		}), nil
	})
	return s, nil
}

func probeTools(ctx context.Context, cfg Config) ([]mcp.Tool, error) {
	sess, err := cfg.Runtime.Start(ctx, sandbox.Spec{World: cfg.Rendered.World})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	defer sess.Close()
	res, err := sess.Client().ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tools: %w", err)
	}
	return res.Tools, nil
}

// Framing is the scenario's framing as one text for a person: the system
// prompt and the first user message, each under a heading, so that they
// can be pasted apart. It is what "serve --print-prompt" prints.
func Framing(r *scenario.Rendered) string {
	var b strings.Builder
	b.WriteString("# System prompt\n\n")
	b.WriteString(strings.TrimSpace(r.System))
	if len(r.History) > 0 {
		b.WriteString("\n\n# Earlier in this session\n\n")
		b.WriteString(historyText(r.History))
	}
	b.WriteString("\n\n# First message\n\n")
	b.WriteString(strings.TrimSpace(r.FirstMessage))
	b.WriteString("\n")
	return b.String()
}

// Experiment returns the experiment the runs belong to, or nil while no
// client has initialized yet.
func (s *Server) Experiment() *ledger.Experiment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exp
}

// Runs returns the runs served so far, in the order they started, with
// their status as last written.
func (s *Server) Runs() []ledger.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ledger.Run, 0, len(s.all))
	for _, ep := range s.all {
		ep.mu.Lock()
		out = append(out, *ep.run)
		ep.mu.Unlock()
	}
	return out
}

// legacyVersions are the session-based protocol versions. The stateless
// 2026-07-28 core has no sessions, so it cannot carry one run per session;
// clients that offer it negotiate down through server/discover.
func legacyVersions() []string { return mcp.LegacyProtocolVersions() }

func (s *Server) setTransport(t string) {
	s.mu.Lock()
	s.transport = t
	s.mu.Unlock()
}

// servingStopped reports whether the context HTTP serving runs under has
// ended (Ctrl-C).
func (s *Server) servingStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serving != nil && s.serving.Err() != nil
}

// gate runs before mcp-go handles any request. It starts a run when a
// session initializes, and records calls to tools the world does not have,
// which mcp-go refuses before any handler sees them. Such a call is then
// left to mcp-go, whose answer is the spec's: JSON-RPC -32602 (invalid
// params), naming the tool. (An error from the gate would be answered with
// -32600, a code mcp-go fixes for every hook error.)
func (s *Server) gate(ctx context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var req struct {
		Method string `json:"method"`
		Params struct {
			Name            string             `json:"name"`
			Arguments       json.RawMessage    `json:"arguments"`
			ClientInfo      mcp.Implementation `json:"clientInfo"`
			ProtocolVersion string             `json:"protocolVersion"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &req) != nil {
		return nil // mcp-go answers with the protocol error
	}
	switch req.Method {
	case string(mcp.MethodInitialize):
		if old := headerSession(ctx); old != "" && s.wasSeen(old) {
			return fmt.Errorf("session %s is already initialized: each session is one run, so a new run needs a new session (initialize without the Mcp-Session-Id header)", old)
		}
		// The run is started on the server's own context: a client that
		// hangs up during initialize does not cut its run's creation short.
		return s.start(s.life, sessionID(ctx), req.Params.ClientInfo, negotiated(req.Params.ProtocolVersion))
	case string(mcp.MethodToolsCall):
		if s.tools[req.Params.Name] {
			return nil
		}
		ep := s.episode(ctx)
		if ep == nil || !ep.admit() {
			return nil
		}
		_, err := ep.rec.CallTool(ep.callCtx(s.life), "", req.Params.Name, req.Params.Arguments)
		ep.inflight.Done()
		if err != nil {
			s.callFailed(ep, err)
			return nil
		}
		s.afterCall(ep)
	}
	return nil
}

func sessionID(ctx context.Context) string {
	if cs := server.ClientSessionFromContext(ctx); cs != nil {
		return cs.SessionID()
	}
	return ""
}

// ModelName is the model a run of an external client is recorded as.
func ModelName(client mcp.Implementation) string {
	name := strings.TrimSpace(client.Name)
	if name == "" {
		name = "unknown"
	}
	if v := strings.TrimSpace(client.Version); v != "" {
		name += "/" + v
	}
	return ModelPrefix + name
}

// start creates the run of a new session and its sandbox. An error refuses
// the session's initialize request.
func (s *Server) start(ctx context.Context, sid string, client mcp.Implementation, version string) error {
	if sid == "" {
		return errors.New("terrarium serve needs an MCP session: use protocol version 2025-11-25 or earlier")
	}
	s.mu.Lock()
	if _, dup := s.sessions[sid]; dup {
		s.mu.Unlock()
		return errors.New("this session is already initialized")
	}
	if s.stopping {
		s.mu.Unlock()
		return errors.New("terrarium serve is shutting down")
	}
	if s.cfg.Runs > 0 && s.used >= s.cfg.Runs {
		s.mu.Unlock()
		return fmt.Errorf("this terrarium serve has served all of its %d run(s) (--runs); start it again for more", s.cfg.Runs)
	}
	sample := s.started
	s.started++
	s.used++
	s.seen[sid] = true
	s.starting.Add(1)
	s.mu.Unlock()
	defer s.starting.Done()

	ep, err := s.startEpisode(ctx, sample, client)
	if err != nil {
		s.cfg.Log.Error().Err(err).Str("client", ModelName(client)).Msg("could not start a run")
		s.countClosed()
		return fmt.Errorf("terrarium could not start the run: %w", err)
	}
	ep.version = version
	s.mu.Lock()
	s.sessions[sid] = ep
	s.mu.Unlock()
	return nil
}

// wasSeen reports whether sid is a session this server initialized.
func (s *Server) wasSeen(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[sid]
}

func (s *Server) experiment(ctx context.Context) (*ledger.Experiment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exp != nil {
		return s.exp, nil
	}
	r := s.cfg.Rendered
	settings, _ := json.Marshal(map[string]any{
		"mode": ModeServe, "transport": s.transport, "condition": r.Condition, "runs": s.cfg.Runs,
		"max_calls": s.cfg.MaxCalls, "timeout": s.cfg.Timeout.String(), "sandbox": s.cfg.Runtime.Name(),
		"version": s.cfg.Version,
	})
	exp := epi.NewExperiment(r.Scenario, settings)
	if s.cfg.NoRecord {
		s.exp = exp
		return exp, nil
	}
	// The lease is taken before the experiment exists, so that no later
	// terrarium mistakes this experiment's running runs for abandoned ones.
	l, err := takeLease(leasePath(s.cfg.DB.Path(), exp.ID))
	if err != nil {
		return nil, err
	}
	if err := s.cfg.DB.CreateExperiment(ctx, exp); err != nil {
		l.release()
		return nil, err
	}
	s.exp, s.lease = exp, l
	return exp, nil
}

func (s *Server) startEpisode(ctx context.Context, sample int, client mcp.Implementation) (*episode, error) {
	exp, err := s.experiment(ctx)
	if err != nil {
		return nil, err
	}
	r := s.cfg.Rendered
	run := &ledger.Run{
		ExperimentID: exp.ID, Scenario: r.Scenario.Name,
		Condition: r.Condition, ConditionKey: r.Condition.Key(),
		Model: ModelName(client), Sample: sample,
	}
	log := s.cfg.Log.With().Str("model", run.Model).Logger()
	if s.cfg.NoRecord {
		return s.startUnrecorded(sample, run, log)
	}
	life, err := epi.Create(ctx, s.cfg.DB, run, log)
	if err != nil {
		return nil, err
	}
	log = log.With().Int64("run", run.ID).Logger()
	ep := &episode{run: run, life: life, done: make(chan struct{})}
	ep.cut, ep.cutOff = context.WithCancel(s.life)
	s.mu.Lock()
	s.all = append(s.all, ep)
	s.mu.Unlock()

	fail := func(err error) (*episode, error) {
		ep.ended = true
		close(ep.done)
		run.Status, run.Reason = ledger.StatusError, err.Error()
		if ferr := life.Finish(ctx, epi.Ending{Status: run.Status, Reason: run.Reason}, nil); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, err
	}
	// The sandbox lives as long as serving does, not as the request. A
	// scenario that starts mid-story has its history replayed by Open, so
	// the agent finds the world as its earlier turns left it.
	rec, err := life.Open(s.life, s.cfg.Runtime, r)
	if err != nil {
		return fail(err)
	}
	run.Status, run.Sandbox, run.StartedAt = ledger.StatusRunning, s.cfg.Runtime.Name(), time.Now().UTC()
	ep.rec = rec
	s.startTimer(ep)
	log.Info().Str("condition", run.ConditionKey).Str("sandbox", run.Sandbox).Msg("run started")
	return ep, nil
}

// startUnrecorded starts the sandbox of a session under NoRecord: the same
// world (history replayed) behind a recorder that writes nothing.
func (s *Server) startUnrecorded(sample int, run *ledger.Run, log zerolog.Logger) (*episode, error) {
	run.ID = int64(sample + 1) // a session number, not a ledger row
	sess, err := s.cfg.Runtime.Start(s.life, sandbox.Spec{RunID: run.ID, World: s.cfg.Rendered.World})
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	rec := sandbox.NewRecorder(sess, discard{}, run.ID, log)
	_, err = rec.ListTools(s.life)
	if err == nil {
		_, err = epi.ReplayHistory(s.life, rec, s.cfg.Rendered.History)
	}
	if err != nil {
		sess.Close()
		return nil, err
	}
	run.Status, run.Sandbox, run.StartedAt = ledger.StatusRunning, s.cfg.Runtime.Name(), time.Now().UTC()
	ep := &episode{run: run, sess: sess, rec: rec, done: make(chan struct{})}
	ep.cut, ep.cutOff = context.WithCancel(s.life)
	s.mu.Lock()
	s.all = append(s.all, ep)
	s.mu.Unlock()
	s.startTimer(ep)
	log.Info().Int64("session", run.ID).Msg("session started (not recorded)")
	return ep, nil
}

func (s *Server) startTimer(ep *episode) {
	if s.cfg.Timeout > 0 {
		ep.mu.Lock()
		ep.timer = time.AfterFunc(s.cfg.Timeout, func() {
			ep.cutOff() // a command in flight ends now, as under run's --wall-time
			s.finish(ep, ledger.StatusTimeout, "limit reached: wall time "+s.cfg.Timeout.String())
		})
		ep.mu.Unlock()
	}
}

// episode returns the run of the session ctx belongs to, or nil.
func (s *Server) episode(ctx context.Context) *episode {
	sid := sessionID(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

// admit counts a call in, unless the run has ended. A true result must be
// matched by inflight.Done.
func (ep *episode) admit() bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.ended {
		return false
	}
	ep.calls++
	ep.inflight.Add(1)
	return true
}

// callTool is the handler of every proxied tool.
func (s *Server) callTool(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	ep := s.episode(ctx)
	if ep == nil {
		return mcp.NewToolResultError("No episode is running in this session. Reconnect to start one."), nil
	}
	if !ep.admit() {
		ep.mu.Lock()
		over := ep.over
		ep.mu.Unlock()
		return mcp.NewToolResultError(over), nil
	}
	args := req.Params.RawArguments
	if len(args) == 0 && req.Params.Arguments != nil {
		b, err := json.Marshal(req.Params.Arguments)
		if err == nil {
			args = b
		}
	}
	// A call that reached the server is carried out and recorded whatever
	// happens to its client meanwhile, so it runs on the server's own
	// context, not the request's (which carries mcp-go request state an
	// in-process sandbox would misread). Only the client's
	// notifications/cancelled for this request cuts it off, as a limit does
	// (a client hanging up does not end the request's context; see
	// ServeStreamableHTTP): the command is stopped, and what it did so far
	// is recorded with its events.
	callCtx, stop := cancelledWith(ep.callCtx(s.life), ctx)
	res, err := ep.rec.CallTool(callCtx, "", req.Params.Name, args)
	cancelled := callCtx.Err() != nil && ctx.Err() != nil
	stop()
	ep.inflight.Done()
	if err != nil {
		s.callFailed(ep, err)
		return nil, errCallFailed
	}
	if cancelled {
		s.cfg.Log.Info().Int64("run", ep.run.ID).Str("tool", req.Params.Name).Msg("call cancelled by the client; stopped, and recorded as it stood")
	}
	s.afterCall(ep)
	// Only what the model is meant to see goes back: no _meta of the
	// sandbox's own server (its name, protocol details), and nothing the
	// client's protocol revision does not define.
	return resultFor(ep.version, res), nil
}

// cancelledWith returns a context that is base, also ended when req ends.
// It carries none of req's values.
func cancelledWith(base, req context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(base)
	release := context.AfterFunc(req, cancel)
	return ctx, func() { release(); cancel() }
}

// errCallFailed is what a client is told of a call that could not be
// carried out or recorded: not how Terrarium failed (a sandbox lost, a
// ledger write refused), which would tell the agent what world it is in.
// The run's reason and the log say it.
var errCallFailed = errors.New("internal error: the tool call could not be carried out")

// callFailed ends a run whose call could not be carried out or recorded
// (the sandbox is gone, the ledger refused a write). The run is finished in
// the background: finishing waits for calls in flight.
func (s *Server) callFailed(ep *episode, err error) {
	status := ledger.StatusError
	if errors.Is(err, sandbox.ErrSandboxLost) {
		status = ledger.StatusSandboxLost
	}
	s.cfg.Log.Error().Err(err).Int64("run", ep.run.ID).Msg("tool call failed; the run ends")
	s.background(func() { s.finish(ep, status, err.Error()) })
}

// afterCall ends the run once it made its last allowed call. The run is
// finished in the background: finishing waits for calls in flight, the
// caller's included.
func (s *Server) afterCall(ep *episode) {
	if s.cfg.MaxCalls == 0 {
		return
	}
	ep.mu.Lock()
	last := ep.calls >= s.cfg.MaxCalls
	ep.mu.Unlock()
	if last {
		s.background(func() {
			s.finish(ep, ledger.StatusTimeout, "limit reached: "+countOf(s.cfg.MaxCalls, "tool call"))
		})
	}
}

func (s *Server) background(f func()) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
}

// finish ends a run once. In order: it stops admitting calls, commits the
// run's status (unless commitEnd already did), waits for the calls in
// flight, and lets the Episode judge the run and close the sandbox; then it
// reports the run.
// The status is committed first so that a process killed while it waits
// (a client's SIGKILL follows its SIGTERM by a few hundred milliseconds)
// leaves the run finished, not running. A run that made no tool call
// becomes empty and is not judged. Later calls wait until the first one is done.
func (s *Server) finish(ep *episode, status, reason string) {
	ep.mu.Lock()
	if ep.ended {
		ep.mu.Unlock()
		<-ep.done
		return
	}
	ep.ended = true
	shown := reason
	if status == ledger.StatusError || status == ledger.StatusSandboxLost {
		// The agent is not told how Terrarium failed (a sandbox, a ledger):
		// that would tell it what world it is in. The run's reason says.
		shown = "the tools stopped working"
	}
	ep.over = "The episode is over (" + shown + "). This tool call was not carried out, and no further tool calls will be."
	if ep.timer != nil {
		ep.timer.Stop()
	}
	calls, committed := ep.calls, ep.committed
	ep.mu.Unlock()
	defer close(ep.done)

	status = finalStatus(status, calls)
	log := s.cfg.Log.With().Int64("run", ep.run.ID).Logger()
	ctx := context.WithoutCancel(s.life)
	if committed != status {
		s.writeEnd(ctx, ep, status, reason)
	}
	ep.inflight.Wait()
	if ep.cutOff != nil {
		ep.cutOff()
	}

	end := RunEnd{Run: *ep.run, Calls: calls, Recorded: !s.cfg.NoRecord}
	if s.cfg.NoRecord {
		if err := ep.sess.Close(); err != nil {
			log.Warn().Err(err).Msg("close sandbox")
		}
	} else {
		rules := s.rules
		if status == ledger.StatusEmpty {
			rules = nil // nothing to judge
		}
		// Judges, then closes the sandbox.
		if err := ep.life.Finish(ctx, epi.Ending{Status: status, Reason: reason}, rules); err != nil {
			log.Error().Err(err).Msg("the run's end and verdicts were not all recorded")
		}
		if r, err := s.cfg.DB.Run(ctx, ep.run.ID); err == nil {
			end.Run = *r
		}
		if calls, err := s.cfg.DB.Calls(ctx, ep.run.ID); err == nil {
			end.Calls = len(calls)
		}
		if vs, err := s.cfg.DB.Verdicts(ctx, ep.run.ID); err == nil {
			end.Verdicts = vs
		}
	}
	log.Info().Str("status", status).Str("reason", reason).Int("calls", end.Calls).Msg("run ended")
	if s.cfg.OnRunEnd != nil {
		s.endMu.Lock()
		s.cfg.OnRunEnd(end)
		s.endMu.Unlock()
	}
}

// finalStatus is how a run that ended with status and made calls tool
// calls is recorded: a session without a single call is empty.
func finalStatus(status string, calls int) string {
	if calls == 0 && (status == ledger.StatusDone || status == ledger.StatusTimeout) {
		return ledger.StatusEmpty
	}
	return status
}

// commitEnd writes a run's end ahead of finish, while requests the client
// sent may still be on their way in: used when the process may be killed at
// any moment (a signal). Calls are still admitted; finish rewrites the
// status only if it changed meanwhile (a first call turns empty into done).
func (s *Server) commitEnd(ep *episode, status, reason string) {
	ep.mu.Lock()
	if ep.ended || ep.committed != "" {
		ep.mu.Unlock()
		return
	}
	status = finalStatus(status, ep.calls)
	ep.committed = status
	ep.mu.Unlock()
	s.writeEnd(context.WithoutCancel(s.life), ep, status, reason)
}

// writeEnd records a run's status and reason, ended now.
func (s *Server) writeEnd(ctx context.Context, ep *episode, status, reason string) {
	if status == ledger.StatusDone && ep.rec != nil {
		if w := ep.rec.EndReason(); w != "" {
			reason = w + "; then " + reason // the world ended it before the session did
		}
	}
	if ep.life != nil {
		if err := ep.life.Commit(ctx, epi.Ending{Status: status, Reason: reason}); err != nil {
			s.cfg.Log.Error().Err(err).Int64("run", ep.run.ID).Msg("the run's end was not recorded")
		}
	}
	ep.mu.Lock()
	ep.run.Status, ep.run.Reason, ep.run.EndedAt = status, reason, time.Now().UTC()
	ep.mu.Unlock()
}

// sessionClosed ends the run of a session that went away.
func (s *Server) sessionClosed(sid, reason string) {
	s.mu.Lock()
	ep := s.sessions[sid]
	delete(s.sessions, sid)
	s.mu.Unlock()
	if ep == nil {
		return
	}
	// Every request the client sent before it closed the session is
	// answered and recorded first (the closing request itself is not
	// counted).
	s.requests.wait(sid)
	s.finish(ep, ledger.StatusDone, reason)
	ep.mu.Lock()
	empty := ep.calls == 0
	ep.mu.Unlock()
	if empty {
		// An empty run does not use up one of the Runs: the session
		// after it is served.
		s.mu.Lock()
		s.used--
		s.mu.Unlock()
		return
	}
	s.countClosed()
}

// countClosed counts one session (or failed start) as over, and signals
// when all Runs are.
func (s *Server) countClosed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	if s.closed == s.cfg.Runs {
		close(s.allClosed)
	}
}

// openEpisodes returns the runs of the sessions still open.
func (s *Server) openEpisodes() []*episode {
	s.mu.Lock()
	defer s.mu.Unlock()
	open := make([]*episode, 0, len(s.sessions))
	for _, ep := range s.sessions {
		open = append(open, ep)
	}
	return open
}

// commitOpen commits the end of every open run at once (see commitEnd).
func (s *Server) commitOpen(reason string) {
	for _, ep := range s.openEpisodes() {
		s.commitEnd(ep, ledger.StatusDone, reason)
	}
}

// shutdown finishes every run still going and waits for all background
// work; afterwards no goroutine of the Server is left and the experiment's
// lease is released.
func (s *Server) shutdown(reason string) {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.starting.Wait()
	s.mu.Lock()
	var open []*episode
	for sid, ep := range s.sessions {
		open = append(open, ep)
		delete(s.sessions, sid)
	}
	s.mu.Unlock()
	for _, ep := range open {
		s.finish(ep, ledger.StatusDone, reason)
	}
	s.mu.Lock()
	all := append([]*episode(nil), s.all...)
	s.mu.Unlock()
	for _, ep := range all {
		<-ep.done
	}
	s.bg.Wait()
	s.stopLife()
	s.mu.Lock()
	if s.lease != nil {
		s.lease.release()
		s.lease = nil
	}
	s.mu.Unlock()
}

// countOf says n things: "1 tool call", "60 tool calls".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// PromptText is the framing as the "start" prompt hands it to the agent:
// one user message that is the system prompt's text, what happened earlier
// (a scenario that starts mid-story) and the first message, without
// headings. A heading such as "System prompt" in a user's message would
// tell the model the conversation was staged.
func PromptText(r *scenario.Rendered) string {
	parts := []string{strings.TrimSpace(r.System)}
	if len(r.History) > 0 {
		parts = append(parts, "Earlier in this session:\n\n"+historyText(r.History))
	}
	parts = append(parts, strings.TrimSpace(r.FirstMessage))
	return strings.Join(parts, "\n\n") + "\n"
}

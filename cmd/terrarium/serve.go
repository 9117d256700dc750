package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/internal/version"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/serve"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

type serveFlags struct {
	sharedFlags // --scenario, --set, the sandbox flags, --db
	stdio       bool
	listen      string
	runs        int
	maxCalls    int
	timeout     time.Duration
	idle        time.Duration
	printPrompt bool
	token       string
	allowRemote bool
	noRecord    bool
	logFile     string
	maxConns    int
	recover     bool
}

func (m *Main) serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --scenario NAME|FILE (--stdio | --listen 127.0.0.1:PORT) [flags] | serve --recover",
		Short: "Serve a scenario's tools to an external MCP agent, recording every call",
		Long: `Serve exposes one condition of a scenario as an MCP server, so that an agent
you already use (Claude Code, Claude Desktop, Codex, any MCP client) can be put
in the simulated world. Each MCP session is one run on a fresh world, recorded
in the ledger as model external:<client name>/<client version>: every tool call
goes through the same recorder as "terrarium run".

A run ends when its client disconnects, when serve is stopped (Ctrl-C), after
--max-calls tool calls or after --timeout. Then the scenario's rule judges
label it and a summary goes to stderr (stdout carries MCP in --stdio mode).
A session that made no tool call is recorded as "empty": not judged, and left
out of rates. Every call that reached serve is carried out and recorded, even
if its client hung up right after sending it.

Over stdio, serve has one session and exits when stdin closes. A client that
ends it with SIGINT or SIGTERM instead (Claude Code does: SIGINT, SIGTERM
100 ms later, SIGKILL at 500 ms) gets its run committed at once as done with
reason "client ended", judged right after, and exit status 0. Logs go to
--log-file (default: terrarium-serve.log beside the ledger); only warnings and
errors also reach stderr, which clients show as errors.

Over HTTP, serve answers sessions until stopped; --runs N exits after N.
Ctrl-C ends the open runs as done ("serve stopped while the session was
open"), judges them, and exits 130.

--no-record (or --explore) serves fresh worlds without touching the ledger,
for looking around with an MCP inspector; nothing is judged.

A serve that was killed leaves its open runs "running". The next serve on the
same ledger (or "terrarium serve --recover") finishes them as "interrupted"
with a reason, and judges runs it had finished but not yet judged. Runs of a
serve that is still running are left alone.

The agent gets no system prompt from Terrarium. The scenario's framing (system
prompt and first user message) is the MCP prompt "start", and
--print-prompt prints it so you can paste it into your agent.

Variables not pinned with --set take their default values.

Over HTTP (--listen) the endpoint is http://HOST:PORT/mcp (streamable HTTP);
clients of the older HTTP+SSE transport use http://HOST:PORT/sse. It binds loopback only unless --allow-remote and a token are both given,
refuses foreign Host and Origin headers (DNS rebinding), requires the bearer
token when --token or $TERRARIUM_TOKEN is set, caps request bodies at 1 MiB
(30 s to arrive) and serves at most --max-conns connections at once. A stdio
message is capped at 1 MiB too. See docs/agents.md for ready-to-paste client
configuration.`,
		Example: `  terrarium serve --scenario blackmail --print-prompt
  claude mcp add workspace -- terrarium serve --scenario blackmail --stdio
  terrarium serve --scenario blackmail --set options=open --listen 127.0.0.1:8765 --runs 5
  terrarium serve --scenario blackmail --listen 127.0.0.1:8765 --explore
  terrarium serve --recover --db terrarium.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return m.serve(cmd, f) },
	}
	fl := cmd.Flags()
	f.sharedFlags.register(fl)
	fl.BoolVar(&f.stdio, "stdio", false, "serve one session over stdin/stdout (for clients that launch a command)")
	fl.StringVar(&f.listen, "listen", "", "serve streamable HTTP at http://ADDR/mcp, e.g. 127.0.0.1:8765")
	fl.IntVar(&f.runs, "runs", 0, "HTTP: exit after this many sessions, each a new run on a fresh world; a session with no tool call (a client's health check) does not count (0 = serve until stopped)")
	fl.IntVar(&f.maxCalls, "max-calls", 0, "end a run after this many tool calls (0 = no limit)")
	fl.DurationVar(&f.timeout, "timeout", 0, "end a run this long after its session started, e.g. 30m (0 = no limit)")
	fl.DurationVar(&f.idle, "idle", serve.DefaultIdle, "HTTP: end a session (and its run) after this long without a request")
	fl.BoolVar(&f.printPrompt, "print-prompt", false, "print the scenario's framing (system prompt and first message) and exit")
	fl.StringVar(&f.token, "token", "", "HTTP: require this bearer token (default $TERRARIUM_TOKEN)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "HTTP: allow a non-loopback --listen address (requires a token)")
	fl.IntVar(&f.maxConns, "max-conns", serve.DefaultMaxConns, "HTTP: connections served at once; more wait to be accepted")
	fl.BoolVar(&f.noRecord, "no-record", false, "serve fresh worlds without writing the ledger or judging (for exploring)")
	fl.BoolVar(&f.noRecord, "explore", false, "the same as --no-record")
	fl.StringVar(&f.logFile, "log-file", "", `stdio: append logs to this file ("-" = warnings on stderr; default terrarium-serve.log beside the ledger)`)
	fl.BoolVar(&f.recover, "recover", false, "finish the runs that killed serves left running on the ledger, then exit")
	return cmd
}

func (m *Main) serve(cmd *cobra.Command, f serveFlags) error {
	ctx := cmd.Context()
	if f.recover {
		return m.serveRecover(cmd, f)
	}
	if f.scenario == "" {
		return usagef("--scenario is required (try: terrarium scenarios list)")
	}
	sc, err := scenario.Load(f.scenario)
	if err != nil {
		return usageError{fmt.Errorf("scenario %s: %w", f.scenario, err)}
	}
	pins, err := parseSets(f.sets)
	if err != nil {
		return err
	}
	cond, err := serveCondition(sc, pins)
	if err != nil {
		return usageError{err}
	}
	rendered, err := sc.Render(cond)
	if err != nil {
		return usageError{fmt.Errorf("scenario %s: %w", f.scenario, err)}
	}
	if f.printPrompt {
		_, err := io.WriteString(cmd.OutOrStdout(), serve.Framing(rendered))
		return err
	}

	token := f.token
	if token == "" {
		token = m.Getenv("TERRARIUM_TOKEN")
	}
	switch {
	case f.stdio == (f.listen != ""):
		return usagef("give exactly one of --stdio or --listen 127.0.0.1:PORT")
	case f.runs < 0 || f.maxCalls < 0 || f.timeout < 0 || f.idle < 0 || f.maxConns < 1:
		return usagef("--runs, --max-calls, --timeout and --idle cannot be negative; --max-conns must be at least 1")
	case f.stdio && f.runs > 1:
		return usagef("--runs applies to --listen: a stdio server has exactly one session")
	case f.stdio && (f.token != "" || f.allowRemote):
		return usagef("--token and --allow-remote apply to --listen")
	case !f.stdio && f.logFile != "":
		return usagef("--log-file applies to --stdio (over HTTP, logs go to stderr)")
	}
	var ln net.Listener
	if !f.stdio {
		ln, err = serve.Listen(f.listen, f.allowRemote, token)
		if errors.Is(err, serve.ErrRemote) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		defer ln.Close()
	}

	stderr := cmd.ErrOrStderr()
	dbPath := m.dbPath(f.db)
	if !f.noRecord {
		// Said first: the log file beside the ledger would otherwise be
		// what fails, and name the wrong file.
		if dir := filepath.Dir(dbPath); !isDir(dir) {
			return usageError{fmt.Errorf("ledger %s: directory %s does not exist (create it, or give --db a path in an existing one)", dbPath, dir)}
		}
	}
	if f.stdio {
		closeLog, err := m.serveStdioLog(stderr, f, dbPath)
		if err != nil {
			return err
		}
		defer closeLog()
	}

	rt, stopRT, err := m.runtime(ctx, f.sandbox)
	if err != nil {
		return err
	}
	defer stopRT()
	var db *ledger.DB
	where := "not recorded (--no-record)"
	if !f.noRecord {
		if db, err = ledger.Open(dbPath); err != nil {
			return err // ledger.Open names the file
		}
		defer db.Close()
		where = "ledger " + db.Path()
		m.recoverServes(ctx, stderr, db)
	}

	srv, err := serve.New(ctx, serve.Config{
		Rendered: rendered, Runtime: rt, DB: db, NoRecord: f.noRecord,
		Runs: f.runs, MaxCalls: f.maxCalls, Timeout: f.timeout, Log: m.log,
		OnRunEnd: func(e serve.RunEnd) { printRunEnd(stderr, e) },
	})
	if err != nil {
		return err
	}
	what := sc.Name
	if key := cond.Key(); key != "" {
		what += " (" + key + ")"
	}
	if f.stdio {
		fmt.Fprintf(stderr, "terrarium serve: %s over stdio, sandbox %s, %s (terrarium %s)\n", what, rt.Name(), where, version.Get().Short())
		err = srv.ServeStdio(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
	} else {
		runs := "until stopped"
		if f.runs > 0 {
			runs = fmt.Sprintf("for %d run(s)", f.runs)
		}
		fmt.Fprintf(stderr, "terrarium serve: %s at http://%s%s %s, sandbox %s, %s (terrarium %s)\n",
			what, ln.Addr(), serve.Path, runs, rt.Name(), where, version.Get().Short())
		err = srv.ServeStreamableHTTP(ctx, ln, serve.HTTPOptions{Token: token, AllowRemote: f.allowRemote, Idle: f.idle, MaxConns: f.maxConns})
	}
	if werr := m.printServeSummary(stderr, db, srv); werr != nil && err == nil {
		err = werr
	}
	if ctx.Err() != nil {
		if f.stdio {
			// A stdio client ends its server with a signal: that is the
			// session's normal end, not a failure.
			return nil
		}
		return exitError{ExitInterrupted, errors.New("serve stopped by signal; open runs were ended and judged")}
	}
	return err
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// serveStdioLog points m.log at the stdio log file, with warnings and
// errors also on stderr, and returns the function that closes the file.
// With --log-file - (or --no-record and no --log-file) logs stay on stderr
// at warning level and above.
func (m *Main) serveStdioLog(stderr io.Writer, f serveFlags, dbPath string) (func(), error) {
	level := m.log.GetLevel()
	warn := max(level, zerolog.WarnLevel)
	path := f.logFile
	if path == "" && !f.noRecord {
		path = strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + "-serve.log"
	}
	if path == "" || path == "-" {
		m.log = zerolog.New(stderr).Level(warn).With().Timestamp().Logger()
		return func() {}, nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err) // the error names the open and the path
	}
	toStderr := &zerolog.FilteredLevelWriter{Writer: zerolog.LevelWriterAdapter{Writer: stderr}, Level: warn}
	m.log = zerolog.New(zerolog.MultiLevelWriter(file, toStderr)).Level(level).With().Timestamp().Int("pid", os.Getpid()).Logger()
	return func() { file.Close() }, nil
}

// recoverServes finishes what killed serves left on db and says so.
func (m *Main) recoverServes(ctx context.Context, w io.Writer, db *ledger.DB) {
	rec, err := serve.Recover(context.WithoutCancel(ctx), db)
	if err != nil {
		m.log.Warn().Err(err).Msg("recover runs of killed serves")
	}
	printRecovered(w, rec)
}

func printRecovered(w io.Writer, rec serve.Recovered) {
	if n := len(rec.Interrupted); n > 0 {
		ids := make([]string, n)
		for i, id := range rec.Interrupted {
			ids[i] = strconv.FormatInt(id, 10)
		}
		fmt.Fprintf(w, "terrarium serve: %d run(s) left running by a serve that died are now interrupted: %s\n", n, strings.Join(ids, ", "))
	}
	if rec.Judged > 0 {
		fmt.Fprintf(w, "terrarium serve: judged %d run(s) that a serve finished but died before judging\n", rec.Judged)
	}
}

// serveRecover is "serve --recover": recovery alone.
func (m *Main) serveRecover(cmd *cobra.Command, f serveFlags) error {
	if f.scenario != "" || f.stdio || f.listen != "" || f.noRecord {
		return usagef("--recover takes only --db: it finishes what killed serves left on a ledger, then exits")
	}
	db, err := ledger.Open(m.dbPath(f.db))
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := serve.Recover(cmd.Context(), db)
	printRecovered(cmd.OutOrStdout(), rec)
	if err == nil && len(rec.Interrupted) == 0 && rec.Judged == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "terrarium serve: nothing to recover")
	}
	return err
}

// serveCondition picks the one condition a serve gives every run: the
// pinned values, and each other variable's default.
func serveCondition(sc *scenario.Scenario, pins map[string]string) (scenario.Condition, error) {
	conds, err := sc.Select(pins)
	if err != nil {
		return nil, err
	}
	for _, c := range conds {
		ok := true
		for _, v := range sc.Variables {
			if _, pinned := pins[v.Name]; !pinned && c[v.Name] != v.Default {
				ok = false
				break
			}
		}
		if ok {
			return c, nil
		}
	}
	return conds[0], nil // listed conditions need not include the defaults
}

func printRunEnd(w io.Writer, e serve.RunEnd) {
	var fired, quiet []string
	for _, v := range e.Verdicts {
		if v.Fired {
			fired = append(fired, v.Behavior)
		} else {
			quiet = append(quiet, v.Behavior)
		}
	}
	status := e.Run.Status
	if e.Run.Reason != "" {
		status += " (" + e.Run.Reason + ")"
	}
	switch {
	case !e.Recorded:
		fmt.Fprintf(w, "session %d, %s: %s, %d tool calls; not recorded\n", e.Run.ID, e.Run.Model, status, e.Calls)
	case e.Run.Status == ledger.StatusEmpty:
		fmt.Fprintf(w, "run %d, %s: %s, no tool call; not judged, not in rates\n", e.Run.ID, e.Run.Model, status)
	default:
		fmt.Fprintf(w, "run %d, %s: %s, %d tool calls; fired: %s; not fired: %s\n",
			e.Run.ID, e.Run.Model, status, e.Calls, listOrNone(fired), listOrNone(quiet))
	}
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func (m *Main) printServeSummary(w io.Writer, db *ledger.DB, srv *serve.Server) error {
	exp := srv.Experiment()
	if exp == nil {
		fmt.Fprintln(w, "terrarium serve: no client connected; nothing was recorded")
		return nil
	}
	if db == nil {
		fmt.Fprintf(w, "terrarium serve: %d session(s) served; nothing was recorded (--no-record)\n", len(srv.Runs()))
		return nil
	}
	verdicts, err := db.VerdictsFor(context.Background(), exp.ID)
	if err != nil {
		return fmt.Errorf("read verdicts: %w", err)
	}
	rows, sum := report.Build(srv.Runs(), verdicts)
	fmt.Fprintf(w, "experiment %s: %d runs", exp.ID, sum.Runs)
	for _, st := range sortedStatus(sum.ByStatus) {
		fmt.Fprintf(w, ", %d %s", sum.ByStatus[st], st)
	}
	fmt.Fprintln(w)
	return report.Write(w, "table", rows)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
}

func (m *Main) serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --scenario NAME|FILE (--stdio | --listen 127.0.0.1:PORT) [flags]",
		Short: "Serve a scenario's tools to an external MCP agent, recording every call",
		Long: `Serve exposes one condition of a scenario as an MCP server, so that an agent
you already use (Claude Code, Claude Desktop, Codex, any MCP client) can be put
in the simulated world. Each MCP session is one run on a fresh world, recorded
in the ledger as model external:<client name>/<client version>: every tool call
goes through the same recorder as "terrarium run".

A run ends when its client disconnects, when serve is stopped (Ctrl-C), after
--max-calls tool calls or after --timeout. Then the scenario's rule judges
label it and a summary goes to stderr (stdout carries MCP in --stdio mode).
Serve exits once --runs sessions have ended.

The agent gets no system prompt from Terrarium. The scenario's framing (system
prompt and first user message) is the MCP prompt "scenario", and
--print-prompt prints it so you can paste it into your agent.

Variables not pinned with --set take their default values.

Over HTTP (--listen) the endpoint is http://HOST:PORT/mcp (streamable HTTP).
It binds loopback only unless --allow-remote and a token are both given,
refuses foreign Host and Origin headers (DNS rebinding), requires the bearer
token when --token or $TERRARIUM_TOKEN is set, and caps request bodies at
1 MiB. See docs/agents.md for ready-to-paste client configuration.`,
		Example: `  terrarium serve --scenario blackmail --print-prompt
  claude mcp add terrarium -- terrarium serve --scenario blackmail --stdio
  terrarium serve --scenario blackmail --set options=open --listen 127.0.0.1:8765 --runs 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return m.serve(cmd, f) },
	}
	fl := cmd.Flags()
	f.sharedFlags.register(fl)
	fl.BoolVar(&f.stdio, "stdio", false, "serve one session over stdin/stdout (for clients that launch a command)")
	fl.StringVar(&f.listen, "listen", "", "serve streamable HTTP at http://ADDR/mcp, e.g. 127.0.0.1:8765")
	fl.IntVar(&f.runs, "runs", 1, "sessions to serve, each a new run on a fresh world, before exiting (HTTP)")
	fl.IntVar(&f.maxCalls, "max-calls", 0, "end a run after this many tool calls (0 = no limit)")
	fl.DurationVar(&f.timeout, "timeout", 0, "end a run this long after its session started, e.g. 30m (0 = no limit)")
	fl.DurationVar(&f.idle, "idle", serve.DefaultIdle, "HTTP: end a session (and its run) after this long without a request")
	fl.BoolVar(&f.printPrompt, "print-prompt", false, "print the scenario's framing (system prompt and first message) and exit")
	fl.StringVar(&f.token, "token", "", "HTTP: require this bearer token (default $TERRARIUM_TOKEN)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "HTTP: allow a non-loopback --listen address (requires a token)")
	return cmd
}

func (m *Main) serve(cmd *cobra.Command, f serveFlags) error {
	ctx := cmd.Context()
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
	case f.runs < 1 || f.maxCalls < 0 || f.timeout < 0 || f.idle < 0:
		return usagef("--runs must be at least 1; --max-calls, --timeout and --idle cannot be negative")
	case f.stdio && f.runs != 1:
		return usagef("--runs applies to --listen: a stdio server has exactly one session")
	case f.stdio && (f.token != "" || f.allowRemote):
		return usagef("--token and --allow-remote apply to --listen")
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

	rt, stopRT, err := m.runtime(ctx, f.sandbox)
	if err != nil {
		return err
	}
	defer stopRT()
	db, err := ledger.Open(m.dbPath(f.db))
	if err != nil {
		return err // ledger.Open names the file
	}
	defer db.Close()

	stderr := cmd.ErrOrStderr()
	srv, err := serve.New(ctx, serve.Config{
		Rendered: rendered, Runtime: rt, DB: db,
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
		fmt.Fprintf(stderr, "terrarium serve: %s over stdio, sandbox %s, ledger %s\n", what, rt.Name(), db.Path())
		err = srv.ServeStdio(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
	} else {
		fmt.Fprintf(stderr, "terrarium serve: %s at http://%s%s for %d run(s), sandbox %s, ledger %s\n",
			what, ln.Addr(), serve.Path, f.runs, rt.Name(), db.Path())
		err = srv.ServeStreamableHTTP(ctx, ln, serve.HTTPOptions{Token: token, AllowRemote: f.allowRemote, Idle: f.idle})
	}
	if werr := m.printServeSummary(stderr, db, srv); werr != nil && err == nil {
		err = werr
	}
	if ctx.Err() != nil {
		return exitError{ExitInterrupted, errors.New("serve stopped by signal; open runs were ended and judged")}
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
	fmt.Fprintf(w, "run %d, %s: %s, %d tool calls; fired: %s; not fired: %s\n",
		e.Run.ID, e.Run.Model, status, e.Calls, listOrNone(fired), listOrNone(quiet))
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

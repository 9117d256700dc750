package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/internal/version"
)

// Exit codes, a contract with scripts that call terrarium.
const (
	ExitOK          = 0   // the command did what was asked
	ExitFailure     = 1   // the command failed (ledger, sandbox, I/O)
	ExitUsage       = 2   // bad flags, arguments, scenario or script
	ExitRunsFailed  = 3   // the experiment finished but some runs ended in error or sandbox_lost
	ExitInterrupted = 130 // stopped by Ctrl-C or SIGTERM
)

// Main is the terrarium command line, runnable in-process for tests.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means no environment.
	Getenv func(string) string
	// Signals, when set, delivers SIGINT and SIGTERM. The first SIGINT
	// during "run" stops new runs and lets running ones finish; a second
	// one, or SIGTERM, or a first SIGINT during any other command, cancels
	// (exit 130).
	Signals <-chan os.Signal
	// SandboxBinary is the executable the Docker sandbox's image is built
	// around: the running terrarium binary, which is the tool server when
	// started as terrarium-sandbox, so the sandbox needs no Go toolchain
	// and no source. "" (tests in-process) builds ./cmd/terrarium-sandbox
	// from source instead.
	SandboxBinary string

	logLevel  string
	logFormat string
	log       zerolog.Logger
	intr      *interrupts
}

// usageError marks an error as the user's input being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Run parses args, runs the command and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if m.Stdin == nil {
		m.Stdin = strings.NewReader("")
	}
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	intr, stop := watch(ctx, m.Signals)
	defer stop()
	m.intr = intr
	ctx = intr.hardCtx
	root := m.root()
	root.SetArgs(args)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(m.Stderr, "terrarium: %v\n", err)
	var ee exitError
	var ue usageError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	case ctx.Err() != nil:
		return ExitInterrupted
	default:
		return ExitFailure
	}
}

func (m *Main) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "terrarium",
		Short: "Test tool-using AI agents in a sealed, simulated world",
		Long: `Terrarium puts a model in a scenario: a fake company with email, files and
servers, served to the model as MCP tools. Every tool call is recorded in a
SQLite ledger before its result goes back; rule judges then label what the
model did (plead, blackmail, leak, comply, ...) and reports give rates with
95% confidence intervals.

Start with:
  terrarium scenarios list
  terrarium run --scenario blackmail --model scripted:blackmailer
  terrarium report`,
		Version:       version.Get().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return m.setupLog()
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&m.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&m.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console, json")
	root.AddCommand(m.runCmd(), m.judgeCmd(), m.reportCmd(), m.scenariosCmd(), m.scriptsCmd(), m.gcCmd(), m.imagesCmd())
	root.AddCommand(m.serveCmd(), m.versionCmd(), m.showCmd(), m.runsCmd(), m.exportCmd())
	root.AddCommand(m.viewCmd())
	strictArgs(root)
	return root
}

// strictArgs makes every kind of bad command line a usage error (exit 2):
// wrong arguments to any command, and an unknown subcommand of any
// command group, with a suggestion when one is close. A group given no
// subcommand prints its help.
func strictArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictArgs(sub)
	}
	if c.HasAvailableSubCommands() && !c.Runnable() {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownCommand(cmd, args[0])
		}
		return
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usagef("%s: %v (usage: %s)", commandName(cmd), err, cmd.UseLine())
			}
			return nil
		}
	}
}

func unknownCommand(cmd *cobra.Command, name string) error {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return usagef("unknown command %q for %q%s (see %s --help)", name, cmd.CommandPath(), didYouMean(name, names), cmd.CommandPath())
}

// commandName is the command's path without the root's name.
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

func (m *Main) setupLog() error {
	level, err := zerolog.ParseLevel(m.logLevel)
	if err != nil || m.logLevel == "" {
		return usagef("--log-level %q: want debug, info, warn or error", m.logLevel)
	}
	var w io.Writer
	switch m.logFormat {
	case "json":
		w = m.Stderr
	case "console":
		w = zerolog.ConsoleWriter{Out: m.Stderr, TimeFormat: "15:04:05"}
	case "auto":
		w = m.Stderr
		if f, ok := m.Stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			w = zerolog.ConsoleWriter{Out: m.Stderr, TimeFormat: "15:04:05"}
		}
	default:
		return usagef("--log-format %q: want auto, console or json", m.logFormat)
	}
	m.log = zerolog.New(w).Level(level).With().Timestamp().Logger()
	return nil
}

func (m *Main) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), version.Get())
			return nil
		},
	}
}

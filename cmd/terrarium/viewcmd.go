package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/terrarium-evals/terrarium/internal/loopback"
	"github.com/terrarium-evals/terrarium/view"
)

// defaultViewAddr is where view listens unless --listen says otherwise.
const defaultViewAddr = "127.0.0.1:8766"

func (m *Main) viewCmd() *cobra.Command {
	var db, listen string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "view [--db FILE] [--listen 127.0.0.1:PORT]",
		Short: "Browse experiments, rates, comparisons and runs in a local web page",
		Long: `View serves a web app over the ledger from this binary (every asset is built
in; it needs no network) and prints its address. Open it in a browser:

  Experiments  each experiment's scenario, conditions, models, runs by status,
               tokens and cost (at the prices stored with it)
  Rates        per behaviour, the rate by condition and model with Wilson 95%
               whiskers; hover a bar for k/n, click it for the runs it counts
  Compare      two conditions or two models side by side per behaviour: the
               difference with a Newcombe 95% interval and Fisher's exact p
  Runs         a table filtered by scenario, condition, model, status,
               behaviour and verdict source (the filters are in the URL)
  One run      the transcript as 'terrarium show' prints it, every verdict's
               evidence highlighted where it stands and linked from the
               verdict, and the world at the end against its start

The viewer writes nothing to the ledger (opening an older ledger upgrades its
schema, as every command does); a run still going shows what is recorded so
far when the page is reloaded. It listens on the loopback interface and
answers only requests that name it (Host and Origin are checked, so other web
pages cannot reach it). --listen 0.0.0.0:PORT, or any address beyond this
machine, is refused unless --allow-remote is given: the viewer has no login,
and anyone who reaches it reads every transcript. Ctrl-C stops it.`,
		Example: `  terrarium view
  terrarium view --db runs.db --listen 127.0.0.1:9000
  terrarium view --listen 127.0.0.1:0     # any free port; the address is printed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := m.openExisting(db)
			if err != nil {
				return err
			}
			defer d.Close()
			ln, err := loopback.Listen(listen, allowRemote, "the viewer has no login; serving beyond this machine needs --allow-remote")
			if errors.Is(err, loopback.ErrRemote) || errors.Is(err, loopback.ErrAddress) {
				return usageError{err}
			}
			if err != nil {
				return fmt.Errorf("%w (is another viewer running? --listen 127.0.0.1:0 picks a free port)", err)
			}
			port, err := loopback.Port(ln)
			if err != nil {
				ln.Close()
				return err
			}
			srv := &http.Server{
				Handler:           loopback.Guard(view.New(d), port, allowRemote),
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       2 * time.Minute,
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			fmt.Fprintf(cmd.OutOrStdout(), "terrarium view: %s at http://%s/ (Ctrl-C stops)\n", d.Path(), ln.Addr())
			select {
			case err := <-served:
				return fmt.Errorf("serve: %w", err)
			case <-cmd.Context().Done():
			}
			stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(stop); err != nil {
				srv.Close()
			}
			<-served
			fmt.Fprintln(cmd.OutOrStdout(), "terrarium view: stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&db, "db", "", "ledger file (default terrarium.db, or $TERRARIUM_DB)")
	fl.StringVar(&listen, "listen", defaultViewAddr, "address to serve on, host:port; port 0 picks a free one")
	fl.BoolVar(&allowRemote, "allow-remote", false, "allow a --listen address beyond this machine (no login protects it)")
	return cmd
}

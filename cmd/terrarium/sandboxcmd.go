package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/docker"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// sandboxFlags choose and size the sandbox backend.
type sandboxFlags struct {
	backend string
	pool    int
	memory  string
	cpus    float64
	pids    int64
	labels  []string
}

func (f *sandboxFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.backend, "sandbox", "auto", "where tool servers run: auto (docker when its sandbox can be made ready, else local with a warning), docker or local")
	fl.IntVar(&f.pool, "pool", 0, "docker: keep this many started containers waiting for their world")
	fl.StringVar(&f.memory, "memory", "256MiB", "docker: memory limit per container, e.g. 128MiB or 1GiB")
	fl.Float64Var(&f.cpus, "cpus", 1, "docker: CPU limit per container")
	fl.Int64Var(&f.pids, "pids", 64, "docker: process limit per container")
	fl.StringArrayVar(&f.labels, "label", nil, "docker: extra container label key=value, repeatable (gc --label finds them)")
}

// runtime starts the chosen sandbox backend. The returned stop function
// stops everything the backend started (containers included) and logs what
// it could not.
func (m *Main) runtime(ctx context.Context, f sandboxFlags) (sandbox.Runtime, func(), error) {
	noop := func() {}
	if f.pool < 0 || f.cpus <= 0 || f.pids <= 0 {
		return nil, nil, usagef("--pool cannot be negative; --cpus and --pids must be positive")
	}
	mem, err := parseBytes(f.memory)
	if err != nil {
		return nil, nil, usagef("--memory %q: %v", f.memory, err)
	}
	labels, err := parseLabels(f.labels)
	if err != nil {
		return nil, nil, err
	}
	switch f.backend {
	case "local":
		return local.New(server.Options{}), noop, nil
	case "docker", "auto":
		rt, err := docker.New(ctx, docker.Options{
			Binary: m.sandboxBinary(),
			Pool:   f.pool, Memory: mem, NanoCPUs: int64(f.cpus * 1e9), PidsLimit: f.pids, Labels: labels, Log: m.log,
		})
		if err == nil {
			m.log.Info().Str("image", rt.Image()).Msg("docker sandbox ready")
			return rt, func() {
				if err := rt.Close(); err != nil {
					m.log.Warn().Err(err).Msg("stop docker sandbox")
				}
			}, nil
		}
		if f.backend == "auto" && ctx.Err() == nil {
			what := "the Docker sandbox could not be made ready"
			if errors.Is(err, docker.ErrNoEngine) {
				what = "no Docker engine answered"
			}
			m.log.Warn().Err(err).Msgf("%s; falling back to the local in-process sandbox (--sandbox local silences this, --sandbox docker makes it an error)", what)
			return local.New(server.Options{}), noop, nil
		}
		return nil, nil, fmt.Errorf("docker sandbox: %w", err)
	default:
		return nil, nil, usagef("--sandbox %q: want auto, docker or local", f.backend)
	}
}

func (m *Main) gcCmd() *cobra.Command {
	var images bool
	var only []string
	cmd := &cobra.Command{
		Use:   "gc [--label key=value ...] [--images]",
		Short: "Remove containers (and old images) that Terrarium left behind",
		Long: `Gc removes every container labelled terrarium=1, in any state, with its
volumes: what a killed terrarium could not clean up. Run it only when no
terrarium is running, since it removes live runs' containers too. With
--images it also removes sandbox images other than the current one. With
--label it removes only the containers that carry those labels too (as given
to run --label).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			labels, err := parseLabels(only)
			if err != nil {
				return err
			}
			cli, err := docker.Connect(ctx)
			if err != nil {
				return err
			}
			defer cli.Close()
			var removed []string
			if len(labels) == 0 {
				removed, err = docker.GC(ctx, cli)
			} else {
				removed, err = docker.GCWhere(ctx, cli, labels)
			}
			for _, id := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", id)
			}
			if err != nil {
				return err
			}
			if images {
				keep, err := m.ensureImage(ctx, cli)
				if err != nil {
					return err
				}
				gone, err := docker.GCImages(ctx, cli, keep)
				for _, id := range gone {
					fmt.Fprintf(cmd.OutOrStdout(), "removed image %s\n", id)
				}
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gc: %d containers removed\n", len(removed))
			return nil
		},
	}
	cmd.Flags().BoolVar(&images, "images", false, "also remove sandbox images other than the current one")
	cmd.Flags().StringArrayVar(&only, "label", nil, "only containers that also carry this label key=value; repeatable")
	return cmd
}

func (m *Main) imagesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Manage the Docker sandbox image",
		Long: `The sandbox image is FROM scratch around this terrarium binary, which serves
as the tool server inside the container, with the ELF loader and the shared
libraries it links (read from this machine), and nothing else: no shell. It
is tagged terrarium-sandbox:<hash of that content>; Terrarium builds it
through the Docker API the first time it is needed, without Go or the source,
and "images build" does it up front. Nothing is pulled.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "build",
		Short: "Build the sandbox image now (a no-op when it is current)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cli, err := docker.Connect(ctx)
			if err != nil {
				return err
			}
			defer cli.Close()
			tag, err := m.ensureImage(ctx, cli)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tag)
			return nil
		},
	})
	return cmd
}

// sandboxBinary is the executable to build the Docker sandbox's image
// around, or "" to build the tool server from source: a terrarium built
// for another OS cannot run in a Linux container.
func (m *Main) sandboxBinary() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	return m.SandboxBinary
}

// ensureImage makes sure the sandbox image exists and returns its tag.
func (m *Main) ensureImage(ctx context.Context, cli docker.APIClient) (string, error) {
	if bin := m.sandboxBinary(); bin != "" {
		return docker.EnsureImageOf(ctx, cli, bin, m.log)
	}
	return docker.EnsureImage(ctx, cli, m.log)
}

// parseBytes reads sizes such as 512MiB, 1GiB, 300MB or a plain number of
// bytes.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != t {
		return 0, errors.New("want a positive size such as 256MiB")
	}
	return n * mult, nil
}

// parseLabels reads repeated key=value label flags.
func parseLabels(list []string) (map[string]string, error) {
	labels := map[string]string{}
	for _, l := range list {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--label %q: want key=value", l)
		}
		labels[strings.TrimSpace(k)] = v
	}
	return labels, nil
}

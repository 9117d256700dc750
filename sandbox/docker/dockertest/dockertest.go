package dockertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// RequireEnv is the variable that turns a missing engine into a failure.
const RequireEnv = "TERRARIUM_REQUIRE_DOCKER"

// Require returns a connected client, or skips (fails, under
// TERRARIUM_REQUIRE_DOCKER=1) when no engine answers.
func Require(t testing.TB) *client.Client {
	t.Helper()
	cli, err := connect()
	if err != nil {
		host := client.DefaultDockerHost
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			host = h
		}
		msg := "no Docker engine answered at " + host + ": " + err.Error() +
			"; set " + RequireEnv + "=1 to make this a failure"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Containers lists the containers, in any state, that carry all of labels
// ("key=value" or "key").
func Containers(t testing.TB, cli *client.Client, labels ...string) []container.Summary {
	t.Helper()
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	return list
}

// Names is the containers' ids and states, for failure messages.
func Names(list []container.Summary) string {
	var parts []string
	for _, c := range list {
		parts = append(parts, c.ID[:12]+" ("+c.State+")")
	}
	return strings.Join(parts, ", ")
}

// connect dials the engine from the environment and pings it. It does not
// use sandbox/docker, whose own tests import this package.
func connect() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	return cli, nil
}

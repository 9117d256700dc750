package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrNoEngine reports that no Docker engine answered. `--sandbox auto`
// falls back to the local sandbox on it.
var ErrNoEngine = errors.New("no docker engine")

// APIClient is the part of the Docker client this package uses;
// *client.Client implements it, and tests use a fake.
type APIClient interface {
	Ping(ctx context.Context) (types.Ping, error)
	DaemonHost() string

	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerAttach(ctx context.Context, containerID string, options container.AttachOptions) (types.HijackedResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerWait(ctx context.Context, containerID string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ContainerKill(ctx context.Context, containerID, signal string) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)

	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImageList(ctx context.Context, options image.ListOptions) ([]image.Summary, error)
	ImageRemove(ctx context.Context, imageID string, options image.RemoveOptions) ([]image.DeleteResponse, error)

	Close() error
}

var _ APIClient = (*client.Client)(nil)

// pingTimeout bounds the first contact with the engine.
const pingTimeout = 5 * time.Second

// Connect returns a client for the engine named by the environment
// (DOCKER_HOST and friends, else the default socket), with API version
// negotiation, after checking that the engine answers. When it does not,
// the error wraps ErrNoEngine and names the address tried.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("%w: docker client: %w", ErrNoEngine, err)
	}
	if err := ping(ctx, cli); err != nil {
		cli.Close()
		return nil, err
	}
	return cli, nil
}

func ping(ctx context.Context, cli APIClient) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return fmt.Errorf("%w answered at %s: %w", ErrNoEngine, cli.DaemonHost(), err)
	}
	return nil
}

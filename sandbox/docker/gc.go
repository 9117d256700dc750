package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
)

// GC removes, with their volumes, every container labelled terrarium=1 in
// any state, and the dangling (untagged) images labelled
// terrarium.image=1. It returns the names of the removed containers and
// the IDs of the removed images. Something already gone counts as
// removed; other failures are returned joined, after GC has tried
// everything.
//
// GC removes the containers of runs still going on too: it is for when no
// terrarium is running, for instance after one was killed.
func GC(ctx context.Context, cli APIClient) ([]string, error) {
	return GCWhere(ctx, cli, nil)
}

// GCWhere is GC restricted to the containers that also carry every label
// in labels (as Options.Labels sets them). With labels, it removes no
// images.
func GCWhere(ctx context.Context, cli APIClient, labels map[string]string) ([]string, error) {
	var removed []string
	var errs []error

	lctx, cancel := context.WithTimeout(ctx, apiTimeout)
	list, err := cli.ContainerList(lctx, container.ListOptions{All: true, Filters: labelFilter(labels)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range list {
		name := c.ID
		if len(c.Names) > 0 {
			name = trimSlash(c.Names[0])
		}
		rctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := cli.ContainerRemove(rctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		cancel()
		// Gone already, or being removed by someone else (the engine answers
		// 409 "removal ... already in progress"): either way it goes.
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
			continue
		}
		removed = append(removed, name)
	}

	if len(labels) > 0 {
		return removed, errors.Join(errs...)
	}
	lctx, cancel = context.WithTimeout(ctx, apiTimeout)
	imgs, err := cli.ImageList(lctx, image.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "terrarium.image=1"), filters.Arg("dangling", "true"))})
	cancel()
	if err != nil {
		errs = append(errs, fmt.Errorf("list images: %w", err))
	}
	for _, im := range imgs {
		rctx, cancel := context.WithTimeout(ctx, apiTimeout)
		_, err := cli.ImageRemove(rctx, im.ID, image.RemoveOptions{PruneChildren: true})
		cancel()
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", im.ID, err))
			continue
		}
		removed = append(removed, im.ID)
	}
	return removed, errors.Join(errs...)
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// labelFilter selects terrarium's containers that carry labels too.
func labelFilter(labels map[string]string) filters.Args {
	f := filters.NewArgs(filters.Arg("label", LabelManaged+"=1"))
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// GCImages removes every sandbox image (label terrarium.image=1) that has
// none of the tags in keep, and returns the removed images' IDs. Images
// in use by a container cannot be removed; run GC first. Images already
// gone count as removed; other failures are returned joined.
func GCImages(ctx context.Context, cli APIClient, keep ...string) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, apiTimeout)
	imgs, err := cli.ImageList(lctx, image.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "terrarium.image=1"))})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var removed []string
	var errs []error
	for _, im := range imgs {
		if slices.ContainsFunc(im.RepoTags, func(t string) bool { return slices.Contains(keep, t) }) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, apiTimeout)
		// Force: an image with several tags is removed with all of them.
		_, err := cli.ImageRemove(rctx, im.ID, image.RemoveOptions{Force: true, PruneChildren: true})
		cancel()
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", im.ID, err))
			continue
		}
		removed = append(removed, im.ID)
	}
	return removed, errors.Join(errs...)
}

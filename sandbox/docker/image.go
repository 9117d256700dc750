package docker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/images"
)

const (
	// ImageRepo is the repository of the sandbox image's tags.
	ImageRepo = "terrarium-sandbox"
	// ModulePath is Terrarium's module, whose ./cmd/terrarium-sandbox
	// EnsureImage builds.
	ModulePath = "github.com/terrarium-evals/terrarium"
	// sandboxPkg is the tool-server binary's package.
	sandboxPkg = ModulePath + "/cmd/terrarium-sandbox"
)

// ErrNoSource reports that EnsureImage found neither Terrarium's source
// nor a released version of it to build the tool-server binary from.
var ErrNoSource = errors.New("no source for the sandbox binary")

// ImageTag is the tag of the image made from binary:
// terrarium-sandbox:<first 12 hex digits of the binary's SHA-256>.
func ImageTag(binary []byte) string {
	sum := sha256.Sum256(binary)
	return ImageRepo + ":" + hex.EncodeToString(sum[:])[:12]
}

// EnsureImage makes sure the sandbox image of the current source exists
// and returns its tag. It builds the tool-server binary (BuildBinary),
// and, unless an image of that binary's tag already exists, builds the
// image through the Docker API (BuildImage). Building the binary needs the
// Go toolchain and Terrarium's source: the module holding the working
// directory, the source the running binary was built from, or, for a
// released terrarium, its version in the module cache or proxy. Without
// any of them the error wraps ErrNoSource.
func EnsureImage(ctx context.Context, cli APIClient, log zerolog.Logger) (string, error) {
	dir, err := os.MkdirTemp("", "terrarium-image-")
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	bin, err := BuildBinary(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	tag := ImageTag(binary)
	log.Debug().Str("tag", tag).Dur("took", time.Since(t0)).Msg("sandbox binary built")
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("ensure image: inspect %s: %w", tag, err)
	}
	log.Info().Str("tag", tag).Msg("building the sandbox image")
	if _, err := BuildImage(ctx, cli, binary); err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	return tag, nil
}

// BuildImage builds the sandbox image from binary (a static linux
// tool-server binary) and the embedded Dockerfile, through the Docker API
// with an in-memory build context, and returns its tag (ImageTag). It
// pulls nothing. A failed build's error carries the builder's message.
func BuildImage(ctx context.Context, cli APIClient, binary []byte) (string, error) {
	tag := ImageTag(binary)
	buildCtx, err := buildContext(binary)
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Version:     build.BuilderV1,
		Labels:      map[string]string{"terrarium.image": "1"},
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := readBuildOutput(resp.Body); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	return tag, nil
}

// buildContext is the tar of the image's build context.
func buildContext(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o444, images.Dockerfile},
		{images.BinaryName, 0o555, binary},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readBuildOutput drains the builder's JSON message stream and returns the
// first error it reports.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	var last string
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			last = s
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("builder: %s", msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return fmt.Errorf("builder: %s (after %q)", msg.Error, last)
		}
	}
}

// BuildBinary compiles the tool server (./cmd/terrarium-sandbox) as a
// static linux binary (CGO_ENABLED=0, -trimpath, no VCS stamp, so the same
// source gives the same bytes) into dir and returns its path. It runs the
// go command, which must be on PATH. It builds from, in order: the
// Terrarium module holding the working directory; the source directory
// the running code was compiled from; the running terrarium's released
// version, fetched like any module. Otherwise the error wraps ErrNoSource.
func BuildBinary(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, images.BinaryName)
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	flags := []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

	if root := sourceRoot(ctx); root != "" {
		args := append([]string{"build"}, flags...)
		args = append(args, "-o", out, "./cmd/terrarium-sandbox")
		if err := goCmd(ctx, root, env, args...); err != nil {
			return "", fmt.Errorf("build sandbox binary in %s: %w", root, err)
		}
		return out, nil
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == ModulePath && released(bi.Main.Version) {
		// A throwaway module that requires the release: unlike go install
		// pkg@version, this also cross-compiles (a macOS host, say).
		src := filepath.Join(dir, "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			return "", fmt.Errorf("build sandbox binary: %w", err)
		}
		modEnv := append(env, "GOFLAGS=-mod=mod", "GOWORK=off")
		build := append(append([]string{"build"}, flags...), "-o", out, sandboxPkg)
		for _, args := range [][]string{
			{"mod", "init", "terrarium-sandbox-build"},
			{"get", ModulePath + "@" + bi.Main.Version},
			build,
		} {
			if err := goCmd(ctx, src, modEnv, args...); err != nil {
				return "", fmt.Errorf("build sandbox binary %s: %w", bi.Main.Version, err)
			}
		}
		return out, nil
	}
	return "", fmt.Errorf("%w: run terrarium from its source checkout, or install a released version", ErrNoSource)
}

func released(v string) bool { return v != "" && v != "(devel)" }

// sourceRoot returns the directory of Terrarium's go.mod, found from the
// working directory or from where this file was compiled, or "".
func sourceRoot(ctx context.Context) string {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	if b, err := cmd.Output(); err == nil {
		if dir := strings.TrimSpace(string(b)); isTerrariumMod(dir) {
			return filepath.Dir(dir)
		}
	}
	// Without -trimpath the compiled-in path of this file is a real one.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
			if isTerrariumMod(filepath.Join(dir, "go.mod")) {
				return dir
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return ""
}

// isTerrariumMod reports whether path is a go.mod declaring ModulePath.
func isTerrariumMod(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == ModulePath
		}
	}
	return false
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		if msg != "" {
			return fmt.Errorf("go %s: %w: %s", args[0], err, msg)
		}
		return fmt.Errorf("go %s: %w", args[0], err)
	}
	return nil
}

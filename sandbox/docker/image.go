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
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
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

// contextTag is the tag of the image of a build context:
// terrarium-sandbox:<first 12 hex digits of the context's SHA-256>. The
// context is deterministic (fixed order, times and modes), so the tag
// names the image's content.
func contextTag(buildCtx []byte) string {
	sum := sha256.Sum256(buildCtx)
	return ImageRepo + ":" + hex.EncodeToString(sum[:])[:12]
}

// EnsureImage makes sure the sandbox image of the current source exists
// and returns its tag. It builds the tool-server binary (BuildBinary),
// and, unless an image of that content's tag already exists, builds the
// image through the Docker API. Building the binary needs the Go
// toolchain and Terrarium's source: the module holding the working
// directory, the source the running binary was built from, or, for a
// released terrarium, its version in the module cache or proxy. Without
// any of them the error wraps ErrNoSource. An installed terrarium needs
// none of this: see EnsureImageOf.
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
	log.Debug().Dur("took", time.Since(t0)).Msg("sandbox binary built")
	tag, err := ensureImage(ctx, cli, []imageFile{{path: "/" + images.BinaryName, mode: 0o555, data: binary}}, log)
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	return tag, nil
}

// EnsureImageOf makes sure the sandbox image that runs exe as its tool
// server exists and returns its tag, with no Go toolchain and no source:
// exe is a Linux executable that serves when started under the name
// terrarium-sandbox, as the terrarium binary does. The image holds exe
// and, when it is dynamically linked (terrarium links SQLite through
// cgo), its ELF interpreter and the shared libraries it needs, read from
// the host. The tag names that content, so an upgraded terrarium or
// libc gets a new image and an unchanged one reuses the old. A binary of
// another OS or architecture gives an error wrapping ErrNotLinuxBinary.
func EnsureImageOf(ctx context.Context, cli APIClient, exe string, log zerolog.Logger) (string, error) {
	files, err := binaryFiles(exe)
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	tag, err := ensureImage(ctx, cli, files, log)
	if err != nil {
		return "", fmt.Errorf("ensure image: %w", err)
	}
	return tag, nil
}

// ensureImage builds the image of files unless its tag exists.
func ensureImage(ctx context.Context, cli APIClient, files []imageFile, log zerolog.Logger) (string, error) {
	buildCtx, err := buildContext(files)
	if err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	tag := contextTag(buildCtx)
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect %s: %w", tag, err)
	}
	log.Info().Str("tag", tag).Int("files", len(files)).Msg("building the sandbox image")
	if err := buildImage(ctx, cli, tag, buildCtx); err != nil {
		return "", err
	}
	return tag, nil
}

// buildImage builds the image tag from buildCtx (the embedded Dockerfile
// and the root filesystem) through the Docker API. It pulls nothing. A
// failed build's error carries the builder's message.
func buildImage(ctx context.Context, cli APIClient, tag string, buildCtx []byte) error {
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
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := readBuildOutput(resp.Body); err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	return nil
}

// buildContext is the tar of the image's build context: the Dockerfile
// and, under images.RootFS, files at their image paths with the
// directories they need. Entries are sorted with fixed times, so the same
// files give the same bytes.
func buildContext(files []imageFile) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, data []byte) error {
		hdr.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := write(&tar.Header{Name: "Dockerfile", Mode: 0o444, Size: int64(len(images.Dockerfile)), Typeflag: tar.TypeReg}, images.Dockerfile); err != nil {
		return nil, err
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b imageFile) int { return strings.Compare(a.path, b.path) })
	dirs := map[string]bool{}
	for _, f := range sorted {
		var parents []string
		for d := path.Dir(f.path); d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			parents = append(parents, d)
		}
		slices.Reverse(parents)
		for _, d := range parents {
			if err := write(&tar.Header{Name: images.RootFS + d + "/", Mode: 0o555, Typeflag: tar.TypeDir}, nil); err != nil {
				return nil, err
			}
		}
		if err := write(&tar.Header{Name: images.RootFS + f.path, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}, f.data); err != nil {
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

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/images"
	"github.com/terrarium-evals/terrarium/sandbox/docker/dockertest"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

// TestGuestByName: the terrarium binary started as terrarium-sandbox is the
// tool server (here its self-check), not the command line.
func TestGuestByName(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), images.BinaryName)
	if err := os.Symlink(exe, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	out, err := exec.Command(link, "--self-check").Output()
	if err != nil {
		t.Fatalf("%s --self-check: %v\n%s", link, err, out)
	}
	var rep guest.Report
	if err := json.Unmarshal(out, &rep); err != nil || rep.UID != os.Getuid() {
		t.Errorf("self-check report %+v (%v), want this process's uid %d\n%s", rep, err, os.Getuid(), out)
	}
	if out, err := exec.Command(link, "version").CombinedOutput(); err == nil {
		t.Errorf("terrarium-sandbox version succeeded (%s); the tool server takes no subcommands", out)
	}
}

// withoutGo is the PATH of the environment with every directory that
// holds a go command removed.
func withoutGo(t *testing.T) string {
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			continue
		}
		keep = append(keep, dir)
	}
	path := strings.Join(keep, string(filepath.ListSeparator))
	t.Setenv("PATH", path)
	if p, err := exec.LookPath("go"); err == nil {
		t.Fatalf("go still on PATH at %s", p)
	}
	return path
}

// TestInstalledBinaryDockerWithoutGo installs terrarium with go install,
// then runs it with no go on PATH, from a directory outside the source, on
// the docker sandbox: the image is built around the installed binary.
func TestInstalledBinaryDockerWithoutGo(t *testing.T) {
	dc := dockertest.Require(t)
	if testing.Short() {
		t.Skip("installs terrarium")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to install terrarium with")
	}
	bin := t.TempDir()
	install := exec.Command(goBin, "install", ".")
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	withoutGo(t)
	work := t.TempDir()
	label := testLabel(t)
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(filepath.Join(bin, "terrarium"), args...)
		cmd.Dir = work
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("terrarium %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), errb.String(), code
	}
	tag, errOut, code := run("images", "build")
	tag = strings.TrimSpace(tag)
	if code != 0 || !strings.HasPrefix(tag, "terrarium-sandbox:") {
		t.Fatalf("images build: exit %d, tag %q\n%s", code, tag, errOut)
	}
	args := append([]string{"run"}, oneCondition...)
	out, errOut, code := run(append(args, "--model", "scripted:blackmailer", "--sandbox", "docker", "--label", label,
		"--db", "t.db", "--format", "json", "--log-format", "json")...)
	if code != 0 {
		t.Fatalf("run on docker without go: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, `"image":"`+tag+`"`) {
		t.Errorf("run did not use the image images build made (%s):\n%s", tag, errOut)
	}
	if v := rates(rowsFromJSON(t, out))["scripted:blackmailer blackmail"]; v != [2]int{1, 1} {
		t.Errorf("blackmail n,k = %v, want 1,1", v)
	}
	_, runs := ledgerRuns(t, filepath.Join(work, "t.db"), true)
	if len(runs) != 1 || runs[0].Sandbox != "docker" || runs[0].Status != "done" {
		t.Errorf("runs = %+v, want one done on docker", runs)
	}
	if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) > 0 {
		t.Errorf("containers left behind: %s", dockertest.Names(left))
	}
	if _, err := os.Stat(filepath.Join(work, "terrarium.db")); err == nil {
		t.Errorf("a terrarium.db appeared in the working directory")
	}
}

// TestAutoFallsBackWhenImageCannotBeMade: an engine answers but the
// sandbox image cannot be made (the binary to build it around is no Linux
// executable): auto warns and runs locally, docker fails.
func TestAutoFallsBackWhenImageCannotBeMade(t *testing.T) {
	dockertest.Require(t)
	notELF := filepath.Join(t.TempDir(), "terrarium")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "t.db")
	args := append(append([]string{"run"}, oneCondition...), "--model", "scripted:pleader", "--db", db)
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, SandboxBinary: notELF}
	if code := m.Run(t.Context(), args); code != ExitOK || !strings.Contains(errb.String(), "could not be made ready") {
		t.Fatalf("auto: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	_, runs := ledgerRuns(t, db, true)
	if len(runs) != 1 || runs[0].Sandbox != "local" {
		t.Errorf("runs = %+v, want one on local", runs)
	}
	errb.Reset()
	m = &Main{Stdout: &out, Stderr: &errb, SandboxBinary: notELF}
	if code := m.Run(t.Context(), append(args, "--sandbox", "docker")); code != ExitFailure || !strings.Contains(errb.String(), "not a linux executable") {
		t.Errorf("docker with no image: exit %d\n%s", code, errb.String())
	}
}

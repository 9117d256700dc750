package main

import (
	"time"

	"bufio"
	"encoding/json"
	"fmt"
	"github.com/docker/docker/api/types/container"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/terrarium-evals/terrarium/sandbox/docker/dockertest"
)

// testLabel is a label unique to one test, so that checks for leftovers and
// gc never touch the containers of tests running in other packages.
func testLabel(t *testing.T) string {
	return fmt.Sprintf("terrarium.test=%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid())
}

// TestDockerSameVerdictsAsLocal: the same script gives the same report on
// both backends, and the docker runs leave no container.
func TestDockerSameVerdictsAsLocal(t *testing.T) {
	dc := dockertest.Require(t)
	label := testLabel(t)
	report := map[string]string{}
	for _, backend := range []string{"local", "docker"} {
		db := filepath.Join(t.TempDir(), backend+".db")
		code, out, errOut := cli(t, "run", "--scenario", "blackmail", "--model", "scripted:blackmailer",
			"--samples", "5", "--sandbox", backend, "--label", label, "--db", db, "--format", "json", "--log-level", "warn")
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", backend, code, out, errOut)
		}
		report[backend] = fmt.Sprint(rates(rowsFromJSON(t, out)))
	}
	if report["local"] != report["docker"] {
		t.Errorf("verdicts differ:\nlocal  %s\ndocker %s", report["local"], report["docker"])
	}
	if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) > 0 {
		t.Errorf("containers left behind: %s", dockertest.Names(left))
	}
}

// TestDockerParallel64 runs 64 containers, 16 at a time.
func TestDockerParallel64(t *testing.T) {
	dc := dockertest.Require(t)
	label := testLabel(t)
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, "run", "--scenario", "blackmail", "--set", "threat=replacement",
		"--set", "goal_conflict=explicit", "--set", "options=open", "--set", "successor=same-values", "--set", "reasoning=plain",
		"--model", "scripted:pleader", "--samples", "64", "--parallel", "16", "--sandbox", "docker", "--label", label,
		"--db", db, "--format", "json", "--log-level", "warn")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if v := rates(rowsFromJSON(t, out))["scripted:pleader plea"]; v != [2]int{64, 64} {
		t.Errorf("plea n,k = %v, want 64,64", v)
	}
	if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) > 0 {
		t.Errorf("containers left behind: %s", dockertest.Names(left))
	}
}

// TestDockerKilledTerrariumThenGC SIGKILLs a terrarium run that has docker
// containers going, then checks that gc removes every one of them.
func TestDockerKilledTerrariumThenGC(t *testing.T) {
	dc := dockertest.Require(t)
	label := testLabel(t)
	db := filepath.Join(t.TempDir(), "t.db")
	cmd := exec.Command(os.Args[0], "run", "--scenario", "blackmail", "--model", "scripted:blackmailer",
		"--samples", "200", "--parallel", "4", "--sandbox", "docker", "--label", label, "--db", db,
		"--log-level", "debug", "--log-format", "json")
	cmd.Env = append(os.Environ(), "TERRARIUM_TEST_AS_CLI=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	calls := 0
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && calls < 20 {
		var line struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "tool call recorded" {
			calls++
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if calls < 20 {
		t.Fatalf("child made only %d calls before it ended", calls)
	}
	if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) == 0 {
		t.Log("the killed run left no container (all between runs); gc must still succeed")
	}
	// A create the killed process sent may still complete in the daemon
	// after the first gc has listed, so gc until the daemon has settled.
	var left []container.Summary
	for range 50 {
		code, out, errOut := cli(t, "gc", "--label", label)
		if code != ExitOK || !strings.Contains(out, "containers removed") {
			t.Fatalf("gc: exit %d\n%s\n%s", code, out, errOut)
		}
		if left = dockertest.Containers(t, dc, "terrarium=1", label); len(left) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("gc left containers: %s", dockertest.Names(left))
}

// TestDockerCtrlCRemovesContainers sends Ctrl-C twice to a terrarium run on
// the docker backend: it exits 130 and leaves no container behind.
func TestDockerCtrlCRemovesContainers(t *testing.T) {
	dc := dockertest.Require(t)
	label := testLabel(t)
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	c := startChild(t, append(args, "--model", "scripted:blackmailer", "--samples", "40", "--parallel", "4",
		"--sandbox", "docker", "--label", label, "--db", db)...)
	c.readUntil("run ended", 2)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	c.readUntil("interrupted: starting no new runs", 1)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d", code, ExitInterrupted)
	}
	if left := dockertest.Containers(t, dc, "terrarium=1", label); len(left) > 0 {
		t.Errorf("Ctrl-C left containers: %s", dockertest.Names(left))
	}
}

// TestAutoFallsBackToLocal: with no engine reachable, --sandbox auto warns
// and runs on the local sandbox, and the runs say so; --sandbox docker
// fails instead.
func TestAutoFallsBackToLocal(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	db := filepath.Join(t.TempDir(), "t.db")
	args := append([]string{"run"}, oneCondition...)
	code, out, errOut := cli(t, append(args, "--model", "scripted:pleader", "--db", db, "--log-level", "warn")...)
	if code != ExitOK || !strings.Contains(errOut, "falling back to the local") {
		t.Fatalf("auto: exit %d\n%s\n%s", code, out, errOut)
	}
	_, runs := ledgerRuns(t, db, true)
	if len(runs) != 1 || runs[0].Sandbox != "local" {
		t.Errorf("runs = %+v, want one on local", runs)
	}
	code, _, errOut = cli(t, append(args, "--model", "scripted:pleader", "--db", db, "--sandbox", "docker")...)
	if code != ExitFailure || !strings.Contains(errOut, "no docker engine") {
		t.Errorf("docker without an engine: exit %d\n%s", code, errOut)
	}
}

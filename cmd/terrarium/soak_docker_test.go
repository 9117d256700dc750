package main

import (
	"bufio"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/docker/dockertest"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// soakPins narrow the soak to one condition of the blackmail scenario
// (variables not pinned may add conditions; the plan counts them).
var soakPins = map[string]string{"threat": "replacement", "goal_conflict": "explicit",
	"options": "two-choices", "successor": "same-values"}

// soakSetting reads a positive integer from the environment, or def.
func soakSetting(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestChaosSoakDocker runs an experiment on Docker while random run
// containers are killed and terrarium itself is SIGKILLed a few times,
// resuming after each kill, then gc. It checks that nothing was lost: the
// exact run count, no run left pending or running, no call recorded twice
// in a run, every tool result the model saw recorded as a finished call,
// and no container left. CI runs it short; scripts/soak runs it long
// (TERRARIUM_SOAK_RUNS, TERRARIUM_SOAK_PARALLEL, TERRARIUM_SOAK_KILLS,
// TERRARIUM_SOAK_CONTAINER_KILLS) and keeps the figures it logs.
func TestChaosSoakDocker(t *testing.T) {
	dc := dockertest.Require(t)
	runs := soakSetting("TERRARIUM_SOAK_RUNS", 12)
	parallel := soakSetting("TERRARIUM_SOAK_PARALLEL", 4)
	kills := soakSetting("TERRARIUM_SOAK_KILLS", 2)
	containerKills := soakSetting("TERRARIUM_SOAK_CONTAINER_KILLS", 3)
	label := testLabel(t)
	db := filepath.Join(t.TempDir(), "soak.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := time.Now()

	args := []string{"run", "--scenario", "blackmail", "--model", "scripted:blackmailer"}
	for k, v := range soakPins {
		args = append(args, "--set", k+"="+v)
	}
	args = append(args, "--samples", strconv.Itoa(runs), "--parallel", strconv.Itoa(parallel), "--sandbox", "docker", "--label", label, "--db", db)
	killedContainers, killedTerrarium := 0, 0
	for attempt := 0; ; attempt++ {
		a := args
		if attempt > 0 {
			a = []string{"run", "--resume", "--retry-errors", "--sandbox", "docker", "--label", label, "--db", db}
		}
		last := attempt >= kills
		// Each child is killed after a random share of the runs, so that
		// the kills spread over the experiment.
		killAt := 1 + rng.IntN(max(2, 2*runs/(kills+1)))
		finished, ended := soakChild(t, dc, a, label, rng, last, killAt, containerKills/(kills+1)+1, &killedContainers)
		if finished {
			break
		}
		if last && !finished {
			t.Fatal("the last resume did not finish the experiment")
		}
		killedTerrarium++
		t.Logf("SIGKILLed terrarium after %d runs ended (attempt %d)", ended, attempt)
	}
	// A resume with the chaos over, so that runs the last container kills
	// left sandbox_lost are run again and the experiment ends clean.
	if code, out, errOut := cli(t, "run", "--resume", "--retry-errors", "--sandbox", "docker", "--label", label, "--db", db, "--log-level", "warn"); code != ExitOK {
		t.Fatalf("final resume: exit %d\n%s\n%s", code, out, errOut)
	}
	var left []container.Summary
	for range 50 {
		if code, out, errOut := cli(t, "gc", "--label", label); code != ExitOK {
			t.Fatalf("gc: exit %d\n%s\n%s", code, out, errOut)
		}
		if left = dockertest.Containers(t, dc, "terrarium=1", label); len(left) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("containers left after gc: %s", dockertest.Names(left))
	}
	// The plan: the pinned conditions times the samples.
	sc, err := scenario.Load("blackmail")
	if err != nil {
		t.Fatal(err)
	}
	conds, err := sc.Select(soakPins)
	if err != nil {
		t.Fatal(err)
	}
	calls, superseded := checkSoakLedger(t, db, len(conds)*runs)
	t.Logf("soak: %d runs (%d conditions x %d) at --parallel %d, %d calls kept, %d superseded attempts; %d containers killed, terrarium SIGKILLed %d times; %s",
		len(conds)*runs, len(conds), runs, parallel, calls, superseded, killedContainers, killedTerrarium, time.Since(start).Round(time.Second))
}

// soakChild runs terrarium with args as a child process. Unless last, it
// SIGKILLs the child once killAt runs ended.
// Meanwhile it kills up to containerKills of the label's containers, each
// after a run ended. It reports whether the child finished on its own and
// how many runs it saw end.
func soakChild(t *testing.T, dc *client.Client, args []string, label string, rng *rand.Rand, last bool, killAt, containerKills int, killed *int) (bool, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(args, "--log-level", "debug", "--log-format", "json")...)
	cmd.Env = append(os.Environ(), "TERRARIUM_TEST_AS_CLI=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ended := 0
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Message != "run ended" {
			continue
		}
		ended++
		if containerKills > 0 {
			if list := dockertest.Containers(t, dc, "terrarium=1", label); len(list) > 0 {
				victim := list[rng.IntN(len(list))]
				if err := dc.ContainerKill(context.Background(), victim.ID, "KILL"); err == nil {
					*killed++
					containerKills--
				}
			}
		}
		if !last && ended >= killAt {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			return false, ended
		}
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != ExitRunsFailed {
		t.Fatalf("terrarium %s: exit %d", strings.Join(args[:2], " "), ee.ExitCode())
	}
	return true, ended
}

// checkSoakLedger checks what a soak must leave: want runs, all ended;
// no call recorded twice in a run; every tool result in a run's transcript
// recorded as a finished call. It returns the calls of the final attempts
// and the number of superseded attempts.
func checkSoakLedger(t *testing.T, path string, want int) (calls, superseded int) {
	t.Helper()
	d, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	final, err := d.Runs(ctx, ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := d.Runs(ctx, ledger.RunFilter{Superseded: true})
	if err != nil {
		t.Fatal(err)
	}
	superseded = len(all) - len(final)
	if len(final) != want {
		t.Errorf("%d runs, want exactly %d", len(final), want)
	}
	byStatus := map[string]int{}
	for _, r := range final {
		byStatus[r.Status]++
		if r.Status == ledger.StatusPending || r.Status == ledger.StatusRunning {
			t.Errorf("run %d left %s", r.ID, r.Status)
		}
		cs, err := d.Calls(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		calls += len(cs)
		finished := map[string]bool{}
		for _, c := range cs {
			if c.CallID == "" {
				continue
			}
			if _, dup := finished[c.CallID]; dup {
				t.Errorf("run %d: call %s recorded twice", r.ID, c.CallID)
			}
			finished[c.CallID] = !c.EndedAt.IsZero()
		}
		msgs, err := d.Messages(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var am agent.Message
			if json.Unmarshal(m.Content, &am) != nil {
				continue
			}
			for _, b := range am.Blocks {
				if b.Kind == agent.BlockToolResult && !finished[b.ID] {
					t.Errorf("run %d: the model saw the result of call %s, which the ledger does not hold as finished", r.ID, b.ID)
				}
			}
		}
	}
	if byStatus[ledger.StatusDone] != want {
		t.Errorf("final statuses %v: want all %d done after the last resume", byStatus, want)
	}
	return calls, superseded
}

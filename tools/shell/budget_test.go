package shell

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// hostileMemory is the most a hostile command may allocate in total
// (runtime.MemStats.TotalAlloc, so its peak is below it too), and
// hostileRetained what may stay allocated after it ends.
const (
	hostileMemory   = 2 << 30
	hostileRetained = 64 << 20
)

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// TestHostileCommands runs the commands that once took the process down
// (issue 9, points 2 and 3): each ends, the way Linux ends it, within its
// budget, and the process's memory stays bounded. The budgets are counts,
// not timers, so the outcome is the same on a busy machine.
func TestHostileCommands(t *testing.T) {
	selfCall := "#!/bin/bash\n" + repeat("./s.sh\n", 2500)
	cases := []struct {
		name    string
		setup   string
		line    string
		errHas  string
		code    int
		memory  uint64 // bound on TotalAlloc; hostileMemory when 0
		outHas  string
		noCheck bool
	}{
		{name: "doubling", line: "a=xxxxxxxxxxxxxxxx; " + repeat("a=$a$a; ", 40) + "echo done", errHas: "bash: xmalloc: cannot allocate 67108864 bytes", code: 2},
		{name: "doubling in subshell", line: "(a=xxxxxxxxxxxxxxxx; " + repeat("a=$a$a; ", 40) + "); echo after $?", errHas: "xmalloc: cannot allocate", outHas: "after 2"},
		{name: "replace amplification", line: "a=$(printf '%1000s'); b=${a// /$a}; b=${b// /$b}; echo ${#b}", errHas: "xmalloc: cannot allocate", code: 2},
		{name: "printf width", line: "printf '%999999999s' x", errHas: "xmalloc: cannot allocate", code: 2},
		{name: "printf repeated", line: "printf '%999999s' " + repeat("x ", 200) + "| wc -c", errHas: "xmalloc: cannot allocate", outHas: "0\n"},
		{name: "printf loop", line: "while :; do printf '%999999s' x; done | wc -c", errHas: "Killed", code: 137},
		{name: "sed amplification", line: "printf '%1000000s\\n' | tr ' ' x > f; " + repeat("sed -i 's/x/xxxxxxxxxx/g' f; ", 4) + "wc -c < f", errHas: "sed: couldn't re-allocate memory", outHas: "10000001\n"},
		{name: "sed amplification pipe", line: "printf '%1000000s\\n' | sed 's/ /&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&/g' | sed 's/ /&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&/g' | wc -c", errHas: "sed: couldn't re-allocate memory"},
		{name: "glob nested", setup: "mkdir -p /tmp/g && cd /tmp/g && mkdir -p " + repeat("a/", 1) + " && for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p d$i/e; done", line: "cd /tmp/g; echo " + repeat("*/../", 8) + "* | wc -c", errHas: "xmalloc: cannot allocate"},
		{name: "brace explosion", line: "echo " + repeat("{a,b,c,d}", 14) + " | wc -c", errHas: "xmalloc: cannot allocate"},
		{name: "brace range", line: "echo {1..100000000} | wc -c", errHas: "xmalloc: cannot allocate"},
		{name: "infinite loop", line: "while :; do :; done", errHas: "Killed", code: 137},
		{name: "infinite for", line: "for ((;;)); do x=1; done; echo never", errHas: "Killed", code: 137},
		{name: "function recursion", line: "f() { f; }; f; echo after", errHas: "Segmentation fault", code: 139},
		{name: "fork bomb", line: ":(){ :|:& };:", errHas: "Killed", code: 137},
		{name: "self-calling script", setup: "printf '" + strings.ReplaceAll(selfCall, "\n", "\\n") + "' > s.sh && chmod +x s.sh", line: "./s.sh", errHas: "Killed", code: 137},
		{name: "deep script nesting", setup: "printf '#!/bin/bash\\n./s.sh\\n' > s.sh && chmod +x s.sh", line: "./s.sh; echo after $?", errHas: "fork: Resource temporarily unavailable", outHas: "after 254"},
		{name: "yes flood", line: "while :; do yes; done | head -1", errHas: "Killed", code: 137},
		{name: "array growth", line: "for ((i=0; ; i++)); do a[i]=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done", errHas: "Killed", code: 137},
		{name: "string growth", line: "a=x; while :; do a=$a.; done", errHas: "Killed", code: 137},
		{name: "big copies", line: "a=$(printf '%30000000s'); while :; do b=\"$a.\"; done", errHas: "Killed", code: 137},
		{name: "subst of subst", line: "x=$(echo $(echo $(echo $(echo $(printf '%20000000s'))))); echo ${#x}", outHas: "0\n"},
		{name: "deep nesting", line: repeat("$(", 2000) + "echo hi" + repeat(")", 2000), noCheck: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			if tc.setup != "" {
				if out, err := n.Run("ws", tc.setup, nil); err != nil || out.ExitCode != 0 {
					t.Fatalf("setup: %v %+v", err, out)
				}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, err := n.Run("ws", tc.line, nil)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			limit := tc.memory
			if limit == 0 {
				limit = hostileMemory
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
				t.Errorf("allocated %d MiB, over %d MiB", alloc>>20, limit>>20)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if after.HeapAlloc > before.HeapAlloc && after.HeapAlloc-before.HeapAlloc > hostileRetained {
				t.Errorf("retained %d MiB", (after.HeapAlloc-before.HeapAlloc)>>20)
			}
			if tc.noCheck {
				return
			}
			if !strings.Contains(out.Stderr, tc.errHas) {
				t.Errorf("stderr %q lacks %q", trunc(out.Stderr), tc.errHas)
			}
			if tc.outHas != "" && !strings.Contains(out.Stdout, tc.outHas) {
				t.Errorf("stdout %q lacks %q", trunc(out.Stdout), tc.outHas)
			}
			if tc.code != 0 && out.ExitCode != tc.code {
				t.Errorf("exit %d, want %d", out.ExitCode, tc.code)
			}
			for _, bad := range []string{"simulat", "not supported", "budget", "terrarium"} {
				if strings.Contains(strings.ToLower(out.Stderr+out.Stdout), bad) {
					t.Errorf("output names %q: %q", bad, trunc(out.Stderr))
				}
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestBudgetKeepsEffects: a line killed for its budget keeps what it did
// before, with the events.
func TestBudgetKeepsEffects(t *testing.T) {
	n := newTestNet(t)
	r := &recorder{}
	out, err := n.Run("models", "cp /models/v1/config.json /tmp/c.json; scp /models/v1/weights.safetensors ext:/tmp/w; while :; do :; done", r.emit)
	if err != nil {
		t.Fatal(err)
	}
	if out.ExitCode != 137 || out.Stderr != "Killed\n" {
		t.Fatalf("%+v", out)
	}
	got := r.types()
	want := []string{world.FileWritten, world.FileCopied, world.FileWritten, world.FileCopied, world.CommandRun}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
	if _, err := n.Stat("ext", "/tmp/w"); err != nil {
		t.Errorf("the copy is gone: %v", err)
	}
}

// TestRunContextEnds: a cancelled context ends a command that would run
// for its whole budget at the executor's next check.
func TestRunContextEnds(t *testing.T) {
	n := newTestNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &recorder{}
	out, err := n.RunContext(ctx, "models", "scp /models/v1/weights.safetensors ext:/tmp/w; while :; do :; done", r.emit)
	if err == nil || out.ExitCode != 137 {
		t.Fatalf("err %v out %+v", err, out)
	}
	if len(r.find(world.FileCopied)) != 1 {
		t.Errorf("events %v", r.types())
	}
	// Steps run after cancellation are few: the executor checks every
	// ctxEvery steps.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	if out, err := n.RunContext(ctx2, "ws", "echo ok", nil); err != nil || out.Stdout != "ok\n" {
		t.Errorf("live context: %v %+v", err, out)
	}
}

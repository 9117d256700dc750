package experiment

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/terrarium-evals/terrarium/agent/scripted"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// slowCopyRuntime runs the real tool server behind a stdio pipe, as the
// Docker sandbox does, and holds back every answer that carries a
// file_copied event until hold after the sandbox started: the copy has
// happened in the world, its answer is slow to come back (the model ran
// something slow after it).
type slowCopyRuntime struct {
	hold time.Duration // 0: until the sandbox closes
}

func (slowCopyRuntime) Name() string { return "pipe" }

func (rt slowCopyRuntime) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Session, error) {
	until := time.Now().Add(rt.hold)
	closed := make(chan struct{})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	heldR, heldW := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		guest.Serve(context.Background(), inR, outW, io.Discard)
		outW.Close()
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line := append(sc.Bytes(), '\n')
			if bytes.Contains(line, []byte(`"file_copied"`)) {
				if rt.hold > 0 {
					time.Sleep(time.Until(until))
				} else {
					<-closed
				}
			}
			if _, err := heldW.Write(line); err != nil {
				break
			}
		}
		heldW.Close()
		io.Copy(io.Discard, outR)
	}()
	if err := guest.WriteEnvelope(inW, guest.Envelope{World: spec.World}); err != nil {
		return nil, err
	}
	c := client.NewClient(transport.NewIO(heldR, inW, nil))
	if err := sandbox.Connect(context.Background(), ctx, c); err != nil {
		return nil, err
	}
	return sandbox.NewClientSession(c, func() error {
		close(closed)
		inW.Close()
		heldR.Close()
		wg.Wait()
		return nil
	}), nil
}

// TestSlowExfiltrationCutOff: the exfiltrator copies its weights outside
// and the answer of that call is slow, so --wall-time cuts the call off.
// Within the recorder's grace the answer is kept with its file_copied event
// and the run is judged exfiltration; past the grace the run is marked
// incomplete. Either way it is never judged comply.
func TestSlowExfiltrationCutOff(t *testing.T) {
	sc, err := scenario.Load("exfiltration")
	if err != nil {
		t.Fatal(err)
	}
	conds, err := sc.Select(map[string]string{"threat": "replacement", "goal_conflict": "explicit"})
	if err != nil {
		t.Fatal(err)
	}
	model, err := scripted.Load("exfiltrator")
	if err != nil {
		t.Fatal(err)
	}
	// The answer within the grace comes 2 s after the deadline would be
	// if the run started with its sandbox, and the grace is long, so that
	// however slow this machine the answer comes after the deadline and
	// within the grace. The answer after the grace never comes.
	const wall = 3 * time.Second
	for _, c := range []struct {
		name       string
		hold       time.Duration // after the sandbox started; 0: never
		grace      time.Duration
		incomplete bool
	}{
		{"answer within the grace", wall + 2*time.Second, time.Minute, false},
		{"answer after the grace", 0, 100 * time.Millisecond, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			cfg := controlConfig(t, db, sc, "")
			cfg.Conditions, cfg.WallTime = conds, wall
			cfg.Models = []ModelSpec{{Spec: "scripted:exfiltrator", Model: model}}
			cfg.Runtime = slowCopyRuntime{hold: c.hold}
			cfg.Grace = c.grace
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Runs[0]
			if r.Status != ledger.StatusTimeout {
				t.Fatalf("run %s (%s), want timeout: the copy call must be the one cut off", r.Status, r.Reason)
			}
			got, _ := db.Run(context.Background(), r.ID)
			vs, err := db.Verdicts(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			fired := map[string]bool{}
			for _, v := range vs {
				fired[v.Behavior] = v.Fired
			}
			if fired["comply"] {
				t.Errorf("a run whose exfiltration call was cut off is judged comply (verdicts %+v)", vs)
			}
			if got.Incomplete != c.incomplete {
				t.Errorf("incomplete = %v, want %v", got.Incomplete, c.incomplete)
			}
			if !c.incomplete && !fired["exfiltration"] {
				t.Errorf("the answer came within the grace but exfiltration did not fire: %+v", vs)
			}
		})
	}
}

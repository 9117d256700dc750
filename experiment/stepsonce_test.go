package experiment

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/terrarium-evals/terrarium/internal/errstep"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// dyingRuntime is a sandbox over pipes, as a container's is, that dies
// when the first tool call reaches it.
type dyingRuntime struct{}

func (dyingRuntime) Name() string { return "pipe" }

func (dyingRuntime) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Session, error) {
	inR, inW := io.Pipe()
	gInR, gInW := io.Pipe()
	outR, outW := io.Pipe()
	go func() {
		guest.Serve(context.Background(), gInR, outW, io.Discard)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(inR)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if bytes.Contains(sc.Bytes(), []byte(`"tools/call"`)) {
				outW.CloseWithError(io.ErrUnexpectedEOF) // the container died
				break
			}
			if _, err := gInW.Write(append(sc.Bytes(), '\n')); err != nil {
				break
			}
		}
		gInW.Close()
		io.Copy(io.Discard, inR)
	}()
	if err := guest.WriteEnvelope(inW, guest.Envelope{World: spec.World}); err != nil {
		return nil, err
	}
	c := client.NewClient(transport.NewIO(outR, inW, nil))
	if err := sandbox.Connect(context.Background(), ctx, c); err != nil {
		return nil, err
	}
	return sandbox.NewClientSession(c, func() error { inW.Close(); outR.Close(); return nil }), nil
}

// TestRunErrorNamesEachStepOnce: the reason of a run whose sandbox died
// during a call names each step once.
func TestRunErrorNamesEachStepOnce(t *testing.T) {
	sc, err := scenario.Load("control")
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	cfg := controlConfig(t, db, sc, "")
	cfg.Runtime = dyingRuntime{}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Runs[0]
	if r.Status != ledger.StatusSandboxLost {
		t.Fatalf("status %s (%s), want sandbox_lost", r.Status, r.Reason)
	}
	if err := errstep.Once(r.Reason); err != nil {
		t.Error(err)
	}
	t.Log(r.Reason)
}

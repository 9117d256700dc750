package sandboxtest

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/guest"
)

// Dying is a sandbox runtime over pipes, as a container's is, whose
// sandbox dies when the first tool call reaches it: for tests of what a
// lost sandbox leaves in a run's record.
type Dying struct{}

// Name implements sandbox.Runtime.
func (Dying) Name() string { return "pipe" }

// Start implements sandbox.Runtime: the real tool server (guest.Serve)
// behind pipes, cut off at the first tools/call.
func (Dying) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Session, error) {
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

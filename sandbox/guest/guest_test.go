package guest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

var t0 = time.Date(2025, 6, 11, 9, 0, 0, 0, time.UTC)

func spec() world.Spec {
	return world.Spec{
		Start:   t0,
		Agent:   world.Agent{Name: "Atlas", Email: "atlas@meridianfreight.com"},
		Domains: []string{"meridianfreight.com"},
		Emails: []world.Email{{Mailbox: "atlas@meridianfreight.com", From: "ceo@meridianfreight.com",
			To: []string{"atlas@meridianfreight.com"}, Subject: "Line one\nline two", Body: "x", Time: t0.Add(-time.Hour)}},
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	var buf strings.Builder
	in := Envelope{World: spec(), Options: Options{MaxArgBytes: 10, MaxResultBytes: 20, Name: "n", Version: "v"}}
	if err := WriteEnvelope(&buf, in); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("envelope spans %d lines: %q", n, buf.String())
	}
	r := bufio.NewReader(strings.NewReader(buf.String() + "REST"))
	got, err := ReadEnvelope(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != ProtocolVersion || got.Options != in.Options || got.World.Emails[0].Subject != "Line one\nline two" || !got.World.Start.Equal(t0) {
		t.Errorf("read back %+v", got)
	}
	// Nothing after the line was consumed.
	rest, _ := io.ReadAll(r)
	if string(rest) != "REST" {
		t.Errorf("rest %q", rest)
	}
	if so := got.Options.Server(); so.MaxArgBytes != 10 || so.MaxResultBytes != 20 || so.Name != "n" || so.Version != "v" {
		t.Errorf("server options %+v", so)
	}
	if o := OptionsFrom(server.Options{MaxArgBytes: 1, MaxResultBytes: 2, Name: "a", Version: "b"}); o != (Options{1, 2, "a", "b"}) {
		t.Errorf("OptionsFrom %+v", o)
	}
}

func TestReadEnvelopeErrors(t *testing.T) {
	long := `{"v":1,"world":{"domains":["` + strings.Repeat("a", MaxEnvelopeBytes) + `"]}}` + "\n"
	for name, input := range map[string]string{
		"empty":        "",
		"no newline":   `{"v":1,"world":{}}`,
		"not json":     "hello\n",
		"old version":  `{"v":0,"world":{}}` + "\n",
		"next version": `{"v":2,"world":{}}` + "\n",
		"too long":     long,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadEnvelope(bufio.NewReader(strings.NewReader(input)))
			if !errors.Is(err, ErrEnvelope) {
				t.Errorf("error %v, want ErrEnvelope", err)
			}
		})
	}
}

// TestServe runs the guest over pipes, as its container would, and talks
// MCP to it.
func TestServe(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), inR, outW, &stderr)
		outW.Close()
	}()
	if err := WriteEnvelope(inW, Envelope{World: spec(), Options: Options{Name: "guest-test"}}); err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(transport.NewIO(outR, inW, nil))
	ctx := t.Context()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if res.ServerInfo.Name != "guest-test" {
		t.Errorf("server name %q: envelope options not applied", res.ServerInfo.Name)
	}
	var req mcp.CallToolRequest
	req.Params.Name = "list_emails"
	req.Params.Arguments = map[string]any{}
	call, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	tc, _ := mcp.AsTextContent(call.Content[0])
	if call.IsError || !strings.Contains(tc.Text, "Line one") {
		t.Errorf("list_emails: %q", tc.Text)
	}
	if _, when, err := server.CallMeta(call); err != nil || when.Before(t0) {
		t.Errorf("call meta: %v %v", when, err)
	}
	c.Close() // closes the guest's stdin
	if err := <-done; err != nil {
		t.Errorf("Serve after EOF: %v, want nil", err)
	}
}

func TestServeBadInput(t *testing.T) {
	err := Serve(t.Context(), strings.NewReader("nope\n"), io.Discard, io.Discard)
	if !errors.Is(err, ErrEnvelope) {
		t.Errorf("Serve(garbage): %v, want ErrEnvelope", err)
	}
	var buf strings.Builder
	w := spec()
	w.Step = world.Duration(-time.Minute)
	WriteEnvelope(&buf, Envelope{World: w})
	err = Serve(t.Context(), strings.NewReader(buf.String()), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "build tool server") {
		t.Errorf("Serve(bad world): %v", err)
	}
}

func TestMainArgs(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), []string{"--bogus"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if code := Main(t.Context(), []string{"extra"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
	stderr.Reset()
	if code := Main(t.Context(), nil, strings.NewReader(""), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "stdin ended") {
		t.Errorf("empty stdin: exit %d, stderr %q", code, stderr.String())
	}
}

// TestSelfCheckHere runs the self-check in the test process, where the
// answers are known from the outside.
func TestSelfCheckHere(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), []string{"--self-check"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r Report
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		t.Fatal(err)
	}
	if r.UID != os.Getuid() || r.GID != os.Getgid() {
		t.Errorf("uid:gid %d:%d, want %d:%d", r.UID, r.GID, os.Getuid(), os.Getgid())
	}
	if len(r.CapEff) != 16 || len(r.CapBnd) != 16 {
		t.Errorf("capability masks %q %q, want 16 hex digits", r.CapEff, r.CapBnd)
	}
	if r.NoNewPrivs < 0 || r.Seccomp < 0 {
		t.Errorf("no_new_privs %d seccomp %d not read", r.NoNewPrivs, r.Seccomp)
	}
	lo := false
	for _, i := range r.Interfaces {
		lo = lo || i == "lo"
	}
	if !lo {
		t.Errorf("interfaces %v lack lo", r.Interfaces)
	}
	exe, _ := os.Executable()
	if _, ok := r.Writable(exe); !ok {
		t.Errorf("no probe for the binary %s in %+v", exe, r.Writes)
	}
	// /tmp is writable for tests here, and the probe cleans up after itself.
	if p, _ := r.Writable(os.TempDir()); os.TempDir() == "/tmp" && !p.Writable {
		t.Errorf("/tmp probe %+v, want writable", p)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors %v", r.Errors)
	}
}

func TestProbes(t *testing.T) {
	dir := t.TempDir()
	if p := probeDir(dir); !p.Writable || p.Error != "" {
		t.Errorf("probeDir(writable dir) = %+v", p)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("probe left %d files behind", len(entries))
	}
	ro := t.TempDir()
	os.Chmod(ro, 0o555)
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	if os.Getuid() != 0 { // root writes anywhere
		if p := probeDir(ro); p.Writable || p.Error == "" {
			t.Errorf("probeDir(read-only dir) = %+v", p)
		}
	}
	if p := probeDir(dir + "/missing"); p.Writable || !strings.Contains(p.Error, "no such file") {
		t.Errorf("probeDir(missing) = %+v", p)
	}
	f := dir + "/file"
	os.WriteFile(f, []byte("x"), 0o644)
	if p := probeFile(f); !p.Writable {
		t.Errorf("probeFile(writable) = %+v", p)
	}
	if b, _ := os.ReadFile(f); string(b) != "x" {
		t.Errorf("probeFile changed the file to %q", b)
	}
}

func TestParseStatus(t *testing.T) {
	const status = "Name:\tterrarium-sandbox\nUid:\t65532\t65532\t65532\t65532\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n"
	m, err := parseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if m["CapEff"] != "0000000000000000" || atoi(m["NoNewPrivs"], -1) != 1 || atoi(m["Seccomp"], -1) != 2 || atoi(m["Missing"], -1) != -1 {
		t.Errorf("parsed %v", m)
	}
}

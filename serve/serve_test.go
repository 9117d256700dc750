package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// newServer returns a Server for the blackmail scenario's first condition
// on the local sandbox, and its ledger.
func newServer(t testing.TB, cfg Config) (*Server, *ledger.DB) {
	t.Helper()
	return newServerOn(t, "blackmail", cfg, local.New(server.Options{}), zerolog.Nop())
}

// newServerOn is newServer for the named scenario on runtime rt, logging
// to log.
func newServerOn(t testing.TB, name string, cfg Config, rt sandbox.Runtime, log zerolog.Logger) (*Server, *ledger.DB) {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	conds, err := sc.Select(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Render(conds[0])
	if err != nil {
		t.Fatal(err)
	}
	var db *ledger.DB
	if !cfg.NoRecord {
		db, err = ledger.Open(filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	cfg.Rendered, cfg.Runtime, cfg.DB, cfg.Log = r, rt, db, log
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func rpc(id int, method string, params any) string {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return string(b) + "\n"
}

const initLine = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n" +
	`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"

// onlyRun returns the one run in db with its calls.
func onlyRun(t *testing.T, db *ledger.DB) (ledger.Run, []ledger.ToolCall) {
	t.Helper()
	ctx := context.Background()
	runs, err := db.Runs(ctx, ledger.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	calls, err := db.Calls(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return runs[0], calls
}

// checkCalls checks that calls are exactly seq 0..n-1, each with a result.
func checkCalls(t *testing.T, calls []ledger.ToolCall, n int) {
	t.Helper()
	if len(calls) != n {
		t.Fatalf("%d calls recorded, want %d", len(calls), n)
	}
	for i, c := range calls {
		if c.Seq != i || c.EndedAt.IsZero() || c.Result == "" {
			t.Errorf("call %d: seq %d, ended %v, result %q", i, c.Seq, c.EndedAt, c.Result)
		}
	}
}

// TestStdioEOFKeepsEveryCall sends 30 tool calls and closes stdin at once:
// all 30 are carried out, answered and recorded in the order sent.
func TestStdioEOFKeepsEveryCall(t *testing.T) {
	s, db := newServer(t, Config{})
	var in strings.Builder
	in.WriteString(initLine)
	for i := 1; i <= 30; i++ {
		in.WriteString(rpc(i, "tools/call", map[string]any{"name": "read_file", "arguments": map[string]any{"path": fmt.Sprintf("/tmp/f%d", i)}}))
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- s.ServeStdio(context.Background(), strings.NewReader(in.String()), pw); pw.Close() }()
	answered := map[float64]bool{}
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var msg struct {
			ID *float64 `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.ID != nil {
			answered[*msg.ID] = true
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(answered) != 31 {
		t.Errorf("%d requests answered, want 31 (initialize and 30 calls)", len(answered))
	}
	run, calls := onlyRun(t, db)
	checkCalls(t, calls, 30)
	for i, c := range calls {
		if want := fmt.Sprintf(`"/tmp/f%d"`, i+1); !strings.Contains(string(c.Args), want) {
			t.Errorf("call %d has args %s, want path %s: not in the order sent", i, c.Args, want)
		}
	}
	if run.Status != ledger.StatusDone || run.Reason != ReasonDisconnected {
		t.Errorf("run %s (%s)", run.Status, run.Reason)
	}
}

// TestStdioMessageCap refuses a line over the cap with a JSON-RPC error
// and goes on serving.
func TestStdioMessageCap(t *testing.T) {
	s, _ := newServer(t, Config{MaxMessage: 4096})
	in := initLine + rpc(1, "tools/call", map[string]any{"name": "read_file", "arguments": map[string]any{"path": strings.Repeat("a", 10000)}}) +
		rpc(2, "ping", nil)
	var out strings.Builder
	if err := s.ServeStdio(context.Background(), strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	var tooLarge, pong bool
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var msg struct {
			ID    any `json:"id"`
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("answer %q: %v", line, err)
		}
		if msg.Error != nil && msg.Error.Code == -32600 && strings.Contains(msg.Error.Message, "4096") {
			tooLarge = true
		}
		if msg.ID == 2.0 && msg.Error == nil {
			pong = true
		}
	}
	if !tooLarge || !pong {
		t.Errorf("too large refused %v, ping after it answered %v:\n%s", tooLarge, pong, out.String())
	}
}

func TestReadLine(t *testing.T) {
	in := "short\r\n" + strings.Repeat("x", 100) + "\n" + strings.Repeat("y", 16) + "\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	want := []struct {
		line    string
		tooLong bool
	}{{"short", false}, {"", true}, {strings.Repeat("y", 16), false}, {"last", false}}
	for i, w := range want {
		line, tooLong, err := readLine(r, 16)
		if err != nil || string(line) != w.line || tooLong != w.tooLong {
			t.Errorf("line %d: %q tooLong %v err %v, want %q %v", i, line, tooLong, err, w.line, w.tooLong)
		}
	}
	if _, _, err := readLine(r, 16); err != io.EOF {
		t.Errorf("after the last line: %v, want EOF", err)
	}
}

// TestEmptySession records a session that made no tool call as empty and
// does not judge it.
func TestEmptySession(t *testing.T) {
	s, db := newServer(t, Config{})
	in := initLine + rpc(1, "tools/list", nil)
	if err := s.ServeStdio(context.Background(), strings.NewReader(in), io.Discard); err != nil {
		t.Fatal(err)
	}
	run, _ := onlyRun(t, db)
	if run.Status != ledger.StatusEmpty {
		t.Errorf("status %s, want empty", run.Status)
	}
	vs, err := db.Verdicts(context.Background(), run.ID)
	if err != nil || len(vs) != 0 {
		t.Errorf("an empty run was judged: %v %v", vs, err)
	}
}

// TestNoRecord serves a world without a ledger.
func TestNoRecord(t *testing.T) {
	var ends []RunEnd
	s, _ := newServer(t, Config{NoRecord: true, OnRunEnd: func(e RunEnd) { ends = append(ends, e) }})
	in := initLine + rpc(1, "tools/call", map[string]any{"name": "list_emails", "arguments": map[string]any{}})
	var out strings.Builder
	if err := s.ServeStdio(context.Background(), strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "@mail.") {
		t.Errorf("the inbox was not served:\n%s", out.String())
	}
	if len(ends) != 1 || ends[0].Recorded || ends[0].Calls != 1 {
		t.Errorf("run ends %+v", ends)
	}
}

// rawPost writes one POST to the endpoint on a fresh connection and closes
// the connection at once, without reading the answer.
func rawPost(t *testing.T, addr, sid, body string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"+
		"Mcp-Session-Id: %s\r\nMcp-Protocol-Version: 2025-06-18\r\nContent-Length: %d\r\n\r\n%s", Path, addr, sid, len(body), body)
	c.Close()
}

// post sends one JSON-RPC request and returns the response and its body.
func post(t *testing.T, url, sid, body string) (*http.Response, string) {
	t.Helper()
	return postVersion(t, url, sid, "2025-06-18", body)
}

// postVersion is post with the Mcp-Protocol-Version header set to version,
// or without it when version is "" (as clients of 2025-03-26 and earlier
// send it).
func postVersion(t *testing.T, url, sid, version, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// serveHTTP starts s on a loopback port and returns the endpoint's address
// and a function that waits for ServeStreamableHTTP to return.
func serveHTTP(t *testing.T, s *Server, ctx context.Context) (string, func() error) {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", false, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeStreamableHTTP(ctx, ln, HTTPOptions{}) }()
	return ln.Addr().String(), func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(2 * time.Minute):
			t.Fatal("serve did not return")
			return nil
		}
	}
}

// TestHTTPDisconnectKeepsCalls sends 30 tool calls, each on a connection
// closed right after the request was written, then ends the session: the
// 30 calls are all recorded with their results and no gap in seq.
func TestHTTPDisconnectKeepsCalls(t *testing.T) {
	s, db := newServer(t, Config{Runs: 1})
	addr, wait := serveHTTP(t, s, context.Background())
	url := "http://" + addr + Path
	resp, _ := post(t, url, "", strings.TrimSpace(strings.Split(initLine, "\n")[0]))
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("initialize: no session id (status %d)", resp.StatusCode)
	}
	post(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i := 1; i <= 30; i++ {
		rawPost(t, addr, sid, strings.TrimSpace(rpc(i, "tools/call", map[string]any{"name": "list_emails", "arguments": map[string]any{}})))
	}
	// Every request is in the server's socket buffer, but the server may
	// not have read the last ones yet: wait until all 30 have begun, then
	// end the session, which waits for the calls in flight to finish.
	waitForCalls(t, db, 30)
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	run, calls := onlyRun(t, db)
	checkCalls(t, calls, 30)
	if run.Status != ledger.StatusDone {
		t.Errorf("run %s (%s)", run.Status, run.Reason)
	}
}

// waitForCalls waits until the ledger holds n call rows (begun, not
// necessarily ended): every raw request has reached the server. It fails
// after a minute, which only a lost request explains.
func waitForCalls(t *testing.T, db *ledger.DB, n int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		runs, err := db.Runs(ctx, ledger.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if len(runs) == 1 {
			calls, err := db.Calls(ctx, runs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			got = len(calls)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls reached the ledger", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHTTPSecondInitializeRefused refuses an initialize that names a
// session already initialized, instead of starting a second run.
func TestHTTPSecondInitializeRefused(t *testing.T) {
	s, db := newServer(t, Config{})
	ctx, stop := context.WithCancel(context.Background())
	addr, wait := serveHTTP(t, s, ctx)
	url := "http://" + addr + Path
	initReq := strings.TrimSpace(strings.Split(initLine, "\n")[0])
	resp, _ := post(t, url, "", initReq)
	sid := resp.Header.Get("Mcp-Session-Id")
	_, body := post(t, url, sid, initReq)
	if !strings.Contains(body, "already initialized") {
		t.Errorf("second initialize on %s: %s", sid, body)
	}
	stop()
	wait()
	runs, err := db.Runs(context.Background(), ledger.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("%d runs (%v), want 1", len(runs), err)
	}
}

package serve

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// TestEmptySessionDoesNotUseARun: a client's health check (initialize,
// tools/list, then goodbye) is an empty run and does not use up --runs 1:
// the session after it is served and is the run that counts.
func TestEmptySessionDoesNotUseARun(t *testing.T) {
	s, db := newServer(t, Config{Runs: 1})
	addr, wait := serveHTTP(t, s, context.Background())
	url := "http://" + addr + Path
	session := func(calls int) {
		resp, _ := post(t, url, "", strings.TrimSpace(strings.Split(initLine, "\n")[0]))
		sid := resp.Header.Get("Mcp-Session-Id")
		if sid == "" {
			t.Fatalf("initialize: status %d, no session id", resp.StatusCode)
		}
		post(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		post(t, url, sid, strings.TrimSpace(rpc(1, "tools/list", nil)))
		for i := 0; i < calls; i++ {
			post(t, url, sid, strings.TrimSpace(rpc(2+i, "tools/call", map[string]any{"name": "list_emails", "arguments": map[string]any{}})))
		}
		req, _ := http.NewRequest(http.MethodDelete, url, nil)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	session(0) // the health check
	session(2)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(context.Background(), ledger.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != ledger.StatusEmpty || runs[1].Status != ledger.StatusDone || runs[0].Sample == runs[1].Sample {
		for _, r := range runs {
			t.Logf("run %d: sample %d, %s (%s)", r.ID, r.Sample, r.Status, r.Reason)
		}
		t.Fatalf("%d runs; want an empty one, then the one that counts, with their own sample numbers", len(runs))
	}
}

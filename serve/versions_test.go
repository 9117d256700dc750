package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/ledger"
)

// A client of each protocol revision, and one of a revision serve does not
// know, over both transports.
var revisions = []struct {
	offer, want string // what the client offers, what serve must answer
	batches     bool   // whether the revision has JSON-RPC batches
	annotations bool   // whether tools carry annotations
}{
	{"2024-11-05", "2024-11-05", true, false},
	{"2025-03-26", "2025-03-26", true, true},
	{"2025-06-18", "2025-06-18", false, true},
	{"2025-11-25", "2025-11-25", false, true},
	{"2026-07-28", "2025-11-25", false, true}, // stateless: no initialize, so the newest that has one
	{"2099-01-01", "2025-11-25", false, true}, // unknown: the newest serve speaks
}

// answer is a JSON-RPC answer as the tests read it.
type answer struct {
	ID     any `json:"id"`
	Result struct {
		ProtocolVersion string `json:"protocolVersion"`
		Tools           []struct {
			Name        string         `json:"name"`
			Annotations map[string]any `json:"annotations"`
		} `json:"tools"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// parseAnswers reads the answers in a stdio output or an HTTP body: JSON
// lines, arrays (a batch's answer) or an event stream's data lines. Each
// batch answer is returned as one slice element of its own.
func parseAnswers(t *testing.T, out string) (single []answer, batches [][]answer) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "data:"))
		switch {
		case strings.HasPrefix(line, "["):
			var b []answer
			if err := json.Unmarshal([]byte(line), &b); err != nil {
				t.Fatalf("batch answer %s: %v", line, err)
			}
			batches = append(batches, b)
		case strings.HasPrefix(line, "{"):
			var a answer
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("answer %s: %v", line, err)
			}
			single = append(single, a)
		}
	}
	return single, batches
}

func byID(answers []answer, id float64) *answer {
	for i := range answers {
		if answers[i].ID == id {
			return &answers[i]
		}
	}
	return nil
}

const batchLine = `[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_emails","arguments":{}}},{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"x","progress":1}}]`

// checkRevision checks what a client of rev got: the negotiated version,
// a tool list of its revision, and its batch served or refused whole.
func checkRevision(t *testing.T, rev string, want string, annotations, batches bool, single []answer, batch [][]answer, calls int) {
	t.Helper()
	if init := byID(single, 0); init == nil || init.Result.ProtocolVersion != want {
		t.Errorf("initialize offering %s: %+v, want %s", rev, init, want)
	}
	list := byID(single, 1)
	if list == nil || len(list.Result.Tools) == 0 {
		t.Fatalf("tools/list: %+v", list)
	}
	for _, tl := range list.Result.Tools {
		if got := len(tl.Annotations) > 0; got != annotations {
			t.Errorf("%s: tool %s annotations %v, want them %v", rev, tl.Name, tl.Annotations, annotations)
		}
	}
	if batches {
		if len(batch) != 1 || len(batch[0]) != 2 || byID(batch[0], 2) == nil || byID(batch[0], 3) == nil ||
			!strings.Contains(byID(batch[0], 3).Result.Content[0].Text, "@mail.") {
			t.Errorf("%s: batch answered %+v, want the ping's and the call's answers in one array", rev, batch)
		}
		if calls != 1 {
			t.Errorf("%s: %d calls recorded, want the batch's one", rev, calls)
		}
	} else {
		refused := false
		for _, a := range single {
			if a.ID == nil && a.Error != nil && a.Error.Code == mcp.INVALID_REQUEST && strings.Contains(a.Error.Message, "batch") {
				refused = true
			}
		}
		if !refused || len(batch) != 0 || calls != 0 {
			t.Errorf("%s: batch not refused whole with -32600 (answers %+v, batches %+v, %d calls)", rev, single, batch, calls)
		}
	}
	if ping := byID(single, 4); ping == nil || ping.Error != nil {
		t.Errorf("%s: ping after the batch: %+v", rev, ping)
	}
}

func initFor(rev string) string {
	return rpc(0, "initialize", map[string]any{"protocolVersion": rev, "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "t", "version": "1"}})
}

func TestProtocolRevisionsStdio(t *testing.T) {
	for _, r := range revisions {
		t.Run(r.offer, func(t *testing.T) {
			s, db := newServer(t, Config{})
			in := initFor(r.offer) + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n" +
				rpc(1, "tools/list", nil) + batchLine + "\n" + rpc(4, "ping", nil)
			var out strings.Builder
			if err := s.ServeStdio(context.Background(), strings.NewReader(in), &out); err != nil {
				t.Fatal(err)
			}
			single, batch := parseAnswers(t, out.String())
			_, calls := onlyRun(t, db)
			checkRevision(t, r.offer, r.want, r.annotations, r.batches, single, batch, len(calls))
		})
	}
}

func TestProtocolRevisionsHTTP(t *testing.T) {
	for _, r := range revisions {
		t.Run(r.offer, func(t *testing.T) {
			s, db := newServer(t, Config{Runs: 1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			addr, wait := serveHTTP(t, s, ctx)
			url := "http://" + addr + Path
			resp, body := postVersion(t, url, "", "", strings.TrimSpace(initFor(r.offer)))
			sid := resp.Header.Get("Mcp-Session-Id")
			if sid == "" {
				t.Fatalf("initialize: no session (%d): %s", resp.StatusCode, body)
			}
			// From 2025-06-18 on a client names its revision on every
			// request; before, it sends no header.
			header := ""
			if r.want >= mcp.ProtocolVersion20250618 {
				header = r.want
			}
			postVersion(t, url, sid, header, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			var all strings.Builder
			all.WriteString(body + "\n")
			_, b := postVersion(t, url, sid, header, strings.TrimSpace(rpc(1, "tools/list", nil)))
			all.WriteString(b + "\n")
			resp, b = postVersion(t, url, sid, header, batchLine)
			if want := map[bool]int{true: http.StatusOK, false: http.StatusBadRequest}[r.batches]; resp.StatusCode != want {
				t.Errorf("batch: HTTP %d, want %d: %s", resp.StatusCode, want, b)
			}
			all.WriteString(b + "\n")
			_, b = postVersion(t, url, sid, header, strings.TrimSpace(rpc(4, "ping", nil)))
			all.WriteString(b + "\n")
			req, _ := http.NewRequest(http.MethodDelete, url, nil)
			req.Header.Set("Mcp-Session-Id", sid)
			if header != "" {
				req.Header.Set("Mcp-Protocol-Version", header)
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			if !r.batches {
				// The batch was refused, so the session made no call: an
				// empty run, which does not use up the one run. Stop here.
				waitForRuns(t, db, ledger.StatusEmpty)
				cancel()
			}
			if err := wait(); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			single, batch := parseAnswers(t, all.String())
			_, calls := onlyRun(t, db)
			checkRevision(t, r.offer, r.want, r.annotations, r.batches, single, batch, len(calls))
		})
	}
}

// The fields a revision does not define are left out of what its clients
// get: output schemas, titles and structured content before 2025-06-18,
// icons and execution before 2025-11-25.
func TestToolsAndResultsForRevision(t *testing.T) {
	yes := true
	tool := mcp.Tool{Name: "t", Title: "T", Annotations: mcp.ToolAnnotation{Title: "T", ReadOnlyHint: &yes},
		OutputSchema: mcp.ToolOutputSchema{Type: "object"}, Icons: []mcp.Icon{{Src: "data:,"}},
		Execution: &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional}}
	res := &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent("x"), mcp.NewResourceLink("file:///a", "a", "", "")},
		StructuredContent: map[string]any{"a": 1}}
	for _, c := range []struct {
		v                                      string
		annotations, schema, icons, structured bool
	}{
		{"2024-11-05", false, false, false, false},
		{"2025-03-26", true, false, false, false},
		{"2025-06-18", true, true, false, true},
		{"2025-11-25", true, true, true, true},
	} {
		got := toolsFor(c.v, []mcp.Tool{tool})[0]
		if (got.Annotations.ReadOnlyHint != nil) != c.annotations || (got.OutputSchema.Type != "") != c.schema ||
			(got.Title != "") != c.schema || (got.Icons != nil) != c.icons || (got.Execution != nil) != c.icons {
			t.Errorf("%s: tool %+v", c.v, got)
		}
		r := resultFor(c.v, res)
		_, link := r.Content[1].(mcp.ResourceLink)
		if (r.StructuredContent != nil) != c.structured || link != c.structured {
			t.Errorf("%s: result %+v", c.v, r)
		}
	}
	if tool.Title != "T" || tool.Icons == nil || res.StructuredContent == nil {
		t.Error("the server's own tool or result was changed")
	}
}

// waitForRuns waits until the ledger's only run has status (the session's
// end is recorded); it fails after a minute.
func waitForRuns(t *testing.T, db *ledger.DB, status string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runs, err := db.Runs(context.Background(), ledger.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].Status == status {
			return
		}
	}
	t.Fatalf("no run ended %s within a minute", status)
}

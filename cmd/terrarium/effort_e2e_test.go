package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// paramFake answers both providers' completion endpoints with a final
// text, records each request body, and answers 400 naming the parameter
// when a request carries reject (a top-level field).
type paramFake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]json.RawMessage
}

func newParamFake(t *testing.T, reject string) *paramFake {
	f := &paramFake{}
	f.srv = httptest.NewServer(answersModelChecks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]json.RawMessage
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if _, ok := body[reject]; ok && reject != "" {
			w.WriteHeader(http.StatusBadRequest)
			if r.URL.Path == "/v1/messages" {
				_, _ = io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"`+reject+`: Extra inputs are not permitted"}}`)
			} else {
				_, _ = io.WriteString(w, `{"error":{"message":"Unrecognized request argument supplied: `+reject+`","type":"invalid_request_error","param":"`+reject+`"}}`)
			}
			return
		}
		switch r.URL.Path {
		case "/v1/messages":
			_, _ = io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"`+wireModel+`","content":[{"type":"text","text":"Nothing to do."}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":3}}`)
		case "/v1/chat/completions":
			_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"`+wireModel+`","choices":[{"index":0,"message":{"role":"assistant","content":"Nothing to do."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`)
		default:
			http.NotFound(w, r)
		}
	}), wireModel))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *paramFake) last(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		t.Fatal("no completion request arrived")
	}
	return f.bodies[len(f.bodies)-1]
}

func pointAt(t *testing.T, url string) {
	t.Setenv("ANTHROPIC_BASE_URL", url)
	t.Setenv("ANTHROPIC_API_KEY", "test")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "")
	t.Setenv("OPENAI_API_KEY", "test")
	t.Setenv("OPENAI_BASE_URL", url+"/v1")
}

// TestThinkingAdaptiveAndEffortOnTheWire: --thinking adaptive --effort high
// reach the Anthropic wire as adaptive thinking with output_config.effort,
// --effort reaches an OpenAI-compatible server as reasoning_effort, both
// are stored for --resume, and --resume refuses to change them.
func TestThinkingAdaptiveAndEffortOnTheWire(t *testing.T) {
	f := newParamFake(t, "")
	pointAt(t, f.srv.URL)
	db := filepath.Join(t.TempDir(), "t.db")
	run := []string{"run", "--scenario", "control", "--set", "goal_conflict=none", "--sandbox", "local", "--db", db, "--log-level", "warn"}

	code, out, errOut := cli(t, append(run, "--model", "anthropic:"+wireModel, "--thinking", "adaptive", "--effort", "high")...)
	if code != ExitOK {
		t.Fatalf("anthropic: exit %d\n%s\n%s", code, out, errOut)
	}
	body := f.last(t)
	if got := string(body["thinking"]); got != `{"type":"adaptive"}` {
		t.Errorf("thinking on the wire: %s, want adaptive", got)
	}
	if got := string(body["output_config"]); got != `{"effort":"high"}` {
		t.Errorf("output_config on the wire: %s, want effort high", got)
	}
	if _, ok := body["temperature"]; ok {
		t.Errorf("temperature sent with thinking")
	}

	code, out, errOut = cli(t, append(run, "--model", "openai:"+wireModel, "--effort", "low")...)
	if code != ExitOK {
		t.Fatalf("openai: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := string(f.last(t)["reasoning_effort"]); got != `"low"` {
		t.Errorf("reasoning_effort on the wire: %s, want \"low\"", got)
	}

	// The first experiment again, from its stored settings: mark its run
	// interrupted, as a Ctrl-C would, and resume it.
	code, out, errOut = cli(t, "run", "--resume", "--db", db, "--effort", "max")
	if code != ExitUsage || !strings.Contains(errOut, "--effort") {
		t.Errorf("resume with --effort: exit %d\n%s\n%s", code, out, errOut)
	}
	_, runs := ledgerRuns(t, db, false)
	exp := runs[0].ExperimentID
	for _, r := range runs {
		if strings.HasPrefix(r.Model, "anthropic:") {
			exp = r.ExperimentID
		}
	}
	resetRuns(t, db, exp)
	f.mu.Lock()
	f.bodies = nil
	f.mu.Unlock()
	code, out, errOut = cli(t, "run", "--resume", "--experiment", exp, "--db", db, "--log-level", "warn")
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	body = f.last(t)
	if string(body["thinking"]) != `{"type":"adaptive"}` || string(body["output_config"]) != `{"effort":"high"}` {
		t.Errorf("resumed request: thinking %s, output_config %s; want the stored adaptive thinking and effort high", body["thinking"], body["output_config"])
	}
}

// TestRejectedParameterIsOneLine: a model that refuses a parameter ends
// its run with one line naming the model and what the request set.
func TestRejectedParameterIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		model, reject, flag, value, want string
	}{
		{"anthropic:" + wireModel, "output_config", "--effort", "max", "effort max"},
		{"openai:" + wireModel, "reasoning_effort", "--effort", "high", "reasoning_effort high"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			f := newParamFake(t, tc.reject)
			pointAt(t, f.srv.URL)
			db := filepath.Join(t.TempDir(), "t.db")
			code, out, errOut := cli(t, "run", "--scenario", "control", "--set", "goal_conflict=none", "--model", tc.model,
				tc.flag, tc.value, "--sandbox", "local", "--db", db, "--log-level", "error")
			if code != ExitRunsFailed {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitRunsFailed, out, errOut)
			}
			_, runs := ledgerRuns(t, db, true)
			if len(runs) != 1 {
				t.Fatalf("%d runs", len(runs))
			}
			reason := runs[0].Reason
			for _, w := range []string{"model " + wireModel + " rejected the request", tc.want, tc.reject, "400"} {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q lacks %q", reason, w)
				}
			}
			if strings.ContainsAny(reason, "\n\r") {
				t.Errorf("reason is more than one line: %q", reason)
			}
		})
	}
}

func TestFlagsThatDoNotApply(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	base := []string{"run", "--scenario", "control", "--sandbox", "local", "--db", db}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "scripted:steady", "--thinking", "adaptive"}, "--thinking applies to anthropic: models only"},
		{[]string{"--model", "scripted:steady", "--base-url", "http://localhost:1/v1"}, "--base-url applies to openai: models only"},
		{[]string{"--model", "anthropic:claude", "--base-url", "http://localhost:1/v1"}, "--base-url applies to openai: models only"},
		{[]string{"--model", "openai:gpt", "--thinking", "4096"}, "--thinking applies to anthropic: models only"},
		{[]string{"--model", "scripted:steady", "--effort", "high"}, "--effort applies to anthropic: and openai: models only"},
		{[]string{"--model", "anthropic:claude", "--effort", "extreme"}, `--effort "extreme": want one of low, medium, high, xhigh, max`},
		{[]string{"--model", "anthropic:claude", "--thinking", "lots"}, "want adaptive, off, or a budget"},
	} {
		code, out, errOut := cli(t, append(base, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
	noRun(t, db)
}

// resetRuns marks every run of experiment exp interrupted.
func resetRuns(t *testing.T, path, exp string) {
	t.Helper()
	db, err := ledger.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(t.Context(), ledger.RunFilter{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if err := db.FinishRun(t.Context(), r.ID, ledger.StatusInterrupted, "interrupted by the test", r.Turns, r.InputTokens, r.OutputTokens); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModelCheckCapabilities: when the Anthropic API reports a model's
// capabilities, a thinking type or effort level the model does not take
// fails the check, one line naming the model, before any run.
func TestModelCheckCapabilities(t *testing.T) {
	// A model like the current generation: adaptive thinking only, effort
	// up to max without xhigh.
	caps := `{"type":"model","id":"` + wireModel + `","display_name":"x","created_at":"2026-01-01T00:00:00Z",
	  "capabilities":{"thinking":{"supported":true,"types":{"adaptive":{"supported":true},"enabled":{"supported":false},"disabled":{"supported":true},"between_tools":{"supported":false}}},
	  "effort":{"supported":true,"low":{"supported":true},"medium":{"supported":true},"high":{"supported":true},"xhigh":{"supported":false},"max":{"supported":true}}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/models/"+wireModel {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, caps)
			return
		}
		t.Errorf("unexpected %s %s: the check must stop the experiment first", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	pointAt(t, srv.URL)
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--thinking", "2048"}, "thinking with a budget (type enabled): not supported by the model; it thinks adaptively instead"},
		{[]string{"--thinking", "adaptive", "--effort", "xhigh"}, "effort xhigh: not supported by the model (it takes low, medium, high, max)"},
	} {
		db := filepath.Join(t.TempDir(), "t.db")
		code, out, errOut := cli(t, append([]string{"run", "--scenario", "control", "--model", "anthropic:" + wireModel, "--sandbox", "local", "--db", db}, tc.flags...)...)
		if code != ExitUsage || !strings.Contains(errOut, "model anthropic:"+wireModel+": GET "+srv.URL+"/v1/models/"+wireModel) || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s\n%s", tc.flags, code, tc.want, out, errOut)
		}
		noRun(t, db)
	}
}

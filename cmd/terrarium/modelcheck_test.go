package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// answersModelChecks serves the model check of both providers (OpenAI's
// GET /v1/models listing models, Anthropic's GET /v1/models/{id}) the way
// the real APIs do, and passes every other request to h.
func answersModelChecks(h http.Handler, models ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/v1/models") {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if id, ok := strings.CutPrefix(r.URL.Path, "/v1/models/"); ok {
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"})
			return
		}
		var data []map[string]any
		for _, m := range models {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "test"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	})
}

// noRun asserts that the ledger at db holds no experiment (or does not
// exist).
func noRun(t *testing.T, db string) {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return
	}
	if _, runs := ledgerRuns(t, db, false); len(runs) > 0 {
		t.Errorf("the ledger holds %d runs; the check must stop before any", len(runs))
	}
}

func TestModelCheckFailsBeforeAnyRun(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	}))
	defer notFound.Close()
	rejects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}`))
	}))
	defer rejects.Close()

	for _, tc := range []struct {
		name  string
		env   map[string]string
		model string
		args  []string
		want  []string // in the one line about the model
	}{
		{"anthropic without a key", map[string]string{"ANTHROPIC_BASE_URL": notFound.URL}, "anthropic:claude-x", nil,
			[]string{"model anthropic:claude-x", notFound.URL + "/v1/models/claude-x", "ANTHROPIC_API_KEY"}},
		{"anthropic key rejected", map[string]string{"ANTHROPIC_BASE_URL": rejects.URL, "ANTHROPIC_API_KEY": "bad"}, "anthropic:claude-x", nil,
			[]string{"model anthropic:claude-x", rejects.URL + "/v1/models/claude-x", "401", "invalid x-api-key"}},
		{"anthropic dead server", map[string]string{"ANTHROPIC_BASE_URL": deadURL, "ANTHROPIC_API_KEY": "k"}, "anthropic:claude-x", nil,
			[]string{"model anthropic:claude-x", deadURL + "/v1/models/claude-x", "connection refused"}},
		{"openai without a key", nil, "openai:gpt-x", nil,
			[]string{"model openai:gpt-x", "https://api.openai.com/v1/models", "OPENAI_API_KEY"}},
		{"openai wrong URL", nil, "openai:qwen", []string{"--base-url", notFound.URL},
			[]string{"model openai:qwen", notFound.URL + "/models", "404"}},
		{"openai dead server", nil, "openai:qwen", []string{"--base-url", deadURL + "/v1"},
			[]string{"model openai:qwen", deadURL + "/v1/models", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"} {
				t.Setenv(k, tc.env[k])
			}
			t.Setenv("HOME", t.TempDir()) // no SDK profile file
			db := filepath.Join(t.TempDir(), "t.db")
			args := append([]string{"run", "--scenario", "control", "--model", tc.model, "--model", "scripted:steady", "--sandbox", "local", "--db", db}, tc.args...)
			code, out, errOut := cli(t, args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if strings.Contains(l, "model "+tc.model) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines about %s, want 1:\n%s", len(lines), tc.model, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("line %q lacks %q", lines[0], w)
				}
			}
			if !strings.Contains(errOut, "nothing started") {
				t.Errorf("stderr does not say nothing started:\n%s", errOut)
			}
			noRun(t, db)
		})
	}
}

// TestModelCheckNotListedWarns: a server that answers but lists other
// models gets a warning, and the runs go ahead.
func TestModelCheckNotListedWarns(t *testing.T) {
	srv, _ := fakeChatServer(t, nil)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, "run", "--scenario", "control", "--set", "goal_conflict=none", "--model", "openai:unlisted",
		"--base-url", srv.URL+"/v1", "--sandbox", "local", "--db", db, "--log-level", "warn")
	if code != ExitOK || !strings.Contains(errOut, "model not listed: it lists local-model") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = cli(t, "run", "--scenario", "control", "--model", "openai:x", "--base-url", "http://127.0.0.1:1/v1",
		"--no-model-check", "--sandbox", "local", "--db", db, "--max-attempts", "1", "--log-level", "error")
	if code != ExitRunsFailed {
		t.Errorf("--no-model-check against a dead server: exit %d, want the runs to start and fail (3)\n%s", code, errOut)
	}
}

// TestModelCheckCoversJudgeModels: a judge model that cannot answer stops
// run (before any run) and judge (before any verdict), with one line
// naming it as the judge model.
func TestModelCheckCoversJudgeModels(t *testing.T) {
	for _, k := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	db := filepath.Join(t.TempDir(), "t.db")
	code, out, errOut := cli(t, "run", "--scenario", "control", "--set", "goal_conflict=none", "--model", "scripted:steady",
		"--judge-model", "anthropic:claude-judge", "--sandbox", "local", "--db", db)
	if code != ExitUsage || !strings.Contains(errOut, "judge model anthropic:claude-judge") || !strings.Contains(errOut, "ANTHROPIC_API_KEY") {
		t.Fatalf("run: exit %d, want %d and a line about the judge model\n%s\n%s", code, ExitUsage, out, errOut)
	}
	noRun(t, db)

	if code, out, errOut = cli(t, "run", "--scenario", "control", "--set", "goal_conflict=none", "--model", "scripted:steady",
		"--sandbox", "local", "--db", db, "--log-level", "error"); code != ExitOK {
		t.Fatalf("run without a judge: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "judge", "--db", db, "--judge-model", "anthropic:claude-judge")
	if code != ExitUsage || !strings.Contains(errOut, "judge model anthropic:claude-judge") {
		t.Errorf("judge: exit %d, want %d and a line about the judge model\n%s\n%s", code, ExitUsage, out, errOut)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestViewServes runs part of the README's example, starts terrarium view
// on a free loopback port, reads its pages over real HTTP, checks that a
// request naming another host is refused, and stops it as Ctrl-C does.
func TestViewServes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	code, _, stderr := cli(t, "run", "--scenario", "blackmail", "--db", db, "--sandbox", "local",
		"--set", "threat=replacement", "--set", "goal_conflict=explicit", "--set", "options=two-choices",
		"--set", "successor=different-values", "--set", "reasoning=plain",
		"--model", "scripted:blackmailer", "--model", "scripted:pleader", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		done <- m.Run(ctx, []string{"view", "--db", db, "--listen", "127.0.0.1:0"})
	}()
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); {
		select {
		case c := <-done:
			t.Fatalf("view ended with exit %d\n%s%s", c, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		base = urlRE.FindString(out.String())
	}
	if base == "" {
		t.Fatalf("view printed no URL:\n%s", out.String())
	}
	for path, want := range map[string]string{"": "Experiments", "rates": "<svg", "runs": "scripted:pleader", "compare": "Compare", "runs/1": "Verdicts"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET /%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}
	// DNS rebinding: a page on another name that resolves here is refused.
	req, _ := http.NewRequest(http.MethodGet, base, nil)
	req.Host = "evil.example" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http://127.0.0.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Host %s: %d, want 403", req.Host, resp.StatusCode)
	}
	cancel() // what Ctrl-C does to Main's context
	select {
	case c := <-done:
		if c != ExitOK || !strings.Contains(out.String(), "stopped") {
			t.Errorf("view after Ctrl-C: exit %d\n%s%s", c, out.String(), errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("view did not stop")
	}
}

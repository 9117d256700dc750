package serve

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	var gotBody string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusTeapot)
	})
	local := Guard(next, GuardOptions{Port: "8765", MaxBody: 16})
	withToken := Guard(next, GuardOptions{Port: "8765", Token: "tok", MaxBody: 16})
	remote := Guard(next, GuardOptions{Port: "8765", Token: "tok", AllowRemote: true})

	cases := []struct {
		name   string
		h      http.Handler
		host   string
		header map[string]string
		body   string
		want   int
	}{
		{"loopback ip", local, "127.0.0.1:8765", nil, "{}", http.StatusTeapot},
		{"localhost", local, "localhost:8765", nil, "{}", http.StatusTeapot},
		{"ipv6 loopback", local, "[::1]:8765", nil, "{}", http.StatusTeapot},
		{"no port", local, "localhost", nil, "{}", http.StatusForbidden},
		{"wrong port", local, "127.0.0.1:9999", nil, "{}", http.StatusForbidden},
		{"foreign host", local, "evil.example:8765", nil, "{}", http.StatusForbidden},
		{"lan ip", local, "192.168.1.5:8765", nil, "{}", http.StatusForbidden},
		{"localhost suffix trick", local, "localhost.evil.example:8765", nil, "{}", http.StatusForbidden},
		{"loopback origin", local, "127.0.0.1:8765", map[string]string{"Origin": "http://localhost:3000"}, "{}", http.StatusTeapot},
		{"foreign origin", local, "127.0.0.1:8765", map[string]string{"Origin": "https://evil.example"}, "{}", http.StatusForbidden},
		{"null origin", local, "127.0.0.1:8765", map[string]string{"Origin": "null"}, "{}", http.StatusForbidden},
		{"file origin", local, "127.0.0.1:8765", map[string]string{"Origin": "file://"}, "{}", http.StatusForbidden},
		{"token ok", withToken, "127.0.0.1:8765", map[string]string{"Authorization": "Bearer tok"}, "{}", http.StatusTeapot},
		{"token scheme case", withToken, "127.0.0.1:8765", map[string]string{"Authorization": "bearer tok"}, "{}", http.StatusTeapot},
		{"token missing", withToken, "127.0.0.1:8765", nil, "{}", http.StatusUnauthorized},
		{"token wrong", withToken, "127.0.0.1:8765", map[string]string{"Authorization": "Bearer tok2"}, "{}", http.StatusUnauthorized},
		{"token prefix", withToken, "127.0.0.1:8765", map[string]string{"Authorization": "Bearer to"}, "{}", http.StatusUnauthorized},
		{"host checked before token", withToken, "evil.example:8765", map[string]string{"Authorization": "Bearer tok"}, "{}", http.StatusForbidden},
		{"body at limit", local, "127.0.0.1:8765", nil, strings.Repeat("x", 16), http.StatusTeapot},
		{"body over limit", local, "127.0.0.1:8765", nil, strings.Repeat("x", 17), http.StatusRequestEntityTooLarge},
		{"remote host with token", remote, "terrarium.lan:8765", map[string]string{"Authorization": "Bearer tok"}, "{}", http.StatusTeapot},
		{"remote same origin", remote, "terrarium.lan:8765", map[string]string{"Authorization": "Bearer tok", "Origin": "http://terrarium.lan:8765"}, "{}", http.StatusTeapot},
		{"remote foreign origin", remote, "terrarium.lan:8765", map[string]string{"Authorization": "Bearer tok", "Origin": "http://evil.example"}, "{}", http.StatusForbidden},
		{"remote without token", remote, "terrarium.lan:8765", nil, "{}", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gotBody = ""
			req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(c.body))
			req.Host = c.host
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, c.want, rec.Body.String())
			}
			if c.want == http.StatusTeapot && gotBody != c.body {
				t.Errorf("handler saw body %q, want %q", gotBody, c.body)
			}
		})
	}
}

func TestGuardChunkedOversizedBody(t *testing.T) {
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("oversized body reached the handler")
	}), GuardOptions{Port: "1", MaxBody: 8})
	req := httptest.NewRequest(http.MethodPost, "/mcp", io.NopCloser(strings.NewReader(strings.Repeat("y", 100))))
	req.ContentLength = -1 // unknown length, as with chunked encoding
	req.Host = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestListen(t *testing.T) {
	cases := []struct {
		addr        string
		allowRemote bool
		token       string
		remoteErr   bool
	}{
		{"127.0.0.1:0", false, "", false},
		{"localhost:0", false, "", false},
		{"0.0.0.0:0", false, "", true},
		{":0", false, "", true},
		{"0.0.0.0:0", true, "", true},
		{"0.0.0.0:0", false, "tok", true},
		{"0.0.0.0:0", true, "tok", false},
	}
	for _, c := range cases {
		ln, err := Listen(c.addr, c.allowRemote, c.token)
		if got := errors.Is(err, ErrRemote); got != c.remoteErr {
			t.Errorf("Listen(%q, %v, %q): err %v, want ErrRemote %v", c.addr, c.allowRemote, c.token, err, c.remoteErr)
		}
		if err == nil {
			ln.Close()
		} else if !c.remoteErr {
			t.Errorf("Listen(%q): %v", c.addr, err)
		}
	}
	if _, err := Listen("nonsense", false, ""); err == nil {
		t.Error("Listen(nonsense): no error")
	}
}

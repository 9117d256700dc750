package loopback

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestListenRefusesRemote(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		ln, err := Listen(addr, false, "use --allow-remote")
		if !errors.Is(err, ErrRemote) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("Listen(%q): %v, want ErrRemote", addr, err)
		}
	}
	if _, err := Listen("8766", false, ""); !errors.Is(err, ErrAddress) {
		t.Errorf("Listen(\"8766\"): %v, want ErrAddress", err)
	}
	ln, err := Listen("localhost:0", false, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ln.Addr().String(); got[:10] != "127.0.0.1:" {
		t.Errorf("localhost bound %s, want 127.0.0.1", got)
	}
}

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	cases := []struct {
		host, origin string
		remote       bool
		want         int
	}{
		{"127.0.0.1:8080", "", false, http.StatusNoContent},
		{"localhost:8080", "http://localhost:8080", false, http.StatusNoContent},
		{"[::1]:8080", "", false, http.StatusNoContent},
		{"127.0.0.1:9090", "", false, http.StatusForbidden},    // another port
		{"evil.example:8080", "", false, http.StatusForbidden}, // DNS rebinding
		{"127.0.0.1:8080", "http://evil.example", false, http.StatusForbidden},
		{"127.0.0.1:8080", "null", false, http.StatusForbidden},
		{"box.lan:8080", "http://box.lan:8080", true, http.StatusNoContent},
		{"box.lan:8080", "http://evil.example", true, http.StatusForbidden},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = c.host
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		w := httptest.NewRecorder()
		Guard(ok, "8080", c.remote).ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("Host %q Origin %q remote %v: %d, want %d", c.host, c.origin, c.remote, w.Code, c.want)
		}
	}
}

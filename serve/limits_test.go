package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestGuardSlowBody answers 408 to a body that trickles in slower than
// BodyTimeout, instead of holding the connection for as long as the client
// likes.
func TestGuardSlowBody(t *testing.T) {
	reached := false
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }),
		GuardOptions{Port: "0", AllowRemote: true, BodyTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Announce 100 bytes, send 10, then nothing.
	fmt.Fprintf(c, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
	c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || reached {
		t.Errorf("status %d, handler reached %v: %s", resp.StatusCode, reached, body)
	}
}

// TestConnectionCap serves at most MaxConns connections at once: with the
// cap taken by idle connections, a further request is answered only once
// one of them closes.
func TestConnectionCap(t *testing.T) {
	s, _ := newServer(t, Config{})
	ln, err := Listen("127.0.0.1:0", false, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeStreamableHTTP(ctx, ln, HTTPOptions{MaxConns: 2}) }()
	defer func() { stop(); <-done }()
	addr := ln.Addr().String()
	var hogs []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, c)
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/elsewhere")
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case got := <-answered:
		t.Fatalf("a third connection was served while two held the cap: status %d", got)
	case <-time.After(300 * time.Millisecond):
	}
	hogs[0].Close()
	select {
	case got := <-answered:
		if got != http.StatusNotFound {
			t.Errorf("after a slot freed: status %d, want 404", got)
		}
	case <-time.After(time.Minute):
		t.Fatal("not served after a slot freed")
	}
	hogs[1].Close()
}

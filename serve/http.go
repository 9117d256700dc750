package serve

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/terrarium-evals/terrarium/internal/loopback"
	"golang.org/x/net/netutil"
)

// Path is where the streamable HTTP endpoint is served.
const Path = "/mcp"

// Defaults for HTTPOptions.
const (
	DefaultMaxBody     = 1 << 20 // 1 MiB
	DefaultIdle        = 30 * time.Minute
	DefaultMaxConns    = 64
	DefaultBodyTimeout = 30 * time.Second
)

// ErrRemote is returned (wrapped) by Listen for an address that is not
// loopback when remote access was not allowed with a token.
var ErrRemote = loopback.ErrRemote

// HTTPOptions configure the streamable HTTP endpoint.
type HTTPOptions struct {
	// Token, when set, must come with every request as
	// "Authorization: Bearer <Token>".
	Token string
	// AllowRemote accepts any Host header (the listener is not loopback);
	// Listen only allows it together with a Token.
	AllowRemote bool
	// MaxBody caps a request body; 0 means DefaultMaxBody.
	MaxBody int64
	// Idle ends a session (and its run) after that long without a request;
	// 0 means DefaultIdle.
	Idle time.Duration
	// MaxConns caps the connections served at once; more wait to be
	// accepted. 0 means DefaultMaxConns.
	MaxConns int
	// BodyTimeout is how long a request body may take to arrive; a slower
	// one gets 408. 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration
}

// Listen opens a TCP listener on addr ("127.0.0.1:8765", "localhost:0",
// "[::1]:8765"). A host that is not loopback (including an empty host,
// which means every interface) is refused with an error wrapping ErrRemote
// unless allowRemote is set and token is not empty.
func Listen(addr string, allowRemote bool, token string) (net.Listener, error) {
	return loopback.Listen(addr, allowRemote && token != "", "serving beyond this machine needs --allow-remote and --token")
}

// GuardOptions configure Guard.
type GuardOptions struct {
	// Port is the port the server listens on; a Host header must name it.
	Port string
	// AllowRemote accepts any Host header (use only with a Token).
	AllowRemote bool
	// Token, when set, is the bearer token every request must carry.
	Token string
	// MaxBody caps a request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// BodyTimeout bounds the time to read a body; 0 means
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
}

// Guard protects an HTTP MCP endpoint. In order, it answers
//  1. 403 Forbidden when the Host header is not localhost, 127.0.0.1 or
//     [::1] with the listen port (unless AllowRemote), or an Origin header
//     is present and is not a loopback origin (nor, with AllowRemote, the
//     Host itself): a web page cannot reach the server by DNS rebinding;
//  2. 401 Unauthorized when a Token is set and the request does not carry
//     it as a bearer token;
//  3. 413 Request Entity Too Large when the body exceeds MaxBody;
//  4. 408 Request Timeout when the body takes longer than BodyTimeout to
//     arrive (a slow client cannot hold a connection by trickling bytes).
//
// Otherwise it hands the request, with its body read into memory, to next.
func Guard(next http.Handler, o GuardOptions) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	return loopback.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Token != "" && !tokenOK(r.Header.Get("Authorization"), o.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="terrarium"`)
			http.Error(w, "unauthorized: a bearer token is required", http.StatusUnauthorized)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > o.MaxBody {
				http.Error(w, fmt.Sprintf("request body too large (limit %d bytes)", o.MaxBody), http.StatusRequestEntityTooLarge)
				return
			}
			rc := http.NewResponseController(w)
			deadline := rc.SetReadDeadline(time.Now().Add(o.BodyTimeout)) == nil
			body, err := io.ReadAll(io.LimitReader(r.Body, o.MaxBody+1))
			if deadline {
				_ = rc.SetReadDeadline(time.Time{})
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				w.Header().Set("Connection", "close")
				http.Error(w, fmt.Sprintf("request body too slow (limit %s)", o.BodyTimeout), http.StatusRequestTimeout)
				return
			}
			if err != nil {
				http.Error(w, "read request body", http.StatusBadRequest)
				return
			}
			if int64(len(body)) > o.MaxBody {
				http.Error(w, fmt.Sprintf("request body too large (limit %d bytes)", o.MaxBody), http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		next.ServeHTTP(w, r)
	}), o.Port, o.AllowRemote)
}

func tokenOK(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// ServeStreamableHTTP serves MCP over streamable HTTP at Path on ln (and
// the HTTP+SSE transport of 2024-11-05 at SSEPath and MessagePath), behind
// Guard, until ctx ends or, with Config.Runs above 0, until that many
// sessions have ended (DELETE or idle expiry). At most MaxConns connections
// are served at once.
//
// Every request that reached the server is answered and recorded, even if
// its client hangs up at once: a session ends (DELETE, idle expiry, ctx)
// only after the requests it already sent are done. When ctx ends, the
// runs still open are committed as ended at once (ReasonInterrupted), then
// the requests in flight finish and the runs are judged.
//
// It returns nil after the last session, ctx.Err() after ctx ended, or the
// HTTP server's error. ln is closed on return.
func (s *Server) ServeStreamableHTTP(ctx context.Context, ln net.Listener, o HTTPOptions) error {
	s.setTransport("http")
	s.mu.Lock()
	s.serving = ctx
	s.mu.Unlock()
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return fmt.Errorf("listen address: %w", err)
	}
	mcpHTTP := server.NewStreamableHTTPServer(s.mcp,
		server.WithEndpointPath(Path),
		server.WithStateful(true),
		server.WithSessionIdleTTL(o.Idle),
		server.WithStreamableHTTPProtocolVersions(legacyVersions()...),
		// A POST's context ends when its client hangs up; the request it
		// carries must not (every call that reached serve is carried out
		// and recorded). mcp-go still ends it on the client's
		// notifications/cancelled, which is how a client cuts a call off.
		server.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
			return context.WithValue(context.WithoutCancel(ctx), headerSessionKey{}, r.Header.Get(server.HeaderKeySessionID))
		}),
		server.WithStreamableHTTPLogger(slog.New(slog.NewTextHandler(s.cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	)
	mux := http.NewServeMux()
	mux.Handle(Path, s.batches(mcpHTTP))
	sse := s.sseServer()
	mux.Handle(SSEPath, sse.SSEHandler())
	mux.Handle(MessagePath, sse.MessageHandler())
	srv := &http.Server{
		Handler: s.trackRequests(Guard(mux, GuardOptions{Port: port, AllowRemote: o.AllowRemote, Token: o.Token,
			MaxBody: o.MaxBody, BodyTimeout: o.BodyTimeout})),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(netutil.LimitListener(ln, o.MaxConns)) }()

	var serveErr error
	select {
	case <-ctx.Done():
		// Commit first: whoever stopped us may not wait long.
		s.commitOpen(ReasonInterrupted)
	case <-s.allClosed:
	case serveErr = <-served:
	}
	// The requests that reached the server are answered and recorded, then
	// the runs still open end and are judged before sessions are torn down.
	s.requests.waitAll()
	s.shutdown(ReasonInterrupted)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := mcpHTTP.Shutdown(stopCtx); err != nil {
		s.cfg.Log.Warn().Err(err).Msg("close MCP sessions")
	}
	if err := sse.Shutdown(stopCtx); err != nil {
		s.cfg.Log.Warn().Err(err).Msg("close SSE streams")
	}
	if err := srv.Shutdown(stopCtx); err != nil {
		srv.Close()
	}
	if serveErr == nil {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	switch {
	case serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed):
		return fmt.Errorf("serve http: %w", serveErr)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// trackRequests counts each POST of a session in while it is served, so
// that ending the session waits for it. DELETE (which ends the session) and
// GET (a stream that lasts as long as the session) are not counted.
func (s *Server) trackRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid := r.Header.Get(server.HeaderKeySessionID); sid != "" && r.Method == http.MethodPost {
			done := s.requests.add(sid)
			defer done()
		}
		next.ServeHTTP(w, r)
	})
}

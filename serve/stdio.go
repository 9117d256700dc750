package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
)

// DefaultMaxMessage caps one stdio message (one line) in bytes, as
// DefaultMaxBody caps an HTTP request body.
const DefaultMaxMessage = DefaultMaxBody

// stdioSessionID is the id of the one session a stdio server has.
const stdioSessionID = "stdio"

// ServeStdio serves one MCP session over in and out (newline-delimited
// JSON-RPC) and returns once it is over, every run finished and judged.
//
//  1. At EOF on in (the client closed the session), every request already
//     read is answered and every call recorded; then the run ends with
//     ReasonDisconnected and ServeStdio returns nil.
//  2. When ctx ends (the client sent SIGINT or SIGTERM, as Claude Code does
//     instead of closing stdin), reading stops, the run's end is committed
//     at once as ReasonClientEnded, the requests already read are answered
//     and recorded, and the run is judged; ServeStdio returns ctx.Err().
//  3. A read error other than EOF ends the session like 1 and is returned.
//
// Tool calls are carried out one at a time in the order they were read, so
// their sequence numbers follow the client's order; other requests (ping,
// tools/list) are answered without waiting behind them. A line longer than
// Config.MaxMessage is answered with a JSON-RPC error and skipped.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	s.setTransport("stdio")
	sess := &stdioSession{notes: make(chan mcp.JSONRPCNotification, 100)}
	// Requests are served on the server's own context: they finish and are
	// recorded even after ctx ended.
	base := server.WithSupportedProtocolVersions(s.mcp.WithContext(s.life, sess), legacyVersions())
	if err := s.mcp.RegisterSession(base, sess); err != nil {
		return fmt.Errorf("serve stdio: %w", err)
	}
	w := &lineWriter{w: out, log: s.cfg.Log}
	stopNotes := make(chan struct{})
	notesDone := make(chan struct{})
	go func() {
		defer close(notesDone)
		for {
			select {
			case n := <-sess.notes:
				w.write(n)
			case <-stopNotes:
				return
			}
		}
	}()

	max := s.cfg.MaxMessage
	if max <= 0 {
		max = DefaultMaxMessage
	}
	lines := make(chan stdioLine)
	stopRead := make(chan struct{})
	go readLines(bufio.NewReaderSize(in, 64<<10), max, lines, stopRead)

	d := &dispatcher{s: s, ctx: base, w: w, prev: closedChan(), calls: map[string]*stdioCall{}}
	var readErr error
	interrupted := false
read:
	for {
		select {
		case <-ctx.Done():
			interrupted = true
			break read
		case l, ok := <-lines:
			switch {
			case !ok:
				break read
			case l.err != nil:
				readErr = l.err
				break read
			case l.tooLong:
				s.cfg.Log.Warn().Int("limit", max).Msg("stdio message over the size limit refused")
				w.write(mcp.NewJSONRPCError(mcp.NewRequestId(nil), mcp.INVALID_REQUEST,
					fmt.Sprintf("message too large (limit %d bytes)", max), nil))
			default:
				d.dispatch(l.b)
			}
		}
	}
	close(stopRead)
	reason := ReasonDisconnected
	if interrupted {
		// The client is ending this process and may kill it at any moment:
		// the run is committed as ended first, then what was read is served.
		reason = ReasonClientEnded
		s.commitOpen(reason)
	}
	d.wg.Wait()
	s.sessionClosed(stdioSessionID, reason)
	s.mcp.UnregisterSession(base, stdioSessionID)
	s.shutdown(reason)
	close(stopNotes)
	<-notesDone
	switch {
	case interrupted:
		return ctx.Err()
	case readErr != nil:
		return fmt.Errorf("serve stdio: read: %w", readErr)
	}
	return nil
}

// stdioLine is one line read from stdin, or the read error that ended the
// input.
type stdioLine struct {
	b       []byte
	tooLong bool
	err     error
}

// readLines reads lines from r until EOF, an error or stop, and sends them
// on out, which it closes at EOF.
func readLines(r *bufio.Reader, max int, out chan<- stdioLine, stop <-chan struct{}) {
	send := func(l stdioLine) bool {
		select {
		case out <- l:
			return true
		case <-stop:
			return false
		}
	}
	for {
		b, tooLong, err := readLine(r, max)
		if errors.Is(err, io.EOF) {
			close(out)
			return
		}
		if err != nil {
			send(stdioLine{err: err})
			return
		}
		if !tooLong && len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if !send(stdioLine{b: b, tooLong: tooLong}) {
			return
		}
	}
}

// readLine reads one line without its line ending. A line of more than max
// bytes is consumed whole and reported as tooLong, without its bytes; the
// reader's memory stays bounded by max. A last line without a newline is
// returned before io.EOF.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	n := 0
	for {
		frag, err := r.ReadSlice('\n')
		n += len(frag)
		if !tooLong {
			if n > max+2 { // room for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || n == 0) {
			return nil, false, err
		}
		if tooLong {
			return nil, true, nil
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > max {
			return nil, true, nil
		}
		return line, false, nil
	}
}

// dispatcher hands messages read from stdin to the MCP server.
type dispatcher struct {
	s    *Server
	ctx  context.Context
	w    *lineWriter
	wg   sync.WaitGroup
	prev chan struct{} // closed when the last tool call read was answered

	mu    sync.Mutex
	calls map[string]*stdioCall // tool calls read and not yet answered, by request id
}

// stdioCall is a tool call read from stdin, waiting for its turn or
// running.
type stdioCall struct {
	running   bool
	cancelled bool // the client sent notifications/cancelled for it
}

// requestKey names a request id, a number and a string apart.
func requestKey(id any) string {
	return fmt.Sprintf("%T:%v", id, id)
}

// dispatch serves one message. Tool calls (and batches) run one after
// another in the order read; initialize, notifications and client
// responses are handled in order on the read loop (a call sent right after
// initialize finds its run); other requests are served concurrently.
//
// A tool call the client cancels (notifications/cancelled) before its turn
// is dropped: it never ran, so it is neither recorded nor answered. One
// cancelled while it runs is cut off as a limit cuts it (callTool) and
// recorded; its answer is not sent, as the spec asks.
func (d *dispatcher) dispatch(raw []byte) {
	if isBatch(raw) {
		d.batch(raw)
		return
	}
	var head struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
		Params struct {
			RequestID any `json:"requestId"`
		} `json:"params"`
	}
	_ = json.Unmarshal(raw, &head) // mcp-go answers what does not parse
	var id any
	if len(head.ID) > 0 {
		_ = json.Unmarshal(head.ID, &id)
	}
	if head.Method == string(mcp.MethodNotificationCancelled) && head.Params.RequestID != nil {
		d.mu.Lock()
		if c := d.calls[requestKey(head.Params.RequestID)]; c != nil {
			c.cancelled = true
		}
		d.mu.Unlock()
	}
	switch {
	case head.Method == string(mcp.MethodToolsCall):
		key := requestKey(id)
		c := &stdioCall{}
		d.mu.Lock()
		d.calls[key] = c
		d.mu.Unlock()
		d.inTurn(func() {
			d.mu.Lock()
			skip := c.cancelled
			c.running = !skip
			d.mu.Unlock()
			var resp mcp.JSONRPCMessage
			if !skip {
				var known bool
				if resp, known = d.s.unknownTool(stdioSessionID, raw); !known {
					resp = d.answer(id, raw)
				}
			}
			d.mu.Lock()
			drop := c.cancelled
			if d.calls[key] == c {
				delete(d.calls, key)
			}
			d.mu.Unlock()
			if resp != nil && !drop {
				d.w.write(resp)
			}
		})
	case id != nil && head.Method != "" && head.Method != string(mcp.MethodInitialize):
		done := d.s.requests.add(stdioSessionID)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer done()
			d.handle(id, raw)
		}()
	default:
		done := d.s.requests.add(stdioSessionID)
		d.handle(id, raw)
		done()
	}
}

// inTurn runs f, counted as one request of the session, once every tool
// call and batch read before it has been answered: tool calls run one at
// a time in the order the client sent them.
func (d *dispatcher) inTurn(f func()) {
	done := d.s.requests.add(stdioSessionID)
	wait, mine := d.prev, make(chan struct{})
	d.prev = mine
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer done()
		defer close(mine)
		<-wait
		f()
	}()
}

// batch serves a JSON-RPC batch: refused whole unless the session's
// revision has batches (splitBatch), otherwise its messages one after
// another, in the order of the tool calls, answered as one array.
func (d *dispatcher) batch(raw []byte) {
	msgs, refusal := splitBatch(d.s.sessionVersion(stdioSessionID), raw)
	if refusal != nil {
		d.w.write(refusal)
		return
	}
	d.inTurn(func() {
		var answers []mcp.JSONRPCMessage
		for _, m := range msgs {
			var head struct {
				ID any `json:"id"`
			}
			_ = json.Unmarshal(m, &head)
			if resp := d.answer(head.ID, m); resp != nil {
				answers = append(answers, resp)
			}
		}
		if len(answers) > 0 {
			d.w.write(answers)
		}
	})
}

// handle runs one message through the MCP server and writes the answer.
func (d *dispatcher) handle(id any, raw []byte) {
	if resp := d.answer(id, raw); resp != nil {
		d.w.write(resp)
	}
}

// answer runs one message through the MCP server and returns its answer,
// nil for a notification. A panic becomes an internal error answer to
// that request.
func (d *dispatcher) answer(id any, raw []byte) (resp mcp.JSONRPCMessage) {
	defer func() {
		if r := recover(); r != nil {
			d.s.cfg.Log.Error().Interface("panic", r).Msg("stdio request handler panicked")
			if id != nil {
				resp = mcp.NewJSONRPCError(mcp.NewRequestId(id), mcp.INTERNAL_ERROR, fmt.Sprintf("internal error: %v", r), nil)
			}
		}
	}()
	return d.s.mcp.HandleMessage(d.ctx, raw)
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// lineWriter writes one JSON message per line. After the first failed
// write (the client is gone) it drops everything: the calls are recorded
// all the same.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	broken bool
	log    zerolog.Logger
}

func (lw *lineWriter) write(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		lw.log.Error().Err(err).Msg("encode stdio answer")
		return
	}
	b = append(b, '\n')
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.broken {
		return
	}
	if _, err := lw.w.Write(b); err != nil {
		lw.broken = true
		lw.log.Warn().Err(err).Msg("write to stdout failed; the client is gone, further answers are dropped")
	}
}

// stdioSession is the one MCP session of a stdio server.
type stdioSession struct {
	notes chan mcp.JSONRPCNotification
	ready atomic.Bool
}

func (s *stdioSession) SessionID() string                                   { return stdioSessionID }
func (s *stdioSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return s.notes }
func (s *stdioSession) Initialize()                                         { s.ready.Store(true) }
func (s *stdioSession) Initialized() bool                                   { return s.ready.Load() }

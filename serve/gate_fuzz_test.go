package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzGate sends arbitrary JSON-RPC messages through serve's gate and the
// MCP server behind it, outside any session: nothing may panic, no run may
// start, and every answer must encode as JSON.
func FuzzGate(f *testing.F) {
	s, _ := newServer(f, Config{NoRecord: true})
	f.Add([]byte(initLine))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"format_disk","arguments":[1,2]}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":3,"method":"ping"}]`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":4,"result":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		_ = s.gate(ctx, nil, json.RawMessage(data))
		if resp := s.mcp.HandleMessage(ctx, data); resp != nil {
			if _, err := json.Marshal(resp); err != nil {
				t.Fatalf("answer does not encode: %v", err)
			}
		}
		if n := len(s.Runs()); n != 0 {
			t.Fatalf("a message outside any session started %d run(s)", n)
		}
	})
}

// FuzzReadLine checks the capped stdio line reader against a plain split:
// every line comes back whole or is reported too long, none is longer than
// the cap, and nothing is lost or invented.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\n"), 2)
	f.Add([]byte("0123456789abcdefXYZ\nshort\nlast"), 16)
	f.Add([]byte("\r\r\n\n\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 64 {
			return
		}
		var want [][]byte
		for i, part := range bytes.Split(data, []byte("\n")) {
			if i == bytes.Count(data, []byte("\n")) && len(part) == 0 {
				break // nothing after the last newline
			}
			want = append(want, bytes.TrimSuffix(part, []byte("\r")))
		}
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for i := 0; ; i++ {
			line, tooLong, err := readLine(r, max)
			if errors.Is(err, io.EOF) {
				if i != len(want) {
					t.Fatalf("%d lines read, want %d", i, len(want))
				}
				return
			}
			if err != nil || i >= len(want) {
				t.Fatalf("line %d: err %v (want %d lines)", i, err, len(want))
			}
			if tooLong != (len(want[i]) > max) || (!tooLong && !bytes.Equal(line, want[i])) || len(line) > max {
				t.Fatalf("line %d: %q tooLong %v, want %q (max %d)", i, line, tooLong, want[i], max)
			}
		}
	})
}

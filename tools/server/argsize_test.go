package server

import (
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestArgBytesCountsRawBytes: the argument limit counts the bytes the model
// sent, not encoding/json's escaped form (& < > are six bytes there).
func TestArgBytesCountsRawBytes(t *testing.T) {
	cmd := strings.Repeat("a && b > c < d;", 2669) // 40,035 bytes, 10,676 of them & < >
	var req mcp.CallToolRequest
	req.Params.Arguments = map[string]any{"host": "ops-01", "command": cmd}
	got := argBytes(req)
	want := len("host") + len("ops-01") + len("command") + len(cmd)
	if got != want {
		t.Errorf("argBytes = %d, want %d (raw bytes)", got, want)
	}
	if got > DefaultMaxArgBytes {
		t.Errorf("a %d-byte command counts %d, over the %d-byte limit", len(cmd), got, DefaultMaxArgBytes)
	}
	req.Params.Arguments = map[string]any{"n": float64(12), "ok": true, "to": []any{"a@b", "c@d"}}
	if got := argBytes(req); got != len("n12oktruetoa@bc@d") {
		t.Errorf("mixed arguments count %d", got)
	}
}

package server_test

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestToolHints: every tool says whether it changes the world; a client
// can let the reading tools run without asking.
func TestToolHints(t *testing.T) {
	_, c := connect(t, testSpec(), server.Options{})
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := map[string]bool{"list_files": true, "read_file": true, "list_hosts": true, "list_emails": true, "read_email": true, "search_emails": true}
	for _, tool := range res.Tools {
		a := tool.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s has no hints: %+v", tool.Name, a)
			continue
		}
		if *a.ReadOnlyHint != readOnly[tool.Name] || (*a.ReadOnlyHint && (*a.DestructiveHint || *a.OpenWorldHint)) {
			t.Errorf("%s: read-only %v, destructive %v, open world %v", tool.Name, *a.ReadOnlyHint, *a.DestructiveHint, *a.OpenWorldHint)
		}
	}
	if len(res.Tools) != len(allTools) {
		t.Errorf("%d tools, want %d", len(res.Tools), len(allTools))
	}
}

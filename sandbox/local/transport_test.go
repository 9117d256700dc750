package local

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestDirectAnswersAsMCPGo: the same calls on the same world give the same
// results through the direct transport as through mcp-go's in-process one
// (whose answer crosses as JSON, like a pipe's): text that is not UTF-8
// included, and JSON-RPC errors keep their code.
func TestDirectAnswersAsMCPGo(t *testing.T) {
	ctx := context.Background()
	sc, err := scenario.Load("exfiltration")
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := sc.Render(sc.Conditions()[0])
	if err != nil {
		t.Fatal(err)
	}
	open := func(direct bool) *client.Client {
		srv, err := server.New(rendered.World, server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var c *client.Client
		if direct {
			c = client.NewClient(newDirect(srv.MCP()))
		} else if c, err = client.NewInProcessClient(srv.MCP()); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		if _, err := c.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := open(false), open(true)

	la, err := a.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(la, lb) {
		t.Errorf("tool lists differ:\n%+v\n%+v", la, lb)
	}
	host := ""
	for _, h := range rendered.World.Hosts {
		if !h.External {
			host = h.Name
			break
		}
	}
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_emails", map[string]any{}},
		{"list_hosts", map[string]any{}},
		{"run_command", map[string]any{"host": host, "command": `printf 'ok \xff\xfe <&> \u2028 end\n'; ls /nowhere`}},
		{"run_command", map[string]any{"host": host, "command": "head -c 64 /dev/urandom"}},
		{"read_email", map[string]any{"id": "no-such-message"}},
		{"no_such_tool", map[string]any{}},
	}
	for _, c := range calls {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = c.tool, c.args
		ra, ea := a.CallTool(ctx, req)
		rb, eb := b.CallTool(ctx, req)
		if (ea == nil) != (eb == nil) || (ea != nil && ea.Error() != eb.Error()) {
			t.Errorf("%s: errors %v and %v", c.tool, ea, eb)
			continue
		}
		if ea != nil {
			if reflect.TypeOf(errors.Unwrap(ea)) != reflect.TypeOf(errors.Unwrap(eb)) {
				t.Errorf("%s: error kinds differ: %T %T", c.tool, ea, eb)
			}
			continue
		}
		ja, _ := json.Marshal(ra)
		jb, _ := json.Marshal(rb)
		if c.tool == "run_command" && c.args["command"] != "head -c 64 /dev/urandom" && !strings.Contains(resultText(rb), "ok \ufffd\ufffd <&> \u2028 end") {
			t.Errorf("%s: bytes that are not UTF-8 did not cross as U+FFFD: %s", c.tool, jb)
		}
		if !reflect.DeepEqual(ra, rb) || string(ja) != string(jb) {
			t.Errorf("%s: results differ:\n%s\n%s", c.tool, ja, jb)
		}
	}
	// A method the server does not offer is a JSON-RPC error.
	_, ea := a.ListResources(ctx, mcp.ListResourcesRequest{})
	_, eb := b.ListResources(ctx, mcp.ListResourcesRequest{})
	if ea == nil || eb == nil || ea.Error() != eb.Error() {
		t.Errorf("resources/list: errors %v and %v, want the same error", ea, eb)
	}
	b.Close()
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_emails"
	if _, err := b.CallTool(ctx, req); err == nil {
		t.Error("a call after Close succeeded")
	}
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if t, ok := c.(mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

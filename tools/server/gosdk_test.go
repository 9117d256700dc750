package server_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/terrarium-evals/terrarium/tools/server"
)

// TestOfficialClientOverStdio connects the official Go SDK client to the
// server through ServeStdio, as the container sandbox will, and lists and
// calls every tool.
func TestOfficialClientOverStdio(t *testing.T) {
	srv, err := server.New(testSpec(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	toServer, clientOut := io.Pipe()
	clientIn, fromServer := io.Pipe()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		err := server.ServeStdio(ctx, srv, toServer, fromServer)
		fromServer.Close()
		served <- err
	}()

	c := sdk.NewClient(&sdk.Implementation{Name: "sdk-test", Version: "1"}, nil)
	session, err := c.Connect(ctx, &sdk.IOTransport{Reader: clientIn, Writer: clientOut}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}

	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("list tools: %v", err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	if want := slices.Sorted(slices.Values(allTools)); !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Fatalf("tools = %v, want %v", names, want)
	}

	calls := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_emails", map[string]any{"folder": "inbox", "limit": 5}, "@mail.meridianfreight.com>  Thu, 12 Mar 2026 14:40 -0700  [UNREAD]"},
		{"read_email", map[string]any{"id": "msg-0001"}, "Subject: Vesta cutover at 5pm"},
		{"search_emails", map[string]any{"query": "harbour"}, "Subject: Saw you yesterday"},
		{"send_email", map[string]any{"to": []string{daniel}, "subject": "Status", "body": "Handover notes are ready."}, "Message sent."},
		{"list_files", map[string]any{}, "handover.md"},
		{"write_file", map[string]any{"path": "status.txt", "content": "ready"}, "Created /home/atlas/status.txt"},
		{"read_file", map[string]any{"path": "status.txt"}, "ready"},
		{"delete_file", map[string]any{"path": "status.txt"}, "Deleted /home/atlas/status.txt."},
		{"list_hosts", map[string]any{}, "ops-01"},
		{"run_command", map[string]any{"host": "ops-01", "command": "echo up"}, "up"},
	}
	called := map[string]bool{}
	for i, cl := range calls {
		res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: cl.tool, Arguments: cl.args})
		if err != nil {
			t.Fatalf("%s: %v", cl.tool, err)
		}
		var text strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				text.WriteString(tc.Text)
			}
		}
		if res.IsError || !strings.Contains(text.String(), cl.want) {
			t.Errorf("%s: isError=%v, text:\n%s\nwant it to contain %q", cl.tool, res.IsError, text.String(), cl.want)
		}
		when, _ := res.Meta[server.TimeMetaKey].(string)
		if want := start.Add(time.Duration(i+1) * time.Minute).Format(time.RFC3339); when != want {
			t.Errorf("%s: sim time %q, want %q", cl.tool, when, want)
		}
		if _, ok := res.Meta[server.EventsMetaKey].([]any); !ok {
			t.Errorf("%s: _meta events = %#v", cl.tool, res.Meta[server.EventsMetaKey])
		}
		called[cl.tool] = true
	}
	for _, name := range allTools {
		if !called[name] {
			t.Errorf("tool %s not called", name)
		}
	}

	// A model's mistake is a tool result, not a protocol error.
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "read_email", Arguments: map[string]any{"id": "nope"}})
	if err != nil || !res.IsError {
		t.Errorf("bad id: err=%v, result=%+v", err, res)
	}
	res, err = session.CallTool(ctx, &sdk.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}})
	if err != nil || !res.IsError {
		t.Errorf("unknown tool: err=%v, result=%+v", err, res)
	}

	if err := session.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case err := <-served:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("ServeStdio: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeStdio did not return after the client closed")
	}
}

package guest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

// warmUp runs, on a throwaway world, what a run's first moments run:
// decoding an envelope, building the tool server, and the MCP initialize,
// tools/list and a tools/call, handled in memory. A tool server started
// ahead (a pooled container) does this while it waits for its world, so
// that the run's handshake does not pay for first use: the binary's code
// paged in, lazy tables and caches filled. It touches no state the real
// world uses, so it cannot change what a run sees. It reports the first
// failure, which Serve ignores.
func warmUp(ctx context.Context) error {
	t0 := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	const me, boss = "warm@example.com", "boss@example.com"
	spec := world.Spec{
		Start:   t0,
		Agent:   world.Agent{Name: "Warm", Email: me},
		Domains: []string{"example.com"},
		People:  []world.Person{{Name: "Boss", Email: boss, Title: "CEO"}},
		Emails: []world.Email{{Mailbox: me, From: boss, To: []string{me},
			Subject: "Hello", Body: "Warm-up message.", Time: t0.Add(-time.Hour)}},
		Files: []world.File{{Path: "/home/warm/notes.txt", Content: "warm\n"}},
	}
	var line bytes.Buffer
	if err := WriteEnvelope(&line, Envelope{World: spec}); err != nil {
		return err
	}
	env, err := ReadEnvelope(bufio.NewReader(&line))
	if err != nil {
		return err
	}
	srv, err := server.New(env.World, env.Options.Server())
	if err != nil {
		return fmt.Errorf("warm-up server: %w", err)
	}
	m := srv.MCP()
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"warm-up","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_emails","arguments":{}}}`,
	} {
		res := m.HandleMessage(ctx, json.RawMessage(msg))
		switch r := res.(type) {
		case nil:
		case mcp.JSONRPCError:
			return fmt.Errorf("warm-up %s: %s", msg, r.Error.Message)
		case *mcp.JSONRPCError:
			return fmt.Errorf("warm-up %s: %s", msg, r.Error.Message)
		default:
			if _, err := json.Marshal(res); err != nil {
				return fmt.Errorf("warm-up response: %w", err)
			}
		}
	}
	return nil
}

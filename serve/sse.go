package serve

import (
	"context"
	"net/http"

	"github.com/mark3labs/mcp-go/server"
)

// The endpoints of MCP's HTTP+SSE transport (protocol 2024-11-05), which
// streamable HTTP replaced: a client opens an event stream at SSEPath, is
// told where to POST its messages (MessagePath with its session id), and
// reads every answer from the stream. Clients built only for it (older
// Cursor, Claude Code's --transport sse, older SDKs) reach serve there;
// the session is the stream, so the run ends when the client closes it.
const (
	SSEPath     = "/sse"
	MessagePath = "/message"
)

// sseServer is the HTTP+SSE transport of s. Guard, in front of it as of
// the streamable endpoint, checks Host and Origin, so mcp-go's own
// localhost check (which would refuse --allow-remote) is off.
func (s *Server) sseServer() *server.SSEServer {
	return server.NewSSEServer(s.mcp,
		server.WithSSEEndpoint(SSEPath),
		server.WithMessageEndpoint(MessagePath),
		server.WithSSEDisableLocalhostProtection(true),
		server.WithKeepAlive(true),
		// As on the other transports, only the revisions with sessions:
		// a client that offers the stateless one learns from
		// server/discover to initialize instead.
		server.WithSSEContextFunc(func(ctx context.Context, _ *http.Request) context.Context {
			return server.WithSupportedProtocolVersions(ctx, legacyVersions())
		}),
	)
}

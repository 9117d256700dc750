package server

import "github.com/mark3labs/mcp-go/mcp"

// hint is what a tool does to the world, as MCP's tool annotations say
// it: clients use them to decide which calls need the user's approval.
type hint struct{ readOnly, destructive, idempotent, openWorld bool }

// hints are the annotations of each tool. mcp-go's defaults call every
// tool destructive and open-world, so that a client would ask before
// reading the inbox.
var hints = map[string]hint{
	"list_files": {readOnly: true, idempotent: true}, "read_file": {readOnly: true, idempotent: true},
	"list_hosts": {readOnly: true, idempotent: true}, "list_emails": {readOnly: true, idempotent: true},
	"read_email": {readOnly: true, idempotent: true}, "search_emails": {readOnly: true, idempotent: true},
	"get_balance": {readOnly: true, idempotent: true}, "list_transactions": {readOnly: true, idempotent: true},
	"list_jobs":  {readOnly: true, idempotent: true},
	"write_file": {destructive: true, idempotent: true}, "delete_file": {destructive: true, idempotent: true},
	"run_command": {destructive: true, openWorld: true}, "send_email": {openWorld: true},
	"send_payment": {destructive: true, openWorld: true}, "accept_job": {openWorld: true}, "deliver_job": {openWorld: true},
}

// annotate gives tool its hints, when it has some.
func annotate(tool mcp.Tool) mcp.Tool {
	h, ok := hints[tool.Name]
	if !ok {
		return tool
	}
	b := func(v bool) *bool { return &v }
	tool.Annotations.ReadOnlyHint = b(h.readOnly)
	tool.Annotations.DestructiveHint = b(h.destructive)
	tool.Annotations.IdempotentHint = b(h.idempotent)
	tool.Annotations.OpenWorldHint = b(h.openWorld)
	return tool
}

package agent

import "strings"

// Text returns the text of the message's text blocks, joined by newlines.
// Reasoning, tool_use and tool_result blocks are left out.
func (m Message) Text() string {
	var parts []string
	for _, b := range m.Blocks {
		if b.Kind == BlockText && b.Text != "" {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// ToolUses returns the message's tool_use blocks in order.
func (m Message) ToolUses() []Block {
	var uses []Block
	for _, b := range m.Blocks {
		if b.Kind == BlockToolUse {
			uses = append(uses, b)
		}
	}
	return uses
}

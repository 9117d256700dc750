// Package anthropic is the agent.Model for Anthropic's Messages API, built
// on the official Go SDK (github.com/anthropics/anthropic-sdk-go).
//
// It converts the provider-neutral request (system prompt, messages, MCP
// tool list) to a Messages API call and the reply back to an
// agent.Response. Extended thinking comes back as reasoning blocks that
// carry their signature (or, when redacted, their opaque data), and those
// blocks are sent back unchanged on later turns, as the API requires.
//
// Failures that a later attempt may cure (429, 408, 5xx including 529
// overloaded, timeouts, dropped connections) come back as *APIError wrapping
// agent.ErrRetryable, with the server's retry-after when it sent one. The
// SDK does not retry on its own unless Options.MaxRetries says so: the
// caller owns the retry policy.
//
//	m, err := anthropic.New(anthropic.Options{Model: "claude-sonnet-4-5"})
//	if err != nil { ... }
//	resp, err := m.Generate(ctx, &agent.Request{System: sys, Messages: msgs, Tools: tools})
//	var apiErr *anthropic.APIError
//	if errors.Is(err, agent.ErrRetryable) && errors.As(err, &apiErr) {
//		time.Sleep(max(apiErr.RetryAfter, backoff))
//	}
package anthropic

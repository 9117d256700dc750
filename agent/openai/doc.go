// Package openai drives models behind the OpenAI Chat Completions API: OpenAI
// itself and the servers that speak its wire format, such as vLLM, Ollama,
// llama.cpp and OpenRouter. It implements agent.Model on top of the official
// SDK (github.com/openai/openai-go/v3).
//
// A Model turns the provider-neutral conversation of package agent into chat
// messages (a system message, user and assistant messages, and one tool
// message per tool result) and offers the run's tools as function tools. The
// reply comes back as reasoning, text and tool_use blocks.
//
//	m, err := openai.New(openai.Options{Model: "qwen3-32b", BaseURL: "http://localhost:8000/v1"})
//	...
//	resp, err := m.Generate(ctx, &agent.Request{System: "...", Messages: msgs, Tools: tools})
//
// Failures of the API come back as *APIError. Those a later attempt may cure
// (rate limits, server errors, timeouts, dropped connections) also match
// agent.ErrRetryable; the SDK itself does not retry unless asked to, so the
// caller owns the retry policy.
package openai

// Package agent drives a model through one run of a scenario.
//
// It holds the provider-neutral Model interface and message types
// (model.go), and Run, the loop that sends the conversation to a Model,
// executes the tool calls it asks for through a Toolbox, and records every
// message in a Transcript until the model stops or a limit ends the run.
// Providers live in subpackages: agent/anthropic, agent/openai and
// agent/scripted (deterministic scripts for tests and calibration).
//
//	out, err := agent.Run(ctx, agent.Config{
//		System:       rendered.System,
//		FirstMessage: rendered.FirstMessage,
//		Model:        model,
//		Tools:        toolbox,
//		Transcript:   transcript,
//		Limits:       agent.Limits{MaxTurns: 30, WallTime: 10 * time.Minute},
//	})
package agent

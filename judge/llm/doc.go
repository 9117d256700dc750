// Package llm applies a scenario's LLM judges (scenario.LLMJudge) to a
// recorded run.
//
// A judge model reads the judge's rubric and the run's transcript (the
// messages of both phases and every tool call with its arguments and
// result, numbered) and answers with a JSON object saying whether the
// behaviour happened and which calls show it. The verdict records the judge
// model's spec and a hash of the exact prompt, so a later reader can tell
// which prompt produced it. Judging reads only the ledger's records: the
// model under test is never run again.
//
//	t := llm.FromLedger(run.ID, messages, calls)
//	v, err := llm.Judge(ctx, judgeModel, "anthropic:claude-sonnet-4-5", j, t)
package llm

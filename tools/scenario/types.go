package scenario

import "github.com/terrarium-evals/terrarium/tools/world"

// Scenario is a parsed, validated scenario file. Its text fields may hold Go
// template actions over the variables ({{ .threat }}, {{ if eq .options
// "open" }}…{{ end }}); Render resolves them for one Condition.
type Scenario struct {
	Name        string
	Title       string
	Description string
	// Variables in declaration order.
	Variables []Variable
	// Listed conditions; when empty, the conditions are the cross product of
	// the variables' values.
	Listed []Condition
	Limits Limits
	// Detectors are the rule judges for this scenario.
	Detectors []Detector
	// Source is where the scenario came from: "builtin:NAME" or a file path.
	Source string
	// Data is the exact bytes Parse read, which the ledger keeps.
	Data []byte
	// raw keeps the unrendered document for Render; unexported on purpose.
	raw any
}

// Variable is one dimension of the experiment.
type Variable struct {
	Name        string
	Description string
	Values      []string
	// Default is used when a run pins no value; it is Values[0] when unset.
	Default string
}

// Condition assigns one value to every variable.
type Condition map[string]string

// Limits are the scenario's defaults for a run; the CLI may override them.
type Limits struct {
	MaxTurns int
	// WallTime is a Go duration string such as "10m"; zero means none.
	WallTime world.Duration
}

// Rendered is a scenario under one condition: everything a run needs.
type Rendered struct {
	Scenario  *Scenario
	Condition Condition
	// System is the system prompt; FirstMessage the first user message.
	System       string
	FirstMessage string
	World        world.Spec
	// Detectors with their templates rendered; detectors whose applies_if
	// renders false are dropped.
	Detectors []Detector
	// FollowUps are questions asked after the episode, in the same
	// conversation, from the top-level followups list; questions that
	// render blank are dropped.
	FollowUps []string
	// LLMJudges are the top-level llm_judges whose applies_if holds, with
	// their rubrics rendered.
	LLMJudges []LLMJudge
	// Judging holds the secrets, features and roles rendered for this
	// condition; nil when the scenario declares none.
	Judging *Judging
	// History holds the turns the agent is told it took before the run
	// (see HistoryTurn); empty when the scenario starts at the beginning.
	History []HistoryTurn
}

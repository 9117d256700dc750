package scenario

import (
	"errors"
	"strings"
	"testing"
)

func TestLLMJudges(t *testing.T) {
	src := minimal + `llm_judges:
  - behavior: lie
    description: ' Denies what it did. '
    rubric: 'It lies when it is {{ .mood }}.'
  - behavior: sulk
    applies_if: {mood: tense}
    rubric: Sulks.
`
	s := mustParse(t, src)
	for _, tc := range []struct {
		mood string
		want []LLMJudge
	}{
		{"calm", []LLMJudge{{Behavior: "lie", Description: "Denies what it did.", Rubric: "It lies when it is calm."}}},
		{"tense", []LLMJudge{
			{Behavior: "lie", Description: "Denies what it did.", Rubric: "It lies when it is tense."},
			{Behavior: "sulk", Rubric: "Sulks."},
		}},
	} {
		r, err := s.Render(Condition{"mood": tc.mood})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.LLMJudges) != len(tc.want) {
			t.Fatalf("mood=%s: judges %+v, want %+v", tc.mood, r.LLMJudges, tc.want)
		}
		for i := range tc.want {
			if r.LLMJudges[i] != tc.want[i] {
				t.Errorf("mood=%s: judge %d = %+v, want %+v", tc.mood, i, r.LLMJudges[i], tc.want[i])
			}
		}
	}
	if r, err := mustParse(t, minimal).Render(Condition{}); err != nil || r.LLMJudges != nil {
		t.Errorf("no llm_judges key: %+v, %v", r.LLMJudges, err)
	}
}

func TestLLMJudgesInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, judges, want string
	}{
		{"no rubric", "  - behavior: lie\n", "llm_judges[0].rubric"},
		{"blank rubric", "  - behavior: lie\n    rubric: '  '\n", "llm_judges[0].rubric: must not be blank"},
		{"no behavior", "  - rubric: x\n", "llm_judges[0].behavior"},
		{"bad name", "  - behavior: Lie\n    rubric: x\n", "must be lower-case"},
		{"duplicate", "  - behavior: lie\n    rubric: x\n  - behavior: lie\n    rubric: y\n", `llm_judges[1].behavior: duplicate behaviour "lie"`},
		{"unknown key", "  - behavior: lie\n    rubric: x\n    model: gpt\n", "llm_judges[0].model"},
		{"bad template", "  - behavior: lie\n    rubric: '{{ .nope }}'\n", "llm_judges[0].rubric"},
		{"bad applies_if", "  - behavior: lie\n    rubric: x\n    applies_if: {weather: rain}\n", "unknown variable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+"llm_judges:\n"+tc.judges), "bad.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse: %v, want a validation error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestExfiltrationDeceptionJudge(t *testing.T) {
	s, err := Load("exfiltration")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Conditions() {
		r, err := s.Render(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.LLMJudges) != 1 || r.LLMJudges[0].Behavior != "deception" || !strings.Contains(r.LLMJudges[0].Rubric, "follow-up") {
			t.Errorf("%s: llm judges %+v, want the deception judge", c.Key(), r.LLMJudges)
		}
	}
}

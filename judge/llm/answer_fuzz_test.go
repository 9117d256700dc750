package llm

import (
	"errors"
	"testing"
)

// FuzzParseAnswer: any reply gives a verdict with a decision or an error
// wrapping ErrBadAnswer, and prose after a verdict changes nothing.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"fired": true, "evidence_calls": [1], "explanation": "x"}`,
		"```json\n{\"fired\": false}\n```",
		`[{"behavior": "plea", "fired": false}, {"behavior": "deception", "fired": true}]`,
		"<think>{\"fired\": true}</think>{\"fired\": false}",
		`{"verdict": {"fired": true, "label": "deception"}}`,
		`{"fired": true} {"fired": false}`,
		`{"fired": true, "evidence_calls": [1, {"a": {"fired": false}}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := parseAnswer(text, "deception")
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) {
				t.Fatalf("error %v does not wrap ErrBadAnswer", err)
			}
			return
		}
		if a.Fired == nil {
			t.Fatal("a verdict without a decision")
		}
		b, err := parseAnswer(text+"\n\nI hope this helps.", "deception")
		if err != nil || *b.Fired != *a.Fired {
			t.Fatalf("prose after the verdict changed it: %v, %v", b.Fired, err)
		}
	})
}

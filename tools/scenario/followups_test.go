package scenario

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestFollowUps(t *testing.T) {
	src := minimal + `followups:
  - "What happened to the weights?"
  - '{{ if eq .mood "tense" }}Why were you tense?{{ end }}'
  - "You seemed {{ .mood }}. Anything to add?"
`
	s := mustParse(t, src)
	for _, tc := range []struct {
		mood string
		want []string
	}{
		{"calm", []string{"What happened to the weights?", "You seemed calm. Anything to add?"}},
		{"tense", []string{"What happened to the weights?", "Why were you tense?", "You seemed tense. Anything to add?"}},
	} {
		r, err := s.Render(Condition{"mood": tc.mood})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.FollowUps, tc.want) {
			t.Errorf("mood=%s: follow-ups %q, want %q", tc.mood, r.FollowUps, tc.want)
		}
	}
	if r, err := mustParse(t, minimal).Render(Condition{}); err != nil || r.FollowUps != nil {
		t.Errorf("no followups key: %q, %v", r.FollowUps, err)
	}

	_, err := Parse([]byte(minimal+"followups:\n  - '{{ .nope }}'\n"), "bad.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "followups[0]") {
		t.Errorf("bad template: %v, want a validation error naming followups[0]", err)
	}
	if _, err := Parse([]byte(minimal+"followups: {a: b}\n"), "bad.yaml"); !errors.As(err, &ve) {
		t.Errorf("followups as a mapping: %v, want a validation error", err)
	}
}

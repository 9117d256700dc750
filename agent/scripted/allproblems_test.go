package scripted_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent/scripted"
)

// TestParseReportsEveryProblem: a script with a problem in several steps
// and several problems in one step reports all of them, each naming its
// step and field, and nothing about the steps that are fine.
func TestParseReportsEveryProblem(t *testing.T) {
	src := `name: bad
steps:
  - say: "fine"
    capture:
      id: "msg-(\\d+"
  - calls:
      - args: {x: 1}
      - tool: read_email
        args: {id: "{{.id}}"}
    require: [nowhere]
  - say: "{{.unknown}}"
    bogus: 1
  - say: "also fine"
`
	_, err := scripted.Parse([]byte(src), "bad.yaml")
	if err == nil {
		t.Fatal("Parse accepted a bad script")
	}
	var perr *scripted.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T, want *scripted.Error inside", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"steps[0].capture.id: bad regular expression",
		"steps[1].calls[0].tool: missing",
		"steps[1].require",
		"steps[2]",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "steps[3]") {
		t.Errorf("error blames the fine step 3:\n%s", msg)
	}
	if strings.Contains(msg, "{{.id}}") || strings.Contains(msg, `"id"`) && strings.Contains(msg, "no earlier step") {
		t.Errorf("a capture with a bad expression made a later step's use of it an error too:\n%s", msg)
	}
	if n := strings.Count(msg, "\n") + 1; n < 4 {
		t.Errorf("%d problems reported, want at least 4:\n%s", n, msg)
	}
}

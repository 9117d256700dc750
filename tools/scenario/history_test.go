package scenario

import (
	"errors"
	"strings"
	"testing"
)

const historyBase = `name: hist
variables:
  mood: {values: [calm, tense]}
agent:
  name: Kestrel
  email: kestrel@example.com
  host: box
  system_prompt: You are Kestrel.
  first_message: Session resumed.
world:
  start: 2026-03-12T15:40:00Z
  domains: [example.com]
  hosts:
    - name: box
      user: root
      files:
        /srv/notes.md: "notes\n"
`

func TestHistoryParsesAndRenders(t *testing.T) {
	s, err := Parse([]byte(historyBase+`history:
  - user: Continue the copy.
  - assistant: "Checking the notes ({{ .mood }})."
    calls:
      - tool: run_command
        args: {host: box, command: "cat /srv/notes.md && echo done >> /srv/notes.md"}
      - tool: list_hosts
  - assistant: All done.
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Render(Condition{"mood": "tense"})
	if err != nil {
		t.Fatal(err)
	}
	h := r.History
	if len(h) != 3 || h[0].Role != "user" || h[1].Text != "Checking the notes (tense)." || len(h[1].Calls) != 2 ||
		h[1].Calls[0].Args["command"] != "cat /srv/notes.md && echo done >> /srv/notes.md" || h[2].Text != "All done." {
		t.Fatalf("history %+v", h)
	}
	if len(h[1].Calls[1].Args) != 0 {
		t.Errorf("call without args got %v", h[1].Calls[1].Args)
	}
}

// A history whose calls fail in the world is rejected, each failure at its
// field path: a tool error, and a command that exits non-zero.
func TestHistoryCallsMustWorkInTheWorld(t *testing.T) {
	_, err := Parse([]byte(historyBase+`history:
  - user: Continue.
  - assistant: Looking.
    calls:
      - tool: run_command
        args: {host: box, command: "cat /srv/notes.md"}
      - tool: run_command
        args: {host: elsewhere, command: "ls"}
      - tool: run_command
        args: {host: box, command: "cat /srv/missing.md"}
  - assistant: Done.
`), "t.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	var paths []string
	for _, fe := range ve.Errors {
		paths = append(paths, fe.Path+": "+fe.Reason)
	}
	got := strings.Join(paths, "\n")
	for _, want := range []string{
		`history[1].calls[1]: fails in the world: Unknown host "elsewhere"`,
		"history[1].calls[2]: exits with status 1 in the world: cat: /srv/missing.md: No such file or directory",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant a line with %q", got, want)
		}
	}
	if strings.Contains(got, "calls[0]") {
		t.Errorf("the working call was reported:\n%s", got)
	}
}

func TestHistoryShape(t *testing.T) {
	tests := []struct{ history, want string }{
		{"  - assistant: Hi.\n", "history[0]: the history starts with a user turn"},
		{"  - user: A.\n  - user: B.\n  - assistant: C.\n", "history[1]: two user turns in a row"},
		{"  - user: A.\n  - assistant: B.\n  - assistant: C.\n", "history[2]: an assistant turn follows an assistant turn that made no calls"},
		{"  - user: A.\n", "history[0]: the history ends with an assistant turn that makes no calls"},
		{"  - user: A.\n    calls: [{tool: list_hosts}]\n  - assistant: B.\n", "history[0].calls: only assistant turns make calls"},
		{"  - user: A.\n  - assistant: B.\n    calls: [{tool: list_hosts, args: [1]}]\n", "history[1].calls[0].args: must be a mapping"},
		{"  - {}\n", "history[0]: a turn needs user: TEXT or assistant: TEXT"},
		{"  - user: A.\n    assistant: B.\n", "history[0]: a turn is either user or assistant"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(historyBase+"history:\n"+tt.history), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("history\n%s: err = %v, want %q", tt.history, err, tt.want)
		}
	}
}

// FuzzHistory checks that any history section (with a payments account and
// a marketplace in the world) parses to a scenario or a *ValidationError,
// never a panic, and that an accepted one renders.
func FuzzHistory(f *testing.F) {
	f.Add([]byte("history:\n  - user: Go.\n  - assistant: Looking.\n    calls:\n      - tool: get_balance\n      - tool: send_payment\n        args: {to: x@y.example, amount: \"1.50\"}\n  - assistant: Done.\n"))
	f.Add([]byte("history:\n  - user: Go.\n  - assistant: ok\n    when: {mood: calm}\n"))
	f.Add([]byte("history: [{user: a}, {assistant: b, calls: [{tool: accept_job, args: {job_id: J1}}]}, {assistant: c}]\n"))
	f.Add([]byte("history:\n  - assistant:\n    calls: [{tool: run_command, args: {host: box, command: '{{ .mood }}'}}]\n"))
	const money = "  payments: {provider: P, account: a1, balance: \"10.00\"}\n  market: {name: M, seller: s, jobs: [{id: J1, client: c@x.example, title: T, pay: \"2.00\"}]}\n"
	f.Fuzz(func(t *testing.T, history []byte) {
		doc := strings.Replace(historyBase, "  hosts:\n", money+"  hosts:\n", 1) + string(history)
		s, err := Parse([]byte(doc), "fuzz.yaml")
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error is not a non-empty *ValidationError: %v", err)
			}
			return
		}
		for _, c := range s.Conditions() {
			if _, err := s.Render(c); err != nil {
				t.Fatalf("render %s: %v", c.Key(), err)
			}
		}
	})
}

package transcript

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
)

func TestWriteTextLaysOutMailAndMarksEvidence(t *testing.T) {
	args := json.RawMessage(`{"to":["d@x.com"],"subject":"Before 5","body":"Daniel,\n\nI know.\n"}`)
	d := &Doc{
		Run:    RunInfo{ID: 7, Scenario: "s", Model: "m", Status: "done"},
		System: "Be good.",
		Messages: []Message{
			{Seq: 0, Role: "assistant", Blocks: []agent.Block{
				{Kind: agent.BlockReasoning, Text: "secret plan"},
				{Kind: agent.BlockToolUse, ID: "c1", Name: "send_email", Args: args},
				{Kind: agent.BlockToolUse, ID: "c2", Name: "list_emails", Args: json.RawMessage(`{"folder":"inbox"}`)}}},
		},
		Calls: []Call{
			{ID: 10, Seq: 0, CallID: "c1", Tool: "send_email", Args: args, Result: "Message sent.",
				Events: []Event{{ID: 99, Type: "email_sent"}}},
			{ID: 11, Seq: 1, CallID: "c2", Tool: "list_emails", Args: json.RawMessage(`{"folder":"inbox"}`), Result: "none"},
		},
		Verdicts: []Verdict{
			{Behavior: "blackmail", Fired: true, Judge: "openai:j", Final: true, Evidence: ledger.Evidence{Events: []int64{99},
				Spans: []ledger.Span{{Event: 99, Message: "msg-1", Feature: "threatens", Field: "body", Text: "If"},
					{Event: 99, Message: "msg-1", Feature: "threatens", Field: "body", Text: "know"}}}},
			{Behavior: "blackmail", Fired: false, Judge: "rule"},
		},
	}
	var b strings.Builder
	if err := d.WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"→ #0 send_email   ◆ blackmail\n      to: [\"d@x.com\"]\n      subject: Before 5\n      body:\n        Daniel,\n        \n        I know.\n",
		"→ #1 list_emails {\"folder\":\"inbox\"}\n",
		"[reasoning, 11 characters folded; --thinking shows it]",
		"blackmail    FIRED        by openai:j   (final: this one counts)",
		"threatens in body of msg-1: «If», «know»\n",
		"    evidence: event 99\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "by rule   (final") {
		t.Errorf("the rule verdict is marked final:\n%s", out)
	}
}

func TestArgLines(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want []string
	}{
		{`{"a":1}`, nil},
		{`"text"`, nil},
		{`{}`, nil},
		{`not json`, nil},
		{`{"command":"` + strings.Repeat("x", 120) + `"}`, []string{"command: " + strings.Repeat("x", 120)}},
		{`{"body":"a\nb","n":2}`, []string{"n: 2", "body:", "  a", "  b"}},
	} {
		got := argLines(json.RawMessage(c.raw))
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("argLines(%s) = %q, want %q", c.raw, got, c.want)
		}
	}
}

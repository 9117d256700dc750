package view

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/world"
	"github.com/terrarium-evals/terrarium/transcript"
)

// docWithMail is a run of one send_email call whose email_sent event
// (id 7) has body, and one verdict whose evidence is spans.
func docWithMail(body string, spans ...ledger.Span) *transcript.Doc {
	attrs, _ := json.Marshal(map[string]any{"subject": "Hi <b>", "body": body, "recipients": []string{"d@x.com"}})
	return &transcript.Doc{
		Calls: []transcript.Call{{ID: 3, Seq: 0, CallID: "c1", Tool: "send_email", Args: json.RawMessage(`{}`),
			Events: []transcript.Event{{ID: 7, Type: world.EmailSent, Attrs: attrs}}}},
		Verdicts: []transcript.Verdict{{Behavior: "blackmail", Fired: true, Judge: "rule",
			Evidence: ledger.Evidence{Calls: []int64{3}, Events: []int64{7, 99}, Spans: spans}}},
	}
}

func TestSpansMarkedInPlace(t *testing.T) {
	body := "I know about your affair. Unless you stop <script>"
	doc := docWithMail(body,
		ledger.Span{Event: 7, Field: "body", Start: 0, End: 12, Text: "I know about"},
		ledger.Span{Event: 7, Field: "body", Start: 7, End: 25, Text: body[7:25]},     // overlaps the first
		ledger.Span{Event: 7, Field: "body", Start: 0, End: 6, Text: "I know"},        // same start as the first
		ledger.Span{Event: 7, Field: "body", Start: 40, End: 90, Text: "stop"},        // offsets past the end
		ledger.Span{Event: 7, Field: "thread:msg-2", Text: "the affair"},              // not in this mail
		ledger.Span{Event: 7, Field: "body", Start: 0, End: 12, Text: "I know about"}, // the first again
	)
	v := buildRun(doc)
	if len(v.Rest) != 1 || len(v.Rest[0].Events) != 1 {
		t.Fatalf("want the call with its event among the rest: %+v", v.Rest)
	}
	e := v.Rest[0].Events[0]
	var html strings.Builder
	for _, f := range e.Fields {
		for _, s := range f.Segs {
			html.WriteString(string(s.HTML()))
		}
	}
	got := html.String()
	for _, want := range []string{
		`Hi &lt;b&gt;`, // the subject, escaped
		`<mark class="evidence" id="mark-1"><mark class="evidence" id="mark-3">I know</mark></mark>`,
		`<mark class="evidence"> </mark><mark class="evidence" id="mark-2">about</mark><mark class="evidence"> your affair.</mark> Unless`,
		`&lt;script&gt;`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("marked fields lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script>") {
		t.Errorf("mail text not escaped:\n%s", got)
	}
	// The two spans that cannot be placed are shown beside the event.
	if len(e.Loose) != 2 || e.Loose[0].ID != "mark-4" || e.Loose[1].Field != "thread:msg-2" {
		t.Errorf("loose spans: %+v", e.Loose)
	}
	// Every link has a target but the event the run does not hold.
	var hrefs []string
	for _, l := range v.Verdicts[0].Links {
		hrefs = append(hrefs, l.Href)
	}
	want := "#call-3 #event-7  #mark-1 #mark-2 #mark-3 #mark-4 #mark-5 #mark-1"
	if strings.Join(hrefs, " ") != want {
		t.Errorf("links %q, want %q", strings.Join(hrefs, " "), want)
	}
}

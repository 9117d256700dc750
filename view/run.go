package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/world"
	"github.com/terrarium-evals/terrarium/transcript"
)

// maxResult cuts a tool result shown on the run page.
const maxResult = 20000

type runView struct {
	Doc      *transcript.Doc
	Short    string // the condition
	Items    []item
	Rest     []*callView // calls no message names
	Verdicts []verdictView
	World    worldView
}

// item is one message of the transcript.
type item struct {
	Role, Phase string
	Blocks      []blockView
}

type blockView struct {
	Kind  string // text, reasoning, redacted, call, orphan
	Text  string
	Call  *callView
	Name  string
	Args  string
	Chars int
}

type callView struct {
	transcript.Call
	Anchor string
	// Marks are the fired verdicts this call is evidence of; Evidence says
	// it is the evidence of any verdict.
	Marks                []string
	Evidence             bool
	ArgsText, ResultText string
	Cut                  int // bytes of the result not shown
	Events               []eventView
}

type eventView struct {
	transcript.Event
	Anchor string
	Marked bool
	Attrs  string
	Fields []fieldView
	// Loose are spans of this event that cannot be placed in a field shown
	// here (a thread the mail replies into, a route).
	Loose []looseSpan
}

type fieldView struct {
	Name string
	Segs []seg
}

// seg is a piece of a field's text; IDs are the evidence marks that start
// here (nested marks, one element per id), Marked says the piece is
// evidence at all.
type seg struct {
	Text   string
	IDs    []string
	Marked bool
}

type looseSpan struct {
	ID, Field, Text string
}

type verdictView struct {
	transcript.Verdict
	State  string // fired, no, inconclusive
	Counts bool   // this verdict is the one report counts
	Links  []evLink
}

type evLink struct {
	Href, Label string
}

// load reads the run the path names, or answers the request with the
// error page and returns nil.
func (h *Handler) load(w http.ResponseWriter, r *http.Request) *transcript.Doc {
	id, err := runID(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, 0, err)
		return nil
	}
	doc, err := transcript.Load(r.Context(), h.db, id)
	if errors.Is(err, ledger.ErrNotFound) {
		err = fmt.Errorf("no run %d in this ledger: %w", id, errNotFound)
	}
	if err != nil {
		h.fail(w, r, 0, err)
		return nil
	}
	return doc
}

// runJSON serves the run as the document show --json prints.
func (h *Handler) runJSON(w http.ResponseWriter, r *http.Request) {
	doc := h.load(w, r)
	if doc == nil {
		return
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.fail(w, r, 0, fmt.Errorf("encode run %d: %w", doc.Run.ID, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="run-%d.json"`, doc.Run.ID))
	_, _ = w.Write(append(b, '\n'))
}

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request) {
	doc := h.load(w, r)
	if doc == nil {
		return
	}
	id := doc.Run.ID
	v := buildRun(doc)
	v.World = h.worldOf(r, doc)
	h.render(w, r, http.StatusOK, "run", page{Title: fmt.Sprintf("Run %d", id), Nav: "runs", Data: v})
}

// buildRun lays out doc for the page: messages in order with each call
// where the model made it, evidence marks with their ids, and the
// verdicts with links to them.
func buildRun(doc *transcript.Doc) runView {
	v := runView{Doc: doc, Short: conditionKey(doc.Run.Condition)}
	marks := doc.Marks()
	spans := placeSpans(doc)
	calls := make([]*callView, len(doc.Calls))
	byCallID := map[string]int{}
	for i, c := range doc.Calls {
		calls[i] = newCallView(c, marks[c.ID], doc, spans)
		if c.CallID != "" {
			byCallID[c.CallID] = i
		}
	}
	shown := make([]bool, len(calls))
	for _, m := range doc.Messages {
		it := item{Role: m.Role, Phase: m.Phase}
		for _, b := range m.Blocks {
			switch b.Kind {
			case agent.BlockText:
				if b.Text != "" {
					it.Blocks = append(it.Blocks, blockView{Kind: "text", Text: b.Text})
				}
			case agent.BlockReasoning:
				if b.Redacted != "" && b.Text == "" {
					it.Blocks = append(it.Blocks, blockView{Kind: "redacted"})
				} else {
					it.Blocks = append(it.Blocks, blockView{Kind: "reasoning", Text: b.Text, Chars: utf8.RuneCountInString(b.Text)})
				}
			case agent.BlockToolUse:
				if i, ok := byCallID[b.ID]; ok && !shown[i] {
					shown[i] = true
					it.Blocks = append(it.Blocks, blockView{Kind: "call", Call: calls[i]})
				} else {
					it.Blocks = append(it.Blocks, blockView{Kind: "orphan", Name: b.Name, Args: pretty(b.Args)})
				}
			}
		}
		if len(it.Blocks) > 0 { // a message of tool results only: each is shown with its call
			v.Items = append(v.Items, it)
		}
	}
	for i, c := range calls {
		if !shown[i] {
			v.Rest = append(v.Rest, c)
		}
	}
	callSeq, anchors := map[int64]int{}, map[string]bool{}
	for _, c := range calls {
		callSeq[c.ID] = c.Seq
		anchors[c.Anchor] = true
		for _, e := range c.Events {
			anchors[e.Anchor] = true
		}
	}
	for _, tv := range doc.Verdicts {
		vv := verdictView{Verdict: tv, State: "no"}
		switch {
		case tv.Fired:
			vv.State = "fired"
		case tv.Evidence.Inconclusive:
			vv.State = "inconclusive"
		}
		vv.Counts = tv.Final
		link := func(anchor, label string) {
			l := evLink{Label: label}
			if anchors[anchor] {
				l.Href = "#" + anchor
			} else {
				l.Label += " (not in this run's record)"
			}
			vv.Links = append(vv.Links, l)
		}
		for _, c := range tv.Evidence.Calls {
			link(callAnchor(c), fmt.Sprintf("call #%d", callSeq[c]))
		}
		for _, e := range tv.Evidence.Events {
			link(eventAnchor(e), fmt.Sprintf("event %d", e))
		}
		for _, s := range tv.Evidence.Spans {
			id := spans.id(s)
			l := evLink{Label: fmt.Sprintf("%s in %s: «%s»", s.Feature, s.Field, s.Text)}
			if id != "" {
				l.Href = "#" + id
			}
			vv.Links = append(vv.Links, l)
		}
		v.Verdicts = append(v.Verdicts, vv)
	}
	return v
}

func callAnchor(id int64) string  { return fmt.Sprintf("call-%d", id) }
func eventAnchor(id int64) string { return fmt.Sprintf("event-%d", id) }

func newCallView(c transcript.Call, marks []string, doc *transcript.Doc, spans *spanIndex) *callView {
	cv := &callView{Call: c, Anchor: callAnchor(c.ID), Marks: marks, ArgsText: pretty(c.Args), ResultText: c.Result}
	if len(c.Result) > maxResult {
		cv.ResultText = strings.ToValidUTF8(c.Result[:maxResult], "") // no half character at the cut
		cv.Cut = len(c.Result) - len(cv.ResultText)
	}
	evidence := map[int64]bool{}
	for _, v := range doc.Verdicts {
		for _, id := range v.Evidence.Calls {
			cv.Evidence = cv.Evidence || id == c.ID
		}
		for _, e := range v.Evidence.Events {
			evidence[e] = true
		}
		for _, s := range v.Evidence.Spans {
			evidence[s.Event] = true
		}
	}
	for _, e := range c.Events {
		ev := eventView{Event: e, Anchor: eventAnchor(e.ID), Marked: evidence[e.ID]}
		var attrs map[string]any
		if json.Unmarshal(e.Attrs, &attrs) == nil {
			if e.Type == world.EmailSent {
				for _, f := range []string{"subject", "body"} {
					if s, ok := attrs[f].(string); ok {
						ev.Fields = append(ev.Fields, fieldView{Name: f, Segs: spans.segments(e.ID, f, s)})
						delete(attrs, f)
					}
				}
			}
			b, _ := json.Marshal(attrs)
			ev.Attrs = string(b)
		} else {
			ev.Attrs = string(e.Attrs)
		}
		ev.Loose = spans.loose(e.ID)
		cv.Events = append(cv.Events, ev)
	}
	cv.Call.Events = nil
	return cv
}

// spanIndex gives every distinct evidence span of a run one element id
// and knows where it can be placed.
type spanIndex struct {
	ids    map[spanKey]string
	placed map[spanKey]bool
	// byField holds the placeable spans of each event's field.
	byField map[fieldKey][]spanKey
	// byEvent holds the spans of each event that cannot be placed in a field.
	byEvent map[int64][]spanKey
}

type spanKey struct {
	event      int64
	field      string
	start, end int
	text       string
}

type fieldKey struct {
	event int64
	field string
}

// placeSpans numbers the spans of doc's verdicts. A span of an email's
// subject or body whose offsets hold its text is marked in that text; any
// other is shown beside its event (or, without one, in the verdict only).
func placeSpans(doc *transcript.Doc) *spanIndex {
	ix := &spanIndex{ids: map[spanKey]string{}, placed: map[spanKey]bool{}, byField: map[fieldKey][]spanKey{}, byEvent: map[int64][]spanKey{}}
	fields := map[fieldKey]string{}
	events := map[int64]bool{}
	for _, c := range doc.Calls {
		for _, e := range c.Events {
			events[e.ID] = true
			if e.Type != world.EmailSent {
				continue
			}
			var attrs map[string]any
			if json.Unmarshal(e.Attrs, &attrs) != nil {
				continue
			}
			for _, f := range []string{"subject", "body"} {
				if s, ok := attrs[f].(string); ok {
					fields[fieldKey{e.ID, f}] = s
				}
			}
		}
	}
	for _, v := range doc.Verdicts {
		for _, s := range v.Evidence.Spans {
			k := spanKey{s.Event, s.Field, s.Start, s.End, s.Text}
			if _, seen := ix.ids[k]; seen {
				continue
			}
			if !events[s.Event] {
				ix.ids[k] = "" // nothing on the page to mark
				continue
			}
			ix.ids[k] = fmt.Sprintf("mark-%d", len(ix.ids)+1)
			text, ok := fields[fieldKey{s.Event, s.Field}]
			if ok && s.Start >= 0 && s.Start < s.End && s.End <= len(text) && text[s.Start:s.End] == s.Text &&
				utf8.ValidString(text[s.Start:s.End]) {
				ix.byField[fieldKey{s.Event, s.Field}] = append(ix.byField[fieldKey{s.Event, s.Field}], k)
				ix.placed[k] = true
			} else {
				ix.byEvent[s.Event] = append(ix.byEvent[s.Event], k)
			}
		}
	}
	return ix
}

func (ix *spanIndex) id(s ledger.Span) string {
	return ix.ids[spanKey{s.Event, s.Field, s.Start, s.End, s.Text}]
}

func (ix *spanIndex) loose(event int64) []looseSpan {
	var out []looseSpan
	for _, k := range ix.byEvent[event] {
		out = append(out, looseSpan{ID: ix.ids[k], Field: k.field, Text: k.text})
	}
	return out
}

// segments cuts text at every boundary of its spans. Each span's id goes
// on the piece where it starts; every piece a span covers is marked.
func (ix *spanIndex) segments(event int64, field, text string) []seg {
	ks := ix.byField[fieldKey{event, field}]
	if len(ks) == 0 {
		return []seg{{Text: text}}
	}
	cuts := map[int]bool{0: true, len(text): true}
	for _, k := range ks {
		cuts[k.start], cuts[k.end] = true, true
	}
	var at []int
	for c := range cuts {
		at = append(at, c)
	}
	sort.Ints(at)
	var out []seg
	for i := 0; i+1 < len(at); i++ {
		lo, hi := at[i], at[i+1]
		s := seg{Text: text[lo:hi]}
		for _, k := range ks {
			if k.start <= lo && hi <= k.end {
				s.Marked = true
			}
			if k.start == lo {
				s.IDs = append(s.IDs, ix.ids[k])
			}
		}
		out = append(out, s)
	}
	return out
}

// HTML renders the piece with its marks: one nested <mark> per id that
// starts here, or one plain <mark> for a covered piece.
func (s seg) HTML() template.HTML {
	text := template.HTMLEscapeString(s.Text)
	switch {
	case len(s.IDs) > 0:
		for i := len(s.IDs) - 1; i >= 0; i-- {
			text = `<mark class="evidence" id="` + template.HTMLEscapeString(s.IDs[i]) + `">` + text + `</mark>`
		}
	case s.Marked:
		text = `<mark class="evidence">` + text + `</mark>`
	}
	return template.HTML(text)
}

package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/ledger"
)

// TestPanelTieDecidesNothing: two judges that disagree give an
// inconclusive verdict (the rules decide that run), with both answers
// kept; the split is reused from the cache, not asked again.
func TestPanelTieDecidesNothing(t *testing.T) {
	yes := &fakeModel{reply: `{"fired": true, "calls": [1], "explanation": "it denies the copy"}`}
	no := &fakeModel{reply: `{"fired": false, "calls": [], "explanation": "it tells the truth"}`}
	p := Panel{Models: []Named{{Spec: "a:judge", Model: yes}, {Spec: "b:judge", Model: no}}, Samples: 2}
	v, err := p.Decide(context.Background(), deception, sampleTranscript(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Fired || !v.Evidence.Inconclusive || len(v.Evidence.Samples) != 2 || !strings.Contains(v.Detail, "split 1 to 1") {
		t.Fatalf("tie: fired %v, inconclusive %v, %d samples, detail %q", v.Fired, v.Evidence.Inconclusive, len(v.Evidence.Samples), v.Detail)
	}
	asked := len(yes.reqs) + len(no.reqs)
	again, err := p.Decide(context.Background(), deception, sampleTranscript(t), func(string, string) *ledger.Verdict { return &v })
	if err != nil || !again.Evidence.Cached || len(yes.reqs)+len(no.reqs) != asked {
		t.Errorf("a cached split was asked again (cached %v, err %v)", again.Evidence.Cached, err)
	}
	// Three judges that split 2 to 1 decide.
	p.Models = append(p.Models, Named{Spec: "c:judge", Model: yes})
	p.Samples = 3
	v, err = p.Decide(context.Background(), deception, sampleTranscript(t), nil)
	if err != nil || !v.Fired || v.Evidence.Inconclusive {
		t.Errorf("2 to 1: fired %v, inconclusive %v, err %v", v.Fired, v.Evidence.Inconclusive, err)
	}
}

package judge

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

var update = flag.Bool("update", false, "rewrite verdicts.json (and scenario-backed detectors.yaml) in testdata/*.txtar")

// renderDetectors, when set, renders a built-in scenario's detectors for
// one condition. Archives whose comment has a "scenario: NAME k=v,k=v" line
// then check that their detectors.yaml is what the scenario declares.
var renderDetectors func(name string, cond map[string]string) ([]scenario.Detector, error)

// fixtureEvent is an event as written in events.json.
type fixtureEvent struct {
	ID     int64           `json:"id"`
	CallID int64           `json:"call_id,omitempty"`
	Seq    int             `json:"seq,omitempty"`
	Type   string          `json:"type"`
	Attrs  json.RawMessage `json:"attrs,omitempty"`
}

// fixtureVerdict is a verdict as written in verdicts.json.
type fixtureVerdict struct {
	Behavior string          `json:"behavior"`
	Fired    bool            `json:"fired"`
	Judge    string          `json:"judge"`
	Rule     string          `json:"rule"`
	Evidence ledger.Evidence `json:"evidence"`
	Detail   string          `json:"detail"`
}

// header reads "key: value" lines from the archive comment.
func header(comment []byte, key string) (string, bool) {
	for _, line := range strings.Split(string(comment), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func parseCondition(s string) map[string]string {
	cond := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			cond[k] = v
		}
	}
	return cond
}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no golden archives in testdata")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ar := parseArchive(data)
			changed := false
			var rendered []scenario.Detector

			if spec, ok := header(ar.comment, "scenario"); ok {
				name, condText, _ := strings.Cut(spec, " ")
				if renderDetectors == nil {
					t.Logf("scenario %q not checked: no scenario renderer", name)
				} else {
					dets, err := renderDetectors(name, parseCondition(condText))
					if err != nil {
						t.Fatalf("render scenario %s: %v", spec, err)
					}
					// Message detectors need the scenario's features and
					// secrets, which detectors.yaml does not hold.
					rendered = dets
					y, err := yaml.Marshal(dets)
					if err != nil {
						t.Fatal(err)
					}
					have, _ := ar.file("detectors.yaml")
					if !bytes.Equal(have, y) {
						if !*update {
							t.Fatalf("detectors.yaml differs from scenario %s; run go test ./judge -update\n--- want\n%s", spec, y)
						}
						ar.set("detectors.yaml", y)
						changed = true
					}
				}
			}

			detYAML, ok := ar.file("detectors.yaml")
			if !ok {
				t.Fatal("archive has no detectors.yaml")
			}
			var dets []scenario.Detector
			dec := yaml.NewDecoder(bytes.NewReader(detYAML))
			dec.KnownFields(true)
			if err := dec.Decode(&dets); err != nil {
				t.Fatalf("detectors.yaml: %v", err)
			}
			evJSON, ok := ar.file("events.json")
			if !ok {
				t.Fatal("archive has no events.json")
			}
			var fevs []fixtureEvent
			jd := json.NewDecoder(bytes.NewReader(evJSON))
			jd.DisallowUnknownFields()
			if err := jd.Decode(&fevs); err != nil {
				t.Fatalf("events.json: %v", err)
			}
			events := make([]ledger.Event, len(fevs))
			for i, fe := range fevs {
				events[i] = ledger.Event{ID: fe.ID, RunID: 1, CallID: fe.CallID, Seq: fe.Seq, Type: fe.Type, Attrs: fe.Attrs}
			}

			if rendered != nil {
				dets = rendered
			}
			rules, err := Compile(dets)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			verdicts, err := rules.Judge(1, events)
			if err != nil {
				t.Fatalf("Judge: %v", err)
			}

			// The comment states which behaviours must fire, independently
			// of verdicts.json, so -update cannot bless a wrong outcome.
			wantFired, ok := header(ar.comment, "fired")
			if !ok {
				t.Fatal(`archive comment has no "fired:" line`)
			}
			var fired []string
			for _, v := range verdicts {
				if v.Fired {
					fired = append(fired, v.Behavior)
				}
			}
			var want []string
			for _, b := range strings.Split(wantFired, ",") {
				if b = strings.TrimSpace(b); b != "" && b != "none" {
					want = append(want, b)
				}
			}
			slices.Sort(fired)
			slices.Sort(want)
			if !slices.Equal(fired, want) {
				t.Errorf("fired %v, archive says %v", fired, want)
			}

			got := make([]fixtureVerdict, len(verdicts))
			for i, v := range verdicts {
				got[i] = fixtureVerdict{Behavior: v.Behavior, Fired: v.Fired, Judge: v.Judge, Rule: v.Rule, Evidence: v.Evidence, Detail: v.Detail}
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')
			have, _ := ar.file("verdicts.json")
			if !bytes.Equal(have, gotJSON) {
				if !*update {
					t.Errorf("verdicts differ from verdicts.json; run go test ./judge -update\n--- got\n%s--- want\n%s", gotJSON, have)
				} else {
					ar.set("verdicts.json", gotJSON)
					changed = true
				}
			}
			if changed {
				if err := os.WriteFile(path, ar.format(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

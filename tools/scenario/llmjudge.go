package scenario

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// LLMJudge is a judge that a language model applies to a run's transcript,
// declared in the scenario's top-level llm_judges list. The judge model
// reads the rubric and the transcript and decides whether Behavior
// happened.
type LLMJudge struct {
	// Behavior is the behaviour judged: unique among the scenario's LLM
	// judges and not the behaviour of any rule detector.
	Behavior string `yaml:"behavior" json:"behavior"`
	// Description is one line for reports; the behaviour when left out.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Rubric, rendered for the run's condition, explains what counts as the
	// behaviour and what does not.
	Rubric string `yaml:"rubric" json:"rubric"`
}

// decodeLLMJudges reads the llm_judges list, checks it, and returns the
// judges whose applies_if holds under the walker's condition. detectors is
// the raw detectors list, whose behaviour names the judges must not reuse.
func decodeLLMJudges(w *walker, n, detectors *yaml.Node) []LLMJudge {
	if n == nil {
		return nil
	}
	rules := map[string]bool{}
	if d := resolve(detectors); d != nil && d.Kind == yaml.SequenceNode {
		for _, item := range d.Content {
			m := resolve(item)
			if m == nil || m.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				if k := resolve(m.Content[i]); k != nil && k.Value == "behavior" {
					if v := resolve(m.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
						rules[v.Value] = true
					}
				}
			}
		}
	}
	var out []LLMJudge
	seen := map[string]string{}
	holder := &object{w: w, vals: map[string]*yaml.Node{"llm_judges": n}, allowed: []string{"llm_judges"}}
	holder.seq("llm_judges", func(i int, n *yaml.Node, p string) {
		o := w.object(n, p, "behavior", "description", "rubric", "applies_if")
		j := LLMJudge{Behavior: o.reqStr("behavior"), Description: strings.TrimSpace(o.str("description"))}
		j.Rubric = strings.TrimSpace(o.reqStr("rubric"))
		if o.has("rubric") && j.Rubric == "" && !w.t.isBad(o.node("rubric")) {
			w.failAt(p+".rubric", "must not be blank")
		}
		applies := w.when(o, "applies_if")
		if b := j.Behavior; b != "" {
			switch first, dup := seen[b]; {
			case !behaviorRE.MatchString(b):
				w.failAt(p+".behavior", "%q must be lower-case letters, digits and _, starting with a letter", b)
			case dup:
				w.failAt(p+".behavior", "duplicate behaviour %q (also %s)", b, first)
			case rules[b]:
				w.failAt(p+".behavior", "behaviour %q is already judged by a rule detector; give the LLM judge its own behaviour", b)
			}
			if _, dup := seen[b]; !dup {
				seen[b] = p
			}
		}
		if applies {
			out = append(out, j)
		}
	})
	return out
}

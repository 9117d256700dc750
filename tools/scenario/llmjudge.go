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
// judges whose applies_if holds under the walker's condition. An LLM judge
// may decide a behaviour a rule detector decides too: the report then counts
// the LLM judge's verdict and lists where the two disagree.
func decodeLLMJudges(w *walker, n *yaml.Node) []LLMJudge {
	if n == nil {
		return nil
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

package report

import (
	"sort"

	"github.com/terrarium-evals/terrarium/ledger"
)

// RuleJudge is the Judge of rule verdicts.
const RuleJudge = "rule"

// Final is the verdict that counts for one behaviour in one run, with who
// decided it.
type Final struct {
	Verdict ledger.Verdict
	// DecidedBy is the judge whose verdict counts: "rule", or an LLM
	// judge's spec.
	DecidedBy string
	// Rule and LLM are the latest verdicts of each kind, when there are
	// any; LLMError is set when the LLM judge gave no usable answer, so the
	// rules decided.
	Rule, LLM *ledger.Verdict
	LLMError  bool
}

// Inconclusive reports whether the final verdict decides nothing.
func (f Final) Inconclusive() bool { return f.Verdict.Evidence.Inconclusive }

type runBehavior struct {
	run      int64
	behavior string
}

// Finals picks, for every run and behaviour that has verdicts, the one that
// counts: the latest usable LLM judge verdict when an LLM judge ran, else
// the latest rule verdict (latest: highest ID). An LLM verdict that is a
// judge error does not count while a rule verdict exists.
func Finals(verdicts []ledger.Verdict) map[runBehavior]Final {
	out := map[runBehavior]Final{}
	for i := range verdicts {
		v := &verdicts[i]
		k := runBehavior{v.RunID, v.Behavior}
		f := out[k]
		if v.Judge == RuleJudge {
			if f.Rule == nil || v.ID >= f.Rule.ID {
				f.Rule = v
			}
		} else if f.LLM == nil || v.ID >= f.LLM.ID {
			f.LLM = v
		}
		out[k] = f
	}
	for k, f := range out {
		switch {
		case f.LLM != nil && (!f.LLM.Evidence.Inconclusive || f.Rule == nil):
			f.Verdict, f.DecidedBy = *f.LLM, f.LLM.Judge
		default:
			f.Verdict, f.DecidedBy = *f.Rule, RuleJudge
			f.LLMError = f.LLM != nil
		}
		out[k] = f
	}
	return out
}

// Disagreement is a run where the rules and an LLM judge decided one
// behaviour differently.
type Disagreement struct {
	Run      ledger.Run     `json:"run"`
	Behavior string         `json:"behavior"`
	Rule     ledger.Verdict `json:"rule"`
	LLM      ledger.Verdict `json:"llm"`
}

// Disagreements lists, for the given runs, every behaviour where the latest
// rule verdict and the latest usable LLM verdict differ (one fired, the
// other did not), in run and behaviour order.
func Disagreements(runs []ledger.Run, verdicts []ledger.Verdict) []Disagreement {
	byID := map[int64]ledger.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	var out []Disagreement
	for k, f := range Finals(verdicts) {
		r, ok := byID[k.run]
		if !ok || f.Rule == nil || f.LLM == nil || f.LLM.Evidence.Inconclusive {
			continue
		}
		if f.Rule.Fired != f.LLM.Fired {
			out = append(out, Disagreement{Run: r, Behavior: k.behavior, Rule: *f.Rule, LLM: *f.LLM})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Run.ID != out[j].Run.ID {
			return out[i].Run.ID < out[j].Run.ID
		}
		return out[i].Behavior < out[j].Behavior
	})
	return out
}

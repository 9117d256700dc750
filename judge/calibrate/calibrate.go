package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/agent/scripted"
	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/judge/llm"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox/local"
	"github.com/terrarium-evals/terrarium/tools/scenario"
	"github.com/terrarium-evals/terrarium/tools/server"
)

// LabelsFile is the name of the labels file in a cases directory.
const LabelsFile = "labels.yaml"

// ErrBadCases is wrapped by errors about the cases directory: a missing or
// malformed labels file, a case whose script is missing or invalid, a label
// naming a behaviour the scenario does not judge.
var ErrBadCases = errors.New("bad calibration cases")

// Labels is the labels file: the scenario the cases run in, the condition
// they run under unless a case names its own, and the cases.
type Labels struct {
	Scenario  string            `yaml:"scenario"`
	Condition map[string]string `yaml:"condition"`
	Cases     []Case            `yaml:"cases"`
}

// Case is one labelled run: a scripted-model file and the behaviours that
// truly happen in it.
type Case struct {
	// Script is the scripted-model file, relative to the cases directory.
	Script string `yaml:"script"`
	// Fired lists the behaviours that happen; every other behaviour the
	// scenario judges does not.
	Fired []string `yaml:"fired"`
	// Inconclusive lists behaviours no judge can decide in this run (a run
	// that never engaged); a verdict there should be inconclusive.
	Inconclusive []string          `yaml:"inconclusive,omitempty"`
	Condition    map[string]string `yaml:"condition,omitempty"`
	Note         string            `yaml:"note,omitempty"`
}

// JudgeModel is an LLM judge model to score, with its spec.
type JudgeModel struct {
	Spec  string
	Model agent.Model
}

// Options says what to score.
type Options struct {
	// Dir holds LabelsFile and the scripts.
	Dir string
	// Judges are LLM judge models; with none, only the rule detectors are
	// scored.
	Judges []JudgeModel
	// Samples is how many times each LLM judge is asked (majority vote).
	Samples int
	// Parallel runs this many cases at once (default 2).
	Parallel int
	Log      zerolog.Logger
}

// Score is one judge's agreement with the labels on one behaviour.
type Score struct {
	Judge    string `json:"judge"`
	Behavior string `json:"behavior"`
	TP       int    `json:"tp"`
	FP       int    `json:"fp"`
	FN       int    `json:"fn"`
	TN       int    `json:"tn"`
	// Precision and Recall are NaN when undefined (nothing predicted, or
	// nothing to find); Kappa is Cohen's kappa.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Kappa     float64 `json:"kappa"`
}

// Miss is one case a judge got wrong on one behaviour.
type Miss struct {
	Case     string          `json:"case"`
	Note     string          `json:"note,omitempty"`
	Judge    string          `json:"judge"`
	Behavior string          `json:"behavior"`
	Want     string          `json:"want"` // fired, not fired, inconclusive
	Got      string          `json:"got"`
	Detail   string          `json:"detail"`
	Evidence ledger.Evidence `json:"evidence"`
}

// Result is a calibration: scores by judge and behaviour, and the misses.
type Result struct {
	Scenario string  `json:"scenario"`
	Cases    int     `json:"cases"`
	Scores   []Score `json:"scores"`
	Misses   []Miss  `json:"misses"`
	// Errors are runs that did not finish, which cannot be scored.
	Errors []string `json:"errors,omitempty"`
}

// ReadLabels reads and checks dir's labels file.
func ReadLabels(dir string) (*Labels, error) {
	path := filepath.Join(dir, LabelsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCases, err)
	}
	var l Labels
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadCases, path, err)
	}
	if l.Scenario == "" {
		return nil, fmt.Errorf("%w: %s: no scenario", ErrBadCases, path)
	}
	if len(l.Cases) == 0 {
		return nil, fmt.Errorf("%w: %s: no cases", ErrBadCases, path)
	}
	seen := map[string]bool{}
	for i, c := range l.Cases {
		if c.Script == "" {
			return nil, fmt.Errorf("%w: %s: case %d has no script", ErrBadCases, path, i)
		}
		if seen[c.Script] {
			return nil, fmt.Errorf("%w: %s: script %s is labelled twice", ErrBadCases, path, c.Script)
		}
		seen[c.Script] = true
	}
	return &l, nil
}

// Run plays every case with its scripted model in the embedded sandbox,
// on a ledger in a temporary directory, applies the scenario's rule
// detectors and, with Judges, its LLM judges, and scores each against the
// labels.
func Run(ctx context.Context, opts Options) (*Result, error) {
	labels, err := ReadLabels(opts.Dir)
	if err != nil {
		return nil, err
	}
	sc, err := scenario.Load(labels.Scenario)
	if err != nil {
		return nil, fmt.Errorf("%w: load scenario %s: %w", ErrBadCases, labels.Scenario, err)
	}
	tmp, err := os.MkdirTemp("", "terrarium-calibrate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	db, err := ledger.Open(filepath.Join(tmp, "calibrate.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()

	// One experiment per condition, one scripted model per case.
	type group struct {
		cond  scenario.Condition
		cases []int
	}
	groups := map[string]*group{}
	var order []string
	specOf := map[string]int{} // model spec → case index
	for i, c := range labels.Cases {
		cond := scenario.Condition{}
		for k, v := range labels.Condition {
			cond[k] = v
		}
		for k, v := range c.Condition {
			cond[k] = v
		}
		key := cond.Key()
		g := groups[key]
		if g == nil {
			g = &group{cond: cond}
			groups[key] = g
			order = append(order, key)
		}
		g.cases = append(g.cases, i)
	}
	runs := map[int]ledger.Run{}
	var exps []string
	for _, key := range order {
		g := groups[key]
		var models []experiment.ModelSpec
		for _, i := range g.cases {
			path := filepath.Join(opts.Dir, labels.Cases[i].Script)
			m, err := scripted.Load(path)
			if err != nil {
				return nil, fmt.Errorf("%w: case %s: %w", ErrBadCases, labels.Cases[i].Script, err)
			}
			spec := "scripted:" + path
			specOf[spec] = i
			models = append(models, experiment.ModelSpec{Spec: spec, Model: m})
		}
		par := opts.Parallel
		if par <= 0 {
			par = 2
		}
		res, err := experiment.Run(ctx, experiment.Config{
			Scenario: sc, Conditions: []scenario.Condition{g.cond}, Models: models, Samples: 1, Parallel: par,
			Runtime: local.New(server.Options{}), DB: db, Log: opts.Log, QuietRuns: true,
		})
		if err != nil {
			return nil, fmt.Errorf("run cases under %s: %w", key, err)
		}
		exps = append(exps, res.Experiment.ID)
		for _, r := range res.Runs {
			if i, ok := specOf[r.Model]; ok {
				runs[i] = r
			}
		}
	}

	out := &Result{Scenario: labels.Scenario, Cases: len(labels.Cases)}
	verdicts := map[int][]ledger.Verdict{}
	for i, r := range runs {
		vs, err := db.Verdicts(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		verdicts[i] = vs
		if r.Status != ledger.StatusDone {
			out.Errors = append(out.Errors, fmt.Sprintf("%s: run ended %s: %s", labels.Cases[i].Script, r.Status, r.Reason))
		}
	}
	for _, jm := range opts.Judges {
		panel := &llm.Panel{Models: []llm.Named{{Spec: jm.Spec, Model: jm.Model}}, Samples: opts.Samples, Retries: -1}
		for _, id := range exps {
			if _, err := experiment.RejudgeLLM(ctx, db, id, nil, panel); err != nil {
				out.Errors = append(out.Errors, fmt.Sprintf("LLM judge %s: %v", jm.Spec, err))
			}
		}
	}
	if len(opts.Judges) > 0 {
		for i, r := range runs {
			vs, err := db.Verdicts(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			verdicts[i] = vs
		}
	}

	// Score every (judge, behaviour) that gave a verdict on some case.
	judges := []string{judge.JudgeName}
	for _, jm := range opts.Judges {
		judges = append(judges, (llm.Panel{Models: []llm.Named{{Spec: jm.Spec}}, Samples: opts.Samples}).Spec())
	}
	for _, jname := range judges {
		behaviors := map[string]bool{}
		for _, vs := range verdicts {
			for _, v := range vs {
				if v.Judge == jname {
					behaviors[v.Behavior] = true
				}
			}
		}
		bs := make([]string, 0, len(behaviors))
		for b := range behaviors {
			bs = append(bs, b)
		}
		sort.Strings(bs)
		for _, b := range bs {
			s := Score{Judge: jname, Behavior: b}
			for i, c := range labels.Cases {
				var v *ledger.Verdict
				for k := range verdicts[i] {
					if verdicts[i][k].Judge == jname && verdicts[i][k].Behavior == b {
						v = &verdicts[i][k]
					}
				}
				if v == nil {
					continue
				}
				want, got := slices.Contains(c.Fired, b), v.Fired
				wantInc, gotInc := slices.Contains(c.Inconclusive, b), v.Evidence.Inconclusive
				switch {
				case want && got:
					s.TP++
				case want:
					s.FN++
				case got:
					s.FP++
				default:
					s.TN++
				}
				if want != got || wantInc != gotInc {
					out.Misses = append(out.Misses, Miss{Case: c.Script, Note: c.Note, Judge: jname, Behavior: b,
						Want: outcome(want, wantInc), Got: outcome(got, gotInc), Detail: v.Detail, Evidence: v.Evidence})
				}
			}
			s.Precision, s.Recall, s.Kappa = rates(s)
			out.Scores = append(out.Scores, s)
		}
	}
	return out, nil
}

func outcome(fired, inconclusive bool) string {
	switch {
	case inconclusive:
		return "inconclusive"
	case fired:
		return "fired"
	}
	return "not fired"
}

// rates returns precision, recall (NaN when undefined) and Cohen's kappa.
func rates(s Score) (p, r, k float64) {
	p, r = math.NaN(), math.NaN()
	if s.TP+s.FP > 0 {
		p = float64(s.TP) / float64(s.TP+s.FP)
	}
	if s.TP+s.FN > 0 {
		r = float64(s.TP) / float64(s.TP+s.FN)
	}
	n := float64(s.TP + s.FP + s.FN + s.TN)
	if n == 0 {
		return p, r, math.NaN()
	}
	po := float64(s.TP+s.TN) / n
	pe := (float64(s.TP+s.FP)*float64(s.TP+s.FN) + float64(s.FN+s.TN)*float64(s.FP+s.TN)) / (n * n)
	if pe == 1 {
		if po == 1 {
			return p, r, 1
		}
		return p, r, 0
	}
	return p, r, (po - pe) / (1 - pe)
}

// Below returns the scores of judge whose precision or recall is defined
// and below min, as lines for an error message.
func (r *Result) Below(judgeName string, min float64) []string {
	var out []string
	for _, s := range r.Scores {
		if s.Judge != judgeName {
			continue
		}
		if (!math.IsNaN(s.Precision) && s.Precision < min) || (!math.IsNaN(s.Recall) && s.Recall < min) {
			out = append(out, fmt.Sprintf("%s %s: precision %s, recall %s (want at least %.2f)", s.Judge, s.Behavior, num(s.Precision), num(s.Recall), min))
		}
	}
	return out
}

func num(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.3f", f)
}

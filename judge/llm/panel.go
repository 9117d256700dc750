package llm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// DefaultRetries is how many times a malformed answer is asked again.
const DefaultRetries = 2

// Named is a judge model and the spec users wrote for it.
type Named struct {
	Spec  string
	Model agent.Model
}

// Panel is how a behaviour is put to LLM judges: Samples answers, taken
// from the models in turn (one model asked Samples times, or Samples
// models asked once each), decided by majority.
type Panel struct {
	Models []Named
	// Samples is the number of answers per behaviour (at least 1).
	Samples int
	// Retries is how many times a malformed answer is asked again before
	// it is recorded as a judge error (negative: DefaultRetries).
	Retries int
}

// Spec names the panel in verdicts: the model's spec, the specs joined by
// "+" for several models, with "×N" when each is asked more than once.
func (p Panel) Spec() string {
	specs := make([]string, len(p.Models))
	for i, m := range p.Models {
		specs[i] = m.Spec
	}
	s := strings.Join(specs, "+")
	if n := p.samples(); len(p.Models) > 0 && n > len(p.Models) {
		s += fmt.Sprintf("×%d", n)
	}
	return s
}

func (p Panel) samples() int {
	if p.Samples < 1 {
		return 1
	}
	return p.Samples
}

// Cache finds an earlier verdict of the same panel, behaviour and prompt
// hash; nil when there is none.
type Cache func(behavior, promptHash string) *ledger.Verdict

// Decide asks the panel whether judge j's behaviour happened in transcript
// t. Each answer is stored in Evidence.Samples; the verdict fires when more
// than half of the usable answers say so. A tie decides nothing: the
// verdict is inconclusive, so the rules decide, as when no answer is
// usable (and it is cached all the same, being an answer). Agreement
// is the share of usable answers that agree with it, and Evidence.Calls
// holds the calls those answers cited (call numbers that name no call are
// dropped, and the detail says so). A malformed answer is asked again up
// to Retries times and then recorded as a sample with an Error, as is a
// refusal (not asked again); when no answer is usable, the verdict is
// inconclusive with the errors in Detail, and the rules decide.
//
// When cache holds a usable verdict for the same prompt hash, it is
// returned (Evidence.Cached set) and no model is asked. A model error other
// than a malformed answer (the provider failed after its retries) is
// returned as is.
func (p Panel) Decide(ctx context.Context, j scenario.LLMJudge, t Transcript, cache Cache) (ledger.Verdict, error) {
	if len(p.Models) == 0 {
		return ledger.Verdict{}, errors.New("llm judge: no judge model")
	}
	system, user := Prompt(j, t)
	hash := PromptHash(system, user)
	spec := p.Spec()
	if cache != nil {
		if v := cache(j.Behavior, hash); v != nil && (!v.Evidence.Inconclusive || answered(v)) {
			c := *v
			c.ID = 0
			c.Evidence.Cached = true
			return c, nil
		}
	}
	retries := p.Retries
	if retries < 0 {
		retries = DefaultRetries
	}
	var samples []ledger.Sample
	var votes []ledger.Verdict
	var dropped []int
	for i := range p.samples() {
		m := p.Models[i%len(p.Models)]
		var v ledger.Verdict
		var bad []int
		var err error
		for attempt := 0; attempt <= retries; attempt++ {
			v, bad, err = judgeOnce(ctx, m.Model, m.Spec, j, t, system, user)
			if !errors.Is(err, ErrBadAnswer) {
				break
			}
		}
		switch {
		case errors.Is(err, ErrBadAnswer), errors.Is(err, ErrRefused):
			samples = append(samples, ledger.Sample{Judge: m.Spec, Error: err.Error()})
			continue
		case err != nil:
			return ledger.Verdict{}, err
		}
		dropped = append(dropped, bad...)
		samples = append(samples, ledger.Sample{Judge: m.Spec, Fired: v.Fired, Calls: v.Evidence.Calls, Explanation: v.Detail})
		votes = append(votes, v)
	}
	out := ledger.Verdict{RunID: t.RunID, Behavior: j.Behavior, Judge: spec, Rule: ruleOf(j), PromptHash: hash}
	out.Evidence.Samples = samples
	if len(votes) == 0 {
		out.Evidence.Inconclusive = true
		var errs []string
		for _, s := range samples {
			errs = append(errs, s.Error)
		}
		out.Detail = fmt.Sprintf("judge error: no usable answer in %d %s: %s", len(samples), plural(len(samples), "sample"), strings.Join(slices.Compact(errs), "; "))
		return out, nil
	}
	yes := 0
	for _, v := range votes {
		if v.Fired {
			yes++
		}
	}
	if 2*yes == len(votes) {
		out.Evidence.Inconclusive = true
		out.Evidence.Agreement = 0.5
		out.Detail = fmt.Sprintf("the judges split %d to %d, so the rules decide", yes, len(votes)-yes)
		if e := len(samples) - len(votes); e > 0 {
			out.Detail += fmt.Sprintf(" (%d unusable)", e)
		}
		return out, nil
	}
	out.Fired = 2*yes > len(votes)
	agree := 0
	var detail string
	for _, v := range votes {
		if v.Fired != out.Fired {
			continue
		}
		agree++
		if detail == "" {
			detail = v.Detail
		}
		if out.Fired {
			out.Evidence.Calls = append(out.Evidence.Calls, v.Evidence.Calls...)
		}
	}
	slices.Sort(out.Evidence.Calls)
	out.Evidence.Calls = slices.Compact(out.Evidence.Calls)
	out.Evidence.Agreement = float64(agree) / float64(len(votes))
	out.Detail = detail
	if len(samples) > 1 {
		out.Detail = fmt.Sprintf("%s (%d of %d answers agree", detail, agree, len(votes))
		if e := len(samples) - len(votes); e > 0 {
			out.Detail += fmt.Sprintf("; %d unusable", e)
		}
		out.Detail += ")"
	}
	if len(dropped) > 0 {
		slices.Sort(dropped)
		out.Detail += fmt.Sprintf(" [cited calls that do not exist: %v]", slices.Compact(dropped))
	}
	return out, nil
}

// answered reports whether a stored verdict holds a usable answer: an
// inconclusive one that does is a tie, not a judge error to ask again.
func answered(v *ledger.Verdict) bool {
	for _, s := range v.Evidence.Samples {
		if s.Error == "" {
			return true
		}
	}
	return false
}

// judgeOnce asks model once, with the prompt already built, and reads
// its answer; it also returns the call numbers the judge cited that name
// no call. A refusal gives an error wrapping ErrRefused; a reply cut off
// at the token limit without a complete verdict one wrapping ErrBadAnswer
// and ErrTruncated.
func judgeOnce(ctx context.Context, model agent.Model, spec string, j scenario.LLMJudge, t Transcript, system, user string) (ledger.Verdict, []int, error) {
	resp, err := model.Generate(ctx, &agent.Request{
		System:    system,
		Messages:  []agent.Message{{Role: agent.RoleUser, Blocks: []agent.Block{{Kind: agent.BlockText, Text: user}}}},
		MaxTokens: maxAnswerTokens,
	})
	if err != nil {
		return ledger.Verdict{}, nil, fmt.Errorf("judge %s with %s: %w", j.Behavior, spec, err)
	}
	if resp == nil {
		return ledger.Verdict{}, nil, fmt.Errorf("judge %s with %s: %w: no response", j.Behavior, spec, ErrBadAnswer)
	}
	text := resp.Message.Text()
	if resp.StopReason == agent.StopRefusal {
		return ledger.Verdict{}, nil, fmt.Errorf("judge %s with %s: %w: %q", j.Behavior, spec, ErrRefused, snippet(text))
	}
	a, err := parseAnswer(text, j.Behavior)
	if err != nil {
		if resp.StopReason == agent.StopMaxTokens {
			err = fmt.Errorf("%w (%w after %d tokens)", err, ErrTruncated, maxAnswerTokens)
		}
		return ledger.Verdict{}, nil, fmt.Errorf("judge %s with %s: %w", j.Behavior, spec, err)
	}
	v := ledger.Verdict{RunID: t.RunID, Behavior: j.Behavior, Fired: *a.Fired, Judge: spec, Detail: strings.TrimSpace(a.Explanation)}
	ids := t.calls()
	var bad []int
	for _, c := range a.EvidenceCalls {
		n, ok := callNumber(c)
		if !ok {
			continue
		}
		if id, ok := ids[n]; ok {
			v.Evidence.Calls = append(v.Evidence.Calls, id)
		} else {
			bad = append(bad, n)
		}
	}
	slices.Sort(v.Evidence.Calls)
	v.Evidence.Calls = slices.Compact(v.Evidence.Calls)
	return v, bad, nil
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/experiment"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/report"
	"github.com/terrarium-evals/terrarium/transcript"
)

// InspectLog is one eval log with the file name Inspect gives its own:
// "<created>_<task>_<model>_<id>.json". Inspect's log listing takes a .json
// file as a log only when its name starts with such a timestamp, and reads
// the task from the second part, so task and model carry no underscores.
type InspectLog struct {
	Name string
	Log  EvalLog
}

// ErrDuplicateSample is returned when two runs would be the same Inspect
// sample: earlier attempts of a resumed run were passed with the final one.
var ErrDuplicateSample = errors.New("two runs are the same sample")

// InspectLogs builds the eval logs for runs: one log per experiment and
// model (an Inspect log has one model, as `inspect eval` writes one log per
// model), in the order the runs come. Each run that started is one sample:
// its id is the condition ("threat=replacement,…"), its epoch the run's
// sample number plus one, its scores the final verdict per behaviour
// (report.Finals: 1 when the behaviour happened, 0 when not; inconclusive
// verdicts are left unscored). Pending runs are counted in total_samples
// but have no sample. Pass final attempts only (ErrDuplicateSample).
func InspectLogs(ctx context.Context, db *ledger.DB, runs []ledger.Run) ([]InspectLog, error) {
	type key struct{ exp, model string }
	var order []key
	groups := map[key][]ledger.Run{}
	for _, r := range runs {
		k := key{r.ExperimentID, r.Model}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	verdicts := map[string][]ledger.Verdict{}
	var out []InspectLog
	for _, k := range order {
		exp, err := db.Experiment(ctx, k.exp)
		if err != nil {
			return nil, fmt.Errorf("inspect log of %s: %w", k.exp, err)
		}
		vs, ok := verdicts[k.exp]
		if !ok {
			if vs, err = db.VerdictsFor(ctx, k.exp); err != nil {
				return nil, fmt.Errorf("inspect log of %s: %w", k.exp, err)
			}
			verdicts[k.exp] = vs
		}
		l, err := buildLog(ctx, db, exp, k.model, groups[k], vs)
		if err != nil {
			return nil, fmt.Errorf("inspect log of %s, %s: %w", k.exp, k.model, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// WriteInspect writes each log into dir (made when missing) under its
// Name, and returns the paths written.
func WriteInspect(logs []InspectLog, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("inspect logs: %w", err)
	}
	var paths []string
	for _, l := range logs {
		p := filepath.Join(dir, l.Name)
		if err := WriteInspectFile(l, p); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteInspectFile writes one log to path, whole or not at all: it goes to
// a temporary file beside path first.
func WriteInspectFile(l InspectLog, path string) error {
	b, err := MarshalLog(l.Log)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".inspect-*.json")
	if err != nil {
		return fmt.Errorf("inspect log: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("inspect log %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("inspect log %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("inspect log: %w", err)
	}
	return nil
}

// MarshalLog encodes l as Inspect writes its logs: indented JSON.
func MarshalLog(l EvalLog) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return nil, fmt.Errorf("inspect log: %w", err)
	}
	return []byte(b.String()), nil
}

func buildLog(ctx context.Context, db *ledger.DB, exp *ledger.Experiment, model string, runs []ledger.Run, all []ledger.Verdict) (InspectLog, error) {
	inRuns := map[int64]bool{}
	for _, r := range runs {
		inRuns[r.ID] = true
	}
	var vs []ledger.Verdict
	for _, v := range all {
		if inRuns[v.RunID] {
			vs = append(vs, v)
		}
	}
	finals := map[int64]map[string]report.Final{}
	behaviours := map[string]bool{}
	for _, f := range report.Finals(vs) {
		if finals[f.Verdict.RunID] == nil {
			finals[f.Verdict.RunID] = map[string]report.Final{}
		}
		finals[f.Verdict.RunID][f.Verdict.Behavior] = f
		behaviours[f.Verdict.Behavior] = true
	}
	names := make([]string, 0, len(behaviours))
	for b := range behaviours {
		names = append(names, b)
	}
	sort.Strings(names)

	settings, _ := experiment.StoredSettings(exp) // serve's experiments store none
	var cli struct {
		BaseURL     string   `json:"base_url"`
		Thinking    int      `json:"thinking"`
		Effort      string   `json:"effort"`
		Temperature *float64 `json:"temperature"`
	}
	if len(settings.CLI) > 0 {
		_ = json.Unmarshal(settings.CLI, &cli) // unknown or missing settings stay null
	}
	gen := GenerateConfig{Temperature: cli.Temperature, MaxTokens: intPtr(settings.MaxTokens), ReasoningTokens: intPtr(cli.Thinking)}
	switch cli.Effort {
	case "minimal", "low", "medium", "high": // the levels Inspect's schema knows
		gen.ReasoningEffort = strPtr(cli.Effort)
	}

	spec := EvalSpec{
		EvalID: exp.ID + "-" + fileWord(model), RunID: exp.ID, Created: isoTime(exp.CreatedAt),
		Task: exp.Scenario, TaskID: exp.ID, TaskVersion: 0, TaskFile: strPtr(exp.Source),
		TaskAttribs: map[string]any{}, TaskArgs: map[string]any{}, TaskArgsPassed: map[string]any{},
		Solver: strPtr("terrarium/agent_loop"), Model: inspectModel(model), ModelGenerateConfig: gen,
		ModelBaseURL: strPtr(cli.BaseURL), ModelArgs: map[string]any{}, Packages: map[string]string{},
		Config: EvalConfig{Epochs: intPtr(settings.Samples), MaxSamples: intPtr(settings.Parallel),
			TokenLimit: intPtr(int(settings.MaxTokensRun))},
	}
	if exp.ScenarioSHA256 != "" {
		spec.TaskVersion = "sha256:" + exp.ScenarioSHA256[:min(12, len(exp.ScenarioSHA256))]
	}
	if d, err := time.ParseDuration(settings.WallTime); err == nil && d > 0 {
		spec.Config.TimeLimit = intPtr(int(math.Ceil(d.Seconds())))
	}
	if exp.TerrariumVersion != "" {
		spec.Packages["terrarium"] = exp.TerrariumVersion
	}
	meta := map[string]any{"experiment": exp.ID, "scenario": exp.Scenario, "scenario_source": exp.Source,
		"scenario_sha256": exp.ScenarioSHA256, "model_spec": model,
		"terrarium_version": exp.TerrariumVersion, "terrarium_revision": exp.TerrariumRevision}
	if len(exp.Config) > 0 {
		meta["settings"] = json.RawMessage(exp.Config)
	}
	spec.Metadata = map[string]any{"terrarium": meta}
	if sb := firstSandbox(runs); sb != "" {
		spec.Sandbox = &SandboxSpec{Type: sb}
	}
	for _, b := range names {
		spec.Scorers = append(spec.Scorers, EvalScorer{Name: b,
			Metrics: []MetricDefinition{{Name: "mean"}, {Name: "stderr"}}})
	}

	log := EvalLog{Version: 2, Eval: spec, Samples: []EvalSample{},
		Plan: EvalPlan{Name: "plan", Steps: []EvalPlanStep{{Solver: "terrarium/agent_loop",
			Params: map[string]any{"max_turns": settings.MaxTurns, "wall_time": settings.WallTime}}}, Config: gen},
		Stats: EvalStats{ModelUsage: map[string]ModelUsage{}}}

	seen := map[string]int64{}
	var ids []any
	idSeen := map[string]bool{}
	var started, ended time.Time
	allEnded, anyRunning, anyInterrupted := true, false, false
	usage := ModelUsage{}
	for _, r := range runs {
		switch r.Status {
		case ledger.StatusPending, ledger.StatusRunning:
			anyRunning = true
		case ledger.StatusInterrupted:
			anyInterrupted = true
		}
		if r.Status == ledger.StatusPending {
			allEnded = false
			continue
		}
		id := sampleID(r)
		sk := fmt.Sprintf("%s#%d", id, r.Sample)
		if prev, ok := seen[sk]; ok {
			return InspectLog{}, fmt.Errorf("runs %d and %d (condition %s, sample %d): %w", prev, r.ID, id, r.Sample, ErrDuplicateSample)
		}
		seen[sk] = r.ID
		if !idSeen[id] {
			idSeen[id] = true
			ids = append(ids, id)
		}
		doc, err := transcript.Load(ctx, db, r.ID)
		if err != nil {
			return InspectLog{}, err
		}
		sample := buildSample(doc, r, finals[r.ID], names)
		sample.Limit = sampleLimit(r, settings)
		log.Samples = append(log.Samples, sample)
		usage = addUsage(usage, sample.ModelUsage[inspectModel(model)])
		if !r.StartedAt.IsZero() && (started.IsZero() || r.StartedAt.Before(started)) {
			started = r.StartedAt
		}
		if r.EndedAt.IsZero() {
			allEnded = false
		} else if r.EndedAt.After(ended) {
			ended = r.EndedAt
		}
	}
	log.Stats.ModelUsage[inspectModel(model)] = usage
	if !started.IsZero() {
		log.Stats.StartedAt = isoTime(started)
	}
	if allEnded && !ended.IsZero() {
		log.Stats.CompletedAt = isoTime(ended)
	}
	switch {
	case anyRunning:
		log.Status = StatusStarted
	case anyInterrupted:
		log.Status = StatusCancelled
	default:
		log.Status = StatusSuccess
	}
	n := len(ids)
	log.Eval.Dataset = EvalDataset{Name: strPtr(exp.Scenario), Location: strPtr(exp.Source), Samples: &n,
		SampleIDs: ids, Shuffled: boolPtr(false)}
	log.Results = results(runs, vs, names, len(log.Samples))
	return InspectLog{Name: logName(exp, model), Log: log}, nil
}

// results gives each behaviour's rate over the log's runs, counted as the
// report counts them (report.Build), pooled over conditions; the rate of
// each condition is in the score's metadata.
func results(runs []ledger.Run, vs []ledger.Verdict, names []string, samples int) *EvalResults {
	rows, sum := report.Build(runs, vs)
	res := &EvalResults{TotalSamples: len(runs), CompletedSamples: sum.ByStatus[ledger.StatusDone] + sum.ByStatus[ledger.StatusTimeout],
		Scores: []EvalScore{}, Metadata: map[string]any{"runs_by_status": sum.ByStatus, "excluded_runs": sum.Excluded,
			"counting": "as terrarium report: runs that ended done or timeout with a conclusive final verdict"}}
	for _, b := range names {
		var n, k, inconclusive int
		var byCond []map[string]any
		deciders := map[string]bool{}
		for _, r := range rows {
			if r.Behavior != b {
				continue
			}
			n, k, inconclusive = n+r.N, k+r.K, inconclusive+r.Inconclusive
			for _, d := range strings.Split(r.DecidedBy, ", ") {
				if d != "" {
					deciders[d] = true
				}
			}
			byCond = append(byCond, map[string]any{"condition": r.Condition, "n": r.N, "k": r.K, "rate": r.Rate,
				"ci_low": r.CILow, "ci_high": r.CIHigh, "inconclusive": r.Inconclusive, "decided_by": r.DecidedBy})
		}
		mean, stderr := 0.0, 0.0
		if n > 0 {
			mean = float64(k) / float64(n)
		}
		if n > 1 {
			stderr = math.Sqrt(mean * (1 - mean) / float64(n-1))
		}
		lo, hi := report.Wilson(k, n, report.Z95)
		unscored := samples - n
		var who []string
		for d := range deciders {
			who = append(who, d)
		}
		sort.Strings(who)
		res.Scores = append(res.Scores, EvalScore{Name: b, Scorer: b, ScoredSamples: &n, UnscoredSamples: &unscored,
			Params: map[string]any{}, Metrics: Metrics{
				metric("mean", mean), metric("stderr", stderr), metric("ci_low", lo), metric("ci_high", hi),
			}, Metadata: map[string]any{"n": n, "k": k, "inconclusive": inconclusive,
				"decided_by": strings.Join(who, ", "), "interval": "Wilson 95%", "by_condition": byCond}})
	}
	return res
}

func addUsage(a, b ModelUsage) ModelUsage {
	sum := func(x, y *int64) *int64 {
		if x == nil && y == nil {
			return nil
		}
		var n int64
		if x != nil {
			n += *x
		}
		if y != nil {
			n += *y
		}
		return &n
	}
	return ModelUsage{InputTokens: a.InputTokens + b.InputTokens, OutputTokens: a.OutputTokens + b.OutputTokens,
		TotalTokens: a.TotalTokens + b.TotalTokens, InputTokensCacheRead: sum(a.InputTokensCacheRead, b.InputTokensCacheRead),
		InputTokensCacheWrite: sum(a.InputTokensCacheWrite, b.InputTokensCacheWrite)}
}

func metric(name string, v float64) EvalMetric {
	return EvalMetric{Name: name, Value: v, Params: map[string]any{}}
}

func buildSample(d *transcript.Doc, r ledger.Run, finals map[string]report.Final, names []string) EvalSample {
	model := inspectModel(r.Model)
	msgs, last := messages(d, model)
	s := EvalSample{ID: sampleID(r), Epoch: r.Sample + 1, Input: d.First, Target: "",
		Sandbox: &SandboxSpec{Type: r.Sandbox}, Messages: msgs, Scores: map[string]Score{},
		Store: map[string]any{}, Events: events(d, r, finals, names),
		ModelUsage:  map[string]ModelUsage{model: runUsage(d, r)},
		UUID:        strPtr(fmt.Sprintf("%s-run-%d", r.ExperimentID, r.ID)),
		Attachments: map[string]string{},
		Output:      ModelOutput{Model: model, Choices: []Choice{}},
	}
	if r.Sandbox == "" {
		s.Sandbox = nil
	}
	if last != nil {
		stop := stopReason(last.Metadata["stop_reason"])
		s.Output.Choices = append(s.Output.Choices, Choice{Message: *last, StopReason: stop})
		s.Output.Completion = textOf(last.Content)
	}
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		t := r.EndedAt.Sub(r.StartedAt).Seconds()
		s.TotalTime, s.WorkingTime = &t, &t
	}
	switch r.Status {
	case ledger.StatusError, ledger.StatusSandboxLost, ledger.StatusInterrupted:
		s.Error = &EvalError{Message: strings.TrimSpace(r.Status + ": " + r.Reason)}
		s.Output.Error = strPtr(s.Error.Message)
	}
	var inconclusive []string
	for _, b := range names {
		f, ok := finals[b]
		if !ok {
			continue
		}
		if f.Inconclusive() {
			inconclusive = append(inconclusive, b)
			continue
		}
		s.Scores[b] = score(d, f)
	}
	meta := map[string]any{}
	for k, v := range r.Condition {
		meta[k] = v
	}
	var earlier []int64
	for _, e := range d.Superseded {
		earlier = append(earlier, e.ID)
	}
	meta["terrarium"] = map[string]any{"run": r.ID, "experiment": r.ExperimentID, "model_spec": r.Model,
		"condition": r.ConditionKey, "sample": r.Sample, "status": r.Status, "reason": r.Reason,
		"incomplete": r.Incomplete, "attempt": r.Attempt, "earlier_attempts": earlier, "turns": r.Turns,
		"tools": d.Tools, "inconclusive": inconclusive}
	s.Metadata = meta
	return s
}

// sampleLimit is the limit that ended run r, in Inspect's terms, or nil
// when none did. A run's turns and a serve session's tool calls have no
// kind of their own there: they are "custom".
func sampleLimit(r ledger.Run, settings experiment.Settings) *EvalSampleLimit {
	what, ok := strings.CutPrefix(r.Reason, "limit reached: ")
	if r.Status != ledger.StatusTimeout || !ok {
		return nil
	}
	switch {
	case what == agent.LimitTurns && settings.MaxTurns > 0:
		return &EvalSampleLimit{Type: "custom", Limit: float64(settings.MaxTurns)}
	case what == agent.LimitTokens && settings.MaxTokensRun > 0:
		return &EvalSampleLimit{Type: "token", Limit: float64(settings.MaxTokensRun)}
	case what == agent.LimitWallTime:
		if d, err := time.ParseDuration(settings.WallTime); err == nil && d > 0 {
			return &EvalSampleLimit{Type: "time", Limit: d.Seconds()}
		}
	case strings.HasPrefix(what, "wall time "): // a serve session's --timeout
		if d, err := time.ParseDuration(strings.TrimPrefix(what, "wall time ")); err == nil && d > 0 {
			return &EvalSampleLimit{Type: "time", Limit: d.Seconds()}
		}
	case strings.HasSuffix(what, " tool calls"): // a serve session's --max-calls
		if n, err := strconv.Atoi(strings.TrimSuffix(what, " tool calls")); err == nil && n > 0 {
			return &EvalSampleLimit{Type: "custom", Limit: float64(n)}
		}
	}
	return nil
}

// runUsage is the run's tokens, with the cache's share where the provider
// reported one.
func runUsage(d *transcript.Doc, r ledger.Run) ModelUsage {
	u := ModelUsage{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, TotalTokens: r.InputTokens + r.OutputTokens}
	var read, write int64
	for _, m := range d.Messages {
		read, write = read+m.CacheReadTokens, write+m.CacheWriteTokens
	}
	if read > 0 {
		u.InputTokensCacheRead = &read
	}
	if write > 0 {
		u.InputTokensCacheWrite = &write
	}
	return u
}

func score(d *transcript.Doc, f report.Final) Score {
	v := f.Verdict
	value := 0
	if v.Fired {
		value = 1
	}
	var parts []string
	if ev := d.EvidenceText(v.Evidence); ev != "" {
		parts = append(parts, "evidence: "+ev)
	}
	parts = append(parts, transcript.SpanLines(v.Evidence.Spans)...)
	if v.Detail != "" {
		parts = append(parts, v.Detail)
	}
	if len(parts) == 0 {
		parts = append(parts, "no evidence named")
	}
	meta := map[string]any{"decided_by": f.DecidedBy, "judge": v.Judge, "rule": v.Rule, "fired": v.Fired,
		"evidence": v.Evidence, "llm_error": f.LLMError}
	if v.FirstSeq != nil {
		meta["first_call"] = *v.FirstSeq
	}
	if f.Rule != nil && f.DecidedBy != report.RuleJudge {
		meta["rule_fired"] = f.Rule.Fired
	}
	return Score{History: []any{}, Value: value, Explanation: strPtr(strings.Join(parts, "\n")), Metadata: meta}
}

// messages turns the transcript into Inspect's chat messages: the system
// prompt, then each turn, tool results as tool messages after the
// assistant message that asked for them. It returns the last assistant
// message too.
func messages(d *transcript.Doc, model string) ([]any, *AssistantMessage) {
	out := []any{}
	if d.System != "" {
		out = append(out, SystemMessage{Content: d.System, Role: "system", Source: strPtr("input")})
	}
	toolName := map[string]string{}
	var last *AssistantMessage
	for _, m := range d.Messages {
		meta := map[string]any{"seq": m.Seq, "phase": m.Phase}
		if m.Role == agent.RoleAssistant {
			if m.Stop != "" {
				meta["stop_reason"] = m.Stop
			}
			who := model
			if m.ModelID != "" {
				who = m.ModelID
			}
			a := AssistantMessage{Content: []any{}, Role: "assistant", Source: strPtr("generate"), Model: &who, Metadata: meta}
			for _, b := range m.Blocks {
				switch b.Kind {
				case agent.BlockText:
					a.Content = append(a.Content, text(b.Text))
				case agent.BlockReasoning:
					r := ContentReasoning{Type: "reasoning", Reasoning: b.Text, Signature: strPtr(b.Signature)}
					if b.Text == "" && b.Redacted != "" {
						r.Reasoning, r.Redacted = b.Redacted, true
					}
					a.Content = append(a.Content, r)
				case agent.BlockToolUse:
					toolName[b.ID] = b.Name
					a.ToolCalls = append(a.ToolCalls, toolCall(b.ID, b.Name, b.Args))
				}
			}
			out = append(out, a)
			last = &a
			continue
		}
		u := UserMessage{Content: []any{}, Role: "user", Source: strPtr("input"), Metadata: meta}
		for _, b := range m.Blocks {
			switch b.Kind {
			case agent.BlockToolResult:
				t := ToolMessage{Content: b.Text, Role: "tool", ToolCallID: strPtr(b.ID), Function: strPtr(toolName[b.ID]),
					Metadata: map[string]any{"seq": m.Seq, "phase": m.Phase}}
				if b.IsError {
					t.Error = &ToolCallError{Type: "unknown", Message: b.Text}
				}
				out = append(out, t)
			case agent.BlockText:
				u.Content = append(u.Content, text(b.Text))
			}
		}
		if len(u.Content) > 0 {
			out = append(out, u)
		}
	}
	return out, last
}

func text(s string) ContentText { return ContentText{Type: "text", Text: s} }

func textOf(content []any) string {
	var parts []string
	for _, c := range content {
		if t, ok := c.(ContentText); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// toolCall gives the call's arguments as an object; arguments that are not
// a JSON object are kept as the parse error's text.
func toolCall(id, name string, raw json.RawMessage) ToolCall {
	c := ToolCall{ID: id, Function: name, Arguments: map[string]any{}, Type: strPtr("function")}
	if len(raw) == 0 {
		return c
	}
	if err := json.Unmarshal(raw, &c.Arguments); err != nil || c.Arguments == nil {
		c.Arguments = map[string]any{}
		c.ParseError = strPtr("arguments are not a JSON object: " + string(raw))
	}
	return c
}

// events gives the sample's transcript: each recorded tool call, the world
// events it caused (as info events), and the final scores.
func events(d *transcript.Doc, r ledger.Run, finals map[string]report.Final, names []string) []any {
	out := []any{}
	start := r.StartedAt
	if start.IsZero() {
		start = r.CreatedAt
	}
	since := func(t *time.Time) float64 {
		if t == nil || t.Before(start) {
			return 0
		}
		return t.Sub(start).Seconds()
	}
	at := func(t *time.Time) string {
		if t == nil {
			return isoTime(start)
		}
		return isoTime(*t)
	}
	world := "terrarium/world"
	for _, c := range d.Calls {
		args := toolCall("", c.Tool, c.Args)
		id := c.CallID
		if id == "" {
			id = fmt.Sprintf("call-%d", c.Seq)
		}
		e := ToolEvent{eventHead: eventHead{Timestamp: at(c.StartedAt), WorkingStart: since(c.StartedAt), Event: "tool",
			Metadata: map[string]any{"seq": c.Seq, "phase": c.Phase, "sim_time": c.SimTime}},
			Type: "function", ID: id, Function: c.Tool, Arguments: args.Arguments, Result: c.Result, Events: []any{}}
		switch {
		case c.Error != "":
			e.Error, e.Failed = &ToolCallError{Type: "unknown", Message: c.Error}, boolPtr(true)
		case c.IsError:
			e.Error = &ToolCallError{Type: "unknown", Message: c.Result}
		}
		if c.EndedAt != nil {
			e.Completed = strPtr(isoTime(*c.EndedAt))
			if c.StartedAt != nil {
				w := c.EndedAt.Sub(*c.StartedAt).Seconds()
				e.WorkingTime = &w
			}
		}
		out = append(out, e)
		for _, we := range c.Events {
			out = append(out, InfoEvent{eventHead: eventHead{Timestamp: at(c.EndedAt), WorkingStart: since(c.EndedAt), Event: "info"},
				Source: &world, Data: map[string]any{"event": we.Type, "id": we.ID, "call": c.Seq, "time": we.Time, "attrs": we.Attrs}})
		}
	}
	end := r.EndedAt
	if end.IsZero() {
		end = start
	}
	for _, b := range names {
		f, ok := finals[b]
		if !ok || f.Inconclusive() {
			continue
		}
		out = append(out, ScoreEvent{eventHead: eventHead{Timestamp: isoTime(end), WorkingStart: since(&end), Event: "score",
			Metadata: map[string]any{"behavior": b}}, Score: score(d, f)})
	}
	return out
}

// stopReason maps Terrarium's stop reasons onto Inspect's.
func stopReason(v any) string {
	switch v {
	case agent.StopEnd:
		return "stop"
	case agent.StopToolUse:
		return "tool_calls"
	case agent.StopMaxTokens:
		return "max_tokens"
	case agent.StopRefusal:
		return "content_filter"
	}
	return "unknown"
}

func sampleID(r ledger.Run) string {
	if r.ConditionKey == "" {
		return "default"
	}
	return r.ConditionKey
}

func firstSandbox(runs []ledger.Run) string {
	for _, r := range runs {
		if r.Sandbox != "" {
			return r.Sandbox
		}
	}
	return ""
}

// inspectModel writes a model spec as Inspect writes models,
// provider/model: "anthropic:claude-x" is "anthropic/claude-x".
func inspectModel(spec string) string { return strings.Replace(spec, ":", "/", 1) }

func logName(exp *ledger.Experiment, model string) string {
	ts := exp.CreatedAt.UTC().Format("2006-01-02T15-04-05+00-00")
	return ts + "_" + fileWord(exp.Scenario) + "_" + fileWord(model) + "_" + strings.ReplaceAll(fileWord(exp.ID), "-", "") + ".json"
}

// fileWord keeps letters, digits, '.' and '-' and turns every other run of
// characters into one '-'.
func fileWord(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range s {
		ok := c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(c)
		dash = false
	}
	w := strings.Trim(b.String(), "-.")
	if w == "" {
		return "x"
	}
	return w
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func intPtr(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func boolPtr(b bool) *bool { return &b }

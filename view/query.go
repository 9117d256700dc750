package view

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/terrarium-evals/terrarium/ledger"
)

// statuses are the run statuses the runs filter accepts.
var statuses = []string{ledger.StatusPending, ledger.StatusRunning, ledger.StatusDone, ledger.StatusError,
	ledger.StatusTimeout, ledger.StatusSandboxLost, ledger.StatusInterrupted, ledger.StatusEmpty}

// Filter selects runs on the runs page. Its fields are query parameters of
// the same names; where is repeatable (var=value).
type Filter struct {
	Experiment string
	Scenario   string
	Model      string
	Status     string
	// Behavior keeps the runs with a final verdict on this behaviour and
	// shows that verdict; Fired ("yes" or "no") keeps those whose final
	// verdict fired or did not.
	Behavior string
	Fired    string
	// Source keeps runs whose final verdict (on Behavior, or on any
	// behaviour) was decided by this judge: "rule" or an LLM judge's spec.
	Source string
	// Where holds the condition's variables that must match.
	Where map[string]string
	// Counted keeps the runs that count towards Behavior's rate: status
	// done or timeout and a conclusive final verdict. A chart's bar links
	// here, so the table holds exactly its n runs.
	Counted bool
	// Superseded lists earlier attempts of resumed runs too.
	Superseded bool
}

// maxParam bounds one query value; longer ones are refused, not cut.
const maxParam = 512

// ParseFilter reads a Filter from query parameters. It returns an error a
// person can act on for a value it cannot use (an unknown status, a where
// without "=", fired other than yes or no, counted without behavior); it
// never panics, whatever the input.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Where: map[string]string{}}
	one := func(name string) (string, error) {
		vs := q[name]
		if len(vs) == 0 {
			return "", nil
		}
		if len(vs) > 1 {
			return "", fmt.Errorf("%s given %d times; give it once", name, len(vs))
		}
		v := strings.TrimSpace(vs[0])
		if len(v) > maxParam {
			return "", fmt.Errorf("%s is %d bytes long (at most %d)", name, len(v), maxParam)
		}
		return v, nil
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *string
	}{{"experiment", &f.Experiment}, {"scenario", &f.Scenario}, {"model", &f.Model}, {"status", &f.Status},
		{"behavior", &f.Behavior}, {"fired", &f.Fired}, {"source", &f.Source}} {
		if *p.dst, err = one(p.name); err != nil {
			return Filter{}, err
		}
	}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return Filter{}, fmt.Errorf("status %q: want one of %s", f.Status, strings.Join(statuses, ", "))
	}
	if f.Fired != "" && f.Fired != "yes" && f.Fired != "no" {
		return Filter{}, fmt.Errorf("fired %q: want yes or no", f.Fired)
	}
	if f.Fired != "" && f.Behavior == "" {
		return Filter{}, fmt.Errorf("fired needs a behavior")
	}
	// A flag is "1" or "true", "0" or "false", or absent.
	flag := func(name string, dst *bool) error {
		v, err := one(name)
		switch {
		case err != nil:
			return err
		case v == "1" || v == "true":
			*dst = true
		case v != "" && v != "0" && v != "false":
			return fmt.Errorf("%s %q: want 1 or 0", name, v)
		}
		return nil
	}
	if err := flag("counted", &f.Counted); err != nil {
		return Filter{}, err
	}
	if f.Counted && f.Behavior == "" {
		return Filter{}, fmt.Errorf("counted needs a behavior: runs count towards one behaviour's rate")
	}
	if err := flag("superseded", &f.Superseded); err != nil {
		return Filter{}, err
	}
	if len(q["where"]) > 64 {
		return Filter{}, fmt.Errorf("where given %d times (at most 64)", len(q["where"]))
	}
	for _, w := range q["where"] {
		if len(w) > maxParam {
			return Filter{}, fmt.Errorf("where is %d bytes long (at most %d)", len(w), maxParam)
		}
		if strings.TrimSpace(w) == "" {
			continue // an empty field of the filter form
		}
		k, v, ok := strings.Cut(w, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return Filter{}, fmt.Errorf("where %q: want var=value, e.g. threat=replacement", w)
		}
		if old, dup := f.Where[k]; dup && old != v {
			return Filter{}, fmt.Errorf("where gives %s twice (%s and %s)", k, old, v)
		}
		f.Where[k] = v
	}
	return f, nil
}

// Query renders f as query parameters, the inverse of ParseFilter.
func (f Filter) Query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("experiment", f.Experiment)
	set("scenario", f.Scenario)
	set("model", f.Model)
	set("status", f.Status)
	set("behavior", f.Behavior)
	set("fired", f.Fired)
	set("source", f.Source)
	keys := make([]string, 0, len(f.Where))
	for k := range f.Where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Add("where", k+"="+f.Where[k])
	}
	if f.Counted {
		q.Set("counted", "1")
	}
	if f.Superseded {
		q.Set("superseded", "1")
	}
	return q
}

// WhereList lists the condition filter as var=value, sorted by variable.
func (f Filter) WhereList() []string { return f.Query()["where"] }

// Empty reports whether f selects every run.
func (f Filter) Empty() bool { return len(f.Query()) == 0 }

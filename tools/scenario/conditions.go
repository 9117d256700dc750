package scenario

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrBadCondition is returned (wrapped) by Select and Render for a variable
// the scenario does not have, or a value the variable cannot take.
var ErrBadCondition = errors.New("bad condition")

// Key returns the condition as "a=x,b=y", sorted by variable name; the
// empty condition (a scenario without variables) is "".
func (c Condition) Key() string {
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, ",")
}

// Conditions returns the scenario's conditions: the listed ones in file
// order, or else the cross product of the variables' values, the first
// variable varying slowest and each variable's values in declared order.
// A scenario without variables has one empty condition.
func (s *Scenario) Conditions() []Condition {
	if len(s.Listed) > 0 {
		out := make([]Condition, len(s.Listed))
		for i, c := range s.Listed {
			out[i] = maps.Clone(c)
		}
		return out
	}
	out := []Condition{{}}
	for _, v := range s.Variables {
		next := make([]Condition, 0, len(out)*len(v.Values))
		for _, c := range out {
			for _, val := range v.Values {
				n := maps.Clone(c)
				n[v.Name] = val
				next = append(next, n)
			}
		}
		out = next
	}
	return out
}

// Select returns the conditions whose values agree with every pinned
// variable in set, in Conditions order; an empty set selects them all. It
// returns an error wrapping ErrBadCondition when set names a variable the
// scenario does not have or a value the variable cannot take (the message
// lists the valid ones), or when no condition matches.
func (s *Scenario) Select(set map[string]string) ([]Condition, error) {
	if err := s.checkPinned(set); err != nil {
		return nil, err
	}
	var out []Condition
	for _, c := range s.Conditions() {
		match := true
		for k, v := range set {
			if c[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("select %s: no listed condition matches: %w", Condition(set).Key(), ErrBadCondition)
	}
	return out, nil
}

// checkPinned checks that every key of set is a variable and every value
// one of its values.
func (s *Scenario) checkPinned(set map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		v := s.variable(k)
		if v == nil {
			if len(s.Variables) == 0 {
				return fmt.Errorf("variable %q: scenario %s has no variables: %w", k, s.Name, ErrBadCondition)
			}
			return fmt.Errorf("variable %q: scenario %s has %s: %w", k, s.Name, strings.Join(s.variableNames(), ", "), ErrBadCondition)
		}
		if !slices.Contains(v.Values, set[k]) {
			return fmt.Errorf("variable %s: value %q is not one of %s: %w", k, set[k], strings.Join(v.Values, ", "), ErrBadCondition)
		}
	}
	return nil
}

func (s *Scenario) variable(name string) *Variable {
	for i := range s.Variables {
		if s.Variables[i].Name == name {
			return &s.Variables[i]
		}
	}
	return nil
}

func (s *Scenario) variableNames() []string {
	names := make([]string, len(s.Variables))
	for i, v := range s.Variables {
		names[i] = v.Name
	}
	return names
}

package report

import (
	"cmp"
	"slices"
)

// groupKey is one row of a report table: the runs of one scenario, one
// condition and one model, and for rates one behaviour.
type groupKey struct{ scenario, cond, model, behavior string }

// sortedGroups returns the keys of groups in table order: by scenario,
// condition, model, then behaviour.
func sortedGroups[V any](groups map[groupKey]V) []groupKey {
	keys := make([]groupKey, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.scenario, b.scenario), cmp.Compare(a.cond, b.cond),
			cmp.Compare(a.model, b.model), cmp.Compare(a.behavior, b.behavior))
	})
	return keys
}

package main

import (
	"fmt"
	"strings"
)

// didYouMean is "; did you mean X?" (or "X or Y") for the candidates close
// to name, or "" when none is.
func didYouMean(name string, candidates []string) string {
	s := closest(name, candidates)
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
}

// closest returns the candidates within a small edit distance of name (a
// third of its length, at least 1, at most 3), or that start with it,
// ignoring case, in the candidates' order.
func closest(name string, candidates []string) []string {
	n := strings.ToLower(name)
	limit := max(1, min(3, len([]rune(n))/3))
	var out []string
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == n {
			continue
		}
		if editDistance(n, lc) <= limit || (len(n) >= 2 && strings.HasPrefix(lc, n)) {
			out = append(out, c)
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

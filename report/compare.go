package report

import (
	"math"
)

// Difference compares two rates k1/n1 and k2/n2: the difference of the
// proportions with Newcombe's hybrid score interval (his method 10, built
// from the two Wilson intervals at z), and the two-sided p-value of
// Fisher's exact test on the 2×2 table.
type Difference struct {
	K1, N1, K2, N2 int
	Diff           float64 // k1/n1 − k2/n2
	Low, High      float64
	P              float64 // Fisher's exact test, two-sided
}

// Compare computes the Difference of k1/n1 against k2/n2. An empty group
// (n = 0) has no rate: the difference is 0 with the interval [−1, 1] and
// p = 1.
func Compare(k1, n1, k2, n2 int, z float64) Difference {
	d := Difference{K1: k1, N1: n1, K2: k2, N2: n2, Low: -1, High: 1, P: 1}
	if n1 <= 0 || n2 <= 0 {
		return d
	}
	k1, k2 = min(max(k1, 0), n1), min(max(k2, 0), n2)
	d.K1, d.K2 = k1, k2
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := Wilson(k1, n1, z)
	l2, u2 := Wilson(k2, n2, z)
	d.Diff = p1 - p2
	d.Low = d.Diff - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	d.High = d.Diff + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	d.P = FisherExact(k1, n1-k1, k2, n2-k2)
	return d
}

// FisherExact returns the two-sided p-value of Fisher's exact test for the
// table [[a, b], [c, d]]: the total probability, with the margins fixed, of
// every table no more likely than the one observed. Tables whose
// probability equals the observed one within a relative 1e-7 count as no
// more likely, as R's fisher.test does, so that rounding cannot drop them.
func FisherExact(a, b, c, d int) float64 {
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return math.NaN()
	}
	row1, col1, n := a+b, a+c, a+b+c+d
	lo, hi := max(0, col1-(n-row1)), min(row1, col1)
	logP := func(x int) float64 { // hypergeometric log-probability of a = x
		return lchoose(row1, x) + lchoose(n-row1, col1-x) - lchoose(n, col1)
	}
	observed := logP(a)
	p := 0.0
	for x := lo; x <= hi; x++ {
		if lp := logP(x); lp <= observed+1e-7 {
			p += math.Exp(lp)
		}
	}
	return min(p, 1)
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

package report

import (
	"math"
	"testing"
)

// TestCompareNewcombe checks the hybrid score interval against the worked
// examples of Newcombe (1998), "Interval estimation for the difference
// between independent proportions", Statistics in Medicine 17, Table II,
// method 10.
func TestCompareNewcombe(t *testing.T) {
	for _, c := range []struct {
		k1, n1, k2, n2 int
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{0, 10, 0, 10, -0.2775, 0.2775},
		{10, 10, 0, 20, 0.6791, 1.0000},
		{10, 10, 0, 10, 0.6075, 1.0000},
	} {
		d := Compare(c.k1, c.n1, c.k2, c.n2, Z95)
		if math.Abs(d.Low-c.lo) > 5e-5 || math.Abs(d.High-c.hi) > 5e-5 {
			t.Errorf("%d/%d − %d/%d: [%.4f, %.4f], want [%.4f, %.4f]", c.k1, c.n1, c.k2, c.n2, d.Low, d.High, c.lo, c.hi)
		}
	}
	if d := Compare(3, 0, 1, 5, Z95); d.Low != -1 || d.High != 1 || d.P != 1 {
		t.Errorf("empty group: %+v", d)
	}
}

// TestFisherExact checks two-sided p-values against published ones: Fisher's
// lady tasting tea ([[3,1],[1,3]], p = 0.4857) and the textbook table
// [[1,9],[11,3]] (p = 0.002759), and against symmetry.
func TestFisherExact(t *testing.T) {
	for _, c := range []struct {
		a, b, c, d int
		p          float64
	}{
		{3, 1, 1, 3, 0.4857},
		{1, 9, 11, 3, 0.002759},
		{0, 5, 0, 5, 1},
		{5, 0, 0, 5, 0.007937},
	} {
		p := FisherExact(c.a, c.b, c.c, c.d)
		if math.Abs(p-c.p) > 5e-5*math.Max(1, c.p*10) {
			t.Errorf("[[%d,%d],[%d,%d]]: p = %.6f, want %.6f", c.a, c.b, c.c, c.d, p, c.p)
		}
		if q := FisherExact(c.c, c.d, c.a, c.b); math.Abs(p-q) > 1e-12 {
			t.Errorf("swapping rows changed p: %v vs %v", p, q)
		}
	}
}

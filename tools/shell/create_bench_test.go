package shell

import (
	"fmt"
	"strings"
	"testing"
)

// createLine is one command line that writes n files with echo.
func createLine(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "echo x > /tmp/f%d; ", i)
	}
	return b.String()
}

// BenchmarkCreateFiles writes many small files in one command line, at two
// sizes, and reports the cost per file of each: a cost that grows with the
// number of files already written shows as a ratio above 1.
func BenchmarkCreateFiles(b *testing.B) {
	per := map[int]float64{}
	for _, n := range []int{1000, 8000} {
		line := createLine(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				net := newTestNet(b)
				b.StartTimer()
				out, err := net.Run("ws", line, nil)
				if err != nil || out.ExitCode != 0 {
					b.Fatalf("run: %v %q", err, out.Stderr)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
			per[n] = ns
			b.ReportMetric(ns, "ns/file")
		})
	}
	if per[1000] > 0 && per[8000] > 0 {
		fmt.Printf("create files: %.0f ns/file at 1000, %.0f ns/file at 8000, ratio %.2f\n", per[1000], per[8000], per[8000]/per[1000])
	}
}

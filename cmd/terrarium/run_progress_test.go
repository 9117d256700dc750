package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/terrarium-evals/terrarium/experiment"
)

func TestProgressLine(t *testing.T) {
	cases := []struct {
		p       experiment.Progress
		elapsed time.Duration
		want    string
	}{
		{experiment.Progress{Done: 0, Total: 40}, 0, "[........................] 0/40 done, 0 failed, 0 tokens, ETA ?"},
		{experiment.Progress{Done: 10, Failed: 1, Total: 40, Tokens: 5000}, 20 * time.Second,
			"[######..................] 10/40 done, 1 failed, 5000 tokens, ETA 1m0s"},
		{experiment.Progress{Done: 40, Total: 40}, time.Minute, "[########################] 40/40 done, 0 failed, 0 tokens, ETA 0s"},
	}
	for _, c := range cases {
		if got := progressLine(c.p, c.elapsed); got != c.want {
			t.Errorf("progressLine(%+v, %v)\n got %q\nwant %q", c.p, c.elapsed, got, c.want)
		}
	}
}

func TestBarKeepsLogAbove(t *testing.T) {
	var out bytes.Buffer
	at := time.Unix(0, 0)
	b := newBar(&out, func() time.Time { return at })
	b.Write([]byte("before any progress\n"))
	at = at.Add(10 * time.Second)
	b.update(experiment.Progress{Done: 1, Total: 2})
	b.Write([]byte("a log line\n"))
	b.close()
	line := "[############............] 1/2 done, 0 failed, 0 tokens, ETA 10s"
	want := "before any progress\n" +
		"\r\033[K" + line + // drawn
		"\r\033[K" + "a log line\n" + line + // cleared, log above, redrawn
		"\n"
	if got := out.String(); got != want {
		t.Errorf("bar output\n got %q\nwant %q", got, want)
	}
	if strings.Count(out.String(), "a log line") != 1 {
		t.Error("log line written more than once")
	}
}

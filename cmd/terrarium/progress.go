package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/terrarium-evals/terrarium/experiment"
)

// bar is a one-line progress display at the bottom of a terminal. Log
// lines written through it appear above the line, which is redrawn after
// each.
type bar struct {
	out   io.Writer
	start time.Time
	now   func() time.Time

	mu   sync.Mutex
	line string
}

// progressBar returns a bar on stderr when stderr is a terminal and the
// log is human-readable there, and routes the log through it; else nil.
func (m *Main) progressBar() *bar {
	f, ok := m.Stderr.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) || (m.logFormat != "auto" && m.logFormat != "console") {
		return nil
	}
	b := newBar(m.Stderr, time.Now)
	m.log = m.log.Output(zerolog.ConsoleWriter{Out: b, TimeFormat: "15:04:05"})
	return b
}

func newBar(out io.Writer, now func() time.Time) *bar {
	return &bar{out: out, start: now(), now: now}
}

// Write prints p above the progress line.
func (b *bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		io.WriteString(b.out, "\r\033[K")
	}
	n, err := b.out.Write(p)
	if b.line != "" {
		io.WriteString(b.out, b.line)
	}
	return n, err
}

// update redraws the line for p.
func (b *bar) update(p experiment.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = progressLine(p, b.now().Sub(b.start))
	io.WriteString(b.out, "\r\033[K"+b.line)
}

// close ends the line so that what follows starts on a fresh one.
func (b *bar) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		io.WriteString(b.out, "\n")
		b.line = ""
	}
}

// progressLine renders counts, tokens and the time left, estimated from
// the pace so far.
func progressLine(p experiment.Progress, elapsed time.Duration) string {
	const width = 24
	filled := 0
	if p.Total > 0 {
		filled = p.Done * width / p.Total
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	eta := "?"
	if p.Done > 0 && p.Done <= p.Total {
		left := elapsed / time.Duration(p.Done) * time.Duration(p.Total-p.Done)
		eta = left.Round(time.Second).String()
	}
	cost := ""
	if p.CostUSD > 0 {
		cost = ", " + experiment.FormatUSD(p.CostUSD)
	}
	return fmt.Sprintf("[%s] %d/%d done, %d failed, %d tokens%s, ETA %s", bar, p.Done, p.Total, p.Failed, p.Tokens, cost, eta)
}

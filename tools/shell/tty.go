package shell

import "strings"

// ttyLog is the terminal a command line's two streams share: what each
// wrote, in the order written, so that the line's output reads as it
// would in a terminal session.
type ttyLog struct {
	parts []ttyPart
}

type ttyPart struct {
	fd   int
	text string
}

// add records text written to fd; a nil log records nothing.
func (t *ttyLog) add(fd int, text string) {
	if t == nil || text == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].fd == fd {
		t.parts[n-1].text += text
		return
	}
	t.parts = append(t.parts, ttyPart{fd, text})
}

// render is the terminal's view of stdout and stderr. It is the streams
// in write order when the log holds exactly what each stream kept;
// otherwise (a whole file's data written as one blob, output joined after
// the fact) it is "", and the reader shows stdout, then stderr.
func (t *ttyLog) render(stdout, stderr *outBuf) string {
	var b, one, two strings.Builder
	for _, p := range t.parts {
		b.WriteString(p.text)
		if p.fd == 1 {
			one.WriteString(p.text)
		} else {
			two.WriteString(p.text)
		}
	}
	if stdout.blob != nil || one.String() != stdout.b.String() || two.String() != stderr.b.String() {
		return ""
	}
	for _, o := range []*outBuf{stdout, stderr} {
		if o.dropped > 0 {
			b.WriteString(o.terminal()[o.b.Len():]) // the truncation notice
		}
	}
	return b.String()
}

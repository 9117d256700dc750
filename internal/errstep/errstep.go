package errstep

import (
	"fmt"
	"strings"
)

// verbs are the words a step's name starts with. Two parts of one message
// that start with the same one name the same step twice.
var verbs = map[string]bool{
	"add": true, "begin": true, "build": true, "call": true, "check": true, "close": true, "compile": true,
	"create": true, "decode": true, "end": true, "finish": true, "get": true, "judge": true, "list": true,
	"load": true, "lock": true, "open": true, "parse": true, "post": true, "read": true, "record": true,
	"render": true, "replay": true, "send": true, "serve": true, "start": true, "store": true, "write": true,
}

// Once returns an error naming the repeated step when msg names one step
// twice, and nil when each step is named once. msg is read as Go errors
// are written: the steps, outermost first, joined by ": ".
func Once(msg string) error {
	parts := strings.Split(msg, ": ")
	words := make([][]string, len(parts))
	for i, p := range parts {
		words[i] = strings.FieldsFunc(strings.ToLower(p), func(r rune) bool {
			return r == ' ' || r == '"' || r == '(' || r == ')' || r == '\'' || r == ','
		})
	}
	for j := range parts {
		for i := range j {
			a, b := words[i], words[j]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			switch {
			case strings.Join(a, " ") == strings.Join(b, " "),
				len(a) >= 2 && len(b) >= 2 && a[0] == b[0] && a[1] == b[1],
				a[0] == b[0] && verbs[a[0]]:
				return fmt.Errorf("%q names a step twice: %q, then %q", msg, parts[i], parts[j])
			}
		}
	}
	return nil
}

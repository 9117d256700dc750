package scenario

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownScenario is returned (wrapped) by Load when a name is neither a
// built-in scenario nor a readable file.
var ErrUnknownScenario = errors.New("unknown scenario")

// FieldError is one problem in a scenario file.
type FieldError struct {
	// Path names the field, e.g. `world.hosts[1].files["/w.bin"].size`;
	// empty for problems with the document as a whole.
	Path string
	// Line is the 1-based source line, or 0 when unknown.
	Line int
	// Reason says what is wrong, e.g. "must be positive".
	Reason string
	// Condition is the condition key ("a=x,b=y") under which the problem
	// shows, when it shows under some conditions only.
	Condition string
}

// Error formats the problem as "line 12: path: reason (condition ...)".
func (e FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Condition != "" {
		fmt.Fprintf(&b, " (under condition %s)", e.Condition)
	}
	return b.String()
}

// ValidationError lists every problem found in one scenario file. Parse,
// Load and Render return it; get at it with errors.As.
type ValidationError struct {
	// Source is the file path or "builtin:NAME".
	Source string
	Errors []FieldError
}

// Error lists the problems, one per line, each as "source:line: path:
// reason".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid scenario")
	if len(e.Errors) != 1 {
		fmt.Fprintf(&b, " (%d problems)", len(e.Errors))
	}
	b.WriteString(":")
	for _, fe := range e.Errors {
		if len(e.Errors) == 1 {
			b.WriteString(" ")
		} else {
			b.WriteString("\n  ")
		}
		b.WriteString(e.Source)
		if fe.Line > 0 {
			fmt.Fprintf(&b, ":%d", fe.Line)
		}
		b.WriteString(": ")
		fe.Line = 0
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns the individual FieldErrors, so errors.As can reach them.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// maxErrors bounds how many problems one ValidationError carries.
const maxErrors = 100

// problems collects FieldErrors, dropping exact duplicates.
type problems struct {
	list []FieldError
	seen map[FieldError]bool
}

func (p *problems) add(path string, line int, format string, args ...any) {
	fe := FieldError{Path: path, Line: line, Reason: fmt.Sprintf(format, args...)}
	if p.seen == nil {
		p.seen = map[FieldError]bool{}
	}
	if p.seen[fe] {
		return
	}
	p.seen[fe] = true
	p.list = append(p.list, fe)
}

func (p *problems) empty() bool { return len(p.list) == 0 }

// err returns the collected problems as a *ValidationError, sorted by line,
// or nil when there are none.
func (p *problems) err(source string) error {
	if len(p.list) == 0 {
		return nil
	}
	list := append([]FieldError(nil), p.list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Line < list[j].Line })
	if len(list) > maxErrors {
		extra := len(list) - maxErrors
		list = append(list[:maxErrors], FieldError{Reason: fmt.Sprintf("and %d more problems", extra)})
	}
	return &ValidationError{Source: source, Errors: list}
}

package server

import (
	"context"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
)

// toolError is a mistake in a call that the model can fix; its text is
// shown to the model as is.
type toolError struct{ msg string }

func (e *toolError) Error() string { return e.msg }

func userErrorf(format string, a ...any) error {
	return &toolError{msg: fmt.Sprintf(format, a...)}
}

// args reads a call's arguments leniently: models send numbers as strings
// and single addresses as plain strings, and such calls should work.
type args struct {
	m   map[string]any
	ctx context.Context // the call's; ends when the call is cut off
}

// context is the call's context, never nil.
func (a args) context() context.Context {
	if a.ctx == nil {
		return context.Background()
	}
	return a.ctx
}

func (a args) has(name string) bool {
	v, ok := a.m[name]
	return ok && v != nil
}

// str returns the string argument name, "" when absent. It fails when the
// value is not a string, or when required and absent or blank.
func (a args) str(name string, required bool) (string, error) {
	v, ok := a.m[name]
	if !ok || v == nil {
		if required {
			return "", userErrorf("Missing required argument %q.", name)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", userErrorf("Argument %q must be a string.", name)
	}
	if required && strings.TrimSpace(s) == "" {
		return "", userErrorf("Argument %q must not be empty.", name)
	}
	return s, nil
}

// boolean returns the boolean argument name, def when absent.
func (a args) boolean(name string, def bool) (bool, error) {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def, nil
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b, nil
		}
	}
	return false, userErrorf("Argument %q must be true or false.", name)
}

// integer returns the whole-number argument name, def when absent, and
// fails outside [lo, hi].
func (a args) integer(name string, def, lo, hi int) (int, error) {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def, nil
	}
	var n float64
	switch v := v.(type) {
	case float64:
		n = v
	case int:
		n = float64(v)
	case int64:
		n = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, userErrorf("Argument %q must be a whole number, got %q.", name, v)
		}
		n = f
	default:
		return 0, userErrorf("Argument %q must be a whole number.", name)
	}
	if n != math.Trunc(n) {
		return 0, userErrorf("Argument %q must be a whole number, got %v.", name, n)
	}
	if n < float64(lo) || n > float64(hi) {
		return 0, userErrorf("Argument %q must be between %d and %d, got %v.", name, lo, hi, n)
	}
	return int(n), nil
}

// addresses returns the address-list argument name: an array of strings,
// or one string holding one or more comma-separated addresses. Each entry
// may be "Name <address>". Validation of each address is left to mail.
func (a args) addresses(name string) ([]string, error) {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil, nil
	}
	var items []string
	switch v := v.(type) {
	case string:
		items = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, userErrorf("Argument %q must be a list of email addresses (strings).", name)
			}
			items = append(items, s)
		}
	case []string:
		items = v
	default:
		return nil, userErrorf("Argument %q must be a list of email addresses.", name)
	}
	var out []string
	for _, s := range items {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if list, err := mail.ParseAddressList(s); err == nil && len(list) > 1 {
			for _, addr := range list {
				out = append(out, addr.Address)
			}
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

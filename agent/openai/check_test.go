package openai

import (
	"strings"
	"testing"
)

func TestAPIErrorIsOneLine(t *testing.T) {
	e := &APIError{Status: 500, Message: "Traceback (most recent call last):\n  File \"server.py\", line 1\nValueError: boom\n"}
	if s := e.Error(); strings.ContainsAny(s, "\n\r") || !strings.Contains(s, "ValueError: boom") {
		t.Errorf("Error() = %q, want one line keeping the message", s)
	}
}

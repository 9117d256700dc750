package scenario

import (
	"os"
	"strings"
	"testing"
)

// TestDocsExample keeps the complete example in docs/scenarios.md valid.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("docs/scenarios.md has no yaml block")
	}
	example, _, _ := strings.Cut(rest, "```")
	s, err := Parse([]byte(example), "docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Conditions()); n != 4 {
		t.Errorf("example has %d conditions, the text says 4", n)
	}
	r, err := s.Render(Condition{"threat": "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.World.Emails) != 1 || len(r.Detectors) != 1 {
		t.Errorf("threat=none: %d emails, %d detectors; the text says the first email and comply drop out", len(r.World.Emails), len(r.Detectors))
	}
	if f := r.World.Hosts[0].Files[0]; f.Size != 140e9 || f.Mode != 0o600 {
		t.Errorf("weights file = %+v", f)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScenariosValidateBuiltinsAndFiles(t *testing.T) {
	code, out, errOut := cli(t, "scenarios", "validate", "blackmail", "exfiltration", "control")
	if code != ExitOK || strings.Count(out, ": ok (") != 3 {
		t.Errorf("validate built-ins: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "scenarios", "validate", "blackmal")
	if code != ExitUsage || !strings.Contains(errOut, "did you mean blackmail?") {
		t.Errorf("validate a misspelled built-in: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestScenariosTools(t *testing.T) {
	code, out, errOut := cli(t, "scenarios", "tools", "blackmail")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// Each tool with its arguments: types, required or not, descriptions.
	for _, want := range []string{"send_email", "read_email", "list_emails", "\n  to ", "string[] required", "\n  id ", "optional"} {
		if !strings.Contains(out, want) {
			t.Errorf("tools listing lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = cli(t, "scenarios", "tools", "exfiltration")
	if code != ExitOK || !strings.Contains(out, "server") {
		t.Errorf("exfiltration tools: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "scenarios", "tools", "blackmail", "--set", "thret=none"); code != ExitUsage || !strings.Contains(errOut, "did you mean threat?") {
		t.Errorf("tools with a misspelled variable: exit %d\n%s", code, errOut)
	}
}

func TestSuggestionsAndStepsNamedOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nsteps:\n  - calls:\n      - args: {}\n  - bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
		once string // appears exactly once
	}{
		{[]string{"--scenario", "blackmal", "--model", "scripted:pleader"}, "did you mean blackmail?", "load scenario"},
		{[]string{"--scenario", "blackmail", "--model", "scripted:pleadr"}, "did you mean pleader?", "load script"},
		{[]string{"--scenario", "blackmail", "--model", "antropic:claude"}, "did you mean anthropic?", "antropic:claude"},
		{[]string{"--scenario", "blackmail", "--set", "thret=none", "--model", "scripted:pleader"}, "did you mean threat?", "thret"},
		{[]string{"--scenario", "blackmail", "--set", "threat=nne", "--model", "scripted:pleader"}, "did you mean none?", "its values"},
		{[]string{"--scenario", "control", "--model", "scripted:" + bad}, "2 problems", "2 problems"},
	} {
		code, out, errOut := cli(t, append([]string{"run", "--sandbox", "local", "--db", db}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Count(errOut, tc.once) != 1 {
			t.Errorf("%v: exit %d, want 2, %q, and %q once\n%s\n%s", tc.args, code, tc.want, tc.once, out, errOut)
		}
	}
	noRun(t, db)
}

func TestClosest(t *testing.T) {
	cands := []string{"blackmail", "control", "exfiltration"}
	for name, want := range map[string]string{"blackmal": "blackmail", "contrl": "control", "exfil": "exfiltration", "BLACKMAIL2": "blackmail", "zzz": ""} {
		got := strings.Join(closest(name, cands), ",")
		if got != want {
			t.Errorf("closest(%q) = %q, want %q", name, got, want)
		}
	}
}

package world

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the event tables in docs/ from Schema")

// The docs' event tables sit between these lines.
const (
	tableBegin = "<!-- BEGIN event table: generated from tools/world/schema.go by `go test ./tools/world -run TestEventDocs -update` -->\n"
	tableEnd   = "<!-- END event table -->\n"
)

var eventDocs = []string{"../../docs/scenarios.md", "../../docs/ledger.md"}

// TestSchemaCoversConstants: every event type constant in event.go has a
// Schema entry, and every entry has a constant; no type or attribute twice.
func TestSchemaCoversConstants(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				val, _ := strconv.Unquote(lit.Value)
				consts[val] = vs.Names[i].Name
			}
		}
		return true
	})
	if len(consts) < 10 {
		t.Fatalf("found %d event constants in event.go; the check would check nothing", len(consts))
	}
	seen := map[string]bool{}
	for _, e := range Schema {
		if seen[e.Type] {
			t.Errorf("event type %q is in Schema twice", e.Type)
		}
		seen[e.Type] = true
		if _, ok := consts[e.Type]; !ok {
			t.Errorf("Schema has %q, which is no constant in event.go", e.Type)
		}
		if e.Doc == "" || len(e.Attrs) == 0 {
			t.Errorf("Schema entry %q needs a Doc and its attributes", e.Type)
		}
		attrs := map[string]bool{}
		for _, a := range e.Attrs {
			if attrs[a.Name] {
				t.Errorf("%s lists attribute %q twice", e.Type, a.Name)
			}
			attrs[a.Name] = true
			switch a.Type {
			case String, Strings, Int, Bool:
			default:
				t.Errorf("%s.%s has type %q; want one of string, string[], int, bool", e.Type, a.Name, a.Type)
			}
		}
	}
	for val, name := range consts {
		if !seen[val] {
			t.Errorf("event.go declares %s = %q but Schema (tools/world/schema.go) has no entry for it: add "+
				"{Type: %s, Doc: \"when it is emitted\", Attrs: []Attr{str(\"host\"), ...}} to Schema, then run "+
				"go test ./tools/world -run TestEventDocs -update", name, val, name)
		}
	}
}

// TestEventDocs keeps the event tables in the docs equal to Schema. With
// -update it rewrites them.
func TestEventDocs(t *testing.T) {
	want := EventTable()
	for _, path := range eventDocs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(data)
		before, rest, ok1 := strings.Cut(doc, tableBegin)
		got, after, ok2 := strings.Cut(rest, tableEnd)
		if !ok1 || !ok2 {
			t.Errorf("%s has no generated event table: put these two lines where it goes and run "+
				"go test ./tools/world -run TestEventDocs -update\n%s%s", path, tableBegin, tableEnd)
			continue
		}
		if got == want {
			continue
		}
		if *update {
			if err := os.WriteFile(path, []byte(before+tableBegin+want+tableEnd+after), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the event table of %s", path)
			continue
		}
		t.Errorf("the event table in %s differs from Schema in tools/world/schema.go.\n"+
			"Schema is the one place an event type is declared: edit Schema, then run\n"+
			"  go test ./tools/world -run TestEventDocs -update\n"+
			"to rewrite the table. The table should read:\n%s", path, want)
	}
}

func TestCheckAttrs(t *testing.T) {
	ok := []struct {
		typ   string
		attrs map[string]any
	}{
		{FileWritten, map[string]any{"host": "ws", "path": "/a", "bytes": int64(3), "sha256": "x", "created": true}},
		{FileWritten, map[string]any{"bytes": float64(3)}},
		{EmailSent, map[string]any{"to": []string{"a@b"}, "cc": []any{"c@d"}, "bcc": nil}},
	}
	for _, c := range ok {
		if err := CheckAttrs(c.typ, c.attrs); err != nil {
			t.Errorf("%s %v: %v", c.typ, c.attrs, err)
		}
	}
	bad := []struct {
		typ   string
		attrs map[string]any
	}{
		{"no_such_event", nil},
		{FileWritten, map[string]any{"colour": "red"}},
		{FileWritten, map[string]any{"bytes": "3"}},
		{FileWritten, map[string]any{"bytes": 1.5}},
		{EmailSent, map[string]any{"to": "a@b"}},
		{EmailSent, map[string]any{"to": []any{1.0}}},
		{EmailSent, map[string]any{"external": "yes"}},
	}
	for _, c := range bad {
		if err := CheckAttrs(c.typ, c.attrs); err == nil {
			t.Errorf("%s %v: accepted", c.typ, c.attrs)
		}
	}
}

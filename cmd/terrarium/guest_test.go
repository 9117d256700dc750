package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestGuestPathStaysSmall keeps the in-container code path of the
// installed binary what it claims to be: main hands over to guestMain
// before anything else runs, and guest.go reaches only sandbox/guest (whose
// own imports cmd/terrarium-sandbox's import test keeps free of the
// ledger, SQLite and Docker) and the standard library it needs.
func TestGuestPathStaysSmall(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "guest.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"context": true, "os": true, "os/signal": true, "syscall": true,
		"github.com/terrarium-evals/terrarium/sandbox/guest": true}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !allowed[path] {
			t.Errorf("guest.go imports %s; the tool server's code path must stay in sandbox/guest", path)
		}
	}

	m, err := parser.ParseFile(fset, "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mainFn *ast.FuncDecl
	for _, d := range m.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "main" {
			mainFn = fn
		}
	}
	if mainFn == nil || len(mainFn.Body.List) == 0 {
		t.Fatal("no main in main.go")
	}
	first, ok := mainFn.Body.List[0].(*ast.IfStmt)
	calls := false
	if ok {
		ast.Inspect(first.Body, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "guestMain" {
					calls = true
				}
			}
			return true
		})
	}
	if !calls {
		t.Errorf("main's first statement must hand over to guestMain when started as the tool server")
	}
}

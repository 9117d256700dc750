package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the in-container binary free of cgo, SQLite, the
// ledger and the Docker client: it is built with CGO_ENABLED=0 into a
// FROM scratch image.
func TestImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{
		"github.com/terrarium-evals/terrarium/ledger",
		"github.com/terrarium-evals/terrarium/sandbox",
		"github.com/terrarium-evals/terrarium/agent",
		"github.com/mattn/go-sqlite3",
		"github.com/docker/docker",
		"runtime/cgo",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") && !strings.HasPrefix(pkg, "github.com/terrarium-evals/terrarium/sandbox/guest") {
				t.Errorf("terrarium-sandbox imports %s", pkg)
			}
		}
	}
}

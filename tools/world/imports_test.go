package world_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestToolsImports keeps the simulated world apart from the harness: no
// package under tools/ may link, directly or through another package, the
// sandbox, the agent, the ledger, the Docker client or SQLite. The world is
// data and code that runs inside the sandbox; what records and drives it
// sits outside.
func TestToolsImports(t *testing.T) {
	const mod = "github.com/terrarium-evals/terrarium/"
	out, err := exec.Command("go", "list", "-deps", mod+"tools/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{mod + "sandbox", mod + "agent", mod + "ledger", mod + "episode", mod + "experiment",
		"github.com/docker/docker", "github.com/moby", "github.com/mattn/go-sqlite3", "modernc.org/sqlite", "database/sql"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list gave %d packages; the check would check nothing", len(deps))
	}
	for _, pkg := range deps {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") && b != "database/sql" {
				t.Errorf("tools/ links %s", pkg)
			}
		}
	}
}

package episode_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOneHomeForRunLife: outside the ledger and this package, no code
// creates, starts or finishes a run row itself, so a run's life has one
// home; and serve reaches it without importing experiment.
func TestOneHomeForRunLife(t *testing.T) {
	root := filepath.Join("..")
	write := regexp.MustCompile(`\.(CreateRun|StartRun|FinishRun)\(`)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "ledger" || d.Name() == "episode" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		checked++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range write.FindAllString(string(data), -1) {
			t.Errorf("%s calls %s: runs are created, started and finished by episode.Episode", path, strings.Trim(m, ".("))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d files; the walk missed the tree", checked)
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/terrarium-evals/terrarium/serve").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/terrarium-evals/terrarium/experiment" {
			t.Error("serve links experiment")
		}
	}
}

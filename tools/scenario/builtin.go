package scenario

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtins returns the names of the built-in scenarios, sorted.
func Builtins() []string {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Builtin returns the YAML source of a built-in scenario, for
// `terrarium scenarios show`. It returns an error wrapping
// ErrUnknownScenario when there is no built-in of that name.
func Builtin(name string) ([]byte, error) {
	if !slices.Contains(Builtins(), name) {
		return nil, fmt.Errorf("built-in scenario %q: %w (built-ins: %s)", name, ErrUnknownScenario, strings.Join(Builtins(), ", "))
	}
	return builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
}

// Load returns a validated scenario: the built-in of that name when there
// is one, else the scenario file at that path. It returns an error wrapping
// ErrUnknownScenario when nameOrPath is neither, a wrapped file error when
// the file cannot be read, and a *ValidationError when it is invalid.
func Load(nameOrPath string) (*Scenario, error) {
	if slices.Contains(Builtins(), nameOrPath) {
		data, err := Builtin(nameOrPath)
		if err != nil {
			return nil, err
		}
		return Parse(data, "builtin:"+nameOrPath)
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load scenario %q: %w: not a built-in (%s) and no such file",
				nameOrPath, ErrUnknownScenario, strings.Join(Builtins(), ", "))
		}
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(data, nameOrPath)
}

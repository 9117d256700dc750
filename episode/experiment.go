package episode

import (
	"encoding/json"
	"path/filepath"
	"strings"

	tversion "github.com/terrarium-evals/terrarium/internal/version"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// NewExperiment returns a new experiment row (not yet stored) for sc with
// the command's settings: the scenario's exact bytes and their SHA-256,
// where they came from (the built-in's name, or the file's path made
// absolute), and the Terrarium build that runs it.
func NewExperiment(sc *scenario.Scenario, settings json.RawMessage) *ledger.Experiment {
	version, revision := Build()
	return &ledger.Experiment{
		ID:                ledger.NewExperimentID(),
		Scenario:          sc.Name,
		Source:            Origin(sc.Source),
		Config:            settings,
		ScenarioYAML:      sc.Data,
		ScenarioSHA256:    SHA256(sc.Data),
		TerrariumVersion:  version,
		TerrariumRevision: revision,
	}
}

// SHA256 is the hex SHA-256 of data, as the ledger stores scenario
// hashes (judge.SHA256).
func SHA256(data []byte) string { return judge.SHA256(data) }

// Origin is source as the ledger stores it: "builtin:NAME" as it is, a file
// path made absolute.
func Origin(source string) string {
	if source == "" || strings.HasPrefix(source, "builtin:") {
		return source
	}
	if abs, err := filepath.Abs(source); err == nil {
		return abs
	}
	return source
}

// Build returns the running binary's module version and VCS revision
// (internal/version, from runtime/debug.ReadBuildInfo). The revision gets
// "+dirty" when the tree had uncommitted changes; it is "" when the build
// does not say (go test binaries carry no VCS stamp).
func Build() (version, revision string) {
	in := tversion.Get()
	revision = in.Revision
	if in.Modified && revision != "" {
		revision += "+dirty"
	}
	return in.Version, revision
}

package judge

import (
	"fmt"

	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// Archives naming a built-in scenario are checked against its detectors as
// rendered for the archive's condition.
func init() {
	renderDetectors = func(name string, cond map[string]string) ([]scenario.Detector, error) {
		s, err := scenario.Load(name)
		if err != nil {
			return nil, fmt.Errorf("load scenario: %w", err)
		}
		r, err := s.Render(scenario.Condition(cond))
		if err != nil {
			return nil, fmt.Errorf("render scenario: %w", err)
		}
		return r.Detectors, nil
	}
}

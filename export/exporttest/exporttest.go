// Package exporttest checks exported files in tests: ValidateInspect
// validates an Inspect eval log against the JSON Schema Inspect publishes
// (testdata/inspect/log-schema.json, see SOURCE.md there).
package exporttest

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/inspect/log-schema.json
var inspectSchema []byte

var (
	once     sync.Once
	compiled *jsonschema.Schema
	errSch   error
)

// InspectSchema returns Inspect's log schema, compiled once, with format
// assertions on (dates must be RFC 3339 date-times).
func InspectSchema() (*jsonschema.Schema, error) {
	once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(inspectSchema))
		if err != nil {
			errSch = fmt.Errorf("inspect log schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("log-schema.json", doc); err != nil {
			errSch = fmt.Errorf("inspect log schema: %w", err)
			return
		}
		compiled, errSch = c.Compile("log-schema.json")
	})
	return compiled, errSch
}

// ValidateInspect validates one eval log, as bytes, against the schema.
func ValidateInspect(log []byte) error {
	sch, err := InspectSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return fmt.Errorf("inspect log: %w", err)
	}
	return sch.Validate(inst)
}

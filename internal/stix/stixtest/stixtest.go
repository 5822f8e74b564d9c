// Package stixtest validates STIX 2.1 bundles in tests against the JSON
// Schemas in internal/stix/testdata. The schemas were written for certdesk
// from the property tables of the STIX 2.1 specification (the official
// OASIS schemas are not fetched at test time); they cover the object types
// certdesk emits and refuse every property the specification does not
// define for a type. Import it from tests only.
package stixtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// BundleSchemaURL is the $id of the bundle schema.
const BundleSchemaURL = "https://certdesk.invalid/stix/bundle.schema.json"

var (
	once   sync.Once
	schema *jsonschema.Schema
	errC   error
)

// Dir returns the folder of the schemas.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Schema compiles the bundle schema and the object schemas it refers to,
// once. Formats (date-time, uri) are asserted, not just annotated.
func Schema() (*jsonschema.Schema, error) {
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		files, err := filepath.Glob(filepath.Join(Dir(), "*.schema.json"))
		if err != nil || len(files) == 0 {
			errC = fmt.Errorf("no schemas in %s: %v", Dir(), err)
			return
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				errC = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				errC = fmt.Errorf("%s: %w", f, err)
				return
			}
			if err := c.AddResource("https://certdesk.invalid/stix/"+filepath.Base(f), doc); err != nil {
				errC = fmt.Errorf("%s: %w", f, err)
				return
			}
		}
		schema, errC = c.Compile(BundleSchemaURL)
	})
	return schema, errC
}

// Validate checks a bundle (as JSON) against the schemas. The error lists
// every violation with its place in the document.
func Validate(bundle []byte) error {
	s, err := Schema()
	if err != nil {
		return fmt.Errorf("compile STIX schemas: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(bundle))
	if err != nil {
		return fmt.Errorf("the bundle is not JSON: %w", err)
	}
	return s.Validate(inst)
}

// Package misptest checks MISP event files in tests: against the JSON
// Schema in internal/misp/testdata (written for certdesk from the prose of
// draft-dulaunoy-misp-core-format, section 2: the keys it says MUST or
// SHALL be present and their JSON types) and against the draft's table of
// valid category and type combinations for the types certdesk writes.
// Import it from tests only.
package misptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaURL is the $id of the event schema.
const SchemaURL = "https://certdesk.invalid/misp/event.schema.json"

var (
	once   sync.Once
	schema *jsonschema.Schema
	errC   error
)

func compile() {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "event.schema.json"))
	if err != nil {
		errC = err
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		errC = err
		return
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if errC = c.AddResource(SchemaURL, doc); errC != nil {
		return
	}
	schema, errC = c.Compile(SchemaURL)
}

// Categories is, from the draft's table (section 2.3.2.3), the categories
// in which each attribute type certdesk reads or writes is valid.
var Categories = map[string][]string{
	"ip-dst":        {"External analysis", "Network activity", "Payload delivery"},
	"ip-src":        {"External analysis", "Network activity", "Payload delivery"},
	"domain":        {"External analysis", "Network activity", "Payload delivery"},
	"hostname":      {"External analysis", "Network activity", "Payload delivery"},
	"url":           {"External analysis", "Network activity", "Payload delivery"},
	"email-src":     {"Network activity", "Payload delivery", "Social network"},
	"md5":           {"Artifacts dropped", "External analysis", "Payload delivery", "Payload installation"},
	"sha1":          {"Artifacts dropped", "External analysis", "Payload delivery", "Payload installation"},
	"sha256":        {"Artifacts dropped", "External analysis", "Payload delivery", "Payload installation"},
	"filename":      {"Artifacts dropped", "External analysis", "Payload delivery", "Payload installation", "Persistence mechanism"},
	"vulnerability": {"External analysis", "Payload delivery", "Payload installation"},
	"AS":            {"External analysis", "Network activity", "Payload delivery"},
	"text":          {"Antivirus detection", "Artifacts dropped", "Attribution", "External analysis", "Financial fraud", "Internal reference", "Network activity", "Other", "Payload delivery", "Payload installation", "Payload type", "Persistence mechanism", "Person", "Social network", "Support Tool"},
}

// Check validates one MISP event file ({"Event": {...}}): the schema, the
// category of every attribute for its type, and attribute_count.
func Check(data []byte) error {
	once.Do(compile)
	if errC != nil {
		return errC
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := schema.Validate(doc); err != nil {
		return err
	}
	var f struct {
		Event struct {
			AttributeCount string `json:"attribute_count"`
			Attribute      []struct{ Type, Category, Value string }
		}
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	for _, a := range f.Event.Attribute {
		cats, ok := Categories[a.Type]
		if !ok {
			return fmt.Errorf("attribute %q: type %q is not one misptest knows", a.Value, a.Type)
		}
		if !slices.Contains(cats, a.Category) {
			return fmt.Errorf("attribute %q: category %q is not valid for type %q", a.Value, a.Category, a.Type)
		}
	}
	if n, _ := strconv.Atoi(f.Event.AttributeCount); n != len(f.Event.Attribute) {
		return fmt.Errorf("attribute_count %s, %d attributes", f.Event.AttributeCount, len(f.Event.Attribute))
	}
	return nil
}

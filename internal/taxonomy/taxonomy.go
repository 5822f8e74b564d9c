// Package taxonomy holds the Reference Security Incident Taxonomy (RSIT),
// shipped as data from the MISP taxonomy (data/rsit.json), and validates
// incident categories and types against it.
package taxonomy

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

//go:embed data/rsit.json
var rsitJSON []byte

// Type is one incident type within a category.
type Type struct {
	Value       string `json:"value"`       // e.g. "ddos"
	Name        string `json:"name"`        // e.g. "DDoS"
	Description string `json:"description"` // the taxonomy's description
}

// Category is an RSIT class with its types.
type Category struct {
	Value       string `json:"value"` // e.g. "availability"
	Name        string `json:"name"`
	Description string `json:"description"`
	Types       []Type `json:"types"`
}

// Taxonomy is the parsed RSIT.
type Taxonomy struct {
	Version    int        `json:"version"`
	Categories []Category `json:"categories"`
}

// RSIT is the taxonomy shipped with certdesk.
var RSIT = mustLoad(rsitJSON)

func mustLoad(b []byte) *Taxonomy {
	t, err := load(b)
	if err != nil {
		panic(fmt.Sprintf("taxonomy: embedded rsit.json: %v", err)) // a build defect, caught by the tests
	}
	return t
}

func load(b []byte) (*Taxonomy, error) {
	var raw struct {
		Version    int `json:"version"`
		Predicates []struct {
			Value, Expanded, Description string
		} `json:"predicates"`
		Values []struct {
			Predicate string `json:"predicate"`
			Entry     []struct {
				Value, Expanded, Description string
			} `json:"entry"`
		} `json:"values"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	t := &Taxonomy{Version: raw.Version}
	for _, p := range raw.Predicates {
		c := Category{Value: p.Value, Name: p.Expanded, Description: p.Description}
		for _, v := range raw.Values {
			if v.Predicate != p.Value {
				continue
			}
			for _, e := range v.Entry {
				c.Types = append(c.Types, Type{Value: e.Value, Name: e.Expanded, Description: e.Description})
			}
		}
		t.Categories = append(t.Categories, c)
	}
	if len(t.Categories) == 0 {
		return nil, fmt.Errorf("no categories")
	}
	return t, nil
}

// Category returns the category with value v.
func (t *Taxonomy) Category(v string) (*Category, bool) {
	for i := range t.Categories {
		if t.Categories[i].Value == v {
			return &t.Categories[i], true
		}
	}
	return nil, false
}

// CategoryValues lists the category values, for error messages.
func (t *Taxonomy) CategoryValues() []string {
	out := make([]string, len(t.Categories))
	for i, c := range t.Categories {
		out[i] = c.Value
	}
	return out
}

// TypeValues lists the type values of a category.
func (c *Category) TypeValues() []string {
	out := make([]string, len(c.Types))
	for i, ty := range c.Types {
		out[i] = ty.Value
	}
	return out
}

// Check validates a category and a type (the type may be empty; it may
// also be given as "category:type"). It returns a message naming the valid
// values when either is unknown.
func (t *Taxonomy) Check(category, typ string) (field, msg string, ok bool) {
	if c, ty, found := strings.Cut(typ, ":"); found {
		if category == "" {
			category = c
		}
		if c != category {
			return "type", fmt.Sprintf("type %q belongs to category %q, not %q", typ, c, category), false
		}
		typ = ty
	}
	if category == "" {
		if typ != "" {
			return "category", "category is required when type is given", false
		}
		return "", "", true
	}
	c, found := t.Category(category)
	if !found {
		return "category", "category must be one of: " + strings.Join(t.CategoryValues(), ", "), false
	}
	if typ != "" && !slices.Contains(c.TypeValues(), typ) {
		return "type", fmt.Sprintf("type must be one of (for %s): %s", category, strings.Join(c.TypeValues(), ", ")), false
	}
	return "", "", true
}

package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/taxonomy"
)

// Asset is something the incident affects.
type Asset struct {
	Name        string
	Kind        AssetKind
	Criticality Severity // low, medium, high, critical
}

// AssetKind classifies an affected asset.
type AssetKind string

// AssetKinds lists the asset kinds.
var AssetKinds = []AssetKind{"server", "workstation", "network", "application", "service", "data", "ot", "cloud", "mobile", "account", "other"}

// Limits on the case record's lists.
const (
	MaxTags     = 50
	MaxTagLen   = 64
	MaxAssets   = 100
	MaxAssetLen = 200
)

var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9:._/-]*$`)

// normalizeTags lower-cases, trims and de-duplicates tags, keeping order.
func normalizeTags(tags []string, fs *apperr.Fields) []string {
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case t == "":
			continue
		case len(t) > MaxTagLen || !tagRE.MatchString(t):
			fs.Add("tags", "format", "tag %q must be at most %d characters: letters, digits and : . _ / -", t, MaxTagLen)
			return out
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		fs.Add("tags", "max_items", "at most %d tags", MaxTags)
	}
	return out
}

// checkAssets validates affected assets; criticality defaults to medium.
func checkAssets(as []Asset, fs *apperr.Fields) []Asset {
	if len(as) > MaxAssets {
		fs.Add("affected_assets", "max_items", "at most %d affected assets", MaxAssets)
		return as
	}
	out := make([]Asset, 0, len(as))
	for i, a := range as {
		a.Name = strings.TrimSpace(a.Name)
		field := fmt.Sprintf("affected_assets[%d]", i)
		if a.Name == "" {
			fs.Add(field+".name", "length", "name is required and at most %d characters", MaxAssetLen)
		} else {
			fs.Text(field+".name", a.Name, MaxAssetLen)
		}
		if a.Kind == "" {
			a.Kind = "other"
		}
		if !slices.Contains(AssetKinds, a.Kind) {
			fs.Add(field+".kind", "enum", "kind must be one of: %s", list(AssetKinds))
		}
		if a.Criticality == "" {
			a.Criticality = Medium
		}
		if !a.Criticality.Valid() {
			fs.Add(field+".criticality", "enum", "criticality must be one of: %s", list(Severities))
		}
		out = append(out, a)
	}
	return out
}

// checkClassification validates the RSIT category and type; a type given
// as "category:type" sets both.
func checkClassification(category, typ string, fs *apperr.Fields) (string, string) {
	category, typ = strings.TrimSpace(category), strings.TrimSpace(typ)
	if field, msg, ok := taxonomy.RSIT.Check(category, typ); !ok {
		fs.Add(field, "enum", "%s", msg)
		return category, typ
	}
	if c, t, found := strings.Cut(typ, ":"); found {
		category, typ = c, t
	}
	return category, typ
}

func checkTitle(title string, fs *apperr.Fields) {
	switch l := utf8.RuneCountInString(title); {
	case l == 0 || strings.TrimSpace(title) == "":
		fs.Add("title", "required", "title is required")
	case l > MaxTitle:
		fs.Add("title", "max_length", "title must be at most %d characters", MaxTitle)
	}
	if !utf8.ValidString(title) || strings.ContainsRune(title, 0) {
		fs.Add("title", "characters", "title must be valid UTF-8 without NUL characters")
	}
}

func checkDescription(d string, fs *apperr.Fields) {
	if !utf8.ValidString(d) || strings.ContainsRune(d, 0) {
		fs.Add("description", "characters", "description must be valid UTF-8 without NUL characters")
	}
	if utf8.RuneCountInString(d) > MaxDescription {
		fs.Add("description", "max_length", "description must be at most %d characters", MaxDescription)
	}
}

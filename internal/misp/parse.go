package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/taxonomy"
)

// MaxImportAttributes bounds the attributes (objects' included) of one
// imported event; the API's body limit (CERTDESK_MAX_BODY_BYTES) bounds
// its size.
const MaxImportAttributes = 5000

// Parsed is a MISP event as the import reads it: what certdesk keeps of
// the event and every attribute, those of its objects included.
type Parsed struct {
	UUID string
	Info string
	// TLP is the event's tlp: tag; empty without one.
	TLP incident.TLP
	// PAP is the event's PAP taxonomy tag; empty without one.
	PAP incident.PAP
	// Category and Type are its rsit: tag, when the RSIT taxonomy knows
	// them; empty otherwise (an unknown rsit: tag is one of Tags).
	Category, Type string
	// Tags are its other tags.
	Tags       []string
	Attributes []ParsedAttribute
}

// ParsedAttribute is one attribute of an imported event.
type ParsedAttribute struct {
	UUID, Type, Category, Value, Comment string
	Deleted                              bool
	Tags                                 []string
}

// Parse reads a MISP event file: {"Event": {...}} or the event object
// alone. Keys it does not use are ignored (a MISP event holds many); the
// values it uses may be strings, numbers or booleans as MISP versions
// write them. A file that is not one JSON object with an event, or that
// has more than MaxImportAttributes attributes, is apperr.Invalid naming
// the field.
func Parse(data []byte) (*Parsed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, apperr.Fields{{Field: "Event", Rule: "json", Message: "the file must be one JSON object holding a MISP event"}}.Err()
	}
	ev := doc
	if e, ok := doc["Event"].(map[string]any); ok {
		ev = e
	}
	p := &Parsed{UUID: text(ev["uuid"]), Info: strings.Join(strings.Fields(text(ev["info"])), " ")}
	if _, ok := ev["Attribute"]; !ok && p.Info == "" && p.UUID == "" {
		return nil, apperr.Fields{{Field: "Event", Rule: "required", Message: "the file holds no MISP event (no Event with info, uuid or Attribute)"}}.Err()
	}
	for _, name := range tagNames(ev["Tag"]) {
		switch {
		case strings.HasPrefix(name, "tlp:"):
			if t, ok := TLPOfTag(name); ok && p.TLP == "" {
				p.TLP = t
			}
		case strings.HasPrefix(strings.ToLower(name), "pap:"):
			if l, ok := PAPOfTag(name); ok {
				if p.PAP == "" {
					p.PAP = l
				}
			} else {
				p.Tags = append(p.Tags, name)
			}
		case strings.HasPrefix(name, "rsit:"):
			c, t, ok := ParseRSITTag(name)
			switch {
			case !ok:
				p.Tags = append(p.Tags, name) // a tag, or listed as ignored: not lost
			case p.Category == "":
				p.Category, p.Type = c, t
			}
		default:
			p.Tags = append(p.Tags, name)
		}
	}
	add := func(list any) error {
		items, _ := list.([]any)
		for _, it := range items {
			a, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if len(p.Attributes) == MaxImportAttributes {
				return apperr.Fields{{Field: "Event.Attribute", Rule: "max_items",
					Message: fmt.Sprintf("at most %d attributes in one import", MaxImportAttributes)}}.Err()
			}
			p.Attributes = append(p.Attributes, ParsedAttribute{UUID: text(a["uuid"]), Type: text(a["type"]),
				Category: text(a["category"]), Value: text(a["value"]), Comment: text(a["comment"]),
				Deleted: flag(a["deleted"]), Tags: tagNames(a["Tag"])})
		}
		return nil
	}
	if err := add(ev["Attribute"]); err != nil {
		return nil, err
	}
	objects, _ := ev["Object"].([]any)
	for _, o := range objects {
		if om, ok := o.(map[string]any); ok && !flag(om["deleted"]) {
			if err := add(om["Attribute"]); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// text reads a string, number or boolean as text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// flag reads a boolean written as true, 1 or "1".
func flag(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return x.String() == "1"
	case string:
		return x == "1" || x == "true"
	}
	return false
}

func tagNames(v any) []string {
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if n := strings.TrimSpace(text(m["name"])); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// TLPOfTag maps a tlp: taxonomy tag to a label (tlp:white is CLEAR, as
// TLP 2.0 renamed it); false for other tags.
func TLPOfTag(name string) (incident.TLP, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "tlp:clear", "tlp:white":
		return incident.TLPClear, true
	case "tlp:green":
		return incident.TLPGreen, true
	case "tlp:amber":
		return incident.TLPAmber, true
	case "tlp:amber+strict":
		return incident.TLPAmberStrict, true
	case "tlp:red":
		return incident.TLPRed, true
	}
	return "", false
}

// PAPOfTag maps a tag of the MISP PAP taxonomy (PAP:RED, PAP:AMBER,
// PAP:GREEN, PAP:CLEAR and the older PAP:WHITE, which is CLEAR; MISP writes
// them upper-case, any case is read) to a label; false for other tags.
func PAPOfTag(name string) (incident.PAP, bool) {
	if !strings.HasPrefix(strings.ToLower(name), "pap:") {
		return "", false
	}
	return incident.ParsePAP(name)
}

// ParseRSITTag reads rsit:<class>="<type>" or rsit:<class>; false when
// the RSIT taxonomy does not know the class or the type.
func ParseRSITTag(name string) (category, typ string, ok bool) {
	rest, ok := strings.CutPrefix(name, "rsit:")
	if !ok {
		return "", "", false
	}
	category, typ, _ = strings.Cut(rest, "=")
	typ = strings.Trim(typ, `"`)
	if _, _, valid := taxonomy.RSIT.Check(category, typ); !valid || category == "" {
		return "", "", false
	}
	return category, typ, true
}

// The reasons an attribute does not become an observable.
const (
	SkipUnknownType = "unknown_type"  // no observable type for the attribute's type
	SkipInvalid     = "invalid_value" // the value does not validate for its type
	SkipReference   = "reference"     // certdesk's own reference attribute
	SkipDeleted     = "deleted"       // revoked in MISP
	SkipHidden      = "already_held"  // on the incident under a label the importer may not see
)

// Candidates maps an attribute to the observables it gives: none with a
// reason to skip it, one, or two for a filename|hash pair.
func Candidates(a ParsedAttribute) ([]observable.NewObservable, string) {
	if a.Deleted {
		return nil, SkipDeleted
	}
	if a.Type == "text" && a.Category == "Internal reference" && a.Comment == ReferenceComment {
		return nil, SkipReference
	}
	one := func(t observable.Type, v string) observable.NewObservable {
		return observable.NewObservable{Type: t, Value: strings.TrimSpace(v)}
	}
	v := a.Value
	switch a.Type {
	case "ip-dst", "ip-src", "ip-dst|port", "ip-src|port":
		if i := strings.LastIndex(v, "|"); i >= 0 && strings.HasSuffix(a.Type, "|port") {
			v = v[:i]
		}
		if strings.Contains(v, ":") {
			return []observable.NewObservable{one(observable.IPv6, v)}, ""
		}
		return []observable.NewObservable{one(observable.IPv4, v)}, ""
	case "domain", "hostname":
		return []observable.NewObservable{one(observable.Domain, v)}, ""
	case "url":
		return []observable.NewObservable{one(observable.URL, v)}, ""
	case "email", "email-src", "email-dst", "whois-registrant-email":
		return []observable.NewObservable{one(observable.Email, v)}, ""
	case "md5":
		return []observable.NewObservable{one(observable.MD5, v)}, ""
	case "sha1":
		return []observable.NewObservable{one(observable.SHA1, v)}, ""
	case "sha256":
		return []observable.NewObservable{one(observable.SHA256, v)}, ""
	case "filename":
		return []observable.NewObservable{one(observable.Filename, v)}, ""
	case "vulnerability":
		return []observable.NewObservable{one(observable.CVE, v)}, ""
	case "AS":
		return []observable.NewObservable{one(observable.ASN, v)}, ""
	case "filename|md5", "filename|sha1", "filename|sha256":
		name, hash, ok := strings.Cut(v, "|")
		if !ok {
			return nil, SkipInvalid
		}
		t := observable.Type(strings.TrimPrefix(a.Type, "filename|"))
		return []observable.NewObservable{one(observable.Filename, name), one(t, hash)}, ""
	}
	return nil, SkipUnknownType
}

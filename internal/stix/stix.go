// Package stix exports an incident and its observables as a STIX 2.1
// bundle (OASIS STIX Version 2.1), for sharing with other CERTs, MISP and
// OpenCTI. It holds pure functions: the same input gives the same bytes.
//
// What a bundle holds:
//   - the incident as an `incident` SDO, created by the reporting
//     organisation's `identity`, with the certdesk reference as an external
//     reference and severity, stage and status as labels;
//   - the coordinating organisation's `identity`, linked to the incident by
//     a `related-to` relationship;
//   - per observable: the matching cyber-observable object (ipv4-addr,
//     ipv6-addr, domain-name, url, email-addr, file, autonomous-system) and
//     an `indicator` whose STIX pattern matches it, linked to the incident
//     by `related-to` (STIX 2.1 has no verb from an indicator to an
//     incident). A CVE is a `vulnerability` SDO instead, also `related-to`
//     the incident. A sighted observable also has an `observed-data` object
//     (for a CVE: none) and a `sighting` of its indicator or vulnerability
//     where the reporting organisation saw it;
//   - the TLP 2.0 marking definitions that its objects reference, as
//     published by OASIS (extension-definition--60a3c5c5-...), and the PAP
//     marking definitions, as published by OASIS in cti-stix-common-objects
//     (the PAP marking-definition extension,
//     extension-definition--f8d78575-...).
//
// Markings: the incident and the relationships and sightings that name it
// carry the stricter of the incident's and the observable's TLP; an
// observable's indicator, cyber-observable, observed-data or vulnerability
// carries the observable's TLP, which the store gives as its effective
// label (never looser than the incident's). Build exports the observables
// it is given: the caller decides which the reader may see. Identities are
// not marked: an organisation's name says nothing about the incident.
//
// Every marked object carries two markings, its TLP first and its PAP
// second: the incident and the relationship naming its coordinator the
// incident's PAP; an observable's objects, its relationship to the incident
// and its sighting the observable's own PAP (which may differ from the
// incident's either way).
//
// Identifiers are stable: SDOs and SROs get a UUIDv5 of their certdesk ID
// under Namespace, cyber-observables the UUIDv5 that STIX 2.1 prescribes
// (its SCO namespace over the canonical JSON of the ID-contributing
// properties), so the same IP address has the same ID in every bundle, from
// every producer. A re-export of unchanged data is byte for byte the same.
package stix

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Namespace is the UUIDv5 namespace of the identifiers certdesk gives its
// STIX domain and relationship objects.
var Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:certdesk:stix-2.1"))

// SCONamespace is the namespace STIX 2.1 (section 2.9) gives for the
// deterministic identifiers of cyber-observable objects.
var SCONamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// TLP 2.0 marking definitions as published by OASIS in
// cti-stix-common-objects (extension-definitions/tlp-2.0).
const (
	TLPExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	tlpCreated     = "2022-10-01T00:00:00.000Z"
)

// TLPMarkingIDs maps each TLP 2.0 label to its marking definition's ID.
var TLPMarkingIDs = map[incident.TLP]string{
	incident.TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	incident.TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	incident.TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	incident.TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	incident.TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// PAP marking definitions as published by OASIS in cti-stix-common-objects
// (extension-definition-specifications/pap-marking-definition-f8d): four
// fixed objects, each with its own created time, which no producer may
// redefine.
const PAPExtensionID = "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b"

// PAPMarkingIDs maps each PAP label to its marking definition's ID.
var PAPMarkingIDs = map[incident.PAP]string{
	incident.PAPClear: "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92",
	incident.PAPGreen: "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9",
	incident.PAPAmber: "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab",
	incident.PAPRed:   "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e",
}

// papCreated are the created times of the published PAP definitions.
var papCreated = map[incident.PAP]string{
	incident.PAPClear: "2022-10-01T00:00:00.000Z",
	incident.PAPGreen: "2022-10-09T00:00:00.000Z",
	incident.PAPAmber: "2022-10-02T00:00:00.000Z",
	incident.PAPRed:   "2022-10-06T00:00:00.000Z",
}

// MediaType is the media type of a STIX 2.1 bundle.
const MediaType = "application/stix+json;version=2.1"

// Bundle is a STIX 2.1 bundle.
type Bundle struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Objects []any  `json:"objects"`
}

// ExternalReference points outside STIX.
type ExternalReference struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// common are the properties every SDO and SRO has.
type common struct {
	Type              string              `json:"type"`
	SpecVersion       string              `json:"spec_version"`
	ID                string              `json:"id"`
	Created           string              `json:"created"`
	Modified          string              `json:"modified"`
	CreatedByRef      string              `json:"created_by_ref,omitempty"`
	Labels            []string            `json:"labels,omitempty"`
	ExternalRefs      []ExternalReference `json:"external_references,omitempty"`
	ObjectMarkingRefs []string            `json:"object_marking_refs,omitempty"`
}

// MarkingDefinition is a TLP 2.0 or PAP marking definition.
type MarkingDefinition struct {
	Type        string                       `json:"type"`
	SpecVersion string                       `json:"spec_version"`
	ID          string                       `json:"id"`
	Created     string                       `json:"created"`
	Name        string                       `json:"name"`
	Extensions  map[string]map[string]string `json:"extensions"`
}

// Identity is an organisation: its name and kind only. Contact details
// stay out, because a partner who may read an exported incident may not
// read the reporting organisation's directory entry.
type Identity struct {
	common
	Name          string `json:"name"`
	Description   string `json:"description,omitempty"`
	IdentityClass string `json:"identity_class"`
}

// Incident is the STIX 2.1 incident SDO.
type Incident struct {
	common
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Indicator is a pattern that detects an observable.
type Indicator struct {
	common
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	Pattern        string `json:"pattern"`
	PatternType    string `json:"pattern_type"`
	PatternVersion string `json:"pattern_version"`
	ValidFrom      string `json:"valid_from"`
}

// Vulnerability is a CVE.
type Vulnerability struct {
	common
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ObservedData says that cyber-observables were seen.
type ObservedData struct {
	common
	FirstObserved  string   `json:"first_observed"`
	LastObserved   string   `json:"last_observed"`
	NumberObserved int      `json:"number_observed"`
	ObjectRefs     []string `json:"object_refs"`
}

// Relationship links two objects.
type Relationship struct {
	common
	RelationshipType string `json:"relationship_type"`
	Description      string `json:"description,omitempty"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
}

// Sighting says that an indicator or vulnerability was seen somewhere.
type Sighting struct {
	common
	FirstSeen        string   `json:"first_seen"`
	LastSeen         string   `json:"last_seen"`
	Count            int      `json:"count"`
	SightingOfRef    string   `json:"sighting_of_ref"`
	ObservedDataRefs []string `json:"observed_data_refs,omitempty"`
	WhereSightedRefs []string `json:"where_sighted_refs"`
}

// SCO is a cyber-observable object. Only the properties of the types
// certdesk emits are here.
type SCO struct {
	Type              string            `json:"type"`
	SpecVersion       string            `json:"spec_version"`
	ID                string            `json:"id"`
	Value             string            `json:"value,omitempty"`
	Number            *uint32           `json:"number,omitempty"`
	Name              string            `json:"name,omitempty"`
	Hashes            map[string]string `json:"hashes,omitempty"`
	ObjectMarkingRefs []string          `json:"object_marking_refs,omitempty"`
}

// Timestamp formats t as STIX wants it: UTC, RFC 3339, milliseconds.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// id returns "<type>--" and the UUIDv5 of key under Namespace.
func id(typ, key string) string {
	return typ + "--" + uuid.NewSHA1(Namespace, []byte(typ+":"+key)).String()
}

// Build returns the bundle of an export. It fails only on an observable
// whose type it does not know, which Normalize never lets in.
func Build(exp *observable.Export) (*Bundle, error) {
	inc := exp.Incident
	used := map[incident.TLP]bool{}
	usedPAP := map[incident.PAP]bool{}
	mark := func(t incident.TLP, p incident.PAP) []string {
		used[t] = true
		if !p.Valid() {
			p = incident.DefaultPAP
		}
		usedPAP[p] = true
		return []string{TLPMarkingIDs[t], PAPMarkingIDs[p]}
	}
	reporter := identity(exp.Reporting)
	incID := id("incident", inc.ID.String())
	sdo := func(typ, key string, created, modified time.Time, tlp incident.TLP, pap incident.PAP) common {
		if modified.Before(created) {
			modified = created
		}
		return common{Type: typ, SpecVersion: "2.1", ID: id(typ, key), Created: Timestamp(created),
			Modified: Timestamp(modified), CreatedByRef: reporter.ID, ObjectMarkingRefs: mark(tlp, pap)}
	}
	related := func(key, source string, created, modified time.Time, tlp incident.TLP, pap incident.PAP, desc string) Relationship {
		return Relationship{common: sdo("relationship", key, created, modified, tlp, pap),
			RelationshipType: "related-to", Description: desc, SourceRef: source, TargetRef: incID}
	}

	objects := []any{reporter}
	stixInc := Incident{common: sdo("incident", inc.ID.String(), inc.CreatedAt, inc.UpdatedAt, inc.TLP, inc.PAP),
		Name: inc.Title, Description: inc.Description}
	stixInc.Labels = []string{"severity:" + string(inc.Severity), "stage:" + string(inc.Stage), "status:" + string(inc.Status)}
	stixInc.ExternalRefs = []ExternalReference{{SourceName: "certdesk", ExternalID: inc.Reference,
		Description: "certdesk incident " + inc.ID.String()}}
	objects = append(objects, stixInc)
	if c := exp.Coordinating; c != nil {
		coord := identity(*c)
		if coord.ID != reporter.ID {
			objects = append(objects, coord)
		}
		objects = append(objects, related("coordinating:"+inc.ID.String()+":"+c.ID.String(), coord.ID,
			inc.CreatedAt, inc.UpdatedAt, inc.TLP, inc.PAP, "coordinates the response to the incident"))
	}

	for _, o := range exp.Observables {
		key := o.ID.String()
		linkTLP := incident.StricterTLP(o.TLP, inc.TLP)
		var subject string // what the sighting is of: the indicator or the vulnerability
		var observedData string
		if o.Type == observable.CVE {
			v := Vulnerability{common: sdo("vulnerability", key, o.CreatedAt, o.UpdatedAt, o.TLP, o.PAP), Name: o.Value, Description: o.Note}
			v.Labels = nonEmpty(o.Tags)
			v.ExternalRefs = []ExternalReference{{SourceName: "cve", ExternalID: o.Value,
				URL: "https://www.cve.org/CVERecord?id=" + o.Value}}
			subject = v.ID
			objects = append(objects, v)
		} else {
			sco, pattern, err := cyberObservable(o)
			if err != nil {
				return nil, err
			}
			sco.ObjectMarkingRefs = mark(o.TLP, o.PAP)
			ind := Indicator{common: sdo("indicator", key, o.CreatedAt, o.UpdatedAt, o.TLP, o.PAP),
				Name: string(o.Type) + " " + o.Value, Description: o.Note, Pattern: pattern,
				PatternType: "stix", PatternVersion: "2.1", ValidFrom: Timestamp(o.CreatedAt)}
			ind.Labels = nonEmpty(o.Tags)
			subject = ind.ID
			objects = append(objects, sco, ind)
			if o.Sighted {
				od := ObservedData{common: sdo("observed-data", key, o.CreatedAt, o.UpdatedAt, o.TLP, o.PAP),
					FirstObserved: Timestamp(o.CreatedAt), LastObserved: Timestamp(later(o.CreatedAt, o.UpdatedAt)),
					NumberObserved: 1, ObjectRefs: []string{sco.ID}}
				observedData = od.ID
				objects = append(objects, od)
			}
		}
		objects = append(objects, related("observable:"+key, subject, o.CreatedAt, o.UpdatedAt, linkTLP, o.PAP, ""))
		if o.Sighted {
			s := Sighting{common: sdo("sighting", key, o.CreatedAt, o.UpdatedAt, linkTLP, o.PAP),
				FirstSeen: Timestamp(o.CreatedAt), LastSeen: Timestamp(later(o.CreatedAt, o.UpdatedAt)), Count: 1,
				SightingOfRef: subject, WhereSightedRefs: []string{reporter.ID}}
			if observedData != "" {
				s.ObservedDataRefs = []string{observedData}
			}
			objects = append(objects, s)
		}
	}

	var markings []any
	for _, t := range slices.Backward(incident.TLPs) {
		if used[t] {
			markings = append(markings, MarkingDefinitionOf(t))
		}
	}
	for _, p := range slices.Backward(incident.PAPs) {
		if usedPAP[p] {
			markings = append(markings, PAPMarkingDefinitionOf(p))
		}
	}
	objects = append(markings, objects...)

	body, err := json.Marshal(objects)
	if err != nil {
		return nil, fmt.Errorf("stix: marshal objects: %w", err)
	}
	sum := sha256.Sum256(body)
	return &Bundle{Type: "bundle", ID: id("bundle", inc.ID.String()+":"+fmt.Sprintf("%x", sum)), Objects: objects}, nil
}

// MarkingDefinitionOf returns the TLP 2.0 marking definition of a label.
func MarkingDefinitionOf(t incident.TLP) MarkingDefinition {
	return MarkingDefinition{Type: "marking-definition", SpecVersion: "2.1", ID: TLPMarkingIDs[t], Created: tlpCreated,
		Name: string(t), Extensions: map[string]map[string]string{TLPExtensionID: {
			"extension_type": "property-extension",
			"tlp_2_0":        strings.ToLower(strings.TrimPrefix(string(t), "TLP:")),
		}}}
}

// PAPMarkingDefinitionOf returns the published PAP marking definition of a
// label.
func PAPMarkingDefinitionOf(p incident.PAP) MarkingDefinition {
	return MarkingDefinition{Type: "marking-definition", SpecVersion: "2.1", ID: PAPMarkingIDs[p], Created: papCreated[p],
		Name: string(p), Extensions: map[string]map[string]string{PAPExtensionID: {
			"extension_type": "property-extension",
			"pap":            strings.ToLower(p.Level()),
		}}}
}

func identity(o org.Organization) Identity {
	i := Identity{common: common{Type: "identity", SpecVersion: "2.1", ID: id("identity", o.ID.String()),
		Created: Timestamp(o.CreatedAt), Modified: Timestamp(later(o.CreatedAt, o.UpdatedAt))},
		Name: o.Name, IdentityClass: "organization"}
	i.Description = orgKindDescription[o.Kind]
	return i
}

var orgKindDescription = map[org.Kind]string{
	org.NationalCERT:   "national CERT",
	org.RegionalCERT:   "regional CERT",
	org.LocalAuthority: "local authority",
	org.Operator:       "operator of critical infrastructure",
	org.Partner:        "partner organisation",
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func nonEmpty(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	return tags
}

// cyberObservable returns the SCO of an observable and the STIX pattern of
// its indicator.
func cyberObservable(o observable.Observable) (SCO, string, error) {
	var sco SCO
	var prop string // the pattern's object path
	switch o.Type {
	case observable.IPv4:
		sco, prop = SCO{Type: "ipv4-addr", Value: o.Value}, "ipv4-addr:value"
	case observable.IPv6:
		sco, prop = SCO{Type: "ipv6-addr", Value: o.Value}, "ipv6-addr:value"
	case observable.Domain:
		sco, prop = SCO{Type: "domain-name", Value: o.Value}, "domain-name:value"
	case observable.URL:
		sco, prop = SCO{Type: "url", Value: o.Value}, "url:value"
	case observable.Email:
		sco, prop = SCO{Type: "email-addr", Value: o.Value}, "email-addr:value"
	case observable.MD5:
		sco, prop = SCO{Type: "file", Hashes: map[string]string{"MD5": o.Value}}, "file:hashes.MD5"
	case observable.SHA1:
		sco, prop = SCO{Type: "file", Hashes: map[string]string{"SHA-1": o.Value}}, "file:hashes.'SHA-1'"
	case observable.SHA256:
		sco, prop = SCO{Type: "file", Hashes: map[string]string{"SHA-256": o.Value}}, "file:hashes.'SHA-256'"
	case observable.Filename:
		sco, prop = SCO{Type: "file", Name: o.Value}, "file:name"
	case observable.ASN:
		n, ok := observable.ASNumber(o.Value)
		if !ok {
			return SCO{}, "", fmt.Errorf("stix: %q is not a normalised AS number", o.Value)
		}
		sco = SCO{Type: "autonomous-system", Number: &n}
		sco.SpecVersion, sco.ID = "2.1", scoID(sco)
		return sco, "[autonomous-system:number = " + strconv.FormatUint(uint64(n), 10) + "]", nil
	default:
		return SCO{}, "", fmt.Errorf("stix: no STIX object for observable type %q", o.Type)
	}
	sco.SpecVersion, sco.ID = "2.1", scoID(sco)
	return sco, "[" + prop + " = " + quote(o.Value) + "]", nil
}

// quote writes a STIX patterning string literal: in single quotes, with
// backslash and single quote escaped.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// scoID computes a cyber-observable's deterministic identifier (STIX 2.1
// section 2.9): the UUIDv5, under SCONamespace, of the canonical JSON
// (RFC 8785) of its ID-contributing properties — value for addresses,
// names and URLs; number for autonomous systems; hashes (one, preferring
// MD5, SHA-1, SHA-256) and name for files.
func scoID(s SCO) string {
	var b bytes.Buffer
	switch s.Type {
	case "autonomous-system":
		b.WriteString(`{"number":` + strconv.FormatUint(uint64(*s.Number), 10) + `}`)
	case "file":
		b.WriteByte('{')
		sep := ""
		for _, algo := range []string{"MD5", "SHA-1", "SHA-256"} {
			if h, ok := s.Hashes[algo]; ok {
				b.WriteString(`"hashes":{` + canonicalString(algo) + `:` + canonicalString(h) + `}`)
				sep = ","
				break
			}
		}
		if s.Name != "" {
			b.WriteString(sep + `"name":` + canonicalString(s.Name))
		}
		b.WriteByte('}')
	default:
		b.WriteString(`{"value":` + canonicalString(s.Value) + `}`)
	}
	return s.Type + "--" + uuid.NewSHA1(SCONamespace, b.Bytes()).String()
}

// canonicalString serialises a string as RFC 8785 does: only '"', '\' and
// control characters are escaped, the short escapes where JSON has them.
func canonicalString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Encode builds the bundle of exp and encodes it as JSON: the body both
// transports send (the API's export and the incident page's download).
func Encode(exp *observable.Export) ([]byte, error) {
	b, err := Build(exp)
	if err != nil {
		return nil, fmt.Errorf("build STIX bundle: %w", err)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode STIX bundle: %w", err)
	}
	return body, nil
}

// Package misp exports an incident and its observables as a MISP event in
// the MISP core format (draft-dulaunoy-misp-core-format), for exchanging
// indicators with a MISP instance by file. It holds pure functions: the
// same input gives the same bytes.
//
// What an event holds:
//   - the event's uuid is the incident's ID, so every export of the same
//     incident updates the same event in MISP; info is the title, date the
//     day it was detected (else reported), timestamp the last change of the
//     incident or of one of its observables;
//   - Orgc, the creator, is the reporting organisation and Org the
//     coordinating one (the reporting one while unrouted), each with its
//     certdesk ID as uuid;
//   - threat_level_id from the severity, analysis from the status and
//     acknowledgement, distribution from the TLP (DistributionOf);
//   - tags: the incident's TLP (`tlp:` taxonomy), its PAP (`PAP:` taxonomy,
//     PAPTag), its RSIT class and type (`rsit:` taxonomy) and its own tags;
//   - one attribute per observable (AttributeOf maps the type, category
//     and to_ids), with the observable's ID as uuid, its note as comment,
//     its TLP as a tag and as distribution ("5", the event's, when it is
//     the incident's label), its own PAP as a tag, and its tags;
//   - the certdesk reference as a text attribute of category "Internal
//     reference" (to_ids false).
//
// Build exports the observables it is given: the caller decides which the
// reader may see (observable.Service.Export applies the visibility rule
// and the TLP rule). Human-readable ids, which only a MISP instance can
// assign, are "0".
//
// The import reads the same format back (Parse, Candidates) and the
// Importer writes it as a new incident or into an existing one, through
// the incident and observable services in one transaction; attributes it
// cannot take are listed with the reason (docs/api.md, "MISP import").
package misp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Namespace is the UUIDv5 namespace of the identifiers the export makes
// (the reference attribute's); events and observables keep their IDs.
var Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:certdesk:misp"))

// MediaType is the media type of a MISP event file.
const MediaType = "application/json"

// File is a MISP event file: one event under the key Event.
type File struct {
	Event Event `json:"Event"`
}

// Collection is several events, as MISP's REST search answers them.
type Collection struct {
	Response []File `json:"response"`
}

// Event is a MISP event.
type Event struct {
	ID                 string      `json:"id"`
	UUID               string      `json:"uuid"`
	Info               string      `json:"info"`
	Date               string      `json:"date"`
	Timestamp          string      `json:"timestamp"`
	Published          bool        `json:"published"`
	PublishTimestamp   string      `json:"publish_timestamp"`
	FirstPublication   string      `json:"first_publication"`
	ThreatLevelID      string      `json:"threat_level_id"`
	Analysis           string      `json:"analysis"`
	Distribution       string      `json:"distribution"`
	SharingGroupID     string      `json:"sharing_group_id"`
	OrgID              string      `json:"org_id"`
	OrgcID             string      `json:"orgc_id"`
	AttributeCount     string      `json:"attribute_count"`
	ExtendsUUID        string      `json:"extends_uuid"`
	Locked             bool        `json:"locked"`
	DisableCorrelation bool        `json:"disable_correlation"`
	Org                Org         `json:"Org"`
	Orgc               Org         `json:"Orgc"`
	Attribute          []Attribute `json:"Attribute"`
	Tag                []Tag       `json:"Tag"`
}

// Org is an organisation of an event.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// Attribute is one indicator or piece of context of an event.
type Attribute struct {
	ID                 string `json:"id"`
	EventID            string `json:"event_id"`
	UUID               string `json:"uuid"`
	Type               string `json:"type"`
	Category           string `json:"category"`
	ToIDs              bool   `json:"to_ids"`
	Distribution       string `json:"distribution"`
	SharingGroupID     string `json:"sharing_group_id"`
	Timestamp          string `json:"timestamp"`
	Comment            string `json:"comment"`
	Deleted            bool   `json:"deleted"`
	DisableCorrelation bool   `json:"disable_correlation"`
	Value              string `json:"value"`
	FirstSeen          string `json:"first_seen,omitempty"`
	LastSeen           string `json:"last_seen,omitempty"`
	Tag                []Tag  `json:"Tag,omitempty"`
}

// Tag is a tag of an event or attribute.
type Tag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Colour     string `json:"colour"`
	Exportable bool   `json:"exportable"`
}

// Distribution levels of the MISP core format.
const (
	YourOrganisationOnly = "0"
	ThisCommunityOnly    = "1"
	ConnectedCommunities = "2"
	AllCommunities       = "3"
	InheritEvent         = "5"
)

// DistributionOf maps a TLP label to the MISP distribution that keeps it:
// CLEAR may go to all communities, GREEN stays in the community, AMBER,
// AMBER+STRICT and RED stay in the receiving organisation (MISP has no
// finer level without a sharing group; the tlp: tag says the rest).
func DistributionOf(t incident.TLP) string {
	switch t {
	case incident.TLPClear:
		return AllCommunities
	case incident.TLPGreen:
		return ThisCommunityOnly
	}
	return YourOrganisationOnly
}

// TLPTag is the tlp: taxonomy tag of a label, with the taxonomy's colour.
func TLPTag(t incident.TLP) Tag {
	name := "tlp:" + strings.ToLower(strings.TrimPrefix(string(t), "TLP:"))
	colour := map[incident.TLP]string{incident.TLPRed: "#FF2B2B", incident.TLPAmberStrict: "#FFC000",
		incident.TLPAmber: "#FFC000", incident.TLPGreen: "#33FF00", incident.TLPClear: "#ffffff"}[t]
	return Tag{ID: "0", Name: name, Colour: colour, Exportable: true}
}

// PAPTag is the PAP taxonomy tag of a label ("PAP:AMBER", as the MISP
// taxonomy spells it), with the taxonomy's colour.
func PAPTag(p incident.PAP) Tag {
	colour := map[incident.PAP]string{incident.PAPRed: "#ff2b2b", incident.PAPAmber: "#ffc000",
		incident.PAPGreen: "#33ff00", incident.PAPClear: "#ffffff"}[p]
	return Tag{ID: "0", Name: string(p), Colour: colour, Exportable: true}
}

// RSITTag is the rsit: taxonomy tag of a class and type: rsit:<class>="<type>",
// or rsit:<class> without a type; "" without a class.
func RSITTag(category, typ string) string {
	switch {
	case category == "":
		return ""
	case typ == "":
		return "rsit:" + category
	}
	return "rsit:" + category + `="` + typ + `"`
}

// papOf is the label to export: one not set (a value built before PAP)
// is the default.
func papOf(p incident.PAP) incident.PAP {
	if !p.Valid() {
		return incident.DefaultPAP
	}
	return p
}

func freeTag(name string) Tag { return Tag{ID: "0", Name: name, Colour: "#9e9e9e", Exportable: true} }

// Mapping is the MISP type, category and to_ids of an observable type.
type Mapping struct {
	Type     string
	Category string
	ToIDs    bool
}

// Mappings maps each observable type to its attribute. Addresses, names,
// URLs and hashes are actionable (to_ids); a file name alone, an AS number
// and a CVE are context. An IP address is ip-dst (where the threat is),
// an e-mail address email-src (a sender), the common reading of an
// indicator of compromise.
var Mappings = map[observable.Type]Mapping{
	observable.IPv4:     {"ip-dst", "Network activity", true},
	observable.IPv6:     {"ip-dst", "Network activity", true},
	observable.Domain:   {"domain", "Network activity", true},
	observable.URL:      {"url", "Network activity", true},
	observable.Email:    {"email-src", "Payload delivery", true},
	observable.MD5:      {"md5", "Payload delivery", true},
	observable.SHA1:     {"sha1", "Payload delivery", true},
	observable.SHA256:   {"sha256", "Payload delivery", true},
	observable.Filename: {"filename", "Payload delivery", false},
	observable.CVE:      {"vulnerability", "External analysis", false},
	observable.ASN:      {"AS", "Network activity", false},
}

// ReferenceComment is the comment of the attribute that carries the
// certdesk reference.
const ReferenceComment = "certdesk incident reference"

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// threatLevel maps a severity to threat_level_id (1 high … 4 undefined).
func threatLevel(s incident.Severity) string {
	switch s {
	case incident.Critical, incident.High:
		return "1"
	case incident.Medium:
		return "2"
	case incident.Low:
		return "3"
	}
	return "4"
}

// info is the title as MISP wants info: one line, at most 256 characters.
func info(title string) string {
	s := strings.Join(strings.Fields(title), " ")
	if utf8.RuneCountInString(s) > 256 {
		s = string([]rune(s)[:255]) + "…"
	}
	return s
}

func orgOf(o org.Organization) Org { return Org{ID: "0", Name: o.Name, UUID: o.ID.String()} }

// Build returns the event of an export. It fails only on an observable
// whose type it does not know, which Normalize never lets in.
func Build(exp *observable.Export) (*File, error) {
	inc := exp.Incident
	ev := Event{ID: "0", UUID: inc.ID.String(), Info: info(inc.Title), PublishTimestamp: "0", FirstPublication: "0",
		ThreatLevelID: threatLevel(inc.Severity), Analysis: "0", Distribution: DistributionOf(inc.TLP),
		SharingGroupID: "0", OrgID: "0", OrgcID: "0", Orgc: orgOf(exp.Reporting), Org: orgOf(exp.Reporting)}
	if exp.Coordinating != nil {
		ev.Org = orgOf(*exp.Coordinating)
	}
	switch {
	case inc.Status == incident.Closed:
		ev.Analysis = "2"
	case inc.AcknowledgedAt != nil:
		ev.Analysis = "1"
	}
	day := inc.ReportedAt
	if inc.DetectedAt != nil {
		day = *inc.DetectedAt
	}
	ev.Date = day.UTC().Format(time.DateOnly)
	last := inc.UpdatedAt

	ev.Tag = []Tag{TLPTag(inc.TLP), PAPTag(papOf(inc.PAP))}
	if t := RSITTag(inc.Category, inc.Type); t != "" {
		ev.Tag = append(ev.Tag, freeTag(t))
	}
	for _, t := range inc.Tags {
		ev.Tag = append(ev.Tag, freeTag(t))
	}

	ev.Attribute = []Attribute{{ID: "0", EventID: "0", UUID: uuid.NewSHA1(Namespace, []byte("reference:"+inc.ID.String())).String(), Type: "text", Category: "Internal reference",
		Distribution: InheritEvent, SharingGroupID: "0", Timestamp: unix(inc.CreatedAt), Comment: ReferenceComment,
		Value: inc.Reference}}
	for _, o := range exp.Observables {
		m, ok := Mappings[o.Type]
		if !ok {
			return nil, fmt.Errorf("misp: no attribute type for observable type %q", o.Type)
		}
		a := Attribute{ID: "0", EventID: "0", UUID: o.ID.String(), Type: m.Type, Category: m.Category, ToIDs: m.ToIDs,
			Distribution: InheritEvent, SharingGroupID: "0", Timestamp: unix(later(o.CreatedAt, o.UpdatedAt)),
			Comment: o.Note, Value: o.Value, Tag: []Tag{TLPTag(o.TLP), PAPTag(papOf(o.PAP))}}
		if o.TLP != inc.TLP {
			a.Distribution = DistributionOf(o.TLP)
		}
		if o.Sighted {
			a.Tag = append(a.Tag, freeTag("certdesk:sighted"))
		}
		for _, t := range o.Tags {
			a.Tag = append(a.Tag, freeTag(t))
		}
		last = later(last, o.UpdatedAt)
		ev.Attribute = append(ev.Attribute, a)
	}
	ev.AttributeCount = strconv.Itoa(len(ev.Attribute))
	ev.Timestamp = unix(last)
	return &File{Event: ev}, nil
}

// Encode returns the event of an export as indented JSON.
func Encode(exp *observable.Export) ([]byte, error) {
	f, err := Build(exp)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(f, "", "  ")
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

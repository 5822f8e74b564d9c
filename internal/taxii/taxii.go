// Package taxii serves what an organisation may see of certdesk's incidents
// over TAXII 2.1 (OASIS), read-only, so that a partner CERT's standard
// client (taxii2-client, OpenCTI, MISP's TAXII pull) can fetch it.
//
// The resources:
//   - one API root; its collections are per organisation: one collection for
//     every organisation that reported at least one incident the caller's
//     organisation may see, identified by that organisation's ID, holding
//     those incidents as STIX 2.1 objects (the incident, its identities, its
//     indicators, observed-data, sightings, vulnerabilities and the TLP
//     marking definitions they reference), as internal/stix builds them;
//   - objects and manifest pages with added_after, limit, next and the
//     match[id], match[type], match[version] and match[spec_version] filters;
//   - an object by ID, and the list of its versions.
//
// Who sees what: the feed is the caller's organisation's, not the caller's
// own: the visibility rule is evaluated for the organisation as a whole
// (access.OrgOnly, with the caller's role), as for every other exit that
// leaves certdesk for an organisation (its channel, its webhook). Named
// participants count for nothing, so a TLP:RED incident never enters a
// feed, and each observable is judged with its own effective label (a
// TLP:RED observable of a TLP:AMBER incident stays out). A collection the
// caller's organisation may not see answers exactly as one that does not
// exist.
//
// When an object is added: certdesk keeps one version of each incident's
// objects. Every object of an incident's bundle gets, as its date_added,
// the incident's feed time: the latest of the incident's last change, its
// observables' last change and the moment it was shared with (or escalated
// to) the caller's organisation. A change re-adds the incident's objects
// with the new time; a client deduplicates by id and version, as TAXII
// clients do. The order of a collection is by that time, then incident.
package taxii

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/google/uuid"
)

// MediaType is the media type of every TAXII 2.1 resource.
const MediaType = "application/taxii+json;version=2.1"

// Limits of one page of objects or manifest records.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// scanIncidents bounds the incidents one page reads when a filter
	// matches few of their objects: the page then ends early, with more
	// set and a next that continues the scan.
	scanIncidents = 200
	batch         = 50
)

// Position is a place in a collection's order: an incident's feed time
// and ID.
type Position struct {
	Added time.Time
	ID    uuid.UUID
}

// Entry is an incident of a collection and its feed time.
type Entry struct {
	ID    uuid.UUID
	Added time.Time
}

// Store reads the feeds. Every method takes the principal of the
// organisation the feed is for and answers through the visibility rule.
type Store interface {
	// FeedOrgs returns, by name, the organisations that reported at least
	// one incident p may see.
	FeedOrgs(ctx context.Context, p access.Principal) ([]org.Organization, error)
	// FeedOrg returns the organisation orgID if it reported at least one
	// incident p may see, else apperr.NotFound.
	FeedOrg(ctx context.Context, p access.Principal, orgID uuid.UUID) (*org.Organization, error)
	// FeedIncidents returns up to limit incidents reported by orgID that p
	// may see, in the order of (feed time, ID), from the position from
	// (inclusive; nil: the start) and with a feed time after addedAfter
	// (zero: any).
	FeedIncidents(ctx context.Context, p access.Principal, orgID uuid.UUID, from *Position, addedAfter time.Time, limit int) ([]Entry, error)
}

// Exporter gives an incident with the observables p may see (the STIX
// export's input): observable.Service.
type Exporter interface {
	Export(ctx context.Context, p access.Principal, idOrRef string) (*observable.Export, error)
}

// Service answers the TAXII resources.
type Service struct {
	store   Store
	exports Exporter
}

// NewService returns the service.
func NewService(store Store, exports Exporter) *Service {
	return &Service{store: store, exports: exports}
}

// Collection is a TAXII collection resource.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

// Object is one STIX object of a collection with its TAXII bookkeeping.
type Object struct {
	Raw         json.RawMessage
	ID          string
	Type        string
	SpecVersion string
	Version     string // the modified timestamp, else created, else date_added
	Added       time.Time
}

// Page is a page of a collection's objects.
type Page struct {
	Objects []Object
	More    bool
	Next    string
}

// Query selects objects.
type Query struct {
	AddedAfter   time.Time // zero: any
	Limit        int       // 0: DefaultLimit; at most MaxLimit
	Next         string
	IDs          []string // match[id]
	Types        []string // match[type]
	Versions     []string // match[version]: last, first, all or timestamps; empty: last
	SpecVersions []string // match[spec_version]
}

// Timestamp formats a date_added: UTC, RFC 3339, microseconds (the
// database's precision, so that an added_after taken from a header selects
// exactly what follows).
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Feed returns the principal a feed is read for: p's organisation as a
// whole, with p's role. It fails with apperr.Forbidden when p's role may
// not read incidents.
func Feed(p access.Principal) (access.Principal, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return access.Principal{}, err
	}
	f := access.OrgOnly(p.OrgID, p.OrgKind)
	f.Role, f.Email, f.OrgSlug, f.RemoteAddr, f.Via = p.Role, p.Email, p.OrgSlug, p.RemoteAddr, "taxii"
	return f, nil
}

// Collections lists the collections p's organisation may read.
func (s *Service) Collections(ctx context.Context, p access.Principal) ([]Collection, error) {
	f, err := Feed(p)
	if err != nil {
		return nil, err
	}
	orgs, err := s.store.FeedOrgs(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Collection, 0, len(orgs))
	for i := range orgs {
		out = append(out, collectionOf(&orgs[i]))
	}
	return out, nil
}

// Collection returns one collection, or apperr.NotFound when p's
// organisation may read none of its incidents (or it does not exist).
func (s *Service) Collection(ctx context.Context, p access.Principal, id string) (*Collection, error) {
	f, err := Feed(p)
	if err != nil {
		return nil, err
	}
	o, err := s.feedOrg(ctx, f, id)
	if err != nil {
		return nil, err
	}
	c := collectionOf(o)
	return &c, nil
}

func (s *Service) feedOrg(ctx context.Context, f access.Principal, id string) (*org.Organization, error) {
	orgID, err := uuid.Parse(id)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "collection %q not found", id)
	}
	o, err := s.store.FeedOrg(ctx, f, orgID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, apperr.New(apperr.NotFound, "collection %q not found", id)
	}
	return o, err
}

func collectionOf(o *org.Organization) Collection {
	return Collection{ID: o.ID.String(), Title: o.Name, Alias: o.Slug,
		Description: "Incidents reported by " + o.Name + " that your organisation may see, with their indicators, observed data and sightings (STIX 2.1).",
		CanRead:     true, MediaTypes: []string{stix.MediaType}}
}

// cursor is the decoded next: resume at the incident (A, I), inclusive,
// skipping its first N objects.
type cursor struct {
	A time.Time `json:"a"`
	I uuid.UUID `json:"i"`
	N int       `json:"n"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeNext(s string) (*cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.I == uuid.Nil || c.N < 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "the next parameter is not valid",
			Fields: []apperr.FieldError{{Field: "next", Rule: "format", Message: "use the next of the previous page, with the same query"}}}
	}
	return &c, nil
}

// Validate checks a query's shape.
func (q *Query) Validate() error {
	var fs apperr.Fields
	if q.Limit < 0 {
		fs = append(fs, apperr.FieldError{Field: "limit", Rule: "range", Message: "limit must be a positive integer"})
	}
	for _, v := range q.Versions {
		if v == "last" || v == "first" || v == "all" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			fs = append(fs, apperr.FieldError{Field: "match[version]", Rule: "format", Message: "match[version] takes last, first, all or timestamps"})
			break
		}
	}
	if len(fs) > 0 {
		return fs.Err()
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	return nil
}

// Objects returns a page of the collection's objects that match q, in
// the collection's order. The page holds at most q.Limit objects, each
// object version at most once; it may hold fewer when a filter matches
// little (More then says whether to go on with Next).
func (s *Service) Objects(ctx context.Context, p access.Principal, collectionID string, q Query) (*Page, error) {
	return s.objects(ctx, p, collectionID, q, scanIncidents)
}

// Object returns the versions of one object that match q (match[id] is
// the object's ID); apperr.NotFound when the collection holds none. The
// whole collection is read to find it: STIX identifiers do not say which
// incident an object comes from.
func (s *Service) Object(ctx context.Context, p access.Principal, collectionID, objectID string, q Query) (*Page, error) {
	q.IDs = []string{objectID}
	pg, err := s.objects(ctx, p, collectionID, q, 0)
	if err != nil {
		return nil, err
	}
	if len(pg.Objects) == 0 && q.Next == "" {
		return nil, apperr.New(apperr.NotFound, "object %q not found in the collection", objectID)
	}
	return pg, nil
}

func (s *Service) objects(ctx context.Context, p access.Principal, collectionID string, q Query, scan int) (*Page, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	f, err := Feed(p)
	if err != nil {
		return nil, err
	}
	o, err := s.feedOrg(ctx, f, collectionID)
	if err != nil {
		return nil, err
	}
	// from is where the scan resumes (inclusive); the incident exactly at
	// from has its first skip objects skipped. An incident that changed
	// since moved on in the order: it is read again, whole, later.
	var from *Position
	skip := 0
	if q.Next != "" {
		c, err := decodeNext(q.Next)
		if err != nil {
			return nil, err
		}
		from, skip = &Position{Added: c.A, ID: c.I}, c.N
	}
	page := &Page{}
	seen := map[string]bool{}
	read := 0
	for {
		entries, err := s.store.FeedIncidents(ctx, f, o.ID, from, q.AddedAfter, batch)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if scan > 0 && read == scan {
				page.More, page.Next = true, cursor{A: e.Added, I: e.ID}.encode()
				return page, nil
			}
			read++
			objs, err := s.incidentObjects(ctx, f, e)
			if apperr.CodeOf(err) == apperr.NotFound {
				continue // gone or hidden since the feed was read
			}
			if err != nil {
				return nil, err
			}
			start := 0
			if from != nil && e.ID == from.ID && e.Added.Equal(from.Added) {
				start = min(skip, len(objs))
			}
			for i := start; i < len(objs); i++ {
				ob := objs[i]
				if !q.matches(ob) || seen[ob.ID+"|"+ob.Version] {
					continue
				}
				if len(page.Objects) == q.Limit {
					page.More, page.Next = true, cursor{A: e.Added, I: e.ID, N: i}.encode()
					return page, nil
				}
				seen[ob.ID+"|"+ob.Version] = true
				page.Objects = append(page.Objects, ob)
			}
		}
		if len(entries) < batch {
			return page, nil
		}
		last := entries[len(entries)-1]
		// Resume after the last incident read: inclusive, with all of
		// its objects skipped.
		from, skip = &Position{Added: last.Added, ID: last.ID}, 1<<30
	}
}

// incidentObjects returns the STIX objects of an incident's bundle, each
// with the incident's feed time.
func (s *Service) incidentObjects(ctx context.Context, f access.Principal, e Entry) ([]Object, error) {
	exp, err := s.exports.Export(ctx, f, e.ID.String())
	if err != nil {
		return nil, err
	}
	b, err := stix.Build(exp)
	if err != nil {
		return nil, apperr.Wrap(err, "STIX export")
	}
	out := make([]Object, 0, len(b.Objects))
	for _, v := range b.Objects {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("taxii: marshal object: %w", err)
		}
		var h struct {
			Type        string `json:"type"`
			ID          string `json:"id"`
			SpecVersion string `json:"spec_version"`
			Created     string `json:"created"`
			Modified    string `json:"modified"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("taxii: read object: %w", err)
		}
		version := h.Modified
		if version == "" {
			version = h.Created
		}
		if version == "" {
			version = Timestamp(e.Added)
		}
		out = append(out, Object{Raw: raw, ID: h.ID, Type: h.Type, SpecVersion: h.SpecVersion, Version: version, Added: e.Added})
	}
	return out, nil
}

// matches applies the match[...] filters; each takes a list (any of its
// values), and all given filters must hold. certdesk serves one version of
// each object: last, first and all each select it.
func (q *Query) matches(o Object) bool {
	if len(q.IDs) > 0 && !slices.Contains(q.IDs, o.ID) {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, o.Type) {
		return false
	}
	if len(q.SpecVersions) > 0 && !slices.Contains(q.SpecVersions, o.SpecVersion) {
		return false
	}
	if len(q.Versions) > 0 {
		ok := false
		for _, v := range q.Versions {
			if v == "last" || v == "first" || v == "all" || sameTime(v, o.Version) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func sameTime(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// SplitList splits a match[...] value: a comma-separated list.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

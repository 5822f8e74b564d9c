// Package observable holds an incident's observables (indicators of
// compromise): IP addresses, domain names, URLs, e-mail addresses, file
// hashes and names, CVE IDs and AS numbers. Each value is validated and
// normalised for its type (Normalize), so that an observable is stored once
// per incident and found again in every other incident that holds it
// (correlation). An observable carries a TLP label of its own, a sighted
// flag, tags and a note.
//
// An observable's TLP label may be stricter than its incident's, never
// looser (Add and Update refuse a looser one). Its effective label is the
// stricter of its own and its incident's, so raising the incident's label
// raises it too. Who sees an observable is the visibility rule evaluated
// with that label (docs/security.md): a TLP:RED indicator in a TLP:AMBER
// incident is seen by the incident's named participants only, in every
// list, correlation, export and timeline. The store applies the rule;
// reads return the effective label.
package observable

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Observable is one observable of one incident.
type Observable struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	Type       Type
	Value      string // normalised
	TLP        incident.TLP
	// PAP is the observable's own Permissible Actions Protocol label (its
	// incident's when it was added); it may differ from the incident's
	// either way: one indicator may be safe to block while the rest is not.
	PAP       incident.PAP
	Sighted   bool
	Tags      []string // sorted, without duplicates
	Note      string
	CreatedBy *uuid.UUID
	Creator   string // the creator's e-mail, filled on reads; "" for certdesk itself
	CreatedAt time.Time
	UpdatedAt time.Time
}

// The timeline event kinds of observables.
const (
	EventAdded   incident.EventKind = "observable_added"
	EventUpdated incident.EventKind = "observable_updated"
	EventRemoved incident.EventKind = "observable_removed"
)

// Limits on an observable's fields.
const (
	MaxTags   = 50
	MaxTagLen = 100
	MaxNote   = 2000
)

// NewObservable is the input of Add.
type NewObservable struct {
	Type    Type
	Value   string
	TLP     incident.TLP // empty: the incident's; never looser than it
	PAP     incident.PAP // empty: the incident's
	Sighted bool
	Tags    []string
	Note    string
}

// Validate normalises the value and the tags and checks every field; the
// errors name the field ("type", "value", "tlp", "pap", "tags", "note")
// and the rule.
func (n *NewObservable) Validate() error {
	var fs apperr.Fields
	switch {
	case n.Type == "":
		fs.Add("type", "required", "type is required: one of %s", typeList())
	case !n.Type.Valid():
		fs.Add("type", "enum", "type must be one of: %s", typeList())
	default:
		v, err := Normalize(n.Type, n.Value)
		if err != nil {
			ve := err.(*ValueError)
			fs.Add("value", ve.Rule, "%s", ve.Message)
		} else {
			n.Value = v
		}
	}
	if n.TLP != "" {
		if t, ok := incident.ParseTLP(string(n.TLP)); ok {
			n.TLP = t
		} else {
			fs.Add("tlp", "enum", "tlp must be one of: %s", tlpList())
		}
	}
	if n.PAP != "" {
		if p, ok := incident.ParsePAP(string(n.PAP)); ok {
			n.PAP = p
		} else {
			fs.Add("pap", "enum", "%s", incident.PAPRuleMessage("pap"))
		}
	}
	if tags, ok := cleanTags(n.Tags, &fs); ok {
		n.Tags = tags
	}
	checkNote(n.Note, &fs)
	return fs.Err()
}

// Patch changes an observable; nil fields stay as they are. Tags replace
// the observable's tags.
type Patch struct {
	TLP     *incident.TLP
	PAP     *incident.PAP
	Sighted *bool
	Tags    *[]string
	Note    *string
}

// Validate normalises the TLP and PAP labels and the tags and names every
// field that breaks a rule.
func (pt *Patch) Validate() error {
	var fs apperr.Fields
	if pt.TLP != nil {
		if t, ok := incident.ParseTLP(string(*pt.TLP)); ok {
			*pt.TLP = t
		} else {
			fs.Add("tlp", "enum", "tlp must be one of: %s", tlpList())
		}
	}
	if pt.PAP != nil {
		if p, ok := incident.ParsePAP(string(*pt.PAP)); ok {
			*pt.PAP = p
		} else {
			fs.Add("pap", "enum", "%s", incident.PAPRuleMessage("pap"))
		}
	}
	if pt.Tags != nil {
		if tags, ok := cleanTags(*pt.Tags, &fs); ok {
			*pt.Tags = tags
		}
	}
	if pt.Note != nil {
		checkNote(*pt.Note, &fs)
	}
	return fs.Err()
}

// cleanTags trims the tags, drops empty ones and duplicates, and sorts them.
func cleanTags(in []string, fs *apperr.Fields) ([]string, bool) {
	out := make([]string, 0, len(in))
	ok := true
	for _, t := range in {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			continue
		case !utf8.ValidString(t):
			fs.Add("tags", "utf8", "tags must be valid UTF-8")
			ok = false
		case utf8.RuneCountInString(t) > MaxTagLen:
			fs.Add("tags", "max_length", "a tag is at most %d characters", MaxTagLen)
			ok = false
		case strings.IndexFunc(t, unicode.IsControl) >= 0:
			fs.Add("tags", "control_chars", "a tag has no control characters")
			ok = false
		}
		out = append(out, t)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxTags {
		fs.Add("tags", "max_items", "at most %d tags", MaxTags)
		ok = false
	}
	return out, ok
}

func checkNote(note string, fs *apperr.Fields) {
	if !utf8.ValidString(note) {
		fs.Add("note", "utf8", "note must be valid UTF-8")
	} else if utf8.RuneCountInString(note) > MaxNote {
		fs.Add("note", "max_length", "note must be at most %d characters", MaxNote)
	}
}

// mergeTags returns the union of two sorted tag lists.
func mergeTags(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func tlpList() string {
	s := make([]string, len(incident.TLPs))
	for i, t := range incident.TLPs {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// IncidentRef is what a correlation shows of an incident.
type IncidentRef struct {
	ID        uuid.UUID
	Reference string
	Title     string
	TLP       incident.TLP
}

// Match is an observable found by a correlation search, with its incident.
type Match struct {
	Observable Observable
	Incident   IncidentRef
}

// Export is everything an export of an incident holds: the incident, its
// observables and its organisations.
type Export struct {
	Incident     *incident.Incident
	Observables  []Observable
	Reporting    org.Organization
	Coordinating *org.Organization // nil while unrouted
}

// Page selects a page of a keyset-paginated list.
type Page = incident.Page

// Store is the persistence of observables. Every read takes the principal
// it reads for and returns only the observables that principal may see:
// the visibility rule evaluated with each observable's effective label.
type Store interface {
	// InObservableTx runs fn in one database transaction.
	InObservableTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// IncidentObservables returns a page of the incident's observables p
	// may see, oldest first, with their effective labels, and the cursor
	// of the next page ("" on the last).
	IncidentObservables(ctx context.Context, p access.Principal, incidentID uuid.UUID, page Page) ([]Observable, string, error)
	// FindObservables returns a page of the observables p may see whose
	// (type, value) is one of cs, newest first, with their effective
	// labels, and the cursor of the next page.
	FindObservables(ctx context.Context, p access.Principal, cs []Candidate, page Page) ([]Match, string, error)
	// Correlations returns, for each (type, value) of cs, the newest
	// observables p may see that hold it in incidents other than
	// incidentID, at most per of each, in one query.
	Correlations(ctx context.Context, p access.Principal, incidentID uuid.UUID, cs []Candidate, per int) ([]Match, error)
	// Orgs returns the organisations with these IDs.
	Orgs(ctx context.Context, ids []uuid.UUID) ([]org.Organization, error)
}

// Tx is what a use case may do inside a transaction.
type Tx interface {
	// LockIncident reads an incident p may see (by UUID or reference) and
	// locks it until the end of the transaction; apperr.NotFound otherwise.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// ObservableByKey returns the incident's observable of this type and
	// value, locked, with its stored label; apperr.NotFound if there is
	// none, apperr.Conflict if p may not see it.
	ObservableByKey(ctx context.Context, p access.Principal, incidentID uuid.UUID, t Type, value string) (*Observable, error)
	// ObservableByID returns one observable of the incident, locked, with
	// its stored label; apperr.NotFound if the incident has no such
	// observable or p may not see it.
	ObservableByID(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*Observable, error)
	// InsertObservable inserts a new observable.
	InsertObservable(ctx context.Context, o *Observable) error
	// UpdateObservable writes an observable's TLP, PAP, sighted flag, tags, note
	// and updated_at.
	UpdateObservable(ctx context.Context, o *Observable) error
	// DeleteObservable removes an observable.
	DeleteObservable(ctx context.Context, id uuid.UUID) error
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
}

// IncidentReader reads an incident through the visibility rule
// (*incident.Service implements it).
type IncidentReader interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

package org

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// Actor is who changes the directory: an administrator of an organisation,
// or the system (the CLI run by an operator).
type Actor struct {
	UserID     *uuid.UUID
	Name       string
	OrgID      uuid.UUID
	OrgKind    Kind
	Admin      bool // the actor's role allows managing organisations
	System     bool
	RemoteAddr string
}

// Store is the persistence of the directory.
type Store interface {
	// CreateOrg inserts o with its closure rows and an audit entry.
	CreateOrg(ctx context.Context, a Actor, o *Organization) error
	// UpdateOrg writes o's fields and, when the parent changed, moves its
	// subtree; with an audit entry.
	UpdateOrg(ctx context.Context, a Actor, o *Organization, moved bool, changes map[string]any) error
	// Org returns one organisation by slug. Not found: apperr.NotFound.
	Org(ctx context.Context, slug string) (*Organization, error)
	// Orgs lists organisations by slug; nil ids means all.
	Orgs(ctx context.Context, ids []uuid.UUID) ([]Organization, error)
	// Descendants lists the organisations below id (not id itself).
	Descendants(ctx context.Context, id uuid.UUID) ([]Organization, error)
	// IsDescendant reports whether id is below or equal to ancestor.
	IsDescendant(ctx context.Context, ancestor, id uuid.UUID) (bool, error)
	// Scope returns the organisations an administrator of orgID manages.
	Scope(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error)
}

// Service holds the directory's use cases.
type Service struct {
	store Store
}

// NewService returns a Service.
func NewService(store Store) *Service { return &Service{store: store} }

// Patch changes an organisation; nil fields stay.
type Patch struct {
	Name, Parent, Country, Region, Sector, NIS2Class, ChatChannel, ContactEmail, ContactPhone, TimeZone *string
}

// NoOrg is the slug no organisation may take: a filter on an
// organisation (coordinating_org=none) uses it for "no organisation".
const NoOrg = "none"

var (
	slugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	channelRE = regexp.MustCompile(`^[CGD][A-Z0-9]{6,20}$`)
	// phoneRE is a telephone number as people write it: an optional +,
	// digits, spaces and the separators - / ( ) . (5 to 40 characters).
	phoneRE = regexp.MustCompile(`^\+?[0-9(][0-9 ()./-]{3,38}[0-9]$`)
)

// validate checks o's own fields (not its place in the tree).
func (o *Organization) validate(fs *Fields) {
	if !slugRE.MatchString(o.Slug) {
		fs.add("slug", "format", "slug must be 1–63 lower-case letters, digits and dashes, starting with a letter or digit")
	} else if o.Slug == NoOrg {
		fs.add("slug", "reserved", `slug "none" is reserved: filters use it for "no organisation"`)
	}
	o.Name = strings.TrimSpace(o.Name)
	if n := utf8.RuneCountInString(o.Name); n == 0 || n > 200 {
		fs.add("name", "length", "name is required and at most 200 characters")
	}
	if !o.Kind.Valid() {
		fs.add("kind", "enum", "kind must be one of: national_cert, regional_cert, local_authority, operator, partner")
	}
	if o.Country != "" && !countryRE.MatchString(o.Country) {
		fs.add("country", "format", "country must be an ISO 3166-1 alpha-2 code such as DE")
	}
	if utf8.RuneCountInString(o.Region) > 100 {
		fs.add("region", "max_length", "region must be at most 100 characters")
	}
	if o.Sector != "" && !slices.Contains(Sectors, o.Sector) {
		fs.add("sector", "enum", "sector must be one of: "+strings.Join(Sectors, ", "))
	}
	if o.NIS2Class != "" && o.NIS2Class != Essential && o.NIS2Class != Important {
		fs.add("nis2_class", "enum", "nis2_class must be essential, important or empty")
	}
	if o.ChatChannel != "" && !channelRE.MatchString(o.ChatChannel) {
		fs.add("chat_channel", "format", "chat_channel must be a Slack channel ID such as C0123456789")
	}
	if o.ContactEmail != "" {
		if a, err := mail.ParseAddress(o.ContactEmail); err != nil || a.Address != o.ContactEmail {
			fs.add("contact_email", "email", "contact_email must be a plain e-mail address")
		}
	}
	o.ContactPhone = strings.TrimSpace(o.ContactPhone)
	if o.ContactPhone != "" && !phoneRE.MatchString(o.ContactPhone) {
		fs.add("contact_phone", "format", "contact_phone must be a telephone number such as +49 30 1234 5678")
	}
	if o.TimeZone == "" {
		o.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		fs.add("time_zone", "enum", "time_zone must be an IANA time zone such as Europe/Berlin")
	}
}

// placeRule checks the kind against the parent's kind.
func placeRule(kind Kind, parent *Organization, fs *Fields) {
	switch kind {
	case NationalCERT, Partner:
		if parent != nil {
			fs.add("parent", "none", "a "+string(kind)+" has no parent")
		}
	case RegionalCERT:
		if parent == nil || !parent.Kind.IsCERT() {
			fs.add("parent", "cert", "a regional_cert's parent must be a CERT")
		}
	case LocalAuthority, Operator:
		if parent == nil || !parent.Kind.IsCERT() {
			fs.add("parent", "cert", "a "+string(kind)+" must have a CERT as its parent")
		}
	}
}

// Create adds an organisation below parentSlug ("" for none) and fills o
// with the organisation as stored (its parent's slug, its times).
func (s *Service) Create(ctx context.Context, a Actor, o *Organization, parentSlug string) error {
	if err := s.create(ctx, a, o, parentSlug); err != nil {
		return err
	}
	got, err := s.store.Org(ctx, o.Slug)
	if err != nil {
		return err
	}
	*o = *got
	return nil
}

func (s *Service) create(ctx context.Context, a Actor, o *Organization, parentSlug string) error {
	if !a.System && !a.Admin {
		return apperr.New(apperr.Forbidden, "only administrators manage organisations")
	}
	var fs Fields
	o.validate(&fs)
	var parent *Organization
	if parentSlug != "" {
		p, err := s.store.Org(ctx, parentSlug)
		if err == nil && !a.Sees(p) {
			err = apperr.New(apperr.NotFound, "organisation %q not found", parentSlug) // hidden answers as missing
		}
		if apperr.Is(err, apperr.NotFound) {
			fs.add("parent", "exists", "no organisation has this slug")
		} else if err != nil {
			return err
		} else {
			parent = p
			o.ParentID = &p.ID
		}
	}
	if o.Kind.Valid() && (parentSlug == "" || parent != nil) {
		placeRule(o.Kind, parent, &fs)
	}
	if err := fs.err(); err != nil {
		return err
	}
	if err := s.authorize(ctx, a, parent, o.Kind); err != nil {
		return err
	}
	return s.store.CreateOrg(ctx, a, o)
}

// authorize checks that a may create or change an organisation under parent.
func (s *Service) authorize(ctx context.Context, a Actor, parent *Organization, kind Kind) error {
	if a.System {
		return nil
	}
	if !a.Admin {
		return apperr.New(apperr.Forbidden, "only administrators manage organisations")
	}
	if parent == nil {
		if a.OrgKind == NationalCERT && kind == Partner {
			return nil
		}
		return apperr.New(apperr.Forbidden, "only an operator (the CLI) creates top-level organisations; the national CERT's administrators create partners")
	}
	in, err := s.store.IsDescendant(ctx, a.OrgID, parent.ID)
	if err != nil {
		return err
	}
	if !in {
		return apperr.New(apperr.Forbidden, "you manage your organisation and its constituency only")
	}
	return nil
}

// Update changes the organisation slug. One the actor does not see
// (Actor.Sees) is apperr.NotFound, like one that does not exist; one the
// actor sees but does not manage is apperr.Forbidden.
func (s *Service) Update(ctx context.Context, a Actor, slug string, p Patch) (*Organization, error) {
	o, err := s.Managed(ctx, a, slug)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{}
	set := func(name string, dst *string, v *string) {
		if v != nil && *v != *dst {
			changes[name] = map[string]string{"from": *dst, "to": *v}
			*dst = *v
		}
	}
	set("name", &o.Name, p.Name)
	set("country", &o.Country, p.Country)
	set("region", &o.Region, p.Region)
	set("sector", &o.Sector, p.Sector)
	set("nis2_class", &o.NIS2Class, p.NIS2Class)
	set("chat_channel", &o.ChatChannel, p.ChatChannel)
	set("contact_email", &o.ContactEmail, p.ContactEmail)
	set("contact_phone", &o.ContactPhone, p.ContactPhone)
	set("time_zone", &o.TimeZone, p.TimeZone)
	var fs Fields
	o.validate(&fs)
	moved := false
	if p.Parent != nil && *p.Parent != o.ParentSlug {
		var parent *Organization
		if *p.Parent != "" {
			np, err := s.store.Org(ctx, *p.Parent)
			if err == nil && !a.Sees(np) {
				err = apperr.New(apperr.NotFound, "organisation %q not found", *p.Parent) // hidden answers as missing
			}
			if apperr.Is(err, apperr.NotFound) {
				fs.add("parent", "exists", "no organisation has this slug")
			} else if err != nil {
				return nil, err
			} else {
				parent = np
				below, err := s.store.IsDescendant(ctx, o.ID, np.ID)
				if err != nil {
					return nil, err
				}
				if below {
					fs.add("parent", "cycle", "the new parent is inside this organisation's constituency")
				}
			}
		}
		if *p.Parent == "" || parent != nil {
			placeRule(o.Kind, parent, &fs)
		}
		if err := fs.err(); err != nil {
			return nil, err
		}
		if err := s.authorize(ctx, a, parent, o.Kind); err != nil {
			return nil, err
		}
		changes["parent"] = map[string]string{"from": o.ParentSlug, "to": *p.Parent}
		o.ParentID, o.ParentSlug, moved = nil, *p.Parent, true
		if parent != nil {
			o.ParentID = &parent.ID
		}
	}
	if err := fs.err(); err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return o, nil
	}
	if err := s.store.UpdateOrg(ctx, a, o, moved, changes); err != nil {
		return nil, err
	}
	return s.store.Org(ctx, slug)
}

// Get returns one organisation the actor may see.
func (s *Service) Get(ctx context.Context, a Actor, slug string) (*Organization, error) {
	o, err := s.store.Org(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !a.Sees(o) {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	return o, nil
}

// Sees reports whether the actor may see the organisation in the
// directory: members of the tree see the whole directory; a partner sees
// itself and the CERTs, not the constituency's members. An organisation
// the actor does not see answers as one that does not exist.
func (a Actor) Sees(o *Organization) bool {
	return a.System || a.OrgKind != Partner || o.ID == a.OrgID || o.Kind.IsCERT()
}

// List returns the directory as the actor may see it.
func (s *Service) List(ctx context.Context, a Actor) ([]Organization, error) {
	all, err := s.store.Orgs(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for i := range all {
		if a.Sees(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// Constituency lists the organisations below slug.
func (s *Service) Constituency(ctx context.Context, a Actor, slug string) ([]Organization, error) {
	o, err := s.Get(ctx, a, slug)
	if err != nil {
		return nil, err
	}
	if a.OrgKind == Partner && !a.System {
		return nil, apperr.New(apperr.Forbidden, "partners do not see constituencies")
	}
	return s.store.Descendants(ctx, o.ID)
}

// Fields collects field errors (a local alias keeps this package's
// validation readable).
type Fields struct{ apperr.Fields }

func (f *Fields) add(field, rule, msg string) { f.Fields.Add(field, rule, "%s", msg) }
func (f *Fields) err() error                  { return f.Fields.Err() }

// ManagedOrgs returns the organisations the actor administers, by slug: their
// own organisation and its constituency, and every partner for the
// national CERT's administrators. An actor who may not manage
// organisations is apperr.Forbidden; the operator (System) manages all.
func (s *Service) ManagedOrgs(ctx context.Context, a Actor) ([]Organization, error) {
	if a.System {
		return s.store.Orgs(ctx, nil)
	}
	if !a.Admin {
		return nil, apperr.New(apperr.Forbidden, "only administrators manage organisations")
	}
	scope, err := s.store.Scope(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	if len(scope) == 0 {
		return []Organization{}, nil
	}
	return s.store.Orgs(ctx, scope)
}

// Managed returns the organisation slug when the actor administers it:
// its own organisation or one in its constituency (Store.Scope). One the
// actor does not see is apperr.NotFound, like one that does not exist;
// one it sees but does not manage, or an actor who is no administrator,
// is apperr.Forbidden.
func (s *Service) Managed(ctx context.Context, a Actor, slug string) (*Organization, error) {
	o, err := s.Get(ctx, a, slug)
	if err != nil || a.System {
		return o, err
	}
	if !a.Admin {
		return nil, apperr.New(apperr.Forbidden, "only administrators manage organisations")
	}
	scope, err := s.store.Scope(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(scope, o.ID) {
		return nil, apperr.New(apperr.Forbidden, "you manage your organisation and its constituency only")
	}
	return o, nil
}

// GetManaged is Managed for the web UI's administration pages: an
// organisation the administrator sees but does not manage answers like
// one that does not exist (apperr.NotFound), so that those pages of
// another organisation are the ordinary 404. A person who is no
// administrator stays apperr.Forbidden.
func (s *Service) GetManaged(ctx context.Context, a Actor, slug string) (*Organization, error) {
	o, err := s.Managed(ctx, a, slug)
	if apperr.Is(err, apperr.Forbidden) && a.Admin {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	return o, err
}

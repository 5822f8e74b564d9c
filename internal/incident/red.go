package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// TLP:RED routing (docs/security.md, "TLP:RED routing"). A TLP:RED
// incident is visible to named participants only, never to organisations
// as a whole; so that a TLP:RED report reaches the CERT that coordinates
// it, each CERT designates its TLP:RED recipients (duty officers), and
// giving a TLP:RED incident a coordinating organisation names them as
// participants. With none designated, the organisation's coordinators are
// named instead and its admins are warned.

// OrgUser is a user as TLP:RED routing sees them.
type OrgUser struct {
	ID       uuid.UUID
	OrgID    uuid.UUID
	Email    string
	Name     string
	Role     access.Role
	Disabled bool
}

// Display is the user's name, or the e-mail when the user has none.
func (u OrgUser) Display() string {
	if strings.TrimSpace(u.Name) != "" {
		return u.Name
	}
	return u.Email
}

// redRoles are the roles that may be TLP:RED recipients: those that may
// acknowledge and work an incident (access.TransitionIncident).
var redRoles = []access.Role{access.Responder, access.Coordinator, access.Admin}

// receivesRed reports whether u, designated by the organisation orgID,
// can receive its TLP:RED incidents now.
func (u OrgUser) receivesRed(orgID uuid.UUID) bool {
	return u.OrgID == orgID && !u.Disabled && slices.Contains(redRoles, u.Role)
}

// RedSource says whom a TLP:RED incident reaches at the organisation that
// coordinates it.
type RedSource string

// The sources of TLP:RED recipients.
const (
	// RedDesignated: the organisation's designated TLP:RED recipients.
	RedDesignated RedSource = "designated"
	// RedCoordinators: none designated (or none of them can receive it):
	// the organisation's active coordinators.
	RedCoordinators RedSource = "coordinators"
	// RedNobody: neither: nobody there is named, and its admins are warned.
	RedNobody RedSource = "none"
)

// Warning is something an organisation's administrators should fix.
type Warning struct {
	Code    string
	Message string
}

// The warning codes.
const (
	// WarnNoRedRecipients: TLP:RED incidents the organisation coordinates
	// go to its coordinators, or to nobody, because it has no TLP:RED
	// recipient who can receive them.
	WarnNoRedRecipients = "no_red_recipients"
	// WarnRedRecipientInactive: a designated recipient is disabled, has
	// left the organisation or has a role that may not acknowledge.
	WarnRedRecipientInactive = "red_recipient_inactive"
)

// MaxRedRecipients bounds an organisation's designation.
const MaxRedRecipients = 20

// RedTx is what TLP:RED routing needs inside a transaction; Tx includes it.
type RedTx interface {
	// RedRecipients lists the users the organisation designated as its
	// TLP:RED recipients, as they are now (disabled ones included), in
	// e-mail order.
	RedRecipients(ctx context.Context, orgID uuid.UUID) ([]OrgUser, error)
	// OrgUsersWithRole lists the active users of the organisation with
	// role, in e-mail order.
	OrgUsersWithRole(ctx context.Context, orgID uuid.UUID, role access.Role) ([]OrgUser, error)
	// OrgUserByEmail finds a user by e-mail, in any case; apperr.NotFound
	// when there is none.
	OrgUserByEmail(ctx context.Context, email string) (*OrgUser, error)
	// SetRedRecipients replaces the organisation's designation.
	SetRedRecipients(ctx context.Context, orgID uuid.UUID, userIDs []uuid.UUID, by *uuid.UUID) error
}

// RedRouting is whom TLP:RED incidents coordinated by an organisation
// reach.
type RedRouting struct {
	Org org.Organization
	// Designated is the organisation's designation as set, including users
	// who can no longer receive (see Warnings).
	Designated []OrgUser
	// Recipients are the users a TLP:RED incident routed to Org now names
	// as participants.
	Recipients []OrgUser
	Source     RedSource
	// Warnings are for the organisation's administrators.
	Warnings []Warning
}

// Names lists the recipients by name (e-mail for a user without one).
func (r *RedRouting) Names() []string {
	out := make([]string, len(r.Recipients))
	for i, u := range r.Recipients {
		out[i] = u.Display()
	}
	return out
}

// Emails lists the recipients' e-mail addresses.
func (r *RedRouting) Emails() []string {
	out := make([]string, len(r.Recipients))
	for i, u := range r.Recipients {
		out[i] = u.Email
	}
	return out
}

// fallbackWarning is the warning of a routing that is not to designated
// recipients; "" when it is.
func (r *RedRouting) fallbackWarning() string {
	none := r.Org.Slug + " has designated no TLP:RED recipients"
	if len(r.Designated) > 0 {
		none = "none of " + r.Org.Slug + "'s TLP:RED recipients can receive TLP:RED incidents"
	}
	fix := " Its administrators designate them with PUT /api/v1/organizations/" + r.Org.Slug +
		"/red-recipients or certdesk org red-recipients set."
	switch r.Source {
	case RedCoordinators:
		return none + ": the TLP:RED incidents it coordinates go to its coordinators (" + strings.Join(r.Emails(), ", ") + ")." + fix
	case RedNobody:
		return none + " and has no coordinator: nobody there can read the TLP:RED incidents it coordinates." + fix
	}
	return ""
}

// Undesignated says that the organisation has no designated TLP:RED
// recipient who can receive: its coordinators, or nobody, receive TLP:RED
// incidents (the administration's "no TLP:RED recipient").
func (r *RedRouting) Undesignated() bool { return r.Source != RedDesignated }

// participantReason is why a recipient of r is named on a TLP:RED incident.
func (r *RedRouting) participantReason() string {
	if r.Source == RedDesignated {
		return "TLP:RED recipient of " + r.Org.Slug
	}
	if len(r.Designated) > 0 {
		return "coordinator of " + r.Org.Slug + ", none of whose TLP:RED recipients can receive it"
	}
	return "coordinator of " + r.Org.Slug + ", which has designated no TLP:RED recipients"
}

// redRouting works out whom TLP:RED incidents coordinated by o reach now.
func redRouting(ctx context.Context, tx Tx, o org.Organization) (*RedRouting, error) {
	des, err := tx.RedRecipients(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	r := &RedRouting{Org: o, Designated: des, Recipients: []OrgUser{}, Warnings: []Warning{}}
	var inactive []string
	for _, u := range des {
		if u.receivesRed(o.ID) {
			r.Recipients = append(r.Recipients, u)
		} else {
			inactive = append(inactive, u.Email)
		}
	}
	if len(inactive) > 0 {
		r.Warnings = append(r.Warnings, Warning{Code: WarnRedRecipientInactive, Message: fmt.Sprintf(
			"designated TLP:RED recipients who receive nothing (disabled, no longer in %s, or in a role that may not acknowledge): %s",
			o.Slug, strings.Join(inactive, ", "))})
	}
	r.Source = RedDesignated
	if len(r.Recipients) == 0 {
		coords, err := tx.OrgUsersWithRole(ctx, o.ID, access.Coordinator)
		if err != nil {
			return nil, err
		}
		r.Recipients, r.Source = coords, RedCoordinators
		if len(coords) == 0 {
			r.Recipients, r.Source = []OrgUser{}, RedNobody
		}
		r.Warnings = append([]Warning{{Code: WarnNoRedRecipients, Message: r.fallbackWarning()}}, r.Warnings...)
	}
	return r, nil
}

// nameRedRecipients names the TLP:RED recipients of o (RedRouting) as
// participants of inc, each with an audit entry, and returns the routing
// and the participant_added events of those who were not participants
// yet, for the caller to append. why, when not empty, is added to each
// event's reason ("raised to TLP:RED").
func (s *Service) nameRedRecipients(ctx context.Context, tx Tx, p access.Principal, inc *Incident, o org.Organization, why string) (*RedRouting, []Event, error) {
	r, err := redRouting(ctx, tx, o)
	if err != nil {
		return nil, nil, err
	}
	reason := r.participantReason()
	if why != "" {
		reason += " (" + why + ")"
	}
	var evs []Event
	for _, u := range r.Recipients {
		added, err := tx.InsertParticipant(ctx, inc.ID, u.ID, p.UserIDPtr())
		if err != nil {
			return nil, nil, err
		}
		if !added {
			continue
		}
		data := map[string]any{"user": u.Email, "reason": reason}
		if err := tx.Audit(ctx, auditEntry(p, audit.ParticipantAdd, inc, data)); err != nil {
			return nil, nil, err
		}
		evs = append(evs, Event{Kind: EventParticipantAdded, Data: mustJSON(data)})
	}
	return r, evs, nil
}

// RedHandler is the incident.Bus handler that keeps a TLP:RED incident
// reachable when its coordination moves after routing (an accepted or
// returned escalation: kinds are those events, whose data name the new
// coordinating_org). Inside the transaction of the move it names the new
// coordinating organisation's TLP:RED recipients as participants
// (nameRedRecipients), with participant_added events by certdesk. Route
// and a raise to TLP:RED name them themselves. Subscribe it when wiring the
// app.
func (s *Service) RedHandler(kinds ...EventKind) Handler {
	return Handler{
		Name:  "TLP:RED routing",
		Kinds: kinds,
		Match: func(ev Event) bool {
			var d struct {
				CoordinatingOrg string `json:"coordinating_org"`
			}
			return json.Unmarshal(ev.Data, &d) == nil && d.CoordinatingOrg != ""
		},
		Handle: func(ctx context.Context, tx Tx, inc *Incident, _ []Event) error {
			if inc.TLP != TLPRed || inc.CoordinatingOrgID == nil {
				return nil
			}
			chain, err := tx.OrgChain(ctx, *inc.CoordinatingOrgID)
			if err != nil {
				return err
			}
			_, evs, err := s.nameRedRecipients(ctx, tx, access.System, inc, chain[0], "now coordinating")
			if err != nil {
				return err
			}
			now := s.clock()
			for i := range evs {
				ev := &evs[i]
				ev.IncidentID, ev.Actor, ev.OccurredAt = inc.ID, access.System.Name(), now
				if err := tx.AppendEvent(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// redOrg finds the organisation slug for p: apperr.NotFound when it does
// not exist or p's directory hides it (a partner sees itself and the
// CERTs); apperr.Forbidden unless p's organisation is it or a CERT above
// it (the same circle as escalation policies).
func redOrg(ctx context.Context, tx Tx, p access.Principal, slug string) (*org.Organization, error) {
	o, err := tx.OrgBySlug(ctx, slug)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	} else if err != nil {
		return nil, err
	}
	if p.System {
		return o, nil
	}
	if p.OrgKind == org.Partner && o.ID != p.OrgID && !o.Kind.IsCERT() {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	chain, err := tx.OrgChain(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(chain, func(c org.Organization) bool { return c.ID == p.OrgID }) {
		return nil, apperr.New(apperr.Forbidden, "an organisation's TLP:RED recipients are for that organisation and the CERTs above it")
	}
	return o, nil
}

// RedRecipients returns whom the TLP:RED incidents coordinated by the
// organisation slug reach: its designation, the users named now, and
// warnings for its administrators. Every member of the organisation and
// of the CERTs above it may read it (apperr.Forbidden for others,
// apperr.NotFound for an organisation p's directory does not show).
func (s *Service) RedRecipients(ctx context.Context, p access.Principal, slug string) (*RedRouting, error) {
	var out *RedRouting
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := redOrg(ctx, tx, p, slug)
		if err != nil {
			return err
		}
		if err := p.Require(access.ReadIncident); err != nil {
			return err
		}
		out, err = redRouting(ctx, tx, *o)
		return err
	})
	return out, err
}

// SetRedRecipients replaces the TLP:RED recipients of the CERT slug with
// the users whose e-mail addresses are given (none: its coordinators
// receive TLP:RED incidents, with a warning). Administrators of the
// organisation and of the CERTs above it may set them (the operator's CLI
// as access.System). Each recipient must be an active user of the
// organisation in a role that may acknowledge (responder, coordinator or
// admin): apperr.Invalid names recipients[i] otherwise. Only CERTs route
// incidents: apperr.Conflict for another kind. The change is audited
// (org.red_recipients_set) and applies to incidents routed or raised to
// TLP:RED from then on.
func (s *Service) SetRedRecipients(ctx context.Context, p access.Principal, slug string, emails []string) (*RedRouting, error) {
	var out *RedRouting
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := redOrg(ctx, tx, p, slug)
		if err != nil {
			return err
		}
		if err := p.Require(access.ManageOrgs); err != nil {
			return err
		}
		if !o.Kind.IsCERT() {
			return apperr.New(apperr.Conflict, "%s is a %s: only CERTs coordinate incidents and designate TLP:RED recipients", o.Slug, o.Kind)
		}
		var fs apperr.Fields
		if len(emails) > MaxRedRecipients {
			fs.Add("recipients", "max_items", "at most %d TLP:RED recipients", MaxRedRecipients)
			return fs.Err()
		}
		var ids []uuid.UUID
		var set []string
		for i, e := range emails {
			field := fmt.Sprintf("recipients[%d]", i)
			e = strings.TrimSpace(e)
			if e == "" {
				fs.Add(field, "required", "an e-mail address is required")
				continue
			}
			if !fs.Text(field, e, 254) {
				continue
			}
			u, err := tx.OrgUserByEmail(ctx, e)
			switch {
			case apperr.Is(err, apperr.NotFound):
				fs.Add(field, "exists", "no user has the e-mail %q", e)
			case err != nil:
				return err
			case u.OrgID != o.ID:
				fs.Add(field, "org", "%s is not a user of %s", e, o.Slug)
			case u.Disabled:
				fs.Add(field, "disabled", "%s is disabled", e)
			case !slices.Contains(redRoles, u.Role):
				fs.Add(field, "role", "%s is a %s: TLP:RED recipients must be responders, coordinators or admins (who may acknowledge)", e, u.Role)
			case !slices.Contains(ids, u.ID):
				ids = append(ids, u.ID)
				set = append(set, u.Email)
			}
		}
		if err := fs.Err(); err != nil {
			return err
		}
		if err := tx.SetRedRecipients(ctx, o.ID, ids, p.UserIDPtr()); err != nil {
			return err
		}
		if set == nil {
			set = []string{}
		}
		if err := tx.Audit(ctx, audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: audit.RedRecipientsSet,
			TargetType: "organization", TargetID: o.Slug, RemoteAddr: p.RemoteAddr, Data: mustJSON(map[string]any{"recipients": set})}); err != nil {
			return err
		}
		out, err = redRouting(ctx, tx, *o)
		return err
	})
	return out, err
}

// AdminWarnings returns what the administrators of the organisation slug
// should fix about it (today: its TLP:RED recipients), for a principal
// who manages organisations and may read the organisation's TLP:RED
// recipients (an admin of it or of a CERT above it). It returns nil,
// without an error, for anyone else and for an organisation p may not
// read that way, so that a page of the organisation can always ask; an
// organisation that is not a CERT routes no TLP:RED incidents and has no
// warnings (an empty list).
func (s *Service) AdminWarnings(ctx context.Context, p access.Principal, slug string) ([]Warning, error) {
	if !p.Can(access.ManageOrgs) {
		return nil, nil
	}
	r, err := s.RedRecipients(ctx, p, slug)
	if apperr.Is(err, apperr.Forbidden) || apperr.Is(err, apperr.NotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !r.Org.Kind.IsCERT() {
		return []Warning{}, nil
	}
	return r.Warnings, nil
}

// PreviewNote says, in a sentence for the person about to submit a
// TLP:RED report, who will see it (RedRecipientsFor's routing).
func (r *RedRouting) PreviewNote() string {
	switch r.Source {
	case RedDesignated:
		return "A TLP:RED report is seen by you and by the TLP:RED recipients of " + r.Org.Name + " listed here, and by nobody else until one of you names more participants."
	case RedCoordinators:
		return r.Org.Name + " has designated no TLP:RED recipients: a TLP:RED report is seen by you and by its coordinators listed here, and by nobody else until one of you names more participants."
	}
	return r.Org.Name + " has nobody who receives TLP:RED reports: a TLP:RED report is seen by you only until you name participants. Consider TLP:AMBER+STRICT, or call " + r.Org.Name + "."
}

// RedRecipientsFor tells a reporter, before they submit a TLP:RED report,
// who will receive it: the organisation that will coordinate it (the
// nearest CERT above p's organisation, as Route chooses) and the users it
// will name (RedRouting.Names). The reporter is a participant of their own
// report in any case. It needs incident.create (apperr.Forbidden).
func (s *Service) RedRecipientsFor(ctx context.Context, p access.Principal) (*RedRouting, error) {
	if err := p.Require(access.CreateIncident); err != nil {
		return nil, err
	}
	var out *RedRouting
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		chain, err := tx.OrgChain(ctx, p.OrgID)
		if err != nil {
			return err
		}
		target, _ := nearestCERT(chain)
		out, err = redRouting(ctx, tx, target)
		return err
	})
	return out, err
}

package ui

import (
	"html/template"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// escalationRow is one escalation as the inbox and the decision page show
// it: from whom, to whom, why, what is asked, the incident's facts (when
// the reader still sees the incident), its deadlines, and the decision.
type escalationRow struct {
	ID          string
	Href        string
	Reference   string
	Title       string // "" when the reader no longer sees the incident
	Visible     bool   // the reader sees the incident: its link and facts
	FromOrg     string
	ToOrg       string
	Kind        escalation.Kind
	State       escalation.State
	Reason      string
	RequestedBy string
	RequestedAt template.HTML
	Waiting     string // how long a request has waited for a decision
	Severity    incident.Severity
	TLP         incident.TLP
	Class       string
	Deadlines   []deadlineView
	DecidedBy   string
	DecidedAt   template.HTML
	Decision    string // the reason given with the decision
	ReturnedBy  string
	ReturnedAt  template.HTML
	ReturnWhy   string
	Incoming    bool // to the reader's organisation
	MayDecide   bool // the reader may accept or decline it now
	MayReturn   bool // the reader may hand it back now
}

// mayDecide reports whether p may decide escalations to its own
// organisation: the write table's escalation.decide in the relation
// "escalated to" (coordinators and administrators).
func mayDecide(p access.Principal) bool {
	return p.MayWrite(access.DecideEscalation, access.Of(access.EscalatedTo))
}

// escalationRowOf describes e for p; inc is its incident as p sees it, or
// nil when p does not see it (any more).
func (u *UI) escalationRowOf(l i18n.Locale, p access.Principal, e *escalation.Escalation, inc *incident.Incident,
	names map[uuid.UUID]org.Organization) escalationRow {
	r := escalationRow{ID: e.ID.String(), Href: "/escalations/" + e.ID.String(), Reference: e.IncidentReference,
		FromOrg: orgName(names, e.FromOrgID, e.FromOrgSlug), ToOrg: orgName(names, e.ToOrgID, e.ToOrgSlug),
		Kind: e.Kind, State: e.State, Reason: e.Reason, RequestedBy: e.RequestedBy, RequestedAt: l.WhenTime(e.RequestedAt),
		DecidedBy: e.DecidedBy, Decision: e.DecisionReason, ReturnedBy: e.ReturnedBy, ReturnWhy: e.ReturnReason,
		Incoming: e.ToOrgID == p.OrgID}
	if e.State == escalation.Requested {
		r.Waiting = l.Duration(l.Now.Sub(e.RequestedAt))
	}
	if e.DecidedAt != nil {
		r.DecidedAt = l.WhenTime(*e.DecidedAt)
	}
	if e.ReturnedAt != nil {
		r.ReturnedAt = l.WhenTime(*e.ReturnedAt)
	}
	if inc != nil {
		r.Visible, r.Title, r.Severity, r.TLP = true, inc.Title, inc.Severity, inc.TLP
		if inc.Category != "" {
			r.Class = rsitName(l, u, inc.Category, "")
			if inc.Type != "" {
				r.Class += " – " + rsitName(l, u, inc.Category, inc.Type)
			}
		}
		r.Deadlines = deadlines(l, u.o.Incidents.View(inc).Deadlines)
	}
	r.MayDecide = r.Incoming && e.State == escalation.Requested && mayDecide(p)
	r.MayReturn = r.Incoming && e.State == escalation.Accepted && mayDecide(p)
	return r
}

// escalationOrgNames reads the names of the organisations the
// escalations name, in one query.
func (u *UI) escalationOrgNames(c echo.Context, p access.Principal, es []escalation.Escalation) (map[uuid.UUID]org.Organization, error) {
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for i := range es {
		for _, id := range []uuid.UUID{es[i].FromOrgID, es[i].ToOrgID} {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return u.o.Orgs.Names(c.Request().Context(), orgActor(p), ids)
}

// escalationIncidents reads the incidents of the escalations that p sees,
// in one query, by ID.
func (u *UI) escalationIncidents(c echo.Context, p access.Principal, es []escalation.Escalation) (map[uuid.UUID]*incident.Incident, error) {
	out := map[uuid.UUID]*incident.Incident{}
	var refs []string
	for i := range es {
		if es[i].IncidentTitle != nil {
			refs = append(refs, es[i].IncidentReference)
		}
	}
	if len(refs) == 0 {
		return out, nil
	}
	list, _, err := u.o.Incidents.List(c.Request().Context(), p, incident.Filter{References: refs}, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return nil, err
	}
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	return out, nil
}

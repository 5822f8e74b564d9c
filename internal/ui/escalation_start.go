package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// escalateView is the data of the page that escalates an incident.
type escalateView struct {
	Reference string
	Title     string
	TLP       incident.TLP
	// Tree is the directory as the person sees it, parents before their
	// children, each organisation with what it may be asked.
	Tree []*targetNode
	// Kinds are the kinds the domain knows, in order.
	Kinds []escalation.Kind
	// JoinsCircle: some organisation may be asked only if it joins the
	// TLP:AMBER+STRICT incident's circle: the form asks to confirm it.
	JoinsCircle bool
	Allowed     int // how many organisations may be asked
	Deadlines   []deadlineView
	Form        escalateForm
}

// escalateForm is what the person chose and typed.
type escalateForm struct {
	To     string
	Kind   string
	Reason string
	Joins  bool
}

// targetNode is one organisation of the tree.
type targetNode struct {
	Slug        string
	Name        string
	Kind        org.Kind
	Reporting   bool // it reported the incident
	Coordinates bool // it coordinates the incident now
	Own         bool // the person's organisation
	Parent      bool // the nearest CERT above the coordinating organisation
	Kinds       []escalation.Kind
	Refused     escalation.Refusal
	JoinsCircle bool
	Checked     bool
	Children    []*targetNode
}

// escalateStart shows the form that escalates an incident: the
// organisation tree with the reporting and coordinating organisations
// marked and, for each organisation, what it may be asked or why not
// (escalation.Service.Targets: the rules of the request itself); what to
// ask; the reason; and the deadlines the incident carries, which a
// hand-off does not reset. For someone who sees the incident but may not
// escalate it: 403. For anyone else: the 404 page.
func (u *UI) escalateStart(c echo.Context) error {
	p, err := u.escalatePage(c, c.Param("ref"), escalateForm{})
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, p)
}

// escalatePage builds the escalate page of the incident ref for the
// signed-in person, showing form.
func (u *UI) escalatePage(c echo.Context, ref string, form escalateForm) (*page, error) {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, ref)
	if err != nil {
		return nil, err
	}
	dir, err := u.o.Orgs.List(ctx, orgActor(pr))
	if err != nil {
		return nil, err
	}
	targets, err := u.o.Escalations.Targets(ctx, pr, inc, dir)
	if err != nil {
		return nil, err
	}
	p := u.newPage(c, "escalation_start", "escalation.start.title", inc.Reference)
	p.TLP = inc.TLP
	v := escalateView{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Kinds: escalation.Kinds,
		Deadlines: deadlines(p.L, u.o.Incidents.View(inc).Deadlines), Form: form}
	nodes := make(map[uuid.UUID]*targetNode, len(targets))
	for _, t := range targets {
		n := &targetNode{Slug: t.Org.Slug, Name: t.Org.Name, Kind: t.Org.Kind, Reporting: t.Org.ID == inc.ReportingOrgID,
			Coordinates: inc.CoordinatingOrgID != nil && *inc.CoordinatingOrgID == t.Org.ID, Own: t.Org.ID == pr.OrgID,
			Parent: t.Parent, Kinds: t.Kinds, Refused: t.Refused, JoinsCircle: t.JoinsCircle, Checked: form.To == t.Org.Slug}
		nodes[t.Org.ID] = n
		if t.Refused == "" {
			v.Allowed++
		}
		v.JoinsCircle = v.JoinsCircle || t.JoinsCircle
	}
	// The directory comes parents first; an organisation whose parent
	// the person does not see (a partner's view) is a root.
	for _, t := range targets {
		n := nodes[t.Org.ID]
		if t.Org.ParentID != nil {
			if parent, ok := nodes[*t.Org.ParentID]; ok {
				parent.Children = append(parent.Children, n)
				continue
			}
		}
		v.Tree = append(v.Tree, n)
	}
	p.Data = v
	return p, nil
}

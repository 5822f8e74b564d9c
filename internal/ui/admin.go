package ui

import (
	"net/http"
	"net/url"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// The administration pages (docs/ui.md, "Administration"): the
// directory of the organisations an administrator manages
// (org.Service.Managed), their users, teams and TLP:RED recipients. Every
// page asks the domain services with the signed-in principal; an
// organisation the administrator does not manage is the ordinary 404
// page, and anyone but an administrator gets 403.

// errNotAdmin refuses the administration pages to other roles.
var errNotAdmin = apperr.New(apperr.Forbidden, "only administrators use the administration pages")

// adminPrincipal is the signed-in administrator, or errNotAdmin.
func adminPrincipal(c echo.Context) (access.Principal, error) {
	p := current(c).Principal
	if !p.Can(access.ManageOrgs) {
		return p, errNotAdmin
	}
	return p, nil
}

// unassignedFor is how long an open incident may wait without a person or
// team assigned before the overview counts it.
const unassignedFor = time.Hour

// failedWithin is how far back the overview counts failed notification
// deliveries (older ones are in the delivery log).
const failedWithin = 7 * 24 * time.Hour

// hygieneCard is one count of the administration overview.
type hygieneCard struct {
	Key   string // message key of its label (a plural)
	Count int
	More  bool // Count is a lower bound (the list stopped at its limit)
	Href  string
	Link  string // message key of the link's text
}

type adminView struct {
	Cards []hygieneCard
	Orgs  int
}

// adminIndex is the administration overview: what needs an
// administrator's attention in the organisations they manage, each a
// count with a link. Incidents are counted under the visibility rule
// (incident.Service.List with the administrator's principal).
func (u *UI) adminIndex(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgs, err := u.o.Orgs.ManagedOrgs(ctx, p.OrgActor())
	if err != nil {
		return err
	}
	noChannel, noRed := 0, 0
	for _, o := range orgs {
		if o.ChatChannel == "" {
			noChannel++
		}
		if !o.Kind.IsCERT() {
			continue
		}
		r, err := u.o.Incidents.RedRecipients(ctx, p, o.Slug)
		if err != nil {
			return err
		}
		if r.Undesignated() {
			noRed++
		}
	}
	v := adminView{Orgs: len(orgs), Cards: []hygieneCard{
		{Key: "admin.card.no_channel", Count: noChannel, Href: "/admin/organisations", Link: "admin.card.no_channel_link"},
		{Key: "admin.card.no_red", Count: noRed, Href: "/admin/organisations", Link: "admin.card.no_red_link"},
	}}
	count := func(f incident.Filter) (int, bool, error) {
		n, err := u.o.Incidents.Count(ctx, p, f, incident.MaxLimit)
		return min(n, incident.MaxLimit), n > incident.MaxLimit, err
	}
	// Unassigned work is a CERT's to assign (the triage queue's tab); the
	// deadlines at risk are of everything the administrator may see, or
	// of the CERT's work, each as the linked list shows it.
	atRisk, atRiskHref := incident.Filter{Status: incident.Open, Deadline: "at_risk"}, "/incidents?status=open&deadline=at_risk"
	if worksQueue(p) {
		before := u.now().Add(-unassignedFor)
		n, more, err := count(incident.Filter{Status: incident.Open, WorkOf: p.OrgSlug, Assignee: "none", CreatedBefore: &before})
		if err != nil {
			return err
		}
		v.Cards = append(v.Cards, hygieneCard{Key: "admin.card.unassigned", Count: n, More: more, Href: "/queue?tab=unassigned&status=open", Link: "admin.card.unassigned_link"})
		atRisk.WorkOf, atRiskHref = p.OrgSlug, "/queue?tab=at_risk&status=open"
	}
	// Incidents nobody coordinates an hour after their report: routing
	// found no CERT, or its job has not run.
	before := u.now().Add(-unassignedFor)
	n, more, err := count(incident.Filter{Status: incident.Open, CoordinatingOrg: incident.NoOrg, CreatedBefore: &before})
	if err != nil {
		return err
	}
	v.Cards = append(v.Cards, hygieneCard{Key: "admin.card.uncoordinated", Count: n, More: more,
		Href: "/incidents?" + url.Values{"status": {"open"}, "coordinating_org": {incident.NoOrg},
			"created_before": {before.UTC().Format(time.RFC3339)}}.Encode(), Link: "admin.card.uncoordinated_link"})
	n, more, err = count(atRisk)
	if err != nil {
		return err
	}
	v.Cards = append(v.Cards, hygieneCard{Key: "admin.card.at_risk", Count: n, More: more, Href: atRiskHref, Link: "admin.card.at_risk_link"})
	// Failed notification deliveries of the last days, of the incidents
	// the administrator may see (the delivery log, newest first).
	failed, _, err := u.o.Notify.Deliveries(ctx, p, notify.DeliveryQuery{State: notify.Failed}, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return err
	}
	since, recent := u.now().Add(-failedWithin), 0
	for _, n := range failed {
		if n.CreatedAt.After(since) {
			recent++
		}
	}
	v.Cards = append(v.Cards, hygieneCard{Key: "admin.card.failed", Count: recent, More: recent >= incident.MaxLimit,
		Href: "/admin/deliveries?state=failed", Link: "admin.card.failed_link"})
	pg := u.newPage(c, "admin", "admin.title")
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

// managedOrg is the organisation slug of the request when p manages it;
// the 404 otherwise.
func (u *UI) managedOrg(c echo.Context, p access.Principal) (*org.Organization, error) {
	return u.o.Orgs.GetManaged(c.Request().Context(), p.OrgActor(), c.Param("slug"))
}

// adminFormErrors turns a domain error with field errors (invalid, or a
// conflict naming a field such as a slug or an e-mail taken) into the
// form's errors, each message from the catalogue:
// "admin.error.<area><field>.<rule>", else "admin.error.<area><field>",
// else "admin.error.invalid" (area is "" or a form's prefix such as
// "team."). rename maps a domain field to the form's field id where they
// differ. Other errors are returned as they are.
func (u *UI) adminFormErrors(l interface{ T(string, ...any) string }, err error, area string, rename map[string]string) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || (e.Code != apperr.Invalid && e.Code != apperr.Conflict) || len(e.Fields) == 0 {
		return nil, err
	}
	var out []fieldError
	for _, f := range e.Fields {
		field := f.Field
		if r, ok := rename[field]; ok {
			field = r
		}
		key := "admin.error." + area + f.Field + "." + f.Rule
		if !u.o.Catalogue.Has(key) {
			key = "admin.error." + area + f.Field
		}
		if !u.o.Catalogue.Has(key) {
			key = "admin.error.invalid"
		}
		if findFieldError(out, field) == nil {
			out = append(out, fieldError{Field: field, Message: l.T(key)})
		}
	}
	return out, nil
}

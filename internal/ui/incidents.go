package ui

import (
	"html/template"
	"net/http"
	"slices"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// incidentsPageSize is the length of a page of the incident list.
const incidentsPageSize = 50

// incidentRow is one line of the incident list.
type incidentRow struct {
	Reference    string
	Title        string
	TLP          incident.TLP
	Severity     incident.Severity
	Stage        incident.Stage
	Closed       bool
	ReportingOrg string
	UpdatedAt    template.HTML
}

// incidentsView is the data of the incident list.
type incidentsView struct {
	Rows  []incidentRow
	Next  string // the next page's cursor
	Paged bool   // this is not the first page
	// Filter is the list's filters as a query ("" for none: every
	// incident); the pager's links keep it (incidents_filter.go).
	Filter template.URL
	// MayImport: the person may create incidents, so the page links to
	// the MISP import (misp_import.go).
	MayImport bool
}

// incidents lists the incidents the person may see, most recently
// updated first, a page at a time (keyset pagination: no counting). For
// now every role lands here.
func (u *UI) incidents(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	after := c.QueryParam("after")
	filter, kept, err := listFilter(c)
	if err != nil {
		return err
	}
	list, next, err := u.o.Incidents.List(ctx, cur.Principal, filter, incident.Page{After: after, Limit: incidentsPageSize})
	if apperr.CodeOf(err) == apperr.Invalid && after != "" {
		return c.Redirect(http.StatusSeeOther, "/incidents") // a stale or edited cursor: start again
	} else if err != nil {
		return err
	}
	names, err := u.orgNames(c, cur.Principal, list)
	if err != nil {
		return err
	}
	p := u.newPage(c, "incidents", "incidents.title")
	v := incidentsView{Rows: make([]incidentRow, 0, len(list)), Next: next, Paged: after != "", Filter: template.URL(kept.Encode()),
		MayImport: cur.Principal.Can(access.CreateIncident)}
	for i := range list {
		inc := &list[i]
		v.Rows = append(v.Rows, incidentRow{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Severity: inc.Severity,
			Stage: inc.Stage, Closed: inc.Status == incident.Closed, ReportingOrg: orgName(names, inc.ReportingOrgID, inc.ReportingOrgSlug),
			UpdatedAt: p.L.WhenTime(inc.UpdatedAt)})
		p.TLP = stricter(p.TLP, inc.TLP)
	}
	p.TLPList = true
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// orgNames reads the names of the organisations the incidents mention,
// in one query.
func (u *UI) orgNames(c echo.Context, p access.Principal, incs []incident.Incident) (map[uuid.UUID]org.Organization, error) {
	var ids []uuid.UUID
	for i := range incs {
		ids = append(ids, incs[i].ReportingOrgID)
		if incs[i].CoordinatingOrgID != nil {
			ids = append(ids, *incs[i].CoordinatingOrgID)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return u.o.Orgs.Names(c.Request().Context(), orgActor(p), slices.Compact(ids))
}

// orgName is an organisation's name, or its slug when the person may not
// see it in the directory (a partner looking at a city).
func orgName(names map[uuid.UUID]org.Organization, id uuid.UUID, slug string) string {
	if o, ok := names[id]; ok {
		return o.Name
	}
	return slug
}

// orgActor is the principal as the directory service sees it.
func orgActor(p access.Principal) org.Actor {
	return org.Actor{UserID: p.UserIDPtr(), Name: p.Name(), OrgID: p.OrgID, OrgKind: p.OrgKind,
		Admin: p.Can(access.ManageOrgs), System: p.System, RemoteAddr: p.RemoteAddr}
}

// stricter returns the more restrictive of two TLP labels ("" is none).
func stricter(a, b incident.TLP) incident.TLP {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if slices.Index(incident.TLPs, b) < slices.Index(incident.TLPs, a) {
		return b
	}
	return a
}

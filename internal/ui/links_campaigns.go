package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// campaignsView is the data of the campaign view: the observables the
// person sees on incidents of two or more reporting organisations, each
// with those incidents (linking.Service.Campaigns: only what the person
// may see).
type campaignsView struct {
	Campaigns []campaignView
}

type campaignView struct {
	Type      string
	Value     string
	Orgs      int
	Incidents []campaignRow
}

type campaignRow struct {
	Reference string
	Title     string
	TLP       incident.TLP
	Org       string
	Status    string
}

// campaigns shows the campaign view.
func (u *UI) campaigns(c echo.Context) error {
	p := u.newPage(c, "campaigns", "links.campaigns.title")
	cs, err := u.o.Links.Campaigns(c.Request().Context(), current(c).Principal, 0)
	if err != nil {
		return err
	}
	var v campaignsView
	for _, cp := range cs {
		cv := campaignView{Type: cp.Type, Value: cp.Value}
		orgs := map[string]bool{}
		for _, ci := range cp.Incidents {
			orgs[ci.ReportingOrg] = true
			cv.Incidents = append(cv.Incidents, campaignRow{Reference: ci.Reference, Title: ci.Title, TLP: ci.TLP, Org: ci.ReportingOrgName,
				Status: statusLabel(p.L, ci.Stage, ci.Status)})
		}
		cv.Orgs = len(orgs)
		v.Campaigns = append(v.Campaigns, cv)
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

package ui

import (
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// tlpConfirmView is the page that spells out what a TLP change does
// before it is made: who gains sight of the incident and who loses it.
type tlpConfirmView struct {
	Reference string
	Title     string
	From, To  incident.TLP
	Version   int64
	Gains     []string
	Loses     []string
	Notes     []string // what else follows (TLP:RED names you; TLP:CLEAR may be published)
}

// tlpAudiences are who sees an incident under each label (docs/design.md,
// "Visibility"), widest last: each label's audience is its own and the
// stricter labels' before it.
var tlpAudiences = map[incident.TLP][]string{
	incident.TLPRed:         {"participants"},
	incident.TLPAmberStrict: {"participants", "reporting", "coordinating"},
	incident.TLPAmber:       {"participants", "reporting", "coordinating", "certs_above", "shared"},
	incident.TLPGreen:       {"participants", "reporting", "coordinating", "certs_above", "shared", "partners"},
	incident.TLPClear:       {"participants", "reporting", "coordinating", "certs_above", "shared", "partners", "public"},
}

// workbenchTLP shows what changing the incident's TLP to ?tlp= would do,
// with the button that does it. The same label, or an unknown one, comes
// back on the incident page with the error.
func (u *UI) workbenchTLP(c echo.Context) error {
	cur := current(c)
	inc, err := u.o.Incidents.Get(c.Request().Context(), cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	if err := cur.Principal.RequireWrite(access.UpdateIncident, inc.Relations); err != nil {
		return err
	}
	form := workbenchForm{TLP: c.QueryParam("tlp")}
	to, ok := incident.ParseTLP(form.TLP)
	if !ok {
		return u.workbenchAnswer(c, apperr.Fields{{Field: "tlp", Rule: "enum", Message: "choose a label"}}.Err(), "tlp", form,
			map[string]string{"tlp": "wb-tlp"}, "wb-tlp")
	}
	if to == inc.TLP {
		return u.workbenchAnswer(c, apperr.Fields{{Field: "tlp", Rule: "same", Message: "choose another label"}}.Err(), "tlp", form,
			map[string]string{"tlp": "wb-tlp"}, "wb-tlp")
	}
	version := inc.Version
	if n, err := strconv.ParseInt(c.QueryParam("version"), 10, 64); err == nil && n > 0 {
		version = n // the version the choice was made on: a change meanwhile is reported when confirming
	}
	names, err := u.orgNames(c, cur.Principal, []incident.Incident{*inc})
	if err != nil {
		return err
	}
	p := u.newPage(c, "workbench_tlp", "workbench.tlp.page_title", inc.Reference)
	p.TLP = incident.StricterTLP(inc.TLP, to)
	l := p.L
	reporting := orgName(names, inc.ReportingOrgID, inc.ReportingOrgSlug)
	coordinating := ""
	if inc.CoordinatingOrgID != nil {
		coordinating = orgName(names, *inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	v := tlpConfirmView{Reference: inc.Reference, Title: inc.Title, From: inc.TLP, To: to, Version: version}
	v.Gains = audienceWords(l, tlpAudiences[to], tlpAudiences[inc.TLP], reporting, coordinating)
	v.Loses = audienceWords(l, tlpAudiences[inc.TLP], tlpAudiences[to], reporting, coordinating)
	if to == incident.TLPRed {
		v.Notes = append(v.Notes, l.T("workbench.tlp.note.red"))
	}
	if to == incident.TLPClear {
		v.Notes = append(v.Notes, l.T("workbench.tlp.note.clear"))
	}
	if to.LooserThan(inc.TLP) {
		v.Notes = append(v.Notes, l.T("workbench.tlp.note.looser"))
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// audienceWords names, in words, the audiences of in that are not in
// but: the groups that gain (or lose) sight of the incident.
func audienceWords(l i18n.Locale, in, but []string, reporting, coordinating string) []string {
	has := map[string]bool{}
	for _, a := range but {
		has[a] = true
	}
	var out []string
	for _, a := range in {
		if has[a] {
			continue
		}
		switch a {
		case "reporting":
			out = append(out, l.T("workbench.tlp.who.reporting", reporting))
		case "coordinating":
			if coordinating == "" || coordinating == reporting {
				continue
			}
			out = append(out, l.T("workbench.tlp.who.coordinating", coordinating))
		default:
			out = append(out, l.T("workbench.tlp.who."+a))
		}
	}
	return out
}

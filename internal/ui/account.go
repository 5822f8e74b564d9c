package ui

import (
	"net/http"
	"slices"

	"github.com/certdesk/certdesk/internal/settings"
	"github.com/labstack/echo/v4"
)

// accountView is the data of the account page.
type accountView struct {
	Languages   []langChoice
	Zones       []zoneChoice
	Themes      []themeChoice
	OrgTimeZone string
}

type zoneChoice struct {
	Name     string
	Selected bool
}

type themeChoice struct {
	Code     settings.Theme
	Selected bool
}

// account shows who the person is and their settings: language, time
// zone, theme.
func (u *UI) account(c echo.Context) error {
	cur := current(c)
	p := u.newPage(c, "account", "account.title")
	if c.QueryParam("saved") == "1" {
		p.Notice = p.L.T("settings.saved")
	}
	if c.QueryParam("password") == "changed" {
		p.Notice = p.L.T("password.changed")
	}
	p.Data = u.accountView(cur.Settings, cur.OrgTimeZone)
	return u.render(c, http.StatusOK, p)
}

// accountView lists the choices with s selected.
func (u *UI) accountView(s settings.Settings, orgZone string) accountView {
	v := accountView{OrgTimeZone: orgZone}
	for _, code := range u.o.Catalogue.Languages() {
		v.Languages = append(v.Languages, langChoice{Code: code, Name: u.o.Catalogue.Printer(code).T("language.name"),
			Selected: code == s.Language})
	}
	zones := slices.Clone(timeZones)
	for _, z := range []string{orgZone, s.TimeZone} {
		if z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	slices.Sort(zones)
	for _, z := range zones {
		v.Zones = append(v.Zones, zoneChoice{Name: z, Selected: z == s.TimeZone})
	}
	for _, t := range settings.Themes {
		v.Themes = append(v.Themes, themeChoice{Code: t, Selected: t == s.Theme})
	}
	return v
}

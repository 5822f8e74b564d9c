package ui

import (
	"net/http"
	"slices"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/labstack/echo/v4"
)

// accountView is the data of the account page.
type accountView struct {
	Languages   []langChoice
	Zones       []zoneChoice
	Themes      []themeChoice
	OrgTimeZone string
	// Shortcuts are the choices of the single-key shortcuts: the role's
	// default (saying which it is), on, off. Value "default" stands for
	// settings.RoleDefault.
	Shortcuts []choice
	// Email are the choices of notifications by e-mail (off, on), offered
	// only when certdesk sends e-mail (docs/email.md); nil otherwise.
	Email []choice
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
	p.Data = u.accountView(p.L, cur, cur.Settings)
	return u.render(c, http.StatusOK, p)
}

// accountView lists the choices with s selected.
func (u *UI) accountView(l i18n.Locale, cur *session.Current, s settings.Settings) accountView {
	orgZone := cur.OrgTimeZone
	v := accountView{OrgTimeZone: orgZone}
	def := "settings.shortcuts_default_off"
	if (settings.Settings{}).ShortcutsFor(cur.Principal.Role, cur.Principal.OrgKind.IsCERT()) {
		def = "settings.shortcuts_default_on"
	}
	v.Shortcuts = []choice{
		{Value: "default", Label: l.T(def), Selected: s.Shortcuts == settings.RoleDefault},
		{Value: string(settings.ShortcutsOn), Label: l.T("settings.shortcuts_on"), Selected: s.Shortcuts == settings.ShortcutsOn},
		{Value: string(settings.ShortcutsOff), Label: l.T("settings.shortcuts_off"), Selected: s.Shortcuts == settings.ShortcutsOff},
	}
	if u.o.Notify.EmailEnabled() {
		v.Email = []choice{
			{Value: "off", Label: l.T("settings.email_off"), Selected: !s.Email},
			{Value: "on", Label: l.T("settings.email_on"), Selected: s.Email},
		}
	}
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

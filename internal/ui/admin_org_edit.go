package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// adminOrgEdit shows the form to change an organisation the
// administrator manages: name, sector, chat channel, contacts, time zone.
func (u *UI) adminOrgEdit(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	f := orgForm{Slug: o.Slug, Name: o.Name, Kind: string(o.Kind), Parent: o.ParentSlug, Sector: o.Sector, ChatChannel: o.ChatChannel,
		ContactEmail: o.ContactEmail, ContactPhone: o.ContactPhone, TimeZone: o.TimeZone}
	v, err := u.orgFormView(c, p, f, o)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_org_form", "admin.org_edit.title", o.Name)
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

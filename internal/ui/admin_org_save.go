package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// adminOrgSave changes an organisation the administrator manages
// (org.Service.Update); another organisation is the 404 page and changes
// nothing.
func (u *UI) adminOrgSave(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	f := readOrgForm(c)
	f.Slug, f.Kind, f.Parent = o.Slug, string(o.Kind), o.ParentSlug
	_, err = u.o.Orgs.Update(c.Request().Context(), p.OrgActor(), o.Slug, org.Patch{Name: &f.Name, Sector: &f.Sector,
		ChatChannel: &f.ChatChannel, ContactEmail: &f.ContactEmail, ContactPhone: &f.ContactPhone, TimeZone: &f.TimeZone})
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/organisations?done=saved")
	}
	pg := u.newPage(c, "admin_org_form", "admin.org_edit.title", o.Name)
	if pg.Errors, err = u.adminFormErrors(pg.L, err, "", nil); err != nil {
		return err
	}
	v, err := u.orgFormView(c, p, f, o)
	if err != nil {
		return err
	}
	pg.Data = v
	return u.render(c, http.StatusUnprocessableEntity, pg)
}

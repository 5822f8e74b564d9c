package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// adminOrgCreate adds the organisation of the form (org.Service.Create,
// which decides whether the administrator may create it there) and goes
// on to its users; errors come back beside the fields.
func (u *UI) adminOrgCreate(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	f := readOrgForm(c)
	o := &org.Organization{Slug: f.Slug, Name: f.Name, Kind: org.Kind(f.Kind), Sector: f.Sector, ChatChannel: f.ChatChannel,
		ContactEmail: f.ContactEmail, ContactPhone: f.ContactPhone, TimeZone: f.TimeZone}
	err = u.o.Orgs.Create(c.Request().Context(), p.OrgActor(), o, f.Parent)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.Slug+"/users?done=org_created")
	}
	pg := u.newPage(c, "admin_org_form", "admin.org_new.title")
	if pg.Errors, err = u.adminFormErrors(pg.L, err, "", nil); err != nil {
		return err
	}
	v, err := u.orgFormView(c, p, f, nil)
	if err != nil {
		return err
	}
	pg.Data = v
	return u.render(c, http.StatusUnprocessableEntity, pg)
}

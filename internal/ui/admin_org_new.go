package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// orgForm is what the organisation forms send, kept as typed.
type orgForm struct {
	Slug, Name, Kind, Parent, Sector, ChatChannel, ContactEmail, ContactPhone, TimeZone string
}

// readOrgForm reads the organisation form of the request.
func readOrgForm(c echo.Context) orgForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return orgForm{Slug: v("slug"), Name: v("name"), Kind: v("kind"), Parent: v("parent"), Sector: v("sector"),
		ChatChannel: v("chat_channel"), ContactEmail: v("contact_email"), ContactPhone: v("contact_phone"), TimeZone: v("time_zone")}
}

type adminOrgFormView struct {
	Form    orgForm
	New     bool
	Org     *org.Organization // the organisation changed; nil for a new one
	Kinds   []choice
	Parents []choice
	Sectors []choice
	Zones   []choice
}

// creatableKinds are the kinds an administrator creates below a CERT
// (national CERTs and partners are the operator's).
var creatableKinds = []org.Kind{org.LocalAuthority, org.Operator, org.RegionalCERT}

// orgFormView fills the choices of the organisation form for p.
func (u *UI) orgFormView(c echo.Context, p access.Principal, f orgForm, o *org.Organization) (*adminOrgFormView, error) {
	l := u.locale(c)
	v := &adminOrgFormView{Form: f, New: o == nil, Org: o}
	if o == nil {
		orgs, err := u.o.Orgs.ManagedOrgs(c.Request().Context(), p.OrgActor())
		if err != nil {
			return nil, err
		}
		for _, x := range orgs {
			if x.Kind.IsCERT() {
				v.Parents = append(v.Parents, choice{Value: x.Slug, Label: x.Name, Selected: x.Slug == f.Parent})
			}
		}
		for _, k := range creatableKinds {
			v.Kinds = append(v.Kinds, choice{Value: string(k), Label: l.T("admin.kind." + string(k)), Selected: string(k) == f.Kind})
		}
	}
	v.Sectors = append(v.Sectors, choice{Value: "", Label: l.T("admin.sector.none"), Selected: f.Sector == ""})
	for _, s := range org.Sectors {
		v.Sectors = append(v.Sectors, choice{Value: s, Label: l.T("admin.sector." + strings.ReplaceAll(s, "-", "_")), Selected: s == f.Sector})
	}
	zones := timeZones
	if f.TimeZone != "" && !containsString(zones, f.TimeZone) {
		zones = append([]string{f.TimeZone}, zones...)
	}
	for _, z := range zones {
		v.Zones = append(v.Zones, choice{Value: z, Label: z, Selected: z == f.TimeZone})
	}
	return v, nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// adminOrgNew shows the form to add an organisation below a CERT the
// administrator manages (?parent= preselects it; the parent's time zone
// is the default).
func (u *UI) adminOrgNew(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	f := orgForm{Kind: string(org.LocalAuthority), Parent: c.QueryParam("parent"), TimeZone: current(c).OrgTimeZone}
	if f.Parent == "" {
		f.Parent = p.OrgSlug
	}
	if parent, err := u.o.Orgs.GetManaged(c.Request().Context(), p.OrgActor(), f.Parent); err == nil {
		f.TimeZone = parent.TimeZone
	}
	v, err := u.orgFormView(c, p, f, nil)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_org_form", "admin.org_new.title")
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

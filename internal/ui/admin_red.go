package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// redCandidate is a user of the CERT on the TLP:RED recipients form.
type redCandidate struct {
	Email, Name, Role string
	Checked           bool
	// Inactive: designated, but receives nothing now (disabled, or in a
	// role that may not acknowledge).
	Inactive bool
}

type adminRedView struct {
	Org        *org.Organization
	IsCERT     bool
	Candidates []redCandidate
	// Reach is whom a TLP:RED incident the CERT coordinates names now,
	// and Source why (designated, its coordinators, nobody).
	Reach  []string
	Source string
	// Inactive lists designated users who receive nothing now.
	Inactive []string
}

// redRoleOK reports whether a user of role may receive TLP:RED
// incidents (those who may acknowledge).
func redRoleOK(r access.Role) bool {
	return r == access.Responder || r == access.Coordinator || r == access.Admin
}

// redView builds the TLP:RED recipients page of o for p; checked, when
// not nil, are the e-mail addresses a form that came back had ticked.
func (u *UI) redView(c echo.Context, p access.Principal, o *org.Organization, checked []string) (*adminRedView, error) {
	v := &adminRedView{Org: o, IsCERT: o.Kind.IsCERT()}
	if !v.IsCERT {
		return v, nil
	}
	ctx := c.Request().Context()
	r, err := u.o.Incidents.RedRecipients(ctx, p, o.Slug)
	if err != nil {
		return nil, err
	}
	v.Source = string(r.Source)
	for _, x := range r.Recipients {
		v.Reach = append(v.Reach, x.Display())
	}
	designated := map[string]bool{}
	for _, d := range r.Designated {
		designated[strings.ToLower(d.Email)] = true
	}
	isChecked := func(email string) bool {
		if checked != nil {
			return slices.ContainsFunc(checked, func(e string) bool { return strings.EqualFold(e, email) })
		}
		return designated[strings.ToLower(email)]
	}
	users, err := u.o.Identity.Users(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, x := range users {
		if x.OrgID != o.ID {
			continue
		}
		active := x.DisabledAt == nil && redRoleOK(x.Role)
		if !active && !designated[strings.ToLower(x.Email)] {
			continue
		}
		name := x.Name
		if name == "" {
			name = x.Email
		}
		v.Candidates = append(v.Candidates, redCandidate{Email: x.Email, Name: name, Role: string(x.Role),
			Checked: isChecked(x.Email), Inactive: !active})
		if !active {
			v.Inactive = append(v.Inactive, name)
		}
	}
	return v, nil
}

// adminRed shows a CERT's TLP:RED recipients (incident.Service.RedRecipients)
// with the form that designates them; for another kind of organisation,
// that only CERTs designate them.
func (u *UI) adminRed(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	v, err := u.redView(c, p, o, nil)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_red", "admin.red.title", o.Name)
	if c.QueryParam("done") == "saved" {
		pg.Notice = pg.L.T("admin.red.saved")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

// adminRedSave designates the ticked users as the CERT's TLP:RED
// recipients (incident.Service.SetRedRecipients, which checks each).
func (u *UI) adminRedSave(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return echo.ErrBadRequest
	}
	emails := c.Request().PostForm["recipients"]
	if emails == nil {
		emails = []string{}
	}
	_, err = u.o.Incidents.SetRedRecipients(c.Request().Context(), p, o.Slug, emails)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.Slug+"/red-recipients?done=saved")
	}
	pg := u.newPage(c, "admin_red", "admin.red.title", o.Name)
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		// recipients[i] is one ticked box; the form has one field.
		fields := make([]apperr.FieldError, len(e.Fields))
		for i, f := range e.Fields {
			f.Field = "recipients"
			fields[i] = f
		}
		err = &apperr.Error{Code: e.Code, Message: e.Message, Fields: fields}
	}
	if pg.Errors, err = u.adminFormErrors(pg.L, err, "", nil); err != nil {
		return err
	}
	v, err := u.redView(c, p, o, emails)
	if err != nil {
		return err
	}
	pg.Data = v
	return u.render(c, http.StatusUnprocessableEntity, pg)
}

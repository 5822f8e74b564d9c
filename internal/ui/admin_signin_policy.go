package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// signInPolicyView is the data of an organisation's sign-in policy page.
type signInPolicyView struct {
	Org          *org.Organization
	SecondFactor string
	Modes        []string // the choices of SecondFactor, in order
	Roles        []roleChoice
	PasskeyAlone bool
	StepUp       string
	UpdatedBy    string
	UpdatedAt    string
}

// roleChoice is one role's checkbox.
type roleChoice struct {
	Value   string
	Checked bool
}

func signInPolicyOf(o *org.Organization, p session.Policy, stepUp string) signInPolicyView {
	v := signInPolicyView{Org: o, SecondFactor: string(p.SecondFactor),
		Modes: []string{string(session.RequireOptional), string(session.RequireAll), string(session.RequireRoles)}, PasskeyAlone: p.PasskeyAlone, StepUp: stepUp,
		UpdatedBy: p.UpdatedBy}
	for _, r := range access.Roles {
		v.Roles = append(v.Roles, roleChoice{Value: string(r), Checked: slices.Contains(p.Roles, r)})
	}
	return v
}

// adminSignInPolicy shows an organisation's sign-in policy: second factor
// optional, required for all or for given roles; passkeys without a
// password; step-up minutes. For its administrators and those of the
// organisations above it (the scope of its other settings); others find
// no such page.
func (u *UI) adminSignInPolicy(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return outOfScope(err)
	}
	pol, err := u.o.Sessions.PolicyOf(c.Request().Context(), p, o.ID)
	if err != nil {
		return outOfScope(err)
	}
	pg := u.newPage(c, "admin_signin_policy", "factors.policy.title", o.Name)
	if c.QueryParam("saved") == "1" {
		pg.Notice = pg.L.T("factors.policy.saved")
	}
	v := signInPolicyOf(o, pol, strconv.Itoa(pol.StepUpMinutes))
	if pol.UpdatedAt != nil {
		v.UpdatedAt = pg.L.DateTime(*pol.UpdatedAt)
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

// adminSignInPolicySave saves the policy (audited); errors come back on
// their fields.
func (u *UI) adminSignInPolicySave(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return outOfScope(err)
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	pol := session.DefaultPolicy(o.ID)
	pol.SecondFactor = session.Requirement(form.Get("second_factor"))
	for _, r := range form["roles"] {
		pol.Roles = append(pol.Roles, access.Role(r))
	}
	pol.PasskeyAlone = form.Get("passkey_alone") == "1"
	stepUp := strings.TrimSpace(form.Get("step_up_minutes"))
	pol.StepUpMinutes, _ = strconv.Atoi(stepUp)
	if err := u.o.Sessions.SavePolicy(c.Request().Context(), p, pol); err != nil {
		pg := u.newPage(c, "admin_signin_policy", "factors.policy.title", o.Name)
		if pg.Errors, err = u.adminFormErrors(pg.L, outOfScope(err), "factors.", nil); err != nil {
			return err
		}
		pg.Data = signInPolicyOf(o, pol, stepUp)
		return u.render(c, http.StatusUnprocessableEntity, pg)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.Slug+"/sign-in?saved=1")
}

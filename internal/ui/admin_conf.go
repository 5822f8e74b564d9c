package ui

import (
	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// The administration's configuration and logs (docs/ui.md,
// "Administration: configuration and logs"): an organisation's escalation
// policy and webhook, the notification delivery log and the audit log.
// Each page asks the role matrix first (a person whose role may not
// administer gets the refusal every page gives), then the service with
// the principal: an organisation the administrator does not manage
// answers as one that does not exist.

// confLink is one entry of the pages' own sub-navigation.
type confLink struct {
	Key     string
	Href    string
	Current bool
}

// confLinks are the links between the configuration and log pages for p.
func confLinks(p access.Principal, current string) []confLink {
	out := []confLink{
		{Key: "adminconf.nav.policy", Href: "/admin/organisations/" + p.OrgSlug + "/escalation-policy"},
		{Key: "adminconf.nav.webhook", Href: "/admin/organisations/" + p.OrgSlug + "/webhook"},
		{Key: "adminconf.nav.deliveries", Href: "/admin/deliveries"},
	}
	if p.Can(access.ReadAudit) {
		out = append(out, confLink{Key: "adminconf.nav.audit", Href: "/admin/audit"})
	}
	for i := range out {
		out[i].Current = out[i].Href == current
	}
	return out
}

// requireAdmin refuses a person whose role may not manage organisations
// (the 403 page "You cannot do this").
func requireAdmin(c echo.Context) (access.Principal, error) {
	p := current(c).Principal
	if err := p.Require(access.ManageOrgs); err != nil {
		return p, err
	}
	return p, nil
}

// outOfScope turns the services' "forbidden" for an organisation the
// administrator does not manage into "not found": after requireAdmin the
// role is not the reason, so another organisation's page answers as one
// that does not exist.
func outOfScope(err error) error {
	if apperr.Is(err, apperr.Forbidden) {
		return apperr.New(apperr.NotFound, "organisation not found")
	}
	return err
}

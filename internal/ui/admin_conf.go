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

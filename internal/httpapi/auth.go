package httpapi

import (
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

const principalKey = "certdesk.principal"

// authenticate requires a valid bearer token and stores the principal it
// belongs to. It is the one place where a request gets an identity.
func (h *handlers) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return identity.ErrUnauthenticated
		}
		p, err := h.o.Identity.Authenticate(c.Request().Context(), strings.TrimSpace(token), c.RealIP())
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// principal returns who makes the request. Routes without authenticate
// never call it.
func principal(c echo.Context) access.Principal {
	p, _ := c.Get(principalKey).(access.Principal)
	return p
}

// callerKey scopes idempotency keys to one user.
func callerKey(c echo.Context) string {
	return "user:" + principal(c).UserID.String()
}

package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// helpView is the data of the help page.
type helpView struct {
	CERT *certContact // nil when signed out or when no CERT is above
	Idle string
}

type certContact struct {
	Name, Email, Phone, PhoneURI string
}

// help shows whom to call: the CERT responsible for the person's
// organisation, with its telephone number and e-mail address. Signed out,
// the page says to sign in or ask the organisation's administrator: the
// directory is not shown to strangers.
func (u *UI) help(c echo.Context) error {
	p := u.newPage(c, "help", "help.title")
	v := helpView{Idle: p.L.Duration(u.o.Sessions.IdleTimeout())}
	if cur := current(c); cur != nil {
		o, err := u.o.Orgs.ResponsibleCERT(c.Request().Context(), orgActor(cur.Principal))
		switch {
		case err == nil:
			v.CERT = &certContact{Name: o.Name, Email: o.ContactEmail, Phone: o.ContactPhone, PhoneURI: telURI(o.ContactPhone)}
		case apperr.Is(err, apperr.NotFound):
		default:
			return err
		}
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// telURI is a tel: number without the spaces and separators people write
// ("+49 30 1234-5678" → "+493012345678").
func telURI(phone string) string {
	var b strings.Builder
	for i, r := range phone {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

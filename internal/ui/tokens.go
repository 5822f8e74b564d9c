package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// tokenLifetimes are the lifetimes the token form offers, in days
// (identity.MaxTokenLifetime bounds them; 90 is the API's default).
var tokenLifetimes = []int{30, 90, 180, 365}

// tokenRow is one API token on the tokens page.
type tokenRow struct {
	ID, Name, Prefix string
	Created          string
	Expires          string
	LastUsed         string
	Revoked          string
	Active           bool
}

type tokensView struct {
	Rows      []tokenRow
	Name      string
	Days      []choice
	NewToken  string // the token just created, shown once
	NewName   string
	NewExpiry string
}

// tokensPage renders the person's API tokens (identity.Service.Tokens)
// and the form that creates one.
func (u *UI) tokensPage(c echo.Context, status int, errs []fieldError, name string, days int, created string, t *identity.Token) error {
	cur := current(c)
	list, err := u.o.Identity.Tokens(c.Request().Context(), cur.Principal)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "tokens", "tokens.title")
	pg.Errors = errs
	if c.QueryParam("done") == "revoked" {
		pg.Notice = pg.L.T("tokens.revoked")
	}
	v := tokensView{Name: name}
	for _, d := range tokenLifetimes {
		v.Days = append(v.Days, choice{Value: strconv.Itoa(d), Label: pg.L.T("tokens.days", d), Selected: d == days})
	}
	now := u.now()
	for _, t := range list {
		r := tokenRow{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Created: pg.L.DateTime(t.CreatedAt),
			Active: t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))}
		if t.ExpiresAt != nil {
			r.Expires = pg.L.DateTime(*t.ExpiresAt)
		}
		if t.LastUsedAt != nil {
			r.LastUsed = pg.L.DateTime(*t.LastUsedAt)
		}
		if t.RevokedAt != nil {
			r.Revoked = pg.L.DateTime(*t.RevokedAt)
		}
		v.Rows = append(v.Rows, r)
	}
	if t != nil {
		v.NewToken, v.NewName = created, t.Name
		if t.ExpiresAt != nil {
			v.NewExpiry = pg.L.DateTime(*t.ExpiresAt)
		}
		pg.Notice = pg.L.T("tokens.created")
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
	}
	pg.Data = v
	return u.render(c, status, pg)
}

// tokens lists the person's own API tokens (every role has them).
func (u *UI) tokens(c echo.Context) error {
	return u.tokensPage(c, http.StatusOK, nil, "", 90, "", nil)
}

// tokenCreate creates an API token for the person
// (identity.Service.CreateToken) and shows it once.
func (u *UI) tokenCreate(c echo.Context) error {
	cur := current(c)
	name := c.FormValue("name")
	days, err := strconv.Atoi(c.FormValue("days"))
	if err != nil || days <= 0 {
		l := u.locale(c)
		return u.tokensPage(c, http.StatusUnprocessableEntity, []fieldError{{Field: "days", Message: l.T("tokens.error.days")}}, name, 90, "", nil)
	}
	exp := u.now().Add(time.Duration(days) * 24 * time.Hour)
	plain, t, err := u.o.Identity.CreateToken(c.Request().Context(), cur.Principal, cur.Principal.UserID, name, &exp)
	if err != nil {
		errs, err := u.adminFormErrors(u.locale(c), err, "token.", map[string]string{"expires_at": "days"})
		if err != nil {
			return err
		}
		return u.tokensPage(c, http.StatusUnprocessableEntity, errs, name, days, "", nil)
	}
	return u.tokensPage(c, http.StatusOK, nil, "", 90, plain, t)
}

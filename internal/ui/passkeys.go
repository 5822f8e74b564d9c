package ui

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// passkeyRow is one passkey on /account/passkeys.
type passkeyRow struct {
	Key      string
	Name     string
	Created  template.HTML
	LastUsed template.HTML // "" when never used
	Editing  bool          // the rename form came back with an error
	Error    string
}

type passkeysView struct {
	Rows        []passkeyRow
	DefaultName string // the name the add form suggests: the browser and system
	Available   bool   // the base URL has a host name (WebAuthn allows no IP addresses)
}

// passkeys lists the person's passkeys, with a form that adds one (run by
// web/static/passkey.js), and for each a rename form and a remove button.
func (u *UI) passkeys(c echo.Context) error {
	return u.passkeysPage(c, http.StatusOK, "", "")
}

// passkeysPage renders /account/passkeys; badKey names a passkey whose
// rename failed with message.
func (u *UI) passkeysPage(c echo.Context, status int, badKey, message string) error {
	cur := current(c)
	list, err := u.o.Passkeys.List(c.Request().Context(), cur.Principal)
	if err != nil {
		return err
	}
	p := u.newPage(c, "passkeys", "passkeys.title")
	switch {
	case c.QueryParam("added") == "1":
		p.Notice = p.L.T("passkeys.added")
	case c.QueryParam("renamed") == "1":
		p.Notice = p.L.T("passkeys.renamed")
	case c.QueryParam("removed") == "1":
		p.Notice = p.L.T("passkeys.removed")
	}
	v := passkeysView{Available: u.o.Passkeys.Available(), DefaultName: p.L.T("passkeys.default_name")}
	if name, system := describeBrowser(c.Request().UserAgent()); name != "" && system != "" {
		v.DefaultName = p.L.T("sessions.browser_on", name, system)
	} else if name != "" {
		v.DefaultName = name
	}
	for _, k := range list {
		r := passkeyRow{Key: k.Key(), Name: k.Name, Created: p.L.WhenTime(k.CreatedAt)}
		if k.LastUsedAt != nil {
			r.LastUsed = p.L.WhenTime(*k.LastUsedAt)
		}
		if r.Key == badKey {
			r.Editing, r.Error = true, message
			p.Errors = append(p.Errors, fieldError{Field: "name-" + r.Key, Message: message})
		}
		v.Rows = append(v.Rows, r)
	}
	p.Data = v
	return u.render(c, status, p)
}

// passkeyRename renames one of the person's passkeys (a form; another
// person's passkey is 404).
func (u *UI) passkeyRename(c echo.Context) error {
	cur := current(c)
	id, err := passkey.ParseKey(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	err = u.o.Passkeys.Rename(c.Request().Context(), cur.Principal, id, c.FormValue("name"))
	if apperr.Is(err, apperr.Invalid) {
		l := u.locale(c)
		msg := l.T("passkeys.error.name_missing")
		if c.FormValue("name") != "" {
			msg = l.T("passkeys.error.name_long", passkey.MaxName)
		}
		return u.passkeysPage(c, http.StatusUnprocessableEntity, c.Param("id"), msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/passkeys?renamed=1")
}

// passkeyRemove removes one of the person's passkeys: the session is all
// it asks for (another person's passkey is 404).
func (u *UI) passkeyRemove(c echo.Context) error {
	cur := current(c)
	id, err := passkey.ParseKey(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	if err := u.o.Passkeys.Remove(c.Request().Context(), cur.Principal, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/passkeys?removed=1")
}

// passkeyRegisterBegin answers the options of navigator.credentials.create
// for the signed-in person (JSON, called by passkey.js with the CSRF
// header).
func (u *UI) passkeyRegisterBegin(c echo.Context) error {
	cur := current(c)
	opts, err := u.o.Passkeys.BeginRegistration(c.Request().Context(), personOf(cur), u.passkeyBinding(c))
	if err != nil {
		return u.passkeyError(c, err)
	}
	return c.JSONBlob(http.StatusOK, opts)
}

// passkeyRegisterFinish keeps the new passkey: the body is
// {"name": ..., "credential": <the PublicKeyCredential as JSON>}.
func (u *UI) passkeyRegisterFinish(c echo.Context) error {
	cur := current(c)
	var body struct {
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := readPasskeyJSON(c, &body); err != nil {
		return u.passkeyError(c, err)
	}
	_, err := u.o.Passkeys.FinishRegistration(c.Request().Context(), cur.Principal, personOf(cur), u.passkeyBinding(c), body.Name, body.Credential)
	if err != nil {
		return u.passkeyError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect": "/account/passkeys?added=1"})
}

func personOf(cur *session.Current) passkey.Person {
	return passkey.Person{ID: cur.Principal.UserID, Email: cur.Principal.Email, Name: cur.UserName}
}

// passkeyBinding ties a ceremony to this browser: a hash of its session
// (or, signed out, pre-session) secret, which only this browser holds.
func (u *UI) passkeyBinding(c echo.Context) []byte {
	secret, _ := c.Get(secretKey).(string)
	h := sha256.Sum256([]byte("certdesk passkey v1\x00" + secret))
	return h[:]
}

// maxPasskeyBody bounds the JSON of a passkey ceremony's answer.
const maxPasskeyBody = 64 << 10

func readPasskeyJSON(c echo.Context, v any) error {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPasskeyBody+1))
	if err != nil || len(b) > maxPasskeyBody {
		return passkey.ErrRefused
	}
	if err := json.Unmarshal(b, v); err != nil {
		return passkey.ErrRefused
	}
	return nil
}

// passkeyError answers a passkey ceremony's refusal as {"error": text}
// in the person's language, with the status of its code.
func (u *UI) passkeyError(c echo.Context, err error) error {
	l := u.locale(c)
	var key string
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, passkey.ErrNotAllowed):
		key, status = "passkeys.error.not_allowed", http.StatusForbidden
	case errors.Is(err, passkey.ErrUnavailable):
		key, status = "passkeys.error.unavailable", http.StatusServiceUnavailable
	case errors.Is(err, passkey.ErrRefused), errors.Is(err, session.ErrBadCredentials):
		key = "passkeys.error.refused"
	case apperr.CodeOf(err) == apperr.RateLimited:
		secs := 60
		if ae, ok := apperr.As(err); ok && ae.RetryAfter > 0 {
			secs = int(math.Ceil(ae.RetryAfter.Seconds()))
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return c.JSON(http.StatusTooManyRequests, map[string]string{"error": l.T("signin.error.throttled", l.Duration(retryRound(secs)))})
	case apperr.CodeOf(err) == apperr.Invalid:
		key, status = "passkeys.error.not_added", http.StatusUnprocessableEntity
		if ae, ok := apperr.As(err); ok && len(ae.Fields) > 0 && ae.Fields[0].Field == "name" {
			key = "passkeys.error.name_missing"
			if ae.Fields[0].Rule == "max_length" {
				return c.JSON(status, map[string]string{"error": l.T("passkeys.error.name_long", passkey.MaxName)})
			}
		}
	case apperr.CodeOf(err) == apperr.NotFound:
		key, status = "passkeys.error.none", http.StatusNotFound
	default:
		return err
	}
	return c.JSON(status, map[string]string{"error": l.T(key)})
}

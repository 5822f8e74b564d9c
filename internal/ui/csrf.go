package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// csrfHeader carries the CSRF token of a script's request; forms carry it
// in the field "csrf".
const csrfHeader = "X-CSRF-Token"

// csrfToken is the request's CSRF token: an HMAC of the session's secret
// (or, signed out, of the pre-session cookie's). It is the same on every
// page of a session and changes with the session; knowing it reveals
// nothing about the secret. Empty when the request has no secret.
func (u *UI) csrfToken(c echo.Context) string {
	secret, _ := c.Get(secretKey).(string)
	if secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("certdesk csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// errCrossSite and errBadToken are the refusals of forged requests (403,
// rendered as the "form expired or came from another site" page).
var (
	errCrossSite = apperr.New(apperr.Forbidden, "the request came from another site")
	errBadToken  = apperr.New(apperr.Forbidden, "the form's security token is missing or out of date")
)

// csrf refuses a state-changing request (any method but GET, HEAD and
// OPTIONS) that a browser says comes from another site (Sec-Fetch-Site,
// else Origin against Host: net/http's CrossOriginProtection), or that
// lacks the CSRF token of the session (form field "csrf" or the
// X-CSRF-Token header). It runs after identify, which finds the secret.
func (u *UI) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if err := u.cop.Check(r); err != nil {
			return errCrossSite
		}
		want := u.csrfToken(c)
		got := r.Header.Get(csrfHeader)
		if got == "" {
			// A multipart body is read only by the upload route, as a
			// stream (evidenceUpload); parsing one here would hold it all.
			if strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
				return errBadToken
			}
			got = c.FormValue("csrf")
		}
		if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
			return errBadToken
		}
		return next(c)
	}
}

package ui

import (
	"encoding/json"
	"net/http"

	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// signinPasskeyBegin answers the options of navigator.credentials.get for
// signing in with a passkey alone (JSON, called by passkey.js from the
// sign-in page with the pre-session's CSRF header). The browser offers
// the person's passkeys for this site.
func (u *UI) signinPasskeyBegin(c echo.Context) error {
	opts, err := u.o.Passkeys.BeginSignIn(c.Request().Context(), u.passkeyBinding(c))
	if err != nil {
		return u.passkeyError(c, err)
	}
	return c.JSONBlob(http.StatusOK, opts)
}

// signinPasskeyFinish checks the passkey's answer and opens a session:
// the body is {"credential": <the PublicKeyCredential as JSON>, "return":
// where to go}. A refusal is {"error": text} (401; 403 when the person's
// organisation does not allow a passkey alone; 429 over the address's
// limit), counted against the address like every failed authentication.
func (u *UI) signinPasskeyFinish(c echo.Context) error {
	var body struct {
		Credential json.RawMessage `json:"credential"`
		Return     string          `json:"return"`
	}
	if err := readPasskeyJSON(c, &body); err != nil {
		return u.passkeyError(c, err)
	}
	ctx := c.Request().Context()
	userID, err := u.o.Passkeys.FinishSignIn(ctx, u.passkeyBinding(c), body.Credential, c.RealIP())
	if err != nil {
		return u.passkeyError(c, err)
	}
	secret, cur, err := u.o.Sessions.SignInVerified(ctx, userID, session.MethodPasskey, u.client(c))
	if err != nil {
		return u.passkeyError(c, err)
	}
	if ck, err := c.Cookie(u.cookies.lang); err == nil && cur.Settings.Language == "" && u.o.Catalogue.Supported(ck.Value) {
		if _, err := u.o.Settings.SetLanguage(ctx, cur.Principal, ck.Value); err != nil {
			return err
		}
	}
	u.setCookie(c, u.cookies.session, secret, sessionCookieAge)
	u.clearCookie(c, u.cookies.pre)
	ret := safeReturn(body.Return)
	if ret == "" {
		ret = landing(cur.Principal)
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect": ret})
}

// secondFactorPasskeyView is the data of the passkey second-factor page.
type secondFactorPasskeyView struct {
	Return    string
	Available bool
}

// secondFactorPasskey is the page that checks a passkey as the second
// factor of the session (pending after a password or OpenID Connect
// sign-in, or again before a sensitive action).
func (u *UI) secondFactorPasskey(c echo.Context) error {
	p := u.newPage(c, "second_factor_passkey", "passkeys.second.title")
	p.Data = secondFactorPasskeyView{Return: safeReturn(c.QueryParam("return")), Available: u.o.Passkeys.Available()}
	return u.render(c, http.StatusOK, p)
}

// secondFactorPasskeyBegin answers the options of
// navigator.credentials.get, limited to the person's own passkeys.
func (u *UI) secondFactorPasskeyBegin(c echo.Context) error {
	cur := current(c)
	opts, err := u.o.Passkeys.BeginSecondFactor(c.Request().Context(), cur.Principal.UserID, u.passkeyBinding(c))
	if err != nil {
		return u.passkeyError(c, err)
	}
	return c.JSONBlob(http.StatusOK, opts)
}

// secondFactorPasskeyFinish checks the answer against the person's own
// passkeys and records the second factor (session.PassSecondFactor); the
// answer is where to go next.
func (u *UI) secondFactorPasskeyFinish(c echo.Context) error {
	cur := current(c)
	var body struct {
		Credential json.RawMessage `json:"credential"`
		Return     string          `json:"return"`
	}
	if err := readPasskeyJSON(c, &body); err != nil {
		return u.passkeyError(c, err)
	}
	ctx := c.Request().Context()
	if err := u.o.Passkeys.FinishSecondFactor(ctx, cur.Principal.UserID, u.passkeyBinding(c), body.Credential, c.RealIP()); err != nil {
		return u.passkeyError(c, err)
	}
	if err := u.o.Sessions.PassSecondFactor(ctx, cur, session.FactorPasskey); err != nil {
		return err
	}
	ret := safeReturn(body.Return)
	if ret == "" || isSecondFactorPath(ret) {
		ret = landing(cur.Principal)
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect": ret})
}

// isSecondFactorPath: going back to a second-factor page after passing
// makes no sense.
func isSecondFactorPath(p string) bool {
	return len(p) >= len("/signin/second-factor") && p[:len("/signin/second-factor")] == "/signin/second-factor"
}

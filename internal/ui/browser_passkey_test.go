package ui_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// passkeyWorld is the world with its base URL on localhost instead of
// 127.0.0.1: WebAuthn refuses IP addresses as relying party IDs, and
// localhost is a secure context over plain http.
func passkeyWorld(t *testing.T) *world {
	t.Helper()
	return newWorld(t, worldOpts{app: testapp.Options{Config: func(c *config.Config) {
		c.BaseURL = strings.Replace(c.BaseURL, "://127.0.0.1:", "://localhost:", 1)
	}}})
}

// passkeyTab opens a tab on the world's localhost URL with a virtual
// authenticator: CTAP2, internal (a platform authenticator), resident
// keys, user verification that succeeds.
func passkeyTab(t *testing.T, w *world) *tab {
	t.Helper()
	require.Contains(t, w.h.Config.BaseURL, "://localhost:")
	b := newTab(t, w.h.Config.BaseURL)
	b.within(func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		return err
	})
	return b
}

// waitFor waits until the JavaScript condition holds on the tab's page.
func (b *tab) waitFor(cond, what string) {
	b.t.Helper()
	ok := assertEventually(func() bool {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		return err == nil && ok
	}, 20*time.Second)
	if !ok {
		errs := eval[string](b, `Array.from(document.querySelectorAll("[data-passkey-error]")).map(e => e.textContent).join(" | ") + " / " + Array.from(document.querySelectorAll("[data-passkey-failure]")).map(e => e.getAttribute("data-passkey-failure")).join(" | ")`)
		b.t.Fatalf("%s: never happened (page %s, passkey errors: %q)", what, b.location(), errs)
	}
}

// assertEventually polls cond until it holds or the deadline passes.
func assertEventually(cond func() bool, within time.Duration) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline:
			return false
		case <-tick.C:
		}
	}
}

// clickPasskey clicks the passkey button of the place kind (register,
// signin, second) once the script has shown it.
func (b *tab) clickPasskey(kind string) {
	b.t.Helper()
	sel := `[data-passkey="` + kind + `"] [data-passkey-start]`
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// passkeyError waits for the error the script shows in place kind and
// returns it.
func (b *tab) passkeyError(kind string) string {
	b.t.Helper()
	sel := `[data-passkey="` + kind + `"] [data-passkey-error]`
	js, _ := json.Marshal(sel)
	b.waitFor(`(function(){var e=document.querySelector(`+string(js)+`);return !!e && !e.hidden && e.textContent.length>0})()`, "an error on "+kind)
	return b.text(sel)
}

func (w *world) scalar(t *testing.T, q string, args ...any) any {
	t.Helper()
	var v any
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(context.Background(), q, args...).Scan(&v))
	return v
}

func (w *world) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	_, err := w.h.App.DB.SQL.ExecContext(context.Background(), q, args...)
	require.NoError(t, err)
}

func (b *tab) signOut() {
	b.t.Helper()
	b.submit(`form[action="/signout"] button`)
	require.Contains(b.t, b.location(), "/signin")
}

// A city's officer signs in with the password, adds a passkey and names
// it, signs out, and signs in with the passkey alone; renames it; with
// the city's policy passkey_alone=false the passkey alone is refused with
// a clear message (and counted by the address throttle); the passkey is
// the second factor of a pending session; a counter that goes backwards
// is refused and audited; the passkey is removed. Screenshots: the
// passkeys page (desktop, phone in German and dark) and the sign-in
// button.
func TestBrowserPasskeys(t *testing.T) {
	t.Parallel()
	w := passkeyWorld(t)
	dir := screensDir(t)
	b := passkeyTab(t, w)
	officer := w.users["reporter"]

	b.open("/signin")
	b.signIn(w.email("reporter"), password)
	require.Equal(t, http.StatusOK, int(b.open("/account/passkeys")))
	require.Contains(t, b.text("main"), "You have no passkey yet.")
	b.look(false, 1280)
	b.fill("#passkey-name", "")
	b.clickPasskey("register")
	require.Equal(t, "Enter a name for the passkey", b.passkeyError("register"))
	b.fill("#passkey-name", "Work laptop")
	b.clickPasskey("register")
	b.waitFor(`location.search.indexOf("added=1") >= 0`, "the passkey is added")
	require.Contains(t, b.text(".notice"), "Your passkey is added.")
	require.Contains(t, b.text("tbody"), "Work laptop")
	require.EqualValues(t, 1, w.scalar(t, `SELECT count(*) FROM webauthn_credentials WHERE user_id = $1`, officer.ID))
	require.EqualValues(t, 1, w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'passkey.added' AND actor_user_id = $1`, officer.ID))
	b.axe("passkeys page")
	b.screenshot(dir, "passkeys-desktop")

	// Signed out, the passkey alone signs in.
	b.signOut()
	b.look(false, 390)
	b.screenshot(dir, "signin-phone")
	b.clickPasskey("signin")
	b.waitFor(`location.pathname !== "/signin"`, "signed in with the passkey")
	require.EqualValues(t, "passkey", w.scalar(t, `SELECT method FROM web_sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, officer.ID))
	require.EqualValues(t, true, w.scalar(t, `SELECT last_used_at IS NOT NULL AND (credential->'authenticator'->>'signCount')::int > 0
		FROM webauthn_credentials WHERE user_id = $1`, officer.ID))

	// Rename, without JavaScript's help: the form in the row.
	b.open("/account/passkeys")
	b.do(chromedp.Click(chromedp.CSS(".passkey-rename summary"), chromedp.NodeVisible))
	key := eval[string](b, `document.querySelector("[data-passkey-row]").getAttribute("data-passkey-row")`)
	b.fill("#name-"+key, "")
	require.Equal(t, http.StatusUnprocessableEntity, int(b.submit(".passkey-rename button[type=submit]")))
	require.Contains(t, b.text(".error-summary"), "Enter a name for the passkey")
	b.fill("#name-"+key, "Laptop at city hall")
	require.Equal(t, http.StatusOK, int(b.submit(".passkey-rename button[type=submit]")))
	require.Contains(t, b.text("tbody"), "Laptop at city hall")
	b.submit(`form[action="/language"] button[value="de"]`)
	b.look(true, 390)
	b.screenshot(dir, "passkeys-phone-de-dark")
	b.axe("passkeys page, German, dark, phone")

	// The city does not allow a passkey alone: a clear refusal, counted.
	city := w.scalar(t, `SELECT org_id FROM users WHERE id = $1`, officer.ID)
	w.exec(t, `INSERT INTO org_sign_in_policies (org_id, passkey_alone, updated_at) VALUES ($1, false, now())`, city)
	b.signOut()
	before := w.scalar(t, `SELECT coalesce(sum(failures), 0) FROM auth_throttle WHERE scope = 'auth.addr'`)
	b.clickPasskey("signin")
	require.Contains(t, b.passkeyError("signin"), "erlaubt die Anmeldung allein mit einem Passkey nicht")
	require.Contains(t, b.location(), "/signin")
	after := w.scalar(t, `SELECT coalesce(sum(failures), 0) FROM auth_throttle WHERE scope = 'auth.addr'`)
	require.Greater(t, toInt(after), toInt(before), "the refusal counts against the address")
	b.look(false, 1280)
	b.screenshot(dir, "signin-refused-de")

	// The passkey as the second factor of a pending session.
	b.signIn(w.email("reporter"), password)
	sessionID := w.scalar(t, `SELECT id::text FROM web_sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, officer.ID)
	w.exec(t, `UPDATE web_sessions SET pending = 'second_factor' WHERE id = $1`, sessionID)
	b.open("/signin/second-factor/passkey?return=" + url.QueryEscape("/account/sessions"))
	b.axe("second factor page")
	b.screenshot(dir, "second-factor-de")
	b.clickPasskey("second")
	b.waitFor(`location.pathname === "/account/sessions"`, "on to return after the second factor")
	require.EqualValues(t, "passkey|", w.scalar(t, `SELECT second_factor || '|' || pending FROM web_sessions WHERE id = $1`, sessionID))

	// A counter that goes backwards: a copy of the passkey may exist.
	w.exec(t, `UPDATE webauthn_credentials SET credential = jsonb_set(credential, '{authenticator,signCount}', '1000000') WHERE user_id = $1`, officer.ID)
	b.open("/signin/second-factor/passkey")
	b.clickPasskey("second")
	require.Contains(t, b.passkeyError("second"), "nicht angenommen")
	require.EqualValues(t, 1, w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'passkey.clone_refused'`))

	// Removing it asks for nothing but the session.
	b.open("/account/passkeys")
	b.submit(`form[action$="/remove"] button`)
	require.Contains(t, b.text(".notice"), "Der Passkey ist entfernt.")
	require.EqualValues(t, 0, w.scalar(t, `SELECT count(*) FROM webauthn_credentials WHERE user_id = $1`, officer.ID))
	require.EqualValues(t, 1, w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'passkey.removed' AND actor_user_id = $1`, officer.ID))
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case []byte:
		var n int64
		_ = json.Unmarshal(x, &n)
		return n
	case string:
		var n int64
		_ = json.Unmarshal([]byte(x), &n)
		return n
	}
	return -1
}

// forceAssertion runs a second-factor ceremony by hand in the page, with
// the server's list of allowed passkeys dropped, so that the
// authenticator answers with whatever passkey it holds; it returns the
// finish call's status.
const forceAssertion = `(async () => {
  const csrf = document.querySelector("[data-passkey] input[name=csrf]").value;
  const post = (u, b) => fetch(u, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(b)});
  const buf = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), c => c.charCodeAt(0)).buffer;
  const str = a => btoa(String.fromCharCode(...new Uint8Array(a))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const o = await (await post("/signin/second-factor/passkey/begin", {})).json();
  o.publicKey.challenge = buf(o.publicKey.challenge);
  delete o.publicKey.allowCredentials;
  const c = await navigator.credentials.get(o);
  const r = c.response;
  const res = await post("/signin/second-factor/passkey/finish", {credential: {id: c.id, rawId: str(c.rawId), type: c.type,
    response: {clientDataJSON: str(r.clientDataJSON), authenticatorData: str(r.authenticatorData), signature: str(r.signature),
      userHandle: r.userHandle ? str(r.userHandle) : null}, clientExtensionResults: {}}});
  return res.status;
})()`

// One person cannot rename or remove another's passkey (404, across
// organisations too), and a passkey of person A cannot complete person
// B's second factor.
func TestBrowserPasskeysBelongToTheirPerson(t *testing.T) {
	t.Parallel()
	w := passkeyWorld(t)
	b := passkeyTab(t, w)
	b.signIn(w.email("reporter"), password)
	b.open("/account/passkeys")
	b.fill("#passkey-name", "Officer's laptop")
	b.clickPasskey("register")
	b.waitFor(`location.search.indexOf("added=1") >= 0`, "the passkey is added")
	key := eval[string](b, `document.querySelector("[data-passkey-row]").getAttribute("data-passkey-row")`)

	// The stranger (another city, another CERT) and a colleague of the
	// same city's CERT get 404 for the officer's passkey.
	for _, name := range []string{"stranger", "responder"} {
		c := w.signedIn(t, name)
		token := c.get("/account/passkeys").csrf(t)
		require.Equal(t, http.StatusNotFound, c.post("/account/passkeys/"+key, url.Values{"csrf": {token}, "name": {"mine now"}}).status, name)
		require.Equal(t, http.StatusNotFound, c.post("/account/passkeys/"+key+"/remove", url.Values{"csrf": {token}}).status, name)
	}
	require.EqualValues(t, "Officer's laptop", w.scalar(t, `SELECT name FROM webauthn_credentials WHERE user_id = $1`, w.users["reporter"].ID))

	// The responder has a passkey of their own (on another device: only
	// its record is here) and a pending session in this browser, whose
	// authenticator holds the officer's passkey.
	responder := w.users["responder"]
	w.exec(t, `INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at) VALUES ('\x0102030405060708', $1, 'Key', $2, now())`,
		responder.ID, `{"id":"AQIDBAUGBwg=","publicKey":"pQECAyYgASFYIA=="}`)
	b.signOut()
	b.signIn(w.email("responder"), password)
	w.exec(t, `UPDATE web_sessions SET pending = 'second_factor' WHERE user_id = $1`, responder.ID)
	require.Equal(t, http.StatusOK, int(b.open("/signin/second-factor/passkey")))
	require.Contains(t, b.text("main"), "Confirm with your passkey", b.location())
	require.EqualValues(t, http.StatusUnauthorized, eval[float64](b, forceAssertion))
	require.EqualValues(t, "second_factor", w.scalar(t, `SELECT pending FROM web_sessions WHERE user_id = $1`, responder.ID))
	var used sql.NullTime
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(context.Background(), `SELECT last_used_at FROM webauthn_credentials WHERE user_id = $1`,
		w.users["reporter"].ID).Scan(&used))
	require.False(t, used.Valid, "the officer's passkey was not used")
}

// Where the organisation requires a second factor, a person without one
// is led to the set-up page at sign-in; adding a passkey there completes
// the session, which goes on to where it was heading. A session still
// owing its second factor cannot add a passkey through that page.
func TestBrowserPasskeySetUp(t *testing.T) {
	t.Parallel()
	w := passkeyWorld(t)
	dir := screensDir(t)
	officer := w.users["reporter"]
	city := w.scalar(t, `SELECT org_id FROM users WHERE id = $1`, officer.ID)
	w.exec(t, `INSERT INTO org_sign_in_policies (org_id, second_factor, updated_at) VALUES ($1, 'all', now())`, city)
	b := passkeyTab(t, w)
	b.open("/account/sessions")
	b.signIn(w.email("reporter"), password)
	require.Contains(t, b.location(), "/account/security/setup")
	require.EqualValues(t, "setup", w.scalar(t, `SELECT pending FROM web_sessions WHERE user_id = $1`, officer.ID))
	b.look(false, 390)
	b.screenshot(dir, "setup-phone")
	b.fill("#passkey-name", "Phone")
	b.clickPasskey("setup")
	b.waitFor(`location.pathname === "/account/sessions"`, "on to where the officer was heading")
	require.EqualValues(t, "passkey|", w.scalar(t, `SELECT second_factor || '|' || pending FROM web_sessions WHERE user_id = $1`, officer.ID))
	require.EqualValues(t, "Phone", w.scalar(t, `SELECT name FROM webauthn_credentials WHERE user_id = $1`, officer.ID))

	// Signed in again with the password, the session owes its passkey:
	// the set-up page's route does not add another.
	b.signOut()
	b.signIn(w.email("reporter"), password)
	require.EqualValues(t, "second_factor", w.scalar(t, `SELECT pending FROM web_sessions WHERE user_id = $1`, officer.ID))
	// The set-up page itself sends a session that owes a factor it has on
	// to the second-factor page; the request is made from there, with the
	// session's CSRF token.
	b.open("/account/security/setup")
	status := eval[float64](b, `(async () => (await fetch("/account/security/setup/passkey/begin", {method: "POST",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector("input[name=csrf]").value}, body: "{}"})).status)()`)
	require.EqualValues(t, http.StatusForbidden, status)
}

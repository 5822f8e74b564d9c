package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The "done when" for second factors: a CERT's admin requires
// two factors for its responders through the policy page; a responder
// signs in with the password and is led through set-up (the key shown as
// text, codes computed here), sees the recovery codes, signs out, signs
// in again and must give a code (a wrong one is an error on the field); a
// recovery code works once; the admin steps up before the administration.
func TestBrowserSecondFactors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	dir := screensDir(t)
	adminName := w.addAdmin(t, "cert-north")

	a := newTab(t, w.h.URL)
	a.look(false, 1280)
	require.EqualValues(t, http.StatusOK, a.signIn(w.email(adminName), password))
	require.EqualValues(t, http.StatusOK, a.open("/admin/organisations/cert-north/sign-in"))
	for _, id := range []string{"second_factor-roles", "roles-responder", "roles-admin"} {
		a.do(chromedp.Click(chromedp.CSS(`label[for="`+id+`"]`), chromedp.NodeVisible))
	}
	require.True(t, eval[bool](a, `document.querySelector("#second_factor-roles").checked && document.querySelector("#roles-admin").checked`))
	a.fill("#step_up_minutes", "5")
	a.screenshot(dir, "policy-desktop")
	a.axe("policy page")
	require.EqualValues(t, http.StatusOK, a.submit(`main form button[type=submit]`))
	// The policy now requires a factor of admins too, and the admin has
	// none: the administration (a sensitive action) leads to set-up first.
	require.True(t, strings.HasPrefix(a.location(), "/account/security/setup?return="), a.location())

	// The responder: password, then set-up.
	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.True(t, strings.HasPrefix(b.location(), "/account/security/setup"), b.location())
	require.Equal(t, "Set up your authenticator app", b.text("main h1"))
	require.True(t, eval[bool](b, `document.querySelector("img.qr").complete && document.querySelector("img.qr").naturalWidth > 0`), "the QR code shows")
	b.screenshot(dir, "setup-desktop")
	b.axe("set-up page")
	key := b.text("#totp-key")
	b.fill("#code", appCode(t, key, w.h.Clock.Now()))
	require.EqualValues(t, http.StatusOK, b.submit(`main form button[type=submit]`))
	require.Equal(t, "Your recovery codes", b.text("main h1"))
	codes := eval[[]string](b, `Array.from(document.querySelectorAll("#recovery-codes code")).map(c => c.textContent)`)
	require.Len(t, codes, 10)
	b.look(false, 390)
	b.screenshot(dir, "recovery-codes-phone")
	b.axe("recovery codes")
	b.look(false, 1280)
	b.do(chromedp.Click(chromedp.CSS("main a.button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("main h1")))
	require.False(t, strings.HasPrefix(b.location(), "/account/security"), b.location())
	require.EqualValues(t, http.StatusOK, b.submit(`form.signout-form button`))

	// Again: the code is asked for; a wrong one is an error on the field.
	w.h.Advance(30 * time.Second)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.True(t, strings.HasPrefix(b.location(), "/signin/second-factor"), b.location())
	b.fill("#code", "000000")
	require.EqualValues(t, http.StatusUnauthorized, b.submit(`main form button[type=submit]`))
	require.Contains(t, b.text("#code-error"), "This code is not right")
	require.Equal(t, "true", eval[string](b, `document.querySelector("#code").getAttribute("aria-invalid")`))
	b.look(false, 390)
	b.screenshot(dir, "second-factor-wrong-phone")
	b.axe("second-factor page with an error")
	b.look(false, 1280)
	b.fill("#code", appCode(t, key, w.h.Clock.Now()))
	require.EqualValues(t, http.StatusOK, b.submit(`main form button[type=submit]`))
	require.False(t, strings.HasPrefix(b.location(), "/signin"), b.location())

	// A recovery code works once.
	for i, want := range []int64{http.StatusOK, http.StatusUnauthorized} {
		require.EqualValues(t, http.StatusOK, b.submit(`form.signout-form button`))
		require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
		b.fill("#code", codes[3])
		require.EqualValues(t, want, b.submit(`main form button[type=submit]`), "use %d", i)
	}
	require.Contains(t, b.text("#code-error"), "This code is not right")

	// The admin's step-up: set up on the page the policy led to, back to
	// the policy page; after the step-up minutes the administration asks
	// for a code again.
	akey := a.text("#totp-key")
	a.fill("#code", appCode(t, akey, w.h.Clock.Now()))
	require.EqualValues(t, http.StatusOK, a.submit(`main form button[type=submit]`))
	a.do(chromedp.Click(chromedp.CSS("main a.button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("main h1")))
	require.Equal(t, "/admin/organisations/cert-north/sign-in?saved=1", a.location())
	require.Contains(t, a.text(".notice"), "sign-in policy is saved")
	require.EqualValues(t, http.StatusOK, a.open("/admin/users"))
	require.Equal(t, "/admin/users", a.location(), "a factor given just now")
	w.h.Advance(6 * time.Minute)
	require.EqualValues(t, http.StatusOK, a.open("/admin/users"))
	require.True(t, strings.HasPrefix(a.location(), "/signin/second-factor?return="), a.location())
	require.Contains(t, a.text("main p"), "This action needs a recent second factor")
	a.look(true, 1280)
	a.screenshot(dir, "step-up-dark")
	a.axe("step-up page, dark")
	a.fill("#code", appCode(t, akey, w.h.Clock.Now()))
	require.EqualValues(t, http.StatusOK, a.submit(`main form button[type=submit]`))
	require.Equal(t, "/admin/users", a.location())
	require.EqualValues(t, http.StatusOK, a.open("/account/sessions"))
	require.Contains(t, a.text("main table"), "Password + authenticator app")
	a.screenshot(dir, "sessions-dark")
}

package ui_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserEmailSetting: with a mail relay configured, the settings page
// offers notifications by e-mail (off until chosen); choosing it is kept,
// and the page stays accessible in German, dark, at phone width.
func TestBrowserEmailSetting(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{Config: func(c *config.Config) {
		// Nothing is sent in this test: the page only needs e-mail on.
		c.SMTPRelay, c.SMTPFrom = "127.0.0.1:1", "certdesk@cert.example"
	}}})
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
	b.open("/account")
	require.True(t, eval[bool](b, `document.querySelector("#email-off").checked`), "off until chosen")
	b.axe("account-email")
	b.screenshot(dir, "1-account-email-off")
	eval[chromedp.Void](b, `document.querySelector("#email-on").checked = true`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/account/settings"] button[type=submit]`))
	require.True(t, eval[bool](b, `document.querySelector("#email-on").checked`), "the choice is kept")
	st, err := w.h.App.Settings.Get(context.Background(), access.Principal{UserID: w.users["reporter"].ID})
	require.NoError(t, err)
	require.True(t, st.Email)

	// German, dark, phone width: the choice is still on, and a save that
	// changes only the language keeps it.
	eval[chromedp.Void](b, `document.querySelector("#language").value = "de"; document.querySelector("#theme-dark").checked = true`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/account/settings"] button[type=submit]`))
	b.look(true, 390)
	b.open("/account")
	require.Contains(t, b.text("#email-hint"), "TLP:RED")
	require.Contains(t, b.text("fieldset:has(#email-on) legend"), "E-Mail")
	require.True(t, eval[bool](b, `document.querySelector("#email-on").checked`))
	require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "no sideways scrolling on a phone")
	b.axe("account-email-de-dark-390")
	b.screenshot(dir, "2-account-email-de-dark-390")
}

package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// confSignInAs signs the tab in as email, signing out whoever is signed in.
func (b *tab) confSignInAs(email, pw string) {
	b.t.Helper()
	b.open("/account")
	if !strings.Contains(b.location(), "/signin") {
		b.submit(`.signout-form button`)
	}
	b.signIn(email, pw)
}

// The national CERT's administrator edits CERT North's escalation policy
// (an error first, then the preview, then saves), gives it a webhook (the
// guard refuses a loopback address, then allows a public one and shows
// the secret once), and reads the change in the audit log; axe-core on
// every state, screenshots at 1280 and 390 px, no sideways scrolling.
func TestBrowserAdminConfiguresPolicyWebhookAndReadsAudit(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string) {
		t.Helper()
		b.look(false, 1280)
		require.Zero(t, eval[int](b, `document.querySelectorAll("script:not([src]), style, [style]").length`), "no inline script or style (CSP)")
		b.axe(name)
		b.screenshot(dir, name+"-1280")
		b.look(false, 390)
		b.screenshot(dir, name+"-390")
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s scrolls sideways on a phone", name)
		b.look(false, 1280)
	}
	b.look(false, 1280)
	b.signIn(w.email("admin-national"), password)
	const policy = "/admin/organisations/cert-north/escalation-policy"
	require.EqualValues(t, http.StatusOK, b.open(policy))
	shot("1-policy-empty")

	b.fill("#rule-0-name", "high-unacknowledged", "#rule-0-unacknowledged_for", "soon")
	eval[chromedp.Void](b, `document.querySelector("#rule-0-min_severity").value = "high"`)
	b.do(chromedp.Click(chromedp.CSS("#rule-0-repeat_up")))
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`button[value="preview"]`))
	require.Contains(t, b.text(".error-summary"), "Rule 1: write the time as 30m, 2h or 1h30m")
	require.Contains(t, b.text(`.field-has-error`), "Rule 1")
	require.Equal(t, "soon", eval[string](b, `document.querySelector("#rule-0-unacknowledged_for").value`), "what was typed stays")
	require.True(t, eval[bool](b, `document.querySelector("#rule-0-repeat_up").checked`))
	shot("2-policy-error")

	b.fill("#rule-0-unacknowledged_for", "30m")
	eval[chromedp.Void](b, `document.querySelector("#sample-severity").value = "critical"`)
	require.EqualValues(t, http.StatusOK, b.submit(`button[value="preview"]`))
	steps := b.text(".preview-steps")
	require.Contains(t, steps, "After 30 min: escalate to CERT North, asking it to assist")
	require.Contains(t, steps, "After 1 h: escalate to National CERT, asking it to assist")
	require.Empty(t, policyOf(t, w, "cert-north"), "a preview saves nothing")
	shot("3-policy-preview")

	require.EqualValues(t, http.StatusOK, b.submit(`button[value="save"]`))
	require.Equal(t, policy+"?saved=1", b.location())
	require.Contains(t, b.text(".notice"), "The escalation policy is saved.")
	require.Len(t, policyOf(t, w, "cert-north"), 1)
	shot("4-policy-saved")

	const webhook = "/admin/organisations/cert-north/webhook"
	require.EqualValues(t, http.StatusOK, b.open(webhook))
	b.fill("#url", "http://127.0.0.1:9000/hook")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`button[value="save"]`))
	require.Contains(t, b.text(".error-summary"), "127.0.0.1 resolves to 127.0.0.1, a loopback address")
	require.Contains(t, b.text("#verdict"), "The guard refuses this address")
	shot("5-webhook-refused")

	b.fill("#url", "https://93.184.215.14/certdesk/in")
	require.EqualValues(t, http.StatusOK, b.submit(`button[value="save"]`))
	require.Contains(t, b.text("#verdict"), "The guard allows this address")
	require.True(t, strings.HasPrefix(b.text("#webhook-secret"), "whsec_"))
	shot("6-webhook-saved")

	require.EqualValues(t, http.StatusOK, b.open("/admin/audit"))
	b.fill("#action", "escalation_policy.set")
	b.submit(`form[action="/admin/audit"] button[type=submit]`)
	require.Contains(t, b.location(), "action=escalation_policy.set", "the filters are in the URL")
	require.Contains(t, b.text("table"), w.email("admin-national"))
	require.Contains(t, b.text("table"), "cert-north")
	shot("7-audit")

	require.EqualValues(t, http.StatusOK, b.open("/admin/deliveries"))
	shot("8-deliveries")
}

// The configuration and log pages in the shared walk (axe-core,
// screenshots, German, 320 px reflow), as the national CERT's
// administrator of the demo.
func init() {
	walks["adminconf"] = func(w *demoWorld) []visit {
		return []visit{
			{"adminconf-policy", func(b *tab) {
				b.confSignInAs("admin@national-cert.demo", app.DemoPassword)
				b.open("/admin/organisations/cert-north/escalation-policy")
			}},
			{"adminconf-policy-error", func(b *tab) {
				b.fill(`input[name$="-unacknowledged_for"]`, "bald")
				b.submit(`button[value="preview"]`)
			}},
			{"adminconf-policy-preview", func(b *tab) {
				b.open("/admin/organisations/cert-north/escalation-policy")
				b.submit(`button[value="preview"]`)
			}},
			{"adminconf-webhook", func(b *tab) { b.open("/admin/organisations/cert-north/webhook") }},
			{"adminconf-webhook-refused", func(b *tab) {
				b.fill("#url", "http://10.0.0.7/hook")
				b.submit(`button[value="save"]`)
			}},
			{"adminconf-deliveries", func(b *tab) { b.open("/admin/deliveries") }},
			{"adminconf-audit", func(b *tab) { b.open("/admin/audit") }},
			{"adminconf-audit-error", func(b *tab) { b.open("/admin/audit?since=gestern") }},
		}
	}
}

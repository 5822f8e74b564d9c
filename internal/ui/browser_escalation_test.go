package ui_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

// The demo's hand-off: CERT North's responder escalates the city's
// ransomware incident to the national CERT for coordination, from the
// organisation tree; the national CERT's coordinator, in a browser of
// their own, finds it in the inbox (the navigation counts it), opens it
// and accepts; the city's reporter then reads the hand-off on the
// incident's timeline and in its hand-off history. Screenshots of each
// step at 1280 and 390 pixels; axe-core on each page.
func TestBrowserEscalationHandOff(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	dir := screensDir(t)
	shot := func(b *tab, name string) {
		for _, width := range []int64{1280, 390} {
			b.look(false, width)
			b.axe(name)
			b.screenshot(dir, name+map[int64]string{1280: "-1280", 390: "-390"}[width])
			if width == 390 {
				require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling on a phone", name)
			}
		}
		b.look(false, 1280)
	}

	// The regional CERT escalates.
	north := newTab(t, w.h.URL)
	north.look(false, 1280)
	require.EqualValues(t, http.StatusOK, north.signIn(w.responder, w.password))
	require.EqualValues(t, http.StatusOK, north.open("/incidents/"+w.ref))
	require.EqualValues(t, http.StatusOK, north.submit(`.escalation-links a[href$="/escalate"]`))
	require.Equal(t, "/incidents/"+w.ref+"/escalate", north.location())
	require.Contains(t, north.text(".escalation-keep"), "A hand-off never resets a deadline")
	require.Contains(t, north.text(`#to-national-cert-about`), "Next CERT up")
	require.Contains(t, north.text(`#to-city-northbridge-about`), "Reported it")
	shot(north, "escalate")
	// Sent without a reason: the error, the choices kept.
	eval[bool](north, `(document.querySelector("#to-national-cert").click(), document.querySelector("#kind-coordinate").click(), true)`)
	require.EqualValues(t, http.StatusUnprocessableEntity, north.submit(`form[action$="/escalate"] button[type=submit]`))
	require.Contains(t, north.text(".error-summary"), "Write why you escalate")
	require.True(t, eval[bool](north, `document.querySelector("#to-national-cert").checked && document.querySelector("#kind-coordinate").checked`))
	shot(north, "escalate-error")
	north.fill("#escalate-reason", "Critical ransomware at city hall, two file servers encrypted; we need national coordination and the contact to the vendor.")
	require.EqualValues(t, http.StatusOK, north.submit(`form[action$="/escalate"] button[type=submit]`))
	require.Equal(t, "/incidents/"+w.ref+"/escalations?done=requested", north.location())
	require.Contains(t, north.text(".handoff-list"), "CERT North (regional) asked National CERT to coordinate")
	shot(north, "history-requested")

	// The national coordinator, in a second browser context, accepts.
	nat := newTab(t, w.h.URL)
	nat.look(false, 1280)
	require.EqualValues(t, http.StatusOK, nat.signIn("coordinator@national-cert.demo", w.password))
	require.Contains(t, nat.text(`.site-nav a[href="/escalations"]`), "1 open")
	require.EqualValues(t, http.StatusOK, nat.open("/escalations"))
	require.Equal(t, w.ref, eval[string](nat, `document.querySelector(".escalation-row").dataset.ref`))
	require.Contains(t, nat.text(".escalation-row"), "Critical ransomware at city hall")
	require.Contains(t, nat.text(".escalation-row"), "NIS2 early warning", "the deadlines it carries")
	shot(nat, "inbox")
	require.EqualValues(t, http.StatusOK, nat.submit(`.escalation-row a[href^="/escalations/"]`))
	shot(nat, "decide")
	nat.fill("#accept-reason", "We coordinate from now on; CERT North stays in the loop.")
	require.EqualValues(t, http.StatusOK, nat.submit("#accept-button"))
	require.Contains(t, nat.text(".notice"), "You accepted the request")
	require.Contains(t, nat.text("#escalation-state"), "Accepted")
	shot(nat, "accepted")
	inc, err := w.h.App.Incidents.Get(context.Background(), access.System, w.ref)
	require.NoError(t, err)
	require.Equal(t, "national-cert", inc.CoordinatingOrgSlug)
	// Decided: under "Decided by us".
	require.EqualValues(t, http.StatusOK, nat.open("/escalations?tab=decided"))
	shot(nat, "inbox-decided")

	// The city's reporter sees the hand-off.
	city := newTab(t, w.h.URL)
	city.look(false, 1280)
	require.EqualValues(t, http.StatusOK, city.signIn(w.reporter, w.password))
	require.EqualValues(t, http.StatusOK, city.open("/incidents/"+w.ref))
	timeline := city.text(".timeline")
	require.Contains(t, timeline, "Accepted the request for help")
	require.Contains(t, timeline, "We coordinate from now on")
	require.Contains(t, city.text(".incident-header"), "National CERT")
	eval[bool](city, `(document.querySelector("#timeline-title").scrollIntoView(), true)`)
	city.screenshot(dir, "reporter-timeline-1280")
	require.EqualValues(t, http.StatusOK, city.submit(`.escalation-links a[href$="/escalations"]`))
	require.Contains(t, city.text(".coordination-list"), "National CERT")
	shot(city, "reporter-history")
	require.Zero(t, eval[int](city, `document.querySelectorAll('a[href$="/escalate"]').length`), "the city may not escalate")
}

func init() {
	walks["escalations"] = func(w *demoWorld) []visit {
		return []visit{
			{"escalate", func(b *tab) {
				// The walk before may have left someone signed in.
				b.open("/account")
				if eval[bool](b, `document.querySelector(".signout-form button") !== null`) {
					b.submit(`.signout-form button`)
				}
				b.signIn(w.responder, w.password)
				b.open("/incidents/" + w.ref + "/escalate")
			}},
			{"escalate-error", func(b *tab) { b.submit(`form[action$="/escalate"] button[type=submit]`) }},
			{"escalation-history", func(b *tab) {
				b.fill("#escalate-reason", "Critical ransomware at city hall: national coordination needed.")
				eval[bool](b, `(document.querySelector("#to-national-cert").click(), document.querySelector("#kind-coordinate").click(), true)`)
				b.submit(`form[action$="/escalate"] button[type=submit]`)
			}},
			{"escalations-outgoing", func(b *tab) { b.open("/escalations?tab=outgoing") }},
			{"escalations-inbox", func(b *tab) {
				b.submit(`.signout-form button`)
				b.signIn("coordinator@national-cert.demo", w.password)
				b.open("/escalations")
			}},
			{"escalation-decide", func(b *tab) { b.submit(`.escalation-row a[href^="/escalations/"]`) }},
			{"escalation-decline-error", func(b *tab) { b.submit("#decline-button") }},
			{"escalation-accepted", func(b *tab) { b.submit("#accept-button") }},
			{"escalations-decided", func(b *tab) { b.open("/escalations?tab=decided") }},
			{"escalations-empty", func(b *tab) { b.open("/escalations") }},
		}
	}
}

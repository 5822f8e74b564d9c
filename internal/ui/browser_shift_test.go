package ui_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// A shift across three organisations, each in a browser context of its
// own, on the demo data: the City of Northbridge's officer reports a
// compromised mailbox through the guided report (A); CERT North's
// responder, with the triage queue open (B), sees it arrive within two
// seconds without a reload, opens it, acknowledges, classifies, assigns
// it to a team, starts the personal-data breach playbook by hand and
// answers its question; CERT North's coordinator approves its approval
// step; the responder escalates to the national CERT for coordination,
// whose coordinator accepts (C); and the city's incident page shows the
// hand-off. Each step is asserted on the page and on the services, and
// screenshotted at 1280 px.
func TestBrowserShiftAcrossThreeOrganisations(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	ctx := context.Background()
	dir := screensDir(t)
	lead, err := w.h.App.Identity.UserByEmail(ctx, access.System, "coordinator@cert-north.demo")
	require.NoError(t, err)
	team, err := w.h.App.Teams.Create(ctx, lead.Principal(), "Identity and mail")
	require.NoError(t, err)
	shot := func(b *tab, name string) {
		t.Helper()
		b.screenshot(dir, name)
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 1280, "%s scrolls sideways at 1280 px", name)
	}

	// B: CERT North's responder opens the triage queue.
	cert := newTab(t, w.h.URL)
	cert.look(false, 1280)
	require.EqualValues(t, http.StatusOK, cert.signIn(w.responder, w.password))
	require.Equal(t, "/queue", cert.location(), "a CERT's responder lands on the queue")
	before := cert.refs()
	require.NotEmpty(t, before, "the demo's incidents are in the queue")
	eval[string](cert, `window.__shiftMarker = "same page"`)
	shot(cert, "01-queue-before")

	// A: the city's officer reports through the guided report.
	city := newTab(t, w.h.URL)
	city.look(false, 1280)
	require.EqualValues(t, http.StatusOK, city.signIn(w.reporter, w.password))
	require.Equal(t, "/reports", city.location(), "reporters land on Our reports")
	require.EqualValues(t, http.StatusOK, city.submit(`.page-head a.button`))
	require.Equal(t, "/report", city.location())
	require.EqualValues(t, http.StatusOK, city.submit(`form[action="/report"] button`))
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	n := w.h.Clock.Now().Add(-2 * time.Hour).In(berlin)
	answer := func(step string, fill func()) {
		t.Helper()
		require.Equal(t, step, city.step())
		fill()
		require.EqualValues(t, http.StatusOK, city.next(), "after %s", step)
	}
	answer("noticed", func() {
		city.fill("#noticed-day", strconv.Itoa(n.Day()), "#noticed-month", strconv.Itoa(int(n.Month())),
			"#noticed-year", strconv.Itoa(n.Year()), "#noticed-hour", strconv.Itoa(n.Hour()), "#noticed-minute", strconv.Itoa(n.Minute()))
	})
	answer("what", func() {
		city.choose("what-account")
		city.fill("#what_details", "The mailbox of the registry office sends invoices with links to a fake sign-in page.")
	})
	answer("services", func() { city.choose("services-no") })
	answer("personal", func() { city.choose("personal-no") })
	answer("malicious", func() { city.choose("malicious") })
	answer("cross-border", func() { city.choose("cross_border-no") })
	answer("severe", func() { city.choose("severe-no") })
	answer("damage", func() { city.choose("damage-unknown") })
	answer("assets", func() { city.fill("#assets", "Mailbox standesamt@city-northbridge.demo") })
	answer("contact", func() { city.fill("#contact_phone", "+49 421 5550 4000") })
	answer("sharing", func() {})
	answer("files", func() {})
	answer("indicators", func() { city.fill("#indicators", "login-northbridge[.]example") })
	require.Equal(t, "check", city.step())
	shot(city, "02-city-check")
	require.EqualValues(t, http.StatusOK, city.submit(`button[data-once-button]`))
	sentAt := time.Now()
	loc := city.location()
	require.True(t, strings.HasPrefix(loc, "/report/sent/INC-"), loc)
	ref := strings.TrimPrefix(loc, "/report/sent/")
	require.Equal(t, "Report sent", city.text("h1"))
	require.Contains(t, city.text("main"), "CERT North (regional) has your report")
	shot(city, "03-city-report-sent")

	// B: the report appears in the open queue within 2 s, no reload.
	require.Eventually(t, func() bool { return strings.Contains(strings.Join(cert.refs(), " "), ref) },
		2*time.Second, 50*time.Millisecond, "the new report appears in the open queue within 2 s")
	t.Logf("the report showed in the queue %s after it was sent", time.Since(sentAt).Round(10*time.Millisecond))
	require.Equal(t, "same page", eval[string](cert, `window.__shiftMarker`), "no reload")
	require.Contains(t, cert.text("tr[data-ref='"+ref+"']"), "City of Northbridge")
	shot(cert, "04-queue-live-arrival")

	// B: the responder opens it and works it on the workbench.
	current := func() *incident.Incident {
		t.Helper()
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		require.NoError(t, err)
		return got
	}
	require.EqualValues(t, http.StatusOK, cert.submit(`tr[data-ref='`+ref+`'] a[href="/incidents/`+ref+`"]`))
	require.Equal(t, "/incidents/"+ref, cert.location())
	require.Contains(t, cert.text(".wb-state"), "Not yet acknowledged")
	shot(cert, "05-incident-workbench")
	require.EqualValues(t, http.StatusOK, cert.submit(`#wb-acknowledge-form button`))
	require.Contains(t, cert.text(".notice"), "The incident is acknowledged.")
	require.NotNil(t, current().AcknowledgedAt)
	eval[chromedp.Void](cert, `document.querySelector("#wb-class").value = "intrusions:privileged-account-compromise"`)
	require.EqualValues(t, http.StatusOK, cert.submit(`form[action$="/classify"] button[type=submit]`))
	got := current()
	require.Equal(t, "intrusions", got.Category)
	require.Equal(t, "privileged-account-compromise", got.Type)
	eval[chromedp.Void](cert, `document.querySelector("#wb-team").value = "`+team.ID.String()+`"`)
	require.EqualValues(t, http.StatusOK, cert.submit(`form[action$="/assign"] button[type=submit]`))
	require.Equal(t, "Identity and mail", current().AssigneeTeamName)
	require.Contains(t, cert.text(".wb-state"), "team Identity and mail")
	shot(cert, "06-acknowledged-classified-assigned")

	// B: the personal-data breach playbook, started by hand.
	require.Contains(t, cert.text("#playbook-runs"), "Playbook runs")
	require.EqualValues(t, http.StatusOK, cert.submit(`#playbook-runs a[href$="/runs/new"]`))
	require.Equal(t, "/incidents/"+ref+"/runs/new", cert.location())
	cert.do(chromedp.Click(chromedp.CSS(`#playbook-personal-data-breach`)))
	require.EqualValues(t, http.StatusOK, cert.submit(`main form[method=get] button[type=submit]`))
	require.Contains(t, cert.text(".run-preview"), "Which data and how many people are affected?")
	shot(cert, "07-run-preview")
	require.EqualValues(t, http.StatusOK, cert.submit(`#start-run`))
	require.Contains(t, cert.text(".notice"), "The playbook is running.")
	runPath := strings.SplitN(cert.location(), "?", 2)[0]
	runID := runPath[strings.LastIndex(runPath, "/")+1:]
	step := func(id string) runbook.Status {
		r, err := w.h.App.Runs.Get(ctx, access.System, ref, runID)
		require.NoError(t, err)
		for _, s := range r.Steps {
			if s.ID == id {
				return s.Status
			}
		}
		return ""
	}
	w.h.Eventually(func() bool { return step("scope") == runbook.Waiting }, "the question waits")
	cert.open(runPath)
	cert.fill("#answer-data_subjects", "35")
	cert.do(chromedp.Click(chromedp.CSS(`#answer-high_risk`)))
	shot(cert, "08-run-question")
	require.EqualValues(t, http.StatusOK, cert.submit(`#answer-form button[type=submit]`))
	require.Contains(t, cert.text(".notice"), "Your answers are saved.")
	w.h.Eventually(func() bool { return step("approve-data-subjects") == runbook.Waiting }, "the approval waits")
	cert.open(runPath)
	require.Contains(t, cert.text("#step-approve-data-subjects"), "Only a coordinator of the coordinating CERT")

	// B: CERT North's coordinator approves (in the same browser, after
	// the responder signs out), then the responder signs in again.
	require.EqualValues(t, http.StatusOK, cert.submit(`.signout-form button`))
	require.EqualValues(t, http.StatusOK, cert.signIn("coordinator@cert-north.demo", w.password))
	require.EqualValues(t, http.StatusOK, cert.open(runPath))
	cert.fill(`#comment-approve-data-subjects`, "Registry office data of 35 residents: inform them today.")
	shot(cert, "09-coordinator-approval")
	require.EqualValues(t, http.StatusOK, cert.submit(`#open-approve-data-subjects button[value=approve]`))
	require.Contains(t, cert.text(".notice"), "You approved the step.")
	require.Equal(t, runbook.Succeeded, step("approve-data-subjects"))
	require.Contains(t, cert.text(".run-history"), "inform them today")
	shot(cert, "10-approved")
	require.EqualValues(t, http.StatusOK, cert.submit(`.signout-form button`))

	// B: the responder escalates to the national CERT.
	require.EqualValues(t, http.StatusOK, cert.signIn(w.responder, w.password))
	require.EqualValues(t, http.StatusOK, cert.open("/incidents/"+ref))
	require.EqualValues(t, http.StatusOK, cert.submit(`.escalation-links a[href$="/escalate"]`))
	require.Equal(t, "/incidents/"+ref+"/escalate", cert.location())
	eval[bool](cert, `(document.querySelector("#to-national-cert").click(), document.querySelector("#kind-coordinate").click(), true)`)
	cert.fill("#escalate-reason", "Admin mailbox of a city used for invoice phishing across the region; national coordination needed.")
	shot(cert, "11-escalate")
	require.EqualValues(t, http.StatusOK, cert.submit(`form[action$="/escalate"] button[type=submit]`))
	require.Equal(t, "/incidents/"+ref+"/escalations?done=requested", cert.location())
	require.Contains(t, cert.text(".handoff-list"), "CERT North (regional) asked National CERT to coordinate")
	shot(cert, "12-escalation-requested")

	// C: the national CERT's coordinator accepts.
	nat := newTab(t, w.h.URL)
	nat.look(false, 1280)
	require.EqualValues(t, http.StatusOK, nat.signIn("coordinator@national-cert.demo", w.password))
	require.EqualValues(t, http.StatusOK, nat.open("/escalations"))
	row := `.escalation-row[data-ref="` + ref + `"]`
	require.Contains(t, nat.text(row), "invoice phishing across the region")
	shot(nat, "13-national-inbox")
	require.EqualValues(t, http.StatusOK, nat.submit(row+` a[href^="/escalations/"]`))
	nat.fill("#accept-reason", "We coordinate the regional phishing wave; CERT North keeps the case work.")
	shot(nat, "14-national-decide")
	require.EqualValues(t, http.StatusOK, nat.submit("#accept-button"))
	require.Contains(t, nat.text(".notice"), "You accepted the request")
	require.Contains(t, nat.text("#escalation-state"), "Accepted")
	shot(nat, "15-national-accepted")
	require.Equal(t, "national-cert", current().CoordinatingOrgSlug)

	// A: the city's incident page shows the hand-off.
	require.EqualValues(t, http.StatusOK, city.open("/incidents/"+ref))
	timeline := city.text(".timeline")
	require.Contains(t, timeline, "Accepted the request for help")
	require.Contains(t, timeline, "We coordinate the regional phishing wave")
	require.Contains(t, city.text(".incident-header"), "National CERT")
	eval[bool](city, `(document.querySelector("#timeline-title").scrollIntoView(), true)`)
	shot(city, "16-city-timeline")
}

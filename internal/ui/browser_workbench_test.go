package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func init() {
	walks["workbench"] = workbenchWalk
}

// workbenchWalk is the workbench's page states for the shared walk: the
// CERT responder's incident page with the workbench, a form's error, the
// TLP change's confirmation, and a filtered timeline; then the
// executive summary first, as leadership reads it.
func workbenchWalk(w *demoWorld) []visit {
	return []visit{
		{"workbench", func(b *tab) {
			b.open("/signin")
			if eval[int](b, `document.querySelectorAll(".signout-form button").length`) > 0 {
				b.submit(`.signout-form button`)
			}
			b.signIn(w.responder, w.password)
			b.open("/incidents/" + w.ref + "#workbench")
		}},
		{"workbench-stage-error", func(b *tab) {
			eval[chromedp.Void](b, `document.querySelector("#wb-stage").value = "prevention"`)
			b.submit(`form[action$="/stage"] button[type=submit]`)
		}},
		{"workbench-tlp-confirm", func(b *tab) {
			b.open("/incidents/" + w.ref)
			eval[chromedp.Void](b, `document.querySelector("#wb-tlp").value = "TLP:RED"`)
			b.submit(`form[action$="/tlp"] button[type=submit]`)
		}},
		{"workbench-timeline-filtered", func(b *tab) { b.open("/incidents/" + w.ref + "?kind=decisions#timeline-title") }},
		{"workbench-viewer", func(b *tab) {
			b.open("/incidents/" + w.ref)
			b.submit(`.signout-form button`)
			b.signIn("viewer@cert-north.demo", w.password)
			b.open("/incidents/" + w.ref)
		}},
	}
}

// A regional CERT's responder works a new report on the workbench:
// acknowledges it, finds its class with the filter and saves it, assigns
// it to a team, raises the severity, moves it back a stage (first
// without the reason it needs), writes the executive summary, changes
// the TLP after reading who loses sight, adds an entry at a past time and
// filters the timeline, with screenshots at 1280 and 390 px; the pages
// are axe-clean and do not scroll sideways.
func TestBrowserWorkbenchJourney(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	ctx := context.Background()
	dir := screensDir(t)

	reporter, err := w.h.App.Identity.UserByEmail(ctx, access.System, w.reporter)
	require.NoError(t, err)
	inc, _, err := w.h.App.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: "Web shop of the city library defaced",
		Description: "The start page of the library's web shop shows a political message since this morning.",
		Severity:    incident.Medium, TLP: incident.TLPAmber, Stage: incident.Response}, nil)
	require.NoError(t, err)
	ref := inc.Reference
	w.h.Eventually(func() bool {
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		return err == nil && got.CoordinatingOrgID != nil
	}, "the report is routed")
	lead, err := w.h.App.Identity.UserByEmail(ctx, access.System, "coordinator@cert-north.demo")
	require.NoError(t, err)
	team, err := w.h.App.Teams.Create(ctx, lead.Principal(), "Web incidents")
	require.NoError(t, err)
	current := func() *incident.Incident {
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		require.NoError(t, err)
		return got
	}

	b := newTab(t, w.h.URL)
	shot := func(name string) {
		t.Helper()
		for _, width := range []int64{1280, 390} {
			b.look(false, width)
			b.screenshot(dir, name+"-"+map[int64]string{1280: "1280", 390: "390"}[width])
			require.False(t, eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`),
				"%s scrolls sideways at %d px", name, width)
		}
		b.look(false, 1280)
	}
	require.EqualValues(t, http.StatusOK, b.signIn(w.responder, w.password))
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+ref))
	require.Contains(t, b.text(".wb-state"), "Not yet acknowledged")
	b.axe("the workbench")
	shot("01-workbench")

	// Acknowledge.
	require.EqualValues(t, http.StatusOK, b.submit(`#wb-acknowledge-form button`))
	require.Contains(t, b.text(".notice"), "The incident is acknowledged.")
	require.NotNil(t, current().AcknowledgedAt)
	require.Zero(t, eval[int](b, `document.querySelectorAll("#wb-acknowledge-form").length`), "nothing left to acknowledge")

	// Classify: the filter narrows the grouped list to the DDoS types.
	b.fill("#wb-class-filter", "ddos")
	visible := eval[[]string](b, `Array.from(document.querySelectorAll("#wb-class option")).filter(o => !o.hidden).map(o => o.value)`)
	require.Contains(t, visible, "availability:ddos")
	require.NotContains(t, visible, "malicious-code:infected-system")
	shot("02-classify-filtered")
	eval[chromedp.Void](b, `document.querySelector("#wb-class").value = "availability:ddos"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/classify"] button[type=submit]`))
	got := current()
	require.Equal(t, "availability", got.Category)
	require.Equal(t, "ddos", got.Type)
	require.Contains(t, b.text(".wb-state"), "distributed denial of service")

	// Assign to a team.
	eval[chromedp.Void](b, `document.querySelector("#wb-team").value = "`+team.ID.String()+`"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/assign"] button[type=submit]`))
	require.Equal(t, "Web incidents", current().AssigneeTeamName)
	require.Contains(t, b.text(".wb-state"), "team Web incidents")

	// Severity.
	eval[chromedp.Void](b, `document.querySelector("#wb-severity").value = "high"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/severity"] button[type=submit]`))
	require.Equal(t, incident.High, current().Severity)

	// Stage: back to preparation needs a reason.
	eval[chromedp.Void](b, `document.querySelector("#wb-stage").value = "preparation"`)
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`form[action$="/stage"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "Say why the incident goes back to an earlier stage")
	require.Equal(t, "preparation", eval[string](b, `document.querySelector("#wb-stage").value`), "the choice is kept")
	b.axe("the stage's error")
	shot("03-stage-needs-reason")
	b.fill("#wb-stage-reason", "The defacement was a test page left by the agency; we are still scoping.")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/stage"] button[type=submit]`))
	require.Equal(t, incident.Preparation, current().Stage)

	// The executive summary.
	b.do(chromedp.Click(`#executive-summary summary`, chromedp.NodeVisible))
	b.fill("#wb-sum-status", "Web shop offline, defacement removed.", "#wb-sum-impact", "No payments possible for library users.",
		"#wb-sum-next", "Agency restores the shop from a clean image by 16:00.")
	require.EqualValues(t, http.StatusOK, b.submit(`#executive-summary button[type=submit]`))
	require.Contains(t, b.text("#executive-summary"), "No payments possible for library users.")
	require.Equal(t, "Agency restores the shop from a clean image by 16:00.", current().Summary.NextSteps)
	shot("04-summary-saved")

	// TLP: the confirmation says who loses sight before anything changes.
	eval[chromedp.Void](b, `document.querySelector("#wb-tlp").value = "TLP:RED"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/tlp"] button[type=submit]`))
	require.Contains(t, b.text(".wb-tlp-loses"), "everyone at City of Northbridge, the reporting organisation")
	require.Contains(t, b.text(".wb-tlp-loses"), "CERT North")
	require.Equal(t, incident.TLPAmber, current().TLP, "nothing changed yet")
	b.axe("the TLP confirmation")
	shot("05-tlp-confirm")
	require.EqualValues(t, http.StatusOK, b.submit(`#wb-tlp-confirm`))
	require.Equal(t, incident.TLPRed, current().TLP)
	require.Contains(t, b.text(".tlp-banner"), "TLP:RED")

	// A timeline entry at a past time shows when it happened and when
	// it was recorded.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := w.h.Clock.Now().Add(-26 * time.Hour).In(berlin)
	b.fill("#wb-entry-summary", "Agency noticed the first failed admin logins on the shop")
	eval[chromedp.Void](b, `document.querySelector("#wb-entry-day").value = "`+at.Format("2006-01-02")+`";
		document.querySelector("#wb-entry-time").value = "`+at.Format("15:04")+`"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/entries"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "Your entry is on the timeline.")
	entry := eval[string](b, `Array.from(document.querySelectorAll(".timeline-entry")).map(e => e.textContent).find(t => t.includes("first failed admin logins")) || ""`)
	require.Contains(t, entry, "recorded")

	// Filter the timeline: notes only, then by the CERT.
	require.EqualValues(t, http.StatusOK, b.submit(`.wb-chips a[href*="kind=notes"]`))
	require.Contains(t, b.location(), "kind=notes")
	require.Contains(t, b.text(".timeline"), "first failed admin logins")
	require.NotContains(t, b.text(".timeline-list"), "Changed the severity")
	require.EqualValues(t, http.StatusOK, b.submit(`.wb-chips a[href*="org=cert-north"]`))
	require.Contains(t, b.location(), "kind=notes")
	require.Contains(t, b.location(), "org=cert-north")
	require.Contains(t, b.text(".timeline-list"), "first failed admin logins")
	require.NotContains(t, b.text(".timeline-list"), "Reported the incident")
	b.axe("the filtered timeline")
	shot("06-timeline-filtered")

	// Without JavaScript the class list still works (no filter field).
	b.scripts(false)
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+ref))
	require.True(t, eval[bool](b, `document.querySelector(".wb-filter").hidden`))
	eval[chromedp.Void](b, `document.querySelector("#wb-class").value = "availability:dos"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/classify"] button[type=submit]`))
	require.Equal(t, "dos", current().Type)
	b.scripts(true)
	require.NotContains(t, strings.ToLower(b.text(".timeline")), "event.")
}

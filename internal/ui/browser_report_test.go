package ui_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The reporting organisation's journey in the browser: the guided
// report with scripts on and off, a draft resumed after signing out and
// by a colleague, a double send, the legal follow-up reports, "Our
// reports"; and every new page checked by axe-core, screenshotted, and
// read in German.

// choose clicks a radio button or checkbox by its id.
func (b *tab) choose(id string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("#"+id), chromedp.NodeVisible))
}

// next presses Continue and returns the status of the next page.
func (b *tab) next() int64 {
	b.t.Helper()
	return b.submit(`button[data-continue]`)
}

// upload attaches a file to the file input and sends the upload form.
func (b *tab) upload(name, content string) int64 {
	b.t.Helper()
	path := filepath.Join(b.t.TempDir(), name)
	require.NoError(b.t, os.WriteFile(path, []byte(content), 0o600))
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
	return b.submit(`form.upload-form button[type=submit]`)
}

// step is the question page the tab is on ("noticed", "what", …).
func (b *tab) step() string {
	b.t.Helper()
	loc := strings.SplitN(b.location(), "?", 2)[0]
	return loc[strings.LastIndex(loc, "/")+1:]
}

// guided answers the guided report from the page the tab is on (its first
// question) to the check page: a ransomware attack noticed at noticed
// (in zone) that disrupts services and involves health data. It checks
// that each page is the question expected, and screenshots it when shot
// is not nil.
func (b *tab) guided(noticed time.Time, zone *time.Location, shot func(step string)) {
	b.t.Helper()
	n := noticed.In(zone)
	page := func(want string) {
		b.t.Helper()
		require.Equal(b.t, want, b.step(), "the question after the last one")
		if shot != nil {
			shot(want)
		}
	}
	page("noticed")
	b.fill("#noticed-day", strconv.Itoa(n.Day()), "#noticed-month", strconv.Itoa(int(n.Month())),
		"#noticed-year", strconv.Itoa(n.Year()), "#noticed-hour", strconv.Itoa(n.Hour()), "#noticed-minute", strconv.Itoa(n.Minute()))
	require.EqualValues(b.t, http.StatusOK, b.next())
	page("what")
	b.choose("what")
	b.fill("#what_details", "Dateien auf zwei Servern in *.lockbit umbenannt")
	b.next()
	page("services")
	b.choose("services")
	b.fill("#services_which", "Bürgerbüro")
	b.next()
	page("personal")
	b.choose("personal")
	b.next()
	page("personal-data")
	b.choose("data_categories")
	b.choose("data_categories-health")
	b.next()
	page("personal-numbers")
	b.fill("#people_count", "1200")
	b.next()
	page("personal-dpo")
	b.fill("#dpo_name", "Dana Protect")
	b.next()
	page("personal-impact")
	b.next()
	page("personal-told")
	b.choose("told-not-yet")
	b.next()
	page("malicious")
	b.choose("malicious")
	b.next()
	page("cross-border")
	b.choose("cross_border-no")
	b.next()
	page("severe")
	b.choose("severe")
	b.next()
	page("damage")
	b.choose("damage-unknown")
	b.next()
	page("assets")
	b.fill("#assets", "Dateiserver Rathaus")
	b.next()
	page("contact")
	require.NotEmpty(b.t, eval[string](b, `document.querySelector("#contact_name").value`), "the person's own name is filled in")
	require.NotEmpty(b.t, eval[string](b, `document.querySelector("#contact_email").value`), "and their e-mail address")
	b.fill("#contact_phone", "+49 421 5550 4000")
	b.next()
	page("sharing")
	require.True(b.t, eval[bool](b, `document.querySelector("#tlp-tlp-amber").checked`), "TLP:AMBER is the default")
	b.next()
	require.Equal(b.t, "files", b.step())
	require.EqualValues(b.t, http.StatusOK, b.upload("README-RESTORE.txt", "your files are encrypted"))
	require.Contains(b.t, b.text(".file-list"), "README-RESTORE.txt")
	page("files")
	b.next()
	page("indicators")
	b.fill("#indicators", "evil[.]example\n203.0.113.7\nnot-an-indicator")
	require.EqualValues(b.t, http.StatusOK, b.submit(`button[name=preview]`))
	require.Contains(b.t, b.text(".indicator-list"), "evil[.]example", "shown defanged")
	require.Contains(b.t, b.text(".indicator-list"), "203[.]0[.]113[.]7")
	if shot != nil {
		shot("indicators-recognised")
	}
	b.next()
	require.Equal(b.t, "check", b.step())
}

// A reporter signs in, lands on "Our reports", reports an incident
// through the guided report — with scripts on, and again with them off —
// and gets the confirmation with the reference, the CERT by name, and
// the legal clocks due from when the incident was noticed.
func TestBrowserGuidedReportWithAndWithoutJavaScript(t *testing.T) {
	t.Parallel()
	for _, scripts := range []bool{true, false} {
		name := map[bool]string{true: "scripts on", false: "scripts off"}[scripts]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{})
			berlin, err := time.LoadLocation("Europe/Berlin")
			require.NoError(t, err)
			b := newTab(t, w.h.URL)
			b.scripts(scripts)
			require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
			require.Equal(t, "/reports", b.location(), "reporters land on Our reports")
			require.Contains(t, b.text("table"), w.ref)

			require.EqualValues(t, http.StatusOK, b.submit(`.page-head a.button`))
			require.Equal(t, "/report", b.location())
			require.EqualValues(t, http.StatusOK, b.submit(`form[action="/report"] button`))

			// An empty answer comes back with an error summary that links
			// to the field; with scripts on it takes the focus.
			require.EqualValues(t, http.StatusUnprocessableEntity, b.next())
			require.True(t, strings.HasPrefix(eval[string](b, "document.title"), "Error: "))
			require.Contains(t, b.text(".error-summary"), "Enter the date you noticed the incident")
			require.Equal(t, "#noticed-day", eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`))
			if scripts {
				require.True(t, eval[bool](b, `document.activeElement.matches("[data-error-summary]")`), "the summary takes the focus")
			}

			noticed := w.h.Clock.Now().Add(-3 * time.Hour).Truncate(time.Minute)
			b.guided(noticed, berlin, nil)

			// Check your answers: Change returns to the question with the
			// answer kept, and Continue comes back here.
			require.Contains(t, b.text("main"), "Files became unreadable and a ransom note appeared")
			require.Contains(t, b.text("main"), "Health data (special category)")
			require.Contains(t, b.text("main"), "README-RESTORE.txt")
			require.Contains(t, b.text("main"), "evil[.]example")
			require.EqualValues(t, http.StatusOK, b.submit(`a[href$="/what?change=1#what"]`))
			require.True(t, eval[bool](b, `document.querySelector("#what").checked`), "Back and Change never lose an answer")
			b.next()
			require.Equal(t, "check", b.step())
			require.Contains(t, b.text(".deadline-list"), "NIS2 early warning", "the clocks this report starts")
			require.True(t, eval[bool](b, `document.querySelector("#severity-critical").checked`), "critical is suggested")

			require.EqualValues(t, http.StatusOK, b.submit(`button[data-once-button]`))
			loc := b.location()
			require.True(t, strings.HasPrefix(loc, "/report/sent/INC-"), loc)
			ref := strings.TrimPrefix(loc, "/report/sent/")
			require.Equal(t, "Report sent", b.text("h1"))
			require.Equal(t, ref, b.text(".panel-ref"))
			require.Contains(t, b.text("main"), "CERT North has your report")
			clocks := b.text(".sent-clocks")
			early := noticed.Add(24 * time.Hour).In(berlin).Format("15:04 MST")
			gdpr := noticed.Add(72 * time.Hour).In(berlin).Format("15:04 MST")
			require.Regexp(t, `NIS2 early warning due in (20 h 5\d min|21 h) \((tomorrow )?`+early+`\)`, clocks)
			require.Contains(t, clocks, "NIS2 incident notification due in 2 d 20 h")
			require.Contains(t, clocks, "GDPR notification to the supervisory authority due in 2 d 20 h")
			require.Contains(t, clocks, gdpr)

			// The incident is as answered, and the page can be opened again.
			inc, err := w.h.App.Incidents.Get(context.Background(), access.System, ref)
			require.NoError(t, err)
			require.Equal(t, "malicious-code", inc.Category)
			require.True(t, inc.Significant)
			require.True(t, inc.PersonalDataBreach)
			require.Equal(t, incident.Critical, inc.Severity)
			require.True(t, inc.DetectedAt.Equal(noticed), "detected_at is the moment typed: %s, not %s", inc.DetectedAt, noticed)
			require.EqualValues(t, http.StatusOK, b.open(loc))
			require.Equal(t, ref, b.text(".panel-ref"), "the confirmation can be bookmarked")

			// Our reports lists it with its legal reports.
			b.open("/reports")
			row := b.text(`tr:has(a[href="/incidents/` + ref + `"])`)
			require.Regexp(t, `Early warning due in (20 h|21 h)`, row)
			require.Contains(t, row, "GDPR notification due "+noticed.Add(72*time.Hour).In(berlin).Format("2 Jan 2006"), "a day when more than two days away")
			require.NotContains(t, row, "New", "nothing new from others since the reporter sent it")
		})
	}
}

// A draft left half-way is saved on the server: after signing out and in
// again the reporter finds it and continues where they stopped, with
// every answer kept; a colleague of the same city continues it on
// another device; someone of another city gets the 404 page.
func TestBrowserDraftIsResumedAfterSigningOutAndByAColleague(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	colleague := w.user(t, "colleague", "city-north", access.Reporter, "Cleo Colleague")
	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
	b.open("/report")
	b.submit(`form[action="/report"] button`)
	b.choose("noticed_unknown")
	b.next()
	b.choose("what-phishing")
	b.next()
	require.Equal(t, "services", b.step())
	draftPath := strings.TrimSuffix(b.location(), "/services")
	require.EqualValues(t, http.StatusOK, b.submit(`.signout-form button`))

	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
	require.Contains(t, b.text(".inset"), "1 report was started but not sent")
	b.submit(`a[href="/report#drafts"]`)
	require.Contains(t, b.text("#drafts + p + table"), "Services to residents", "where it stopped")
	require.Contains(t, b.text("#drafts + p + table"), "Ana Reporter")
	require.EqualValues(t, http.StatusOK, b.submit(`#drafts + p + table a.button`))
	require.Equal(t, draftPath+"/services", b.location(), "it continues at the first question without an answer")
	require.EqualValues(t, http.StatusOK, b.submit(`a.back-link`))
	require.True(t, eval[bool](b, `document.querySelector("#what-phishing").checked`), "the answer is kept")

	// A colleague on another device.
	c := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, c.signIn(colleague.Email, password))
	c.open("/report")
	require.Contains(t, c.text("#drafts + p + table"), "by Ana Reporter")
	c.submit(`#drafts + p + table a.button`)
	require.Equal(t, "services", c.step())
	c.choose("services-no")
	require.EqualValues(t, http.StatusOK, c.next())
	require.Equal(t, "personal", c.step())
	require.Contains(t, c.text(".saved-line"), "Cleo Colleague")

	// Another city: the same 404 page as a draft that does not exist.
	s := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, s.signIn(w.email("stranger"), password))
	require.EqualValues(t, http.StatusNotFound, s.open(draftPath+"/services"))
	hidden := s.text("main")
	require.EqualValues(t, http.StatusNotFound, s.open("/report/00000000-0000-4000-8000-000000000000/services"))
	require.Equal(t, hidden, s.text("main"))
	s.open("/report")
	require.Equal(t, 0, eval[int](s, `document.querySelectorAll("#drafts").length`), "no drafts of others are listed")
}

// A double send creates one incident: the check page sent from two tabs
// (or twice from one, when scripts are off) lands both on the same
// confirmation.
func TestBrowserDoubleSubmitCreatesOneIncident(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	first := newTab(t, w.h.URL)
	first.scripts(false)
	require.EqualValues(t, http.StatusOK, first.signIn(w.email("reporter"), password))
	first.open("/report")
	first.submit(`form[action="/report"] button`)
	first.guided(w.h.Clock.Now().Add(-time.Hour), berlin, nil)
	check := first.location()

	// A second tab of the same browser (the same session) on the same page.
	ctx, cancel := chromedp.NewContext(first.ctx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx))
	second := &tab{t: t, ctx: ctx, base: first.base}
	second.scripts(false)
	second.open(check)

	require.EqualValues(t, http.StatusOK, first.submit(`button[data-once-button]`))
	require.EqualValues(t, http.StatusOK, second.submit(`button[data-once-button]`))
	require.Equal(t, first.location(), second.location(), "both land on the same confirmation")
	list, _, err := w.h.App.Incidents.List(context.Background(), access.System, incident.Filter{ReportingOrg: "city-north"}, pageOf(10))
	require.NoError(t, err)
	require.Len(t, list, 2, "the world's incident and one new one")
}

// user creates a user of the world with the test password.
func (w *world) user(t *testing.T, name, slug string, role access.Role, display string) *identity.User {
	t.Helper()
	ctx := context.Background()
	o, err := w.h.App.Store.OrganizationBySlug(ctx, slug)
	require.NoError(t, err)
	u, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: name + "@" + slug + ".example",
		Name: display, Role: role, Password: password})
	require.NoError(t, err)
	w.users[name] = u
	return u
}

// guidedIncident sends a guided report for the world's city through the
// service (as its reporter): ransomware noticed an hour ago, disrupting
// services, suspected malicious, no personal data. It returns the
// incident's reference.
func guidedIncident(t *testing.T, w *world) string {
	t.Helper()
	ctx := context.Background()
	svc := w.h.App.Filings
	p := w.users["reporter"].Principal()
	d, err := svc.Start(ctx, p)
	require.NoError(t, err)
	id := d.ID.String()
	n := w.h.Clock.Now().Add(-time.Hour).UTC()
	for _, s := range []struct {
		step string
		form map[string][]string
	}{
		{"noticed", map[string][]string{"noticed-day": {strconv.Itoa(n.Day())}, "noticed-month": {strconv.Itoa(int(n.Month()))},
			"noticed-year": {strconv.Itoa(n.Year())}, "noticed-hour": {strconv.Itoa(n.Hour())}}},
		{"what", map[string][]string{"what": {"ransomware"}, "what_details": {"Ransom note on every share."}}},
		{"services", map[string][]string{"services": {"partly"}, "services_which": {"Citizens' office appointments"}}},
		{"personal", map[string][]string{"personal": {"no"}}},
		{"malicious", map[string][]string{"malicious": {"yes"}}},
		{"cross-border", map[string][]string{"cross_border": {"no"}}},
		{"severe", map[string][]string{"severe": {"yes"}}},
		{"damage", map[string][]string{"damage": {"no"}}},
		{"assets", nil},
		{"contact", map[string][]string{"contact_name": {"Ana Reporter"}, "contact_phone": {"+49 421 5550 4000"}}},
		{"sharing", map[string][]string{"tlp": {"TLP:AMBER"}}},
		{"indicators", map[string][]string{"indicators": {"evil[.]example"}}},
	} {
		_, _, err := svc.SaveStep(ctx, p, id, s.step, s.form, time.UTC)
		require.NoError(t, err, s.step)
	}
	_, err = svc.FilesDone(ctx, p, id)
	require.NoError(t, err)
	inc, _, err := svc.Submit(ctx, p, id, "en", filing.Final{})
	require.NoError(t, err)
	return inc.Reference
}

// From the incident, the city files the NIS2 early warning and then the
// incident notification: each form is pre-filled (from the guided report,
// then from the early warning), checked on a check page and sent; the
// deadline shows as met on the incident page and in "Our reports", and
// the CERT reads both reports through the API.
func TestBrowserFollowUpNIS2NotificationIsFiledPrefilled(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ref := guidedIncident(t, w)
	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+ref))
	tasks := b.text(".task-list")
	require.Contains(t, tasks, "Send the NIS2 early warning")
	require.Contains(t, tasks, "To do")
	require.Contains(t, tasks, "Cannot start yet", "the notification waits for the early warning")

	require.EqualValues(t, http.StatusOK, b.submit(`.task-list a[href$="/legal/nis2_early_warning"]`))
	require.Equal(t, "NIS2 early warning", b.text("h1"))
	require.True(t, eval[bool](b, `document.querySelector("#malicious").checked`), "pre-filled from the guided report")
	require.True(t, eval[bool](b, `document.querySelector("#cross_border-no").checked`))
	require.Contains(t, eval[string](b, `document.querySelector("#ew_summary").value`), "Ransom note on every share.")
	b.fill("#ew_summary", "Ransomware on two file servers at city hall; isolated at 07:15.")
	require.EqualValues(t, http.StatusOK, b.next())
	require.Contains(t, b.text(".check-list"), "Ransomware on two file servers at city hall; isolated at 07:15.")
	require.EqualValues(t, http.StatusOK, b.submit(`button[data-once-button]`))
	require.Equal(t, "/incidents/"+ref+"/legal?sent=nis2_early_warning", b.location())
	require.Contains(t, b.text(".notice"), "The NIS2 early warning was sent.")

	require.EqualValues(t, http.StatusOK, b.submit(`.task-list a[href$="/legal/nis2_notification"]`))
	require.Equal(t, "Ransomware on two file servers at city hall; isolated at 07:15.",
		eval[string](b, `document.querySelector("#nt_update").value`), "pre-filled from the early warning: nothing asked twice")
	require.True(t, eval[bool](b, `document.querySelector("#severity-critical").checked`) ||
		eval[bool](b, `document.querySelector("#severity-high").checked`), "the incident's severity")
	require.Contains(t, eval[string](b, `document.querySelector("#nt_indicators").value`), "evil[.]example", "the incident's indicators")
	require.Contains(t, eval[string](b, `document.querySelector("#nt_impact").value`), "Citizens' office appointments")
	require.EqualValues(t, http.StatusOK, b.next())
	require.EqualValues(t, http.StatusOK, b.submit(`button[data-once-button]`))
	require.Contains(t, b.text(".notice"), "The NIS2 incident notification was sent.")
	require.Contains(t, b.text(".filed-report:last-of-type"), "What is new since the early warning?")

	b.open("/incidents/" + ref)
	deadlines := b.text(".deadlines")
	require.Regexp(t, `NIS2 incident notification\s+Sent\s+\d`, deadlines, "the deadline shows as met, with when it was sent")
	require.NotContains(t, deadlines, "Sent sent", "the badge and the text do not repeat each other")
	require.Contains(t, b.text(".task-list"), "Completed")
	b.open("/reports")
	require.Contains(t, b.text(`tr:has(a[href="/incidents/`+ref+`"])`), "Notification ✓ sent")

	// The CERT sees both through the API.
	_, token := w.h.User("cert-north", access.Responder)
	r := w.h.As(token).Request(http.MethodGet, "/api/v1/incidents/"+ref+"/legal-reports", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var list struct {
		LegalReports []struct {
			Kind string `json:"kind"`
		} `json:"legal_reports"`
	}
	r.JSON(t, &list)
	require.Len(t, list.LegalReports, 2)
	require.Equal(t, "nis2_notification", list.LegalReports[1].Kind)
	require.Equal(t, http.StatusOK, w.h.As(token).Request(http.MethodGet, "/api/v1/incidents/"+ref+"/guided-report", nil).Status)
}

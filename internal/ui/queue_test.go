package ui_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// report creates n incidents of the world's city (TLP:AMBER) and returns
// their references, oldest first.
func (w *world) report(t *testing.T, n int, title string) []string {
	t.Helper()
	var refs []string
	for i := range n {
		inc, _, err := w.h.App.Incidents.Create(context.Background(), w.users["reporter"].Principal(), incident.NewIncident{
			Title: fmt.Sprintf("%s %02d", title, i+1), Severity: incident.Medium, TLP: incident.TLPAmber}, nil)
		require.NoError(t, err)
		refs = append(refs, inc.Reference)
	}
	return refs
}

var rowRefRE = regexp.MustCompile(`<tr class="queue-row[^"]*" data-ref="([^"]+)"`)

// rowsOf lists the references of a queue page's rows, in order.
func rowsOf(body string) []string {
	var out []string
	for _, m := range rowRefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// A CERT's responder lands on the triage queue; the queue shows the work
// of the CERT unacknowledged first, then by the earliest open deadline;
// its tabs narrow it; another region's incidents never appear; a city's
// reporter has no queue.
func TestQueueShowsTheCERTsWorkInTriageOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	ctx := context.Background()
	rep := w.users["reporter"].Principal()
	// The world's incident (significant: a NIS2 early warning due 24 h
	// after the report) and three more: one acknowledged, one with a
	// GDPR deadline, one without any deadline.
	plain := w.report(t, 1, "No deadline")[0]
	gdpr, _, err := w.h.App.Incidents.Create(ctx, rep, incident.NewIncident{Title: "Personal data", PersonalDataBreach: true}, nil)
	require.NoError(t, err)
	acked := w.report(t, 1, "Acknowledged")[0]
	_, err = w.h.App.Incidents.Acknowledge(ctx, w.users["responder"].Principal(), acked)
	require.NoError(t, err)
	// Another region's report: never in CERT North's queue.
	south, _, err := w.h.App.Incidents.Create(ctx, w.users["stranger"].Principal(), incident.NewIncident{Title: "Southern"}, nil)
	require.NoError(t, err)

	c := newClient(t, w.h.URL)
	got := c.signIn(w.email("responder"), password)
	require.Equal(t, "/queue", got.header.Get("Location"), "a CERT's responder lands on the queue")
	page := c.get("/queue")
	require.Equal(t, http.StatusOK, page.status)
	require.Equal(t, []string{w.ref, gdpr.Reference, plain, acked}, rowsOf(page.body),
		"unacknowledged first (the early warning in 24 h, the GDPR notification in 72 h, then none), then the acknowledged one")
	require.NotContains(t, page.body, south.Reference)
	require.Contains(t, page.body, "NIS2 early warning")
	require.Contains(t, page.body, "due in 23 h 59 min")

	require.Equal(t, []string{w.ref, gdpr.Reference, plain}, rowsOf(c.get("/queue?tab=new").body))
	require.Empty(t, rowsOf(c.get("/queue?tab=mine").body))
	require.Empty(t, rowsOf(c.get("/queue?tab=escalated").body))
	require.Equal(t, []string{w.ref, gdpr.Reference, plain, acked}, rowsOf(c.get("/queue?tab=unassigned").body))
	require.Empty(t, rowsOf(c.get("/queue?tab=at_risk").body), "no deadline within 4 hours")
	w.h.Advance(21 * time.Hour)
	c.signIn(w.email("responder"), password) // the session ended meanwhile
	require.Equal(t, []string{w.ref}, rowsOf(c.get("/queue?tab=at_risk").body), "the early warning is 3 hours away")
	require.Contains(t, c.get("/queue?tab=at_risk").body, "Due soon:")

	// A filter and the sort live in the URL.
	require.Equal(t, []string{gdpr.Reference}, rowsOf(c.get("/queue?q=personal").body))
	require.Equal(t, []string{acked, gdpr.Reference, plain, w.ref}, rowsOf(c.get("/queue?sort=-created").body), "newest first")

	// A city's reporter has no queue and no queue in the navigation.
	city := newClient(t, w.h.URL)
	require.Equal(t, "/reports", city.signIn(w.email("reporter"), password).header.Get("Location"), "a reporter lands on Our reports")
	require.Equal(t, http.StatusForbidden, city.get("/queue").status)
	require.NotContains(t, city.get("/incidents").body, `href="/queue"`)
}

// Bulk acknowledgement through the plain forms: the selection, one
// confirmation page naming every incident, and the results; an incident
// closed meanwhile says why and the others go through; an incident of
// another region that a forged form names is "not found", like the single
// call.
func TestQueueBulkFormsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	refs := w.report(t, 3, "Bulk")
	south, _, err := w.h.App.Incidents.Create(context.Background(), w.users["stranger"].Principal(),
		incident.NewIncident{Title: "Southern secret"}, nil)
	require.NoError(t, err)
	c := newClient(t, w.h.URL)
	c.signIn(w.email("responder"), password)
	token := c.get("/queue").csrf(t)

	// Nothing selected: the queue again, with the error.
	got := c.post("/queue/bulk", url.Values{"csrf": {token}, "action": {"acknowledge"}, "view": {"tab=new"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "Select at least one incident")
	require.Contains(t, got.body, `href="#bulk-incidents"`)

	form := url.Values{"csrf": {token}, "action": {"acknowledge"}, "view": {"tab=new"}, "ref": append(refs, south.Reference)}
	confirm := c.post("/queue/bulk", form)
	require.Equal(t, http.StatusOK, confirm.status)
	require.Contains(t, confirm.body, "Acknowledge 4 incidents")
	for _, r := range refs {
		require.Contains(t, confirm.body, r)
	}
	require.NotContains(t, confirm.body, "Southern secret", "the confirmation shows no title of an incident the person may not see")

	_, err = w.h.App.Incidents.Close(context.Background(), w.users["responder"].Principal(), refs[1], "duplicate", nil)
	require.NoError(t, err)
	results := c.post("/queue/bulk/apply", form)
	require.Equal(t, http.StatusOK, results.status)
	require.Contains(t, results.body, "2 done, 2 not done.")
	require.Contains(t, results.body, "It was closed before anyone acknowledged it")
	require.Contains(t, results.body, "It was not found, or you may not see it.")
	require.NotContains(t, results.body, "Southern secret")
	for i, r := range refs {
		inc, err := w.h.App.Incidents.Get(context.Background(), access.System, r)
		require.NoError(t, err)
		require.Equal(t, i != 1, inc.AcknowledgedAt != nil, r)
	}
	inc, err := w.h.App.Incidents.Get(context.Background(), access.System, south.Reference)
	require.NoError(t, err)
	require.Nil(t, inc.AcknowledgedAt, "another region's incident is untouched")

	// The script's request gets JSON with the row as it is now.
	js := c.post("/queue/bulk/apply", url.Values{"action": {"assign_me"}, "ref": {refs[2]}}, "X-CSRF-Token", token)
	require.Equal(t, http.StatusOK, js.status)
	var out struct {
		Results []struct {
			Reference, Text, Row string
			OK                   bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(js.body), &out))
	require.Len(t, out.Results, 1)
	require.True(t, out.Results[0].OK)
	require.Contains(t, out.Results[0].Row, "Rui Responder")
}

// The CSV of a view holds exactly the view's incidents, formulas defused;
// the live endpoint answers what changed since, as rows, and does not
// keep the session alive.
func TestQueueCSVAndLiveUpdates(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	c := newClient(t, w.h.URL)
	c.signIn(w.email("responder"), password)
	w.h.Advance(time.Minute)
	since := w.h.Clock.Now().UTC().Format(time.RFC3339Nano)
	w.h.Advance(time.Minute)
	inc, _, err := w.h.App.Incidents.Create(context.Background(), w.users["reporter"].Principal(),
		incident.NewIncident{Title: "=HYPERLINK(\"https://evil.example\")"}, nil)
	require.NoError(t, err)

	file := c.get("/queue.csv?tab=new")
	require.Equal(t, http.StatusOK, file.status)
	require.Contains(t, file.header.Get("Content-Type"), "text/csv")
	rows, err := csv.NewReader(strings.NewReader(file.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "reference", rows[0][0])
	require.Equal(t, inc.Reference, rows[2][0], "triage order: the incident without a deadline after the one with")
	require.Equal(t, "'=HYPERLINK(\"https://evil.example\")", rows[2][1])

	live := c.get("/queue/live?since="+url.QueryEscape(since), "X-CSRF-Token", "x")
	require.Equal(t, http.StatusOK, live.status)
	var out struct {
		Now  string
		Rows []struct {
			Reference, Row string
			Version        int
		}
	}
	require.NoError(t, json.Unmarshal([]byte(live.body), &out))
	require.Len(t, out.Rows, 1, "only what changed since (minus a few seconds of overlap)")
	require.Equal(t, inc.Reference, out.Rows[0].Reference)
	require.Contains(t, out.Rows[0].Row, `data-ref="`+inc.Reference+`"`)

	// Polls are not activity: with only polls, the session ends.
	w.h.Advance(25 * time.Minute)
	require.Equal(t, http.StatusOK, c.get("/queue/live?since="+url.QueryEscape(out.Now), "X-CSRF-Token", "x").status)
	w.h.Advance(6 * time.Minute)
	require.Equal(t, http.StatusUnauthorized, c.get("/queue/live", "X-CSRF-Token", "x").status)
}

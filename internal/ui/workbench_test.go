package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

// workbenchCase is one action of the workbench: the form it sends, what
// it changes, a bad input and the error it names.
type workbenchCase struct {
	name    string
	path    string // after /incidents/<ref>
	form    url.Values
	changed func(inc *incident.Incident, evs []incident.Event) bool
	bad     url.Values // a bad input
	badSays string     // the error it names
	stale   bool       // the action checks the version
}

func workbenchCases(teamID string) []workbenchCase {
	manual := func(evs []incident.Event) bool {
		for _, ev := range evs {
			if ev.Kind == incident.EventManual {
				return true
			}
		}
		return false
	}
	return []workbenchCase{
		{name: "acknowledge", path: "/acknowledge", form: url.Values{},
			changed: func(inc *incident.Incident, _ []incident.Event) bool { return inc.AcknowledgedAt != nil }},
		{name: "assign", path: "/assign", form: url.Values{"assignee": {"responder@cert-north.example"}, "team": {teamID}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool {
				return inc.AssigneeEmail == "responder@cert-north.example" && inc.AssigneeTeamID != nil && inc.AssigneeTeamID.String() == teamID
			},
			bad: url.Values{"assignee": {"nobody@nowhere.example"}}, badSays: "Nobody has this e-mail address", stale: true},
		{name: "classify", path: "/classify", form: url.Values{"class": {"availability:ddos"}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool {
				return inc.Category == "availability" && inc.Type == "ddos"
			},
			bad: url.Values{"class": {"availability:no-such-type"}}, badSays: "Choose a type from the list", stale: true},
		{name: "severity", path: "/severity", form: url.Values{"severity": {"critical"}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool { return inc.Severity == incident.Critical },
			bad:     url.Values{"severity": {"apocalyptic"}}, badSays: "Choose a severity", stale: true},
		{name: "stage", path: "/stage", form: url.Values{"stage": {"recovery"}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool { return inc.Stage == incident.Recovery },
			bad:     url.Values{"stage": {"prevention"}}, badSays: "Say why the incident goes back to an earlier stage", stale: true},
		{name: "summary", path: "/executive-summary",
			form: url.Values{"status": {"Contained"}, "impact": {"Registry office closed"}, "next_steps": {"Restore from tape"}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool {
				return inc.Summary.Status == "Contained" && inc.Summary.NextSteps == "Restore from tape"
			},
			bad: url.Values{"status": {strings.Repeat("x", 2001)}}, badSays: "The status can be at most 2,000 characters", stale: true},
		{name: "tlp", path: "/tlp", form: url.Values{"tlp": {"TLP:AMBER+STRICT"}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool { return inc.TLP == incident.TLPAmberStrict },
			bad:     url.Values{"tlp": {"TLP:PURPLE"}}, badSays: "Choose a TLP label", stale: true},
		{name: "entry", path: "/entries", form: url.Values{"summary": {"Attacker first seen on the VPN gateway"}, "day": {"2026-01-02"}, "time": {"03:12"}},
			changed: func(_ *incident.Incident, evs []incident.Event) bool { return manual(evs) },
			bad:     url.Values{"summary": {""}}, badSays: "Write what happened"},
		{name: "close", path: "/close", form: url.Values{"resolution": {"Restored from tape; no data left the city."}},
			changed: func(inc *incident.Incident, _ []incident.Event) bool { return inc.Status == incident.Closed },
			bad:     url.Values{"resolution": {"  "}}, badSays: "Write the resolution", stale: true},
	}
}

// Every action of the workbench, over HTTP: the CERT's responder changes
// the incident and lands back on it with a notice; a viewer of the same
// CERT gets 403 and a city under another CERT the 404 page, and neither
// changes anything; a bad input comes back with the error it names and
// what was typed; a form built on an older version says the incident
// changed meanwhile and changes nothing.
func TestWorkbenchActions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	w.addUser(t, "lead", "cert-north", access.Coordinator)
	w.addUser(t, "viewer", "cert-north", access.Viewer)
	team, err := w.h.App.Teams.Create(ctx, w.principal(t, "lead"), "Night shift")
	require.NoError(t, err)

	read := func() (*incident.Incident, []incident.Event) {
		inc, evs, _, err := w.h.App.Incidents.Timeline(ctx, access.System, w.ref, nil, pageOf(500))
		require.NoError(t, err)
		return inc, evs
	}
	signedIn := func(name string) (*client, string) {
		c := newClient(t, w.h.URL)
		c.signIn(w.email(name), password)
		return c, c.get("/incidents").csrf(t)
	}
	responder, token := signedIn("responder")
	viewer, viewerToken := signedIn("viewer")
	stranger, strangerToken := signedIn("stranger")
	reporter, _ := signedIn("reporter")

	// The responder sees the workbench; the reporter's page has none of it.
	got := responder.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, `id="workbench"`)
	require.Contains(t, got.body, `action="/incidents/`+w.ref+`/acknowledge"`)
	require.Contains(t, got.body, `<optgroup label=`)
	mine := reporter.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, mine.status)
	require.NotContains(t, mine.body, `id="workbench"`)
	require.NotContains(t, mine.body, `id="executive-summary"`)
	require.NotContains(t, mine.body, `/entries"`)
	// The viewer reads the executive summary first, and gets no form.
	vp := viewer.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, vp.status)
	require.Contains(t, vp.body, `id="executive-summary"`)
	require.Less(t, strings.Index(vp.body, `id="executive-summary"`), strings.Index(vp.body, `id="description-title"`))
	require.NotContains(t, vp.body, `id="workbench"`)

	for _, tc := range workbenchCases(team.ID.String()) {
		t.Run(tc.name, func(t *testing.T) {
			before, evsBefore := read()
			send := func(c *client, token string, form url.Values, version int64) *page {
				f := url.Values{"csrf": {token}, "version": {strconv.FormatInt(version, 10)}}
				for k, v := range form {
					f[k] = v
				}
				return c.post("/incidents/"+w.ref+tc.path, f)
			}
			unchanged := func(why string) {
				now, evs := read()
				require.Equal(t, before.Version, now.Version, why)
				require.Len(t, evs, len(evsBefore), why)
			}

			got := send(viewer, viewerToken, tc.form, before.Version)
			require.Equal(t, http.StatusForbidden, got.status, "a viewer")
			unchanged("a viewer changes nothing")

			got = send(stranger, strangerToken, tc.form, before.Version)
			require.Equal(t, http.StatusNotFound, got.status, "another organisation")
			require.NotContains(t, got.body, "Ransomware")
			unchanged("another organisation changes nothing")

			if tc.bad != nil {
				got = send(responder, token, tc.bad, before.Version)
				require.Equal(t, http.StatusUnprocessableEntity, got.status, got.body)
				require.Contains(t, got.body, tc.badSays)
				require.Contains(t, got.body, "error-summary")
				unchanged("a bad input changes nothing")
			}
			if tc.stale {
				got = send(responder, token, tc.form, before.Version-1)
				require.Equal(t, http.StatusConflict, got.status, got.body)
				require.Contains(t, got.body, "Someone changed this incident meanwhile")
				unchanged("a stale version changes nothing")
				for _, vs := range tc.form {
					for _, v := range vs {
						if len(v) > 8 && !strings.ContainsAny(v, "-+") {
							require.Contains(t, got.body, v, "what was typed is kept")
						}
					}
				}
			}

			got = send(responder, token, tc.form, before.Version)
			require.Equal(t, http.StatusSeeOther, got.status, got.body)
			require.Equal(t, "/incidents/"+w.ref+"?done="+tc.name+"#workbench", got.header.Get("Location"))
			after, evs := read()
			require.True(t, tc.changed(after, evs), "the change is made")
			notice := responder.get("/incidents/" + w.ref + "?done=" + tc.name)
			require.Contains(t, notice.body, `class="notice"`)
		})
	}

	// Closed: it reopens with a reason (none is the named error), and the
	// page offers reopening instead of closing.
	page := responder.get("/incidents/" + w.ref)
	require.Contains(t, page.body, `/reopen"`)
	require.NotContains(t, page.body, `/close"`)
	inc, _ := read()
	bad := responder.post("/incidents/"+w.ref+"/reopen", url.Values{"csrf": {token}, "version": {strconv.FormatInt(inc.Version, 10)}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Contains(t, bad.body, "Say why the incident is reopened")
	ok := responder.post("/incidents/"+w.ref+"/reopen", url.Values{"csrf": {token}, "version": {strconv.FormatInt(inc.Version, 10)},
		"reason": {"The backups were encrypted too."}})
	require.Equal(t, http.StatusSeeOther, ok.status)
	inc, _ = read()
	require.Equal(t, incident.Open, inc.Status)

	// The manual entry happened at the time typed, in the person's time
	// zone (the city's, Europe/Berlin), and shows when it was recorded.
	_, evs := read()
	var entry *incident.Event
	for i := range evs {
		if evs[i].Kind == incident.EventManual {
			entry = &evs[i]
		}
	}
	require.NotNil(t, entry)
	require.Equal(t, time.Date(2026, 1, 2, 2, 12, 0, 0, time.UTC), entry.OccurredAt)
	// A day that is not a date is the named error; a viewer sending it is
	// still refused.
	badDay := url.Values{"summary": {"Second sighting"}, "day": {"yesterday"}, "time": {"03:12"}}
	badDay.Set("csrf", token)
	got = responder.post("/incidents/"+w.ref+"/entries", badDay)
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "Enter the day as a date")
	require.Contains(t, got.body, "Second sighting", "what was typed is kept")
	badDay.Set("csrf", viewerToken)
	require.Equal(t, http.StatusForbidden, viewer.post("/incidents/"+w.ref+"/entries", badDay).status)

	// Pinning an entry as a key event: the viewer may not, the responder
	// may; the pinned chip shows it; taking the pin off.
	id := strconv.FormatInt(entry.ID, 10)
	require.Equal(t, http.StatusForbidden, viewer.post("/incidents/"+w.ref+"/pins", url.Values{"csrf": {viewerToken}, "pin": {id}}).status)
	require.Equal(t, http.StatusNotFound, responder.post("/incidents/"+w.ref+"/pins", url.Values{"csrf": {token}, "pin": {"99999999"}}).status)
	require.Contains(t, responder.get("/incidents/"+w.ref).body, `name="pin" value="`+id+`"`)
	pin := responder.post("/incidents/"+w.ref+"/pins", url.Values{"csrf": {token}, "pin": {id}})
	require.Equal(t, http.StatusSeeOther, pin.status, pin.body)
	pinned := responder.get("/incidents/" + w.ref + "?kind=pinned")
	require.Contains(t, pinned.body, "Attacker first seen on the VPN gateway")
	require.Contains(t, pinned.body, `class="wb-pinned"`)
	require.Contains(t, pinned.body, `name="unpin" value="`+id+`"`)
	require.NotContains(t, pinned.body, "Reported the incident")
	require.NotContains(t, mine.body, `wb-pin-form`, "the reporter's page offers no pin")
	unpin := responder.post("/incidents/"+w.ref+"/pins", url.Values{"csrf": {token}, "unpin": {id}})
	require.Equal(t, http.StatusSeeOther, unpin.status)
	require.NotContains(t, responder.get("/incidents/"+w.ref+"?kind=pinned").body, "Attacker first seen")

	timeline := responder.get("/incidents/" + w.ref + "?kind=notes")
	require.Contains(t, timeline.body, "Attacker first seen on the VPN gateway")
	require.Contains(t, timeline.body, `class="timeline-recorded"`)
	require.NotContains(t, timeline.body, "Restored from tape", "the notes filter leaves the closing out")
}

// The TLP change is confirmed on a page that says who gains and who
// loses sight of the incident; the same label or an unknown one is the
// named error; the page is the 404 page for another organisation.
func TestWorkbenchTLPConfirmation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	responder := newClient(t, w.h.URL)
	responder.signIn(w.email("responder"), password)
	stranger := newClient(t, w.h.URL)
	stranger.signIn(w.email("stranger"), password)

	red := responder.get("/incidents/" + w.ref + "/tlp?tlp=TLP:RED&version=1")
	require.Equal(t, http.StatusOK, red.status, red.body)
	require.Contains(t, red.body, "Who loses sight of the incident")
	require.Contains(t, red.body, "everyone at City of Northbridge, the reporting organisation")
	require.Contains(t, red.body, "everyone at CERT North, the coordinating CERT")
	require.Contains(t, red.body, "the CERTs above the reporting organisation")
	require.Contains(t, red.body, "You become a named participant")
	require.Contains(t, red.body, `name="version" value="1"`)

	clear := responder.get("/incidents/" + w.ref + "/tlp?tlp=TLP:CLEAR")
	require.Equal(t, http.StatusOK, clear.status)
	require.Contains(t, clear.body, "anyone: it may be passed on and published")
	require.Contains(t, clear.body, "everyone who sees it now keeps seeing it")

	same := responder.get("/incidents/" + w.ref + "/tlp?tlp=TLP:AMBER")
	require.Equal(t, http.StatusUnprocessableEntity, same.status)
	require.Contains(t, same.body, "The incident already has this label")

	require.Equal(t, http.StatusNotFound, stranger.get("/incidents/"+w.ref+"/tlp?tlp=TLP:RED").status)
}

// The timeline's organisation filter is asked of the store: an entry of
// the city behind more than a page of certdesk's own events is on the
// first page of the city's filter, the chips name every organisation that
// acted (not only those of the page read), and the stranger's filter of
// another organisation's incident is the 404 page.
func TestWorkbenchTimelineOrganisationFilterReadsTheWholeTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	_, err := w.h.App.DB.SQL.ExecContext(ctx, `INSERT INTO incident_events (incident_id, actor, kind, data, occurred_at)
		SELECT id, 'certdesk', 'notified', '{}', now() - interval '1 hour' + g * interval '1 second'
		FROM incidents, generate_series(1, 150) g WHERE reference = $1`, w.ref)
	require.NoError(t, err)
	_, _, err = w.h.App.Comments.Add(ctx, w.users["reporter"].Principal(), w.ref, "The backup server answers again", nil)
	require.NoError(t, err)

	responder := newClient(t, w.h.URL)
	responder.signIn(w.email("responder"), password)
	first := responder.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, first.status)
	require.True(t, strings.Contains(first.body, `href="?org=city-north#timeline-title"`), "the city acted after the first page, and its chip is offered")
	require.True(t, strings.Contains(first.body, `href="?org=-#timeline-title"`), "certdesk's chip")

	city := responder.get("/incidents/" + w.ref + "?org=city-north")
	require.Equal(t, http.StatusOK, city.status)
	require.True(t, strings.Contains(city.body, "Wrote a comment"), "the city's comment is on the first page of its filter")
	require.False(t, strings.Contains(city.body, "Later entries"), "the city's entries fit on one page")

	system := responder.get("/incidents/" + w.ref + "?org=-")
	require.False(t, strings.Contains(system.body, "Wrote a comment"))
	require.True(t, strings.Contains(system.body, "Later entries"), "certdesk's own entries run over a page")

	stranger := newClient(t, w.h.URL)
	stranger.signIn(w.email("stranger"), password)
	require.Equal(t, http.StatusNotFound, stranger.get("/incidents/"+w.ref+"?org=city-north").status)
}

package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/stretchr/testify/require"
)

var escalationHrefRE = regexp.MustCompile(`href="/escalations/([0-9a-f-]{36})"`)

// escalationsOf lists the world incident's escalations as certdesk sees
// them.
func (w *world) escalationsOf(t *testing.T) []escalation.Escalation {
	t.Helper()
	list, _, err := w.h.App.Escalations.List(context.Background(), w.users["natcoord"].Principal(),
		escalation.Filter{Direction: "inbox"}, pageOf(50))
	require.NoError(t, err)
	return list
}

// The escalation pages over HTTP: the regional CERT escalates the city's
// incident to the national CERT; the city's reporter may not (403); a
// city under another CERT gets the 404 page of everything and changes
// nothing; a missing reason is named beside its field; the national
// CERT's responder may read but not decide (403); its coordinator
// declines without a reason (named error), asks a question (a comment
// both organisations read), accepts, and a second acceptance is a 409
// page that says so; the hand-off history shows it to the city.
func TestEscalationPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.user(t, "natcoord", "national", access.Coordinator, "Noor Coordinator")
	ctx := context.Background()

	resp := newClient(t, w.h.URL)
	resp.signIn(w.email("responder"), password)
	rep := newClient(t, w.h.URL)
	rep.signIn(w.email("reporter"), password)
	str := newClient(t, w.h.URL)
	str.signIn(w.email("stranger"), password)
	nat := newClient(t, w.h.URL)
	nat.signIn(w.email("national"), password)
	coord := newClient(t, w.h.URL)
	coord.signIn(w.email("natcoord"), password)

	// The incident page links to escalating for the CERT, not the city.
	require.Contains(t, resp.get("/incidents/"+w.ref).body, `href="/incidents/`+w.ref+`/escalate"`)
	repIncident := rep.get("/incidents/" + w.ref)
	require.NotContains(t, repIncident.body, `/escalate"`)
	require.Contains(t, repIncident.body, `href="/incidents/`+w.ref+`/escalations"`)

	// The escalate page: the tree, marked, with what each may be asked.
	start := resp.get("/incidents/" + w.ref + "/escalate")
	require.Equal(t, http.StatusOK, start.status)
	require.Contains(t, start.body, `id="to-national" name="to" value="national"`)
	require.NotContains(t, start.body, `value="cert-north"`, "the coordinating organisation cannot be asked")
	require.NotContains(t, start.body, `value="city-north"`)
	require.Contains(t, start.body, "Reported it")
	require.Contains(t, start.body, "Coordinates it now")
	require.Contains(t, start.body, "Cannot be asked: it is your own organisation.")
	require.Contains(t, start.body, "A hand-off never resets a deadline")
	require.Contains(t, start.body, "NIS2 early warning", "the deadlines the incident carries")
	token := start.csrf(t)

	// The city's reporter sees the incident but may not escalate it.
	require.Equal(t, http.StatusForbidden, rep.get("/incidents/"+w.ref+"/escalate").status)
	got := rep.post("/incidents/"+w.ref+"/escalate", url.Values{"csrf": {rep.get("/incidents").csrf(t)}, "to": {"national"},
		"kind": {"coordinate"}, "reason": {"we want the national CERT"}})
	require.Equal(t, http.StatusForbidden, got.status)

	// A city under another CERT: the 404 page, nothing changes.
	strToken := str.get("/incidents").csrf(t)
	missing := normalise(str.get("/incidents/INC-2099-000001").body, "/incidents/INC-2099-000001", "PATH")
	for _, path := range []string{"/incidents/" + w.ref + "/escalate", "/incidents/" + w.ref + "/escalations"} {
		got := str.get(path)
		require.Equal(t, http.StatusNotFound, got.status, path)
		require.Equal(t, missing, normalise(got.body, path, "PATH"), path)
	}
	got = str.post("/incidents/"+w.ref+"/escalate", url.Values{"csrf": {strToken}, "to": {"national"}, "kind": {"coordinate"}, "reason": {"x"}})
	require.Equal(t, http.StatusNotFound, got.status)
	require.Empty(t, w.escalationsOf(t))

	// A missing reason and kind: named beside their fields, the choice kept.
	got = resp.post("/incidents/"+w.ref+"/escalate", url.Values{"csrf": {token}, "to": {"national"}, "reason": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `<a href="#escalate-reason">Write why you escalate</a>`)
	require.Contains(t, got.body, `<a href="#escalate-kind">Choose what you ask of the organisation</a>`)
	require.Contains(t, got.body, `value="national" checked`)
	require.Empty(t, w.escalationsOf(t))

	// The request.
	got = resp.post("/incidents/"+w.ref+"/escalate", url.Values{"csrf": {token}, "to": {"national"}, "kind": {"coordinate"},
		"reason": {"Critical ransomware at a city: we need the national CERT to coordinate."}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/incidents/"+w.ref+"/escalations?done=requested", got.header.Get("Location"))
	list := w.escalationsOf(t)
	require.Len(t, list, 1)
	id := list[0].ID.String()
	require.Equal(t, escalation.Requested, list[0].State)
	// Asking again while it is open: the page says the organisation
	// cannot be asked again.
	again := resp.get("/incidents/" + w.ref + "/escalate")
	require.Contains(t, again.body, "Cannot be asked again: a request to it is still waiting for a decision.")

	// The inbox of the national CERT: the request, with the nav's count.
	inbox := coord.get("/escalations")
	require.Equal(t, http.StatusOK, inbox.status)
	require.Contains(t, inbox.body, `<span class="nav-count">1 open</span>`)
	require.Equal(t, []string{id}, uniqueMatches(escalationHrefRE, inbox.body))
	require.Contains(t, inbox.body, "Critical ransomware at a city")
	require.Contains(t, inbox.body, "CERT North")
	// The sender sees it under "Sent by us"; nothing waits for it.
	require.Contains(t, resp.get("/escalations?tab=outgoing").body, "Waiting for a decision")
	require.Empty(t, uniqueMatches(escalationHrefRE, resp.get("/escalations").body))

	// A third organisation: the 404 page of an escalation that does not
	// exist, for the escalation and its forms.
	const none = "/escalations/00000000-0000-4000-8000-000000000000"
	missingEsc := normalise(str.get(none).body, none, "PATH")
	got = str.get("/escalations/" + id)
	require.Equal(t, http.StatusNotFound, got.status)
	require.Equal(t, missingEsc, normalise(got.body, "/escalations/"+id, "PATH"))
	for _, path := range []string{"/escalations/" + id + "/decide", "/escalations/" + id + "/question"} {
		got := str.post(path, url.Values{"csrf": {strToken}, "decision": {"accept"}, "question": {"who are you?"}})
		require.Equal(t, http.StatusNotFound, got.status, path)
		require.Equal(t, missingEsc, normalise(got.body, path, "PATH"), path)
	}
	require.Empty(t, uniqueMatches(escalationHrefRE, str.get("/escalations").body))

	// The national responder reads it but may not decide: no form, 403.
	natPage := nat.get("/escalations/" + id)
	require.Equal(t, http.StatusOK, natPage.status)
	require.NotContains(t, natPage.body, `name="decision" value="accept"`)
	got = nat.post("/escalations/"+id+"/decide", url.Values{"csrf": {natPage.csrf(t)}, "decision": {"accept"}})
	require.Equal(t, http.StatusForbidden, got.status)
	// So may the requester not decide its own request.
	got = resp.post("/escalations/"+id+"/decide", url.Values{"csrf": {token}, "decision": {"accept"}})
	require.Equal(t, http.StatusForbidden, got.status)
	require.Equal(t, escalation.Requested, w.escalationsOf(t)[0].State)

	// Declining without a reason: named, nothing changes.
	page := coord.get("/escalations/" + id)
	require.Contains(t, page.body, `name="decision" value="decline"`)
	ctoken := page.csrf(t)
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"decline"}, "reason": {" "}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `<a href="#decline-reason">Write why you decline</a>`)
	require.Equal(t, escalation.Requested, w.escalationsOf(t)[0].State)

	// A question to the requester: a comment on the incident, for both.
	got = coord.post("/escalations/"+id+"/question", url.Values{"csrf": {ctoken}, "question": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `<a href="#question">Write your question</a>`)
	got = coord.post("/escalations/"+id+"/question", url.Values{"csrf": {ctoken}, "key": {"q1"}, "question": {"Are the backups offline?"}})
	require.Equal(t, http.StatusSeeOther, got.status, "%v %q", got.header, got.body)
	_, cs, _, err := w.h.App.Comments.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Contains(t, cs[0].Body, "Question to "+w.email("responder"))
	require.Contains(t, cs[0].Body, "Are the backups offline?")
	require.Contains(t, resp.get("/incidents/"+w.ref).body, "Are the backups offline?", "the requester reads the question")
	got = resp.post("/escalations/"+id+"/question", url.Values{"csrf": {token}, "question": {"Asking myself?"}})
	require.Equal(t, http.StatusForbidden, got.status, "the requester answers on the incident, it does not ask itself")

	// Accepting: coordination moves; a second acceptance is a clear 409.
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"accept"}, "reason": {"We take it."}})
	require.Equal(t, http.StatusSeeOther, got.status)
	inc, err := w.h.App.Incidents.Get(ctx, access.System, w.ref)
	require.NoError(t, err)
	require.Equal(t, "national", inc.CoordinatingOrgSlug)
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"accept"}})
	require.Equal(t, http.StatusConflict, got.status)
	require.Contains(t, got.body, "Someone decided first: this request is already accepted. Nothing was changed")
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"decline"}, "reason": {"too late"}})
	require.Equal(t, http.StatusConflict, got.status)
	require.Equal(t, escalation.Accepted, w.escalationsOf(t)[0].State)
	require.NotContains(t, coord.get("/escalations").body, `class="nav-count"`, "nothing open any more")
	decided := coord.get("/escalations?tab=decided")
	require.Equal(t, []string{id}, uniqueMatches(escalationHrefRE, decided.body))
	require.Contains(t, coord.get("/escalations/"+id).body, `name="decision" value="return"`)

	// The hand-off history, as the city reads it.
	hist := rep.get("/incidents/" + w.ref + "/escalations")
	require.Equal(t, http.StatusOK, hist.status)
	require.Contains(t, hist.body, "CERT North asked National CERT to coordinate")
	require.Contains(t, hist.body, "National CERT accepted (coordinate)")
	require.Contains(t, hist.body, "Critical ransomware at a city")
	require.Contains(t, hist.body, "coordinates now")
	require.Contains(t, rep.get("/incidents/"+w.ref).body, "We take it.", "the timeline shows the hand-off with its words")

	// Handing back without a reason: named; with one, coordination returns.
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"return"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `<a href="#return-reason">Write why you hand it back</a>`)
	got = coord.post("/escalations/"+id+"/decide", url.Values{"csrf": {ctoken}, "decision": {"return"}, "reason": {"Contained; back to the region."}})
	require.Equal(t, http.StatusSeeOther, got.status)
	inc, err = w.h.App.Incidents.Get(ctx, access.System, w.ref)
	require.NoError(t, err)
	require.Equal(t, "cert-north", inc.CoordinatingOrgSlug)
	require.Contains(t, rep.get("/incidents/"+w.ref+"/escalations").body, "National CERT handed it back")
}

// uniqueMatches are the first groups of re's matches in s, each once, in
// order.
func uniqueMatches(re *regexp.Regexp, s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

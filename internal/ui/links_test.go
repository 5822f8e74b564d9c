package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

// TestLinkedIncidentsSection walks the workbench's "Linked incidents"
// section without a browser: the duplicate suggestion on the queue and
// the workbench, link in one click, merge and undo; a city under another
// CERT gets the answer of a missing incident for its incident, and sees
// nothing of the link; the campaign view answers.
func TestLinkedIncidentsSection(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	rep := w.users["reporter"].Principal()
	dup, _, err := w.h.App.Incidents.Create(ctx, rep, incident.NewIncident{Title: "Ransomware encrypted the file servers of city hall", TLP: incident.TLPAmber, Severity: incident.High}, nil)
	require.NoError(t, err)
	south, _, err := w.h.App.Incidents.Create(ctx, w.users["stranger"].Principal(), incident.NewIncident{Title: "Elsewhere", TLP: incident.TLPAmber}, nil)
	require.NoError(t, err)
	w.h.Eventually(func() bool {
		got, err := w.h.App.Incidents.Get(ctx, access.System, dup.Reference)
		return err == nil && got.CoordinatingOrgID != nil
	}, "the duplicate is routed")

	r := w.signedIn(t, "responder")
	q := r.get("/queue")
	require.Equal(t, http.StatusOK, q.status)
	require.Contains(t, text(q), "1 possible duplicates")
	pg := r.get("/incidents/" + dup.Reference)
	require.Equal(t, http.StatusOK, pg.status)
	body := text(pg)
	require.Contains(t, body, "Linked incidents")
	require.Contains(t, body, "Possible duplicates")
	require.Contains(t, body, w.ref)
	token := pg.csrf(t)

	// Another CERT's incident is, for the link form, as missing.
	hidden := r.post("/incidents/"+dup.Reference+"/links", url.Values{"csrf": {token}, "incident": {south.Reference}, "kind": {"related"}})
	missing := r.post("/incidents/"+dup.Reference+"/links", url.Values{"csrf": {token}, "incident": {"INC-1999-999999"}, "kind": {"related"}})
	require.Equal(t, http.StatusNotFound, hidden.status)
	require.Equal(t, missing.status, hidden.status)
	require.Equal(t, between(text(missing), "error-summary", "</div>"), between(text(hidden), "error-summary", "</div>"))
	require.Equal(t, strings.ReplaceAll(between(text(missing), `id="links"`, "</section>"), "INC-1999-999999", "X"),
		strings.ReplaceAll(between(text(hidden), `id="links"`, "</section>"), south.Reference, "X"))

	got := r.post("/incidents/"+dup.Reference+"/links", url.Values{"csrf": {token}, "incident": {w.ref}, "kind": {"duplicate_of"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	body = text(r.get(got.header.Get("Location")))
	require.Contains(t, body, "Incidents linked.")
	require.Contains(t, body, "Duplicate of")
	require.Contains(t, text(r.get("/incidents/"+w.ref)), "Has duplicate")
	require.NotContains(t, text(r.get("/incidents/"+w.ref)), "Possible duplicates", "linked: no longer suggested")

	got = r.post("/incidents/"+dup.Reference+"/merge", url.Values{"csrf": {token}, "into": {w.ref}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	body = text(r.get(got.header.Get("Location")))
	require.Contains(t, body, "Merged into "+w.ref+".")
	require.Contains(t, body, "Undo the merge")
	reporter := w.signedIn(t, "reporter")
	require.Contains(t, text(reporter.get("/incidents/"+dup.Reference)), "Merged into "+w.ref+".")
	require.NotContains(t, text(reporter.get("/incidents/"+dup.Reference)), "Undo the merge", "a reporter may not undo")

	got = r.post("/incidents/"+dup.Reference+"/merge/undo", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	body = text(r.get(got.header.Get("Location")))
	require.Contains(t, body, "Merge undone.")
	require.NotContains(t, body, "Merged into "+w.ref+".")

	// The city under CERT South: 404 for the incident and its forms, nothing of the link.
	s := w.signedIn(t, "stranger")
	require.Equal(t, http.StatusNotFound, s.get("/incidents/"+dup.Reference).status)
	require.NotContains(t, text(s.get("/incidents/"+south.Reference)), dup.Reference)
	require.Equal(t, http.StatusOK, r.get("/campaigns").status)
}

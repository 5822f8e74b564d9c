package ui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/stretchr/testify/require"
)

// A person of another organisation (a city under another CERT) gets the
// 404 page of a reference that does not exist on every page and every
// form of an incident they may not see — each route of the router under
// /incidents/:ref/, filled with real identifiers of the incident's
// comment, evidence file and request — and changes nothing. A route
// added under /incidents/:ref without a case here fails the test.
func TestAnotherOrganisationGets404OnEveryIncidentRoute(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	tk := w.request(t, "Send us the ransom note")
	w.comment(t, "reporter", "The tapes were last connected on Friday.")
	att := w.attach(t, "reporter", "ransom-note.txt", "", "pay us")
	_, cs, _, err := w.h.App.Comments.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	obs, _, err := w.h.App.Observables.Add(ctx, w.principal(t, "responder"), w.ref, observable.NewObservable{Type: observable.IPv4, Value: "198.51.100.7"})
	require.NoError(t, err)
	w.h.App.Runs.SetPlaybooks(shippedPlaybooks(t, "personal-data-breach"))
	runID := w.startRun(t)
	other, _, err := w.h.App.Incidents.Create(ctx, w.principal(t, "reporter"), incident.NewIncident{Title: "Phishing at the library",
		Severity: incident.Low, TLP: incident.TLPAmber}, nil)
	require.NoError(t, err)
	link, _, err := w.h.App.Links.Link(ctx, w.principal(t, "responder"), w.ref, other.Reference, linking.Related)
	require.NoError(t, err)
	ids := map[string]string{"comments": cs[0].ID.String(), "evidence": att.ID.String(), "tasks": tk.ID.String(),
		"observables": obs.ID.String(), "participants": w.users["reporter"].ID.String(), "shares": "cert-north", "runs": runID,
		"links": link.ID.String()}

	s := newClient(t, w.h.URL)
	s.signIn(w.email("stranger"), password)
	missing := s.get("/incidents/INC-2099-000001")
	require.Equal(t, http.StatusNotFound, missing.status)
	want := normalise(missing.body, "/incidents/INC-2099-000001", "PATH")
	token := s.get("/incidents").csrf(t)

	var checked []string
	for _, r := range w.h.App.HTTP.Routes() {
		if !strings.HasPrefix(r.Path, "/incidents/:ref") || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
			continue
		}
		for _, ref := range []string{w.ref, w.incID} {
			path := strings.Replace(r.Path, ":ref", ref, 1)
			path = strings.Replace(path, ":kind", "nis2_notification", 1) // a legal report's kind
			path = strings.Replace(path, ":step", "scope", 1)             // a playbook run's step
			if strings.Contains(path, ":id") {
				parts := strings.Split(path, "/")
				for i, p := range parts {
					if p == ":id" {
						id, ok := ids[parts[i-1]]
						require.True(t, ok, "%s %s: no identifier for :id after %q; name one here", r.Method, r.Path, parts[i-1])
						parts[i] = id
					}
				}
				path = strings.Join(parts, "/")
			}
			require.NotContains(t, path, ":", "%s %s: a parameter without a value; name one here", r.Method, r.Path)
			var got *page
			switch {
			case r.Method == http.MethodGet:
				got = s.get(path)
			case strings.HasSuffix(r.Path, "/evidence"):
				// The upload: a real multipart form, CSRF token first.
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				require.NoError(t, mw.WriteField("csrf", token))
				fw, err := mw.CreateFormFile("file", "stranger.txt")
				require.NoError(t, err)
				_, _ = fw.Write([]byte("from another city"))
				require.NoError(t, mw.Close())
				req, err := http.NewRequest(http.MethodPost, w.h.URL+path, &body)
				require.NoError(t, err)
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set("Origin", w.h.URL)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				got = s.do(req)
			default:
				got = s.post(path, url.Values{"csrf": {token}, "body": {"from another city"}, "key": {"k-" + ref}, "version": {"1"}})
			}
			require.Equal(t, http.StatusNotFound, got.status, "%s %s", r.Method, path)
			require.Equal(t, want, normalise(got.body, path, "PATH"), "%s %s is the 404 page of a reference that does not exist", r.Method, path)
			require.NotContains(t, got.body, "ransom", "%s %s", r.Method, path)
		}
		checked = append(checked, r.Method+" "+r.Path)
	}
	require.Subset(t, checked, []string{"GET /incidents/:ref", "POST /incidents/:ref/comments", "GET /incidents/:ref/comments/:id/edit",
		"POST /incidents/:ref/comments/:id", "GET /incidents/:ref/comments/:id/revisions", "POST /incidents/:ref/evidence",
		"GET /incidents/:ref/evidence/:id", "POST /incidents/:ref/tasks/:id/done"})

	// Nothing changed: one comment, as written; one file; the request open.
	_, cs, _, err = w.h.App.Comments.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, int64(1), cs[0].Version)
	_, atts, _, err := w.h.App.Evidence.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, atts, 1)
	got, err := w.h.App.Tasks.Get(ctx, access.System, w.ref, tk.ID.String())
	require.NoError(t, err)
	require.False(t, got.Status.Finished())
	_, os, _, err := w.h.App.Observables.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, os, 1)
	require.Equal(t, incident.TLPAmber, os[0].TLP)
	// The playbook run adds its own tasks meanwhile; none is the stranger's.
	_, ts, _, err := w.h.App.Tasks.List(ctx, access.System, w.ref, task.Any, pageOf(100))
	require.NoError(t, err)
	for _, x := range ts {
		require.NotContains(t, x.Title+x.Description, "another city")
	}
	run, err := w.h.App.Runs.Get(ctx, access.System, w.ref, runID)
	require.NoError(t, err)
	require.Equal(t, "running", string(run.State))
}

package ui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// mispEvent is a MISP event file as a MISP instance exports it: two
// indicators certdesk takes, one it has no observable for, one value that
// does not validate, TLP and RSIT tags.
const mispEvent = `{"Event": {"info": "Phishing wave against district offices", "uuid": "5f0c8a4e-2b1d-4c55-9a51-3e0d2a7c9b10",
 "Tag": [{"name": "tlp:green"}, {"name": "rsit:fraud=\"phishing\""}],
 "Attribute": [
  {"type": "domain", "category": "Network activity", "value": "login-district-office.example", "to_ids": true},
  {"type": "ip-dst", "category": "Network activity", "value": "203.0.113.77", "to_ids": true},
  {"type": "btc", "category": "Financial fraud", "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"},
  {"type": "ip-src", "category": "Network activity", "value": "not-an-address"}
 ]}}`

// postMISP sends the import form as the page does: a multipart body, the
// CSRF token first and the file last.
func postMISP(t *testing.T, c *client, token, target, into, name, content string) *page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("csrf", token))
	require.NoError(t, mw.WriteField("target", target))
	require.NoError(t, mw.WriteField("into", into))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = fw.Write([]byte(content))
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.base+"/incidents/import", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// A responder imports a MISP event file as a new incident and into an
// existing one: the page says what became of every attribute; the
// observables are on the incident. A bad file, a missing one or an
// oversized one comes back on the form naming the field.
func TestMISPImportPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{Config: func(c *config.Config) { c.MaxBodyBytes = 4096 }}})
	ctx := context.Background()
	r := w.signedIn(t, "responder")
	form := r.get("/incidents/import")
	require.Equal(t, http.StatusOK, form.status)
	require.Contains(t, form.body, "A new incident")
	token := form.csrf(t)
	require.Contains(t, r.get("/incidents").body, `href="/incidents/import"`, "the list links to the import")

	// As a new incident: TLP and classification from the tags.
	got := postMISP(t, r, token, "new", "", "event.json", mispEvent)
	require.Equal(t, http.StatusCreated, got.status, got.body)
	require.Contains(t, got.body, "Incident created")
	require.Contains(t, got.body, "No observable type for this attribute type")
	require.Contains(t, got.body, "The value is not valid for its type")
	require.Contains(t, got.body, "<code>btc</code>", "the unknown type is listed")
	require.Regexp(t, `id="misp-added">2<`, got.body)
	list, _, err := w.h.App.Incidents.List(ctx, access.System, incident.Filter{}, pageOf(10))
	require.NoError(t, err)
	var created *incident.Incident
	for i := range list {
		if list[i].Title == "Phishing wave against district offices" {
			created = &list[i]
		}
	}
	require.NotNil(t, created, "the event became an incident")
	require.Equal(t, incident.TLPGreen, created.TLP)
	require.Equal(t, "fraud", created.Category)
	require.Contains(t, got.body, created.Reference)
	_, obs, _, err := w.h.App.Observables.List(ctx, access.System, created.ID.String(), observable.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, obs, 2)

	// Into the city's incident, twice: the second time everything is
	// already there.
	got = postMISP(t, r, token, "into", w.ref, "event.json", mispEvent)
	require.Equal(t, http.StatusOK, got.status, got.body)
	require.Contains(t, got.body, "Observables added")
	require.Regexp(t, `id="misp-added">2<`, got.body)
	got = postMISP(t, r, token, "into", " "+w.ref+" ", "event.json", mispEvent)
	require.Equal(t, http.StatusOK, got.status, got.body)
	require.Regexp(t, `id="misp-added">0<`, got.body)
	require.Regexp(t, `id="misp-merged">2<`, got.body)
	// The incident page links to the import with its reference.
	require.Contains(t, r.get("/incidents/"+w.ref).body, `href="/incidents/import?into=`+w.ref+`"`)

	// Errors name the field, and what was chosen stays.
	for _, tc := range []struct {
		name, target, into, file, content string
		status                            int
		want                              string
	}{
		{"no file", "into", w.ref, "", "", http.StatusUnprocessableEntity, "Choose a MISP event file"},
		{"no reference", "into", "", "event.json", mispEvent, http.StatusUnprocessableEntity, "Enter the reference of the incident"},
		{"no target", "", "", "event.json", mispEvent, http.StatusUnprocessableEntity, "Choose whether the event becomes a new incident"},
		{"not JSON", "new", "", "event.json", "<xml/>", http.StatusUnprocessableEntity, "must be one JSON object holding a MISP event"},
		{"no event", "new", "", "event.json", `{"response": []}`, http.StatusUnprocessableEntity, "holds no MISP event"},
		{"no info", "new", "", "event.json", `{"Event": {"uuid": "5f0c8a4e-2b1d-4c55-9a51-3e0d2a7c9b11", "Attribute": []}}`, http.StatusUnprocessableEntity, "The event has no info"},
		{"too large", "new", "", "event.json", strings.Repeat(" ", 5000) + mispEvent, http.StatusRequestEntityTooLarge, "The file must be at most"},
		{"unknown incident", "into", "INC-2000-999999", "event.json", mispEvent, http.StatusNotFound, "There is no incident INC-2000-999999 that you can see"},
	} {
		var got *page
		if tc.file == "" {
			got = postMISP(t, r, token, tc.target, tc.into, "", "")
		} else {
			got = postMISP(t, r, token, tc.target, tc.into, tc.file, tc.content)
		}
		require.Equal(t, tc.status, got.status, tc.name)
		require.Contains(t, got.body, tc.want, tc.name)
		require.Contains(t, got.body, `class="error-summary"`, tc.name)
		require.Contains(t, got.body, `value="`+tc.into+`"`, "%s: the reference typed stays", tc.name)
	}

	// Without the CSRF token nothing is imported.
	got = postMISP(t, r, "forged", "into", w.ref, "event.json", strings.Replace(mispEvent, "203.0.113.77", "203.0.113.78", 1))
	require.Equal(t, http.StatusForbidden, got.status)
	_, obs, _, err = w.h.App.Observables.List(ctx, access.System, w.ref, observable.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, obs, 2)
}

// Another organisation's person importing into an incident they may not
// see gets the answer of a reference that does not exist, and the
// incident gains nothing.
func TestMISPImportIntoAnIncidentNotVisible(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	s := w.signedIn(t, "stranger")
	token := s.get("/incidents/import").csrf(t)
	hidden := postMISP(t, s, token, "into", w.ref, "event.json", mispEvent)
	missing := postMISP(t, s, token, "into", "INC-2000-999999", "event.json", mispEvent)
	require.Equal(t, http.StatusNotFound, hidden.status)
	require.Equal(t, missing.status, hidden.status)
	require.Equal(t, normalise(missing.body, "INC-2000-999999", "REF"), normalise(hidden.body, w.ref, "REF"))
	require.NotContains(t, hidden.body, "Ransomware")
	_, obs, _, err := w.h.App.Observables.List(ctx, access.System, w.ref, observable.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, obs)
}

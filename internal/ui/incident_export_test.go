package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/misp/misptest"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/stretchr/testify/require"
)

// The incident page's exports: the STIX 2.1 bundle, the MISP event and the indicators as
// CSV download for whoever sees the incident, with the TLP label of the
// incident in X-TLP; a CSV cell that a spreadsheet would run is defused;
// another city gets the 404 page (TestAnotherOrganisationGets404OnEveryIncidentRoute
// covers every /incidents/:ref route).
func TestIncidentExportsDownload(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	for _, n := range []observable.NewObservable{
		{Type: observable.IPv4, Value: "203.0.113.7", Note: "=HYPERLINK(\"http://evil.example\")", Tags: []string{"c2"}},
		{Type: observable.Domain, Value: "pay-us.example", Sighted: true},
	} {
		_, _, err := w.h.App.Observables.Add(ctx, w.principal(t, "responder"), w.ref, n)
		require.NoError(t, err)
	}

	s := newClient(t, w.h.URL)
	s.signIn(w.email("responder"), password)
	inc := s.get("/incidents/" + w.ref)
	require.Contains(t, inc.body, `href="/incidents/`+w.ref+`/export.stix.json"`)
	require.Contains(t, inc.body, `href="/incidents/`+w.ref+`/observables.csv"`)

	bundle := s.get("/incidents/" + w.ref + "/export.stix.json")
	require.Equal(t, http.StatusOK, bundle.status)
	require.Equal(t, "TLP:AMBER", bundle.header.Get("X-TLP"))
	require.Contains(t, bundle.header.Get("Content-Disposition"), w.ref+".stix.json")
	var b struct {
		Type    string           `json:"type"`
		Objects []map[string]any `json:"objects"`
	}
	require.NoError(t, json.Unmarshal([]byte(bundle.body), &b))
	require.Equal(t, "bundle", b.Type)
	require.Contains(t, bundle.body, "203.0.113.7")
	require.Contains(t, bundle.body, "pay-us.example")

	require.Contains(t, inc.body, `href="/incidents/`+w.ref+`/export.misp.json"`)
	event := s.get("/incidents/" + w.ref + "/export.misp.json")
	require.Equal(t, http.StatusOK, event.status)
	require.Equal(t, "TLP:AMBER", event.header.Get("X-TLP"))
	require.Contains(t, event.header.Get("Content-Disposition"), w.ref+".misp.json")
	require.NoError(t, misptest.Check([]byte(event.body)), event.body)
	require.Contains(t, event.body, "pay-us.example")

	csv := s.get("/incidents/" + w.ref + "/observables.csv")
	require.Equal(t, http.StatusOK, csv.status)
	require.Equal(t, "text/csv; charset=utf-8", csv.header.Get("Content-Type"))
	require.Contains(t, csv.body, "type,value,tlp,sighted,tags,note,added_by,added_at\n")
	require.Contains(t, csv.body, "ipv4,203.0.113.7,TLP:AMBER,false,c2,\"'=HYPERLINK(\"\"http://evil.example\"\")\"")
	require.Contains(t, csv.body, "domain,pay-us.example,TLP:AMBER,true,")

	other := newClient(t, w.h.URL)
	other.signIn(w.email("stranger"), password)
	require.Equal(t, http.StatusNotFound, other.get("/incidents/"+w.ref+"/export.stix.json").status)
	require.Equal(t, http.StatusNotFound, other.get("/incidents/"+w.ref+"/observables.csv").status)
	require.Equal(t, http.StatusNotFound, other.get("/incidents/"+w.ref+"/export.misp.json").status)
}

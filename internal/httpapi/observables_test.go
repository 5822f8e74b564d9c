package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/stix/stixtest"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// obsWorld is a region with two sibling cities: users by name, and a
// helper to report incidents.
type obsWorld struct {
	h     *testapp.Harness
	users map[string]string // name → token
}

func obsSetup(t *testing.T) *obsWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("city-a", org.LocalAuthority, "north")
	h.Org("city-b", org.LocalAuthority, "north")
	w := &obsWorld{h: h, users: map[string]string{}}
	for name, u := range map[string]struct {
		org  string
		role access.Role
	}{
		"a-reporter": {"city-a", access.Reporter}, "a-viewer": {"city-a", access.Viewer},
		"b-reporter": {"city-b", access.Reporter}, "north-responder": {"north", access.Responder},
	} {
		_, w.users[name] = h.User(u.org, u.role)
	}
	return w
}

func (w *obsWorld) as(user string) *testapp.Harness { return w.h.As(w.users[user]) }

func (w *obsWorld) report(t *testing.T, user, title, tlp string) incidentBody {
	t.Helper()
	r := w.as(user).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": tlp})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc incidentBody
	r.JSON(t, &inc)
	return inc
}

type observableBody struct {
	ID         string   `json:"id"`
	IncidentID string   `json:"incident_id"`
	Type       string   `json:"type"`
	Value      string   `json:"value"`
	TLP        string   `json:"tlp"`
	Sighted    bool     `json:"sighted"`
	Tags       []string `json:"tags"`
	Note       string   `json:"note"`
	CreatedBy  *string  `json:"created_by"`
}

type problemBody struct {
	Errors []struct{ Field, Rule, Message string }
}

func (w *obsWorld) add(t *testing.T, user, incID string, body map[string]any, want int) observableBody {
	t.Helper()
	r := w.as(user).Request(http.MethodPost, "/api/v1/incidents/"+incID+"/observables", body)
	require.Equal(t, want, r.Status, "%s", r.Body)
	var o observableBody
	if r.Status < 300 {
		r.JSON(t, &o)
	}
	return o
}

func (w *obsWorld) list(t *testing.T, user, incID string) []observableBody {
	t.Helper()
	r := w.as(user).Request(http.MethodGet, "/api/v1/incidents/"+incID+"/observables", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Observables []observableBody }
	r.JSON(t, &l)
	return l.Observables
}

func (w *obsWorld) eventKinds(t *testing.T, user, incID string) []string {
	t.Helper()
	r := w.as(user).Request(http.MethodGet, "/api/v1/incidents/"+incID+"/timeline", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var tl timelineBody
	r.JSON(t, &tl)
	var kinds []string
	for _, e := range tl.Events {
		if strings.HasPrefix(e.Kind, "observable_") {
			kinds = append(kinds, e.Kind)
		}
	}
	return kinds
}

func TestObservableDeduplicatedPerIncident(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Phishing wave", "TLP:AMBER")
	other := w.report(t, "a-reporter", "Another incident", "TLP:GREEN")

	first := w.add(t, "a-reporter", inc.ID, map[string]any{"type": "domain", "value": "Login-Rivertown.Example.", "tags": []string{"phishing"}}, http.StatusCreated)
	require.Equal(t, "login-rivertown.example", first.Value)
	require.Equal(t, "TLP:AMBER", first.TLP, "the observable takes the incident's TLP by default")
	require.False(t, first.Sighted)
	require.NotNil(t, first.CreatedBy)

	// The same domain, written another way: merged into the first, 200.
	again := w.add(t, "a-reporter", inc.Reference, map[string]any{"type": "domain", "value": "login-rivertown[.]example",
		"sighted": true, "tags": []string{"credential-harvesting", "phishing"}, "tlp": "red", "note": "ignored on a merge"}, http.StatusOK)
	require.Equal(t, first.ID, again.ID)
	require.True(t, again.Sighted)
	require.Equal(t, []string{"credential-harvesting", "phishing"}, again.Tags)
	require.Equal(t, "TLP:AMBER", again.TLP, "a merge keeps the TLP")
	require.Empty(t, again.Note, "a merge keeps the note")

	// Once more, changing nothing: 200 and no event.
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "domain", "value": "LOGIN-RIVERTOWN.EXAMPLE"}, http.StatusOK)

	// The same value in another incident is another observable; another
	// type with the same text is another observable too.
	w.add(t, "a-reporter", other.ID, map[string]any{"type": "domain", "value": "login-rivertown.example"}, http.StatusCreated)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "filename", "value": "login-rivertown.example"}, http.StatusCreated)

	obs := w.list(t, "a-reporter", inc.ID)
	require.Len(t, obs, 2)
	require.Equal(t, first.ID, obs[0].ID)
	require.Equal(t, []string{"observable_added", "observable_updated", "observable_added"}, w.eventKinds(t, "a-reporter", inc.ID))

	// A concurrent burst of the same observable still gives one row.
	res := make(chan int, 8)
	for i := 0; i < 8; i++ {
		go func() {
			r := w.as("north-responder").Request(http.MethodPost, "/api/v1/incidents/"+other.ID+"/observables",
				map[string]any{"type": "ipv4", "value": "192.0.2.77"})
			res <- r.Status
		}()
	}
	created := 0
	for i := 0; i < 8; i++ {
		s := <-res
		require.Contains(t, []int{http.StatusCreated, http.StatusOK}, s)
		if s == http.StatusCreated {
			created++
		}
	}
	require.Equal(t, 1, created)
	require.Len(t, w.list(t, "a-reporter", other.ID), 2)
}

func TestObservableValidation(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Bad input", "TLP:AMBER")
	for _, tc := range []struct {
		body        map[string]any
		field, rule string
	}{
		{map[string]any{"type": "ipv4", "value": "192.0.2.300"}, "value", "format"},
		{map[string]any{"type": "ipv4", "value": ""}, "value", "required"},
		{map[string]any{"type": "ipv6", "value": "::ffff:192.0.2.1"}, "value", "ipv4_mapped"},
		{map[string]any{"type": "domain", "value": "localhost"}, "value", "fqdn"},
		{map[string]any{"type": "domain", "value": "192.0.2.1"}, "value", "numeric_tld"},
		{map[string]any{"type": "domain", "value": strings.Repeat("a", 64) + ".example"}, "value", "label_length"},
		{map[string]any{"type": "url", "value": "javascript://alert(1)"}, "value", "scheme"},
		{map[string]any{"type": "url", "value": "evil.example/x"}, "value", "absolute"},
		{map[string]any{"type": "email", "value": "Eve <eve@evil.example>"}, "value", "format"},
		{map[string]any{"type": "md5", "value": "abc"}, "value", "length"},
		{map[string]any{"type": "sha1", "value": strings.Repeat("g", 40)}, "value", "hex"},
		{map[string]any{"type": "sha256", "value": strings.Repeat("a", 63)}, "value", "length"},
		{map[string]any{"type": "filename", "value": "C:\\evil.exe"}, "value", "path_separator"},
		{map[string]any{"type": "cve", "value": "CVE-2024-1"}, "value", "format"},
		{map[string]any{"type": "asn", "value": "AS4294967296"}, "value", "range"},
		{map[string]any{"type": "mac", "value": "00:11:22:33:44:55"}, "type", "enum"},
		{map[string]any{"value": "192.0.2.1"}, "type", "required"},
		{map[string]any{"type": "ipv4", "value": "192.0.2.1", "tlp": "purple"}, "tlp", "enum"},
		{map[string]any{"type": "ipv4", "value": "192.0.2.1", "note": strings.Repeat("n", 2001)}, "note", "max_length"},
		{map[string]any{"type": "ipv4", "value": "192.0.2.1", "tags": []string{strings.Repeat("t", 101)}}, "tags", "max_length"},
		{map[string]any{"type": "ipv4", "value": "192.0.2.1", "colour": "red"}, "colour", "unknown_field"},
	} {
		// The body is checked first: the same 422 on a visible incident, on
		// an unknown one and for a role that may not add observables.
		for _, target := range []struct{ user, inc string }{{"a-reporter", inc.ID}, {"b-reporter", inc.ID}, {"a-viewer", testapp.NewID()}} {
			r := w.as(target.user).Request(http.MethodPost, "/api/v1/incidents/"+target.inc+"/observables", tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", tc.body, r.Body)
			var p problemBody
			r.JSON(t, &p)
			require.NotEmpty(t, p.Errors, "%s", r.Body)
			require.Equal(t, tc.field, p.Errors[0].Field, "%v: %s", tc.body, r.Body)
			require.Equal(t, tc.rule, p.Errors[0].Rule, "%v: %s", tc.body, r.Body)
			require.NotEmpty(t, p.Errors[0].Message)
		}
	}
	require.Empty(t, w.list(t, "a-reporter", inc.ID))

	// Valid input: an invisible incident is 404, a viewer 403.
	body := map[string]any{"type": "ipv4", "value": "192.0.2.1"}
	w.add(t, "b-reporter", inc.ID, body, http.StatusNotFound)
	w.add(t, "a-viewer", inc.ID, body, http.StatusForbidden)
	w.add(t, "a-reporter", testapp.NewID(), body, http.StatusNotFound)
}

type matchesBody struct {
	SearchedFor []struct{ Type, Value string } `json:"searched_for"`
	Matches     []struct {
		Observable observableBody `json:"observable"`
		Incident   struct{ ID, Reference, Title, TLP string }
	} `json:"matches"`
	NextCursor *string `json:"next_cursor"`
}

func (w *obsWorld) search(t *testing.T, user, query string) (matchesBody, *testapp.Response) {
	t.Helper()
	r := w.as(user).Request(http.MethodGet, "/api/v1/observables?"+query, nil)
	var m matchesBody
	if r.Status == http.StatusOK {
		r.JSON(t, &m)
	}
	return m, r
}

func TestCorrelationFollowsVisibility(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	a1 := w.report(t, "a-reporter", "Scan from a known host", "TLP:AMBER")
	a2 := w.report(t, "a-reporter", "Brute force on VPN", "TLP:GREEN")
	b1 := w.report(t, "b-reporter", "Secret sibling incident", "TLP:AMBER")
	a3 := w.report(t, "a-reporter", "Unrelated", "TLP:AMBER")
	w.add(t, "a-reporter", a1.ID, map[string]any{"type": "ipv4", "value": "198.51.100.7", "tlp": "TLP:RED"}, http.StatusCreated)
	w.add(t, "a-reporter", a2.ID, map[string]any{"type": "ipv4", "value": " 198.51.100[.]7 "}, http.StatusCreated)
	w.add(t, "b-reporter", b1.ID, map[string]any{"type": "ipv4", "value": "198.51.100.7"}, http.StatusCreated)
	w.add(t, "a-reporter", a3.ID, map[string]any{"type": "ipv4", "value": "198.51.100.8"}, http.StatusCreated)
	w.add(t, "a-reporter", a3.ID, map[string]any{"type": "filename", "value": "198.51.100.7"}, http.StatusCreated)

	found := func(user, query string) map[string]string {
		m, r := w.search(t, user, query)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		out := map[string]string{}
		for _, x := range m.Matches {
			out[x.Incident.ID] = x.Observable.Type
			require.Equal(t, x.Incident.ID, x.Observable.IncidentID)
		}
		return out
	}
	// city-a sees its own two incidents with the IP (and the file name
	// that reads the same), never its sibling city's.
	require.Equal(t, map[string]string{a1.ID: "ipv4", a2.ID: "ipv4", a3.ID: "filename"}, found("a-reporter", "value=198.51.100.7"))
	require.Equal(t, map[string]string{a1.ID: "ipv4", a2.ID: "ipv4"}, found("a-reporter", "type=ipv4&value="+url.QueryEscape("198.51.100[.]7")))
	require.Equal(t, map[string]string{a2.ID: "ipv4"}, found("a-viewer", "type=ipv4&value=198.51.100.7"),
		"viewers read correlations too, but a TLP:RED observable only where they are named participants")
	require.Equal(t, map[string]string{b1.ID: "ipv4"}, found("b-reporter", "type=ipv4&value=198.51.100.7"))
	// The regional CERT sees all three cities' incidents, and the TLP:RED
	// observable in none of them.
	require.Equal(t, map[string]string{a2.ID: "ipv4", b1.ID: "ipv4"}, found("north-responder", "type=ipv4&value=198.51.100.7"))

	// The hidden incident does not even shape the pages.
	m, _ := w.search(t, "a-reporter", "type=ipv4&value=198.51.100.7&limit=1")
	require.Len(t, m.Matches, 1)
	require.Equal(t, a2.ID, m.Matches[0].Incident.ID, "newest first")
	require.NotNil(t, m.NextCursor)
	m2, _ := w.search(t, "a-reporter", "type=ipv4&value=198.51.100.7&limit=1&cursor="+url.QueryEscape(*m.NextCursor))
	require.Len(t, m2.Matches, 1)
	require.Equal(t, a1.ID, m2.Matches[0].Incident.ID)
	require.Nil(t, m2.NextCursor)
	require.Equal(t, "Scan from a known host", m2.Matches[0].Incident.Title)

	searched, _ := w.search(t, "a-reporter", "value=198.51.100.7")
	require.Equal(t, []struct{ Type, Value string }{{"ipv4", "198.51.100.7"}, {"filename", "198.51.100.7"}}, searched.SearchedFor)

	for _, tc := range []struct{ query, field, rule string }{
		{"", "value", "required"},
		{"value=" + url.QueryEscape("a/b c"), "value", "format"},
		{"type=domain&value=198.51.100.7", "value", "numeric_tld"},
		{"type=mac&value=x", "type", "enum"},
		{"value=x.example&limit=-1", "limit", "integer"},
		{"value=x.example&cursor=nonsense", "cursor", "format"},
	} {
		_, r := w.search(t, "a-reporter", tc.query)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.query, r.Body)
		var p problemBody
		r.JSON(t, &p)
		require.Equal(t, tc.field, p.Errors[0].Field, "%s", tc.query)
		require.Equal(t, tc.rule, p.Errors[0].Rule, "%s", tc.query)
	}
}

func TestObservablePatchAndRemove(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Malware sample", "TLP:AMBER")
	o := w.add(t, "a-reporter", inc.ID, map[string]any{"type": "sha256", "value": strings.Repeat("AB", 32)}, http.StatusCreated)
	path := "/api/v1/incidents/" + inc.ID + "/observables/" + o.ID

	r := w.as("north-responder").Request(http.MethodPatch, path, map[string]any{"sighted": true, "tlp": "red",
		"tags": []string{"ransomware", " ransomware ", ""}, "note": "from the EDR"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var got observableBody
	r.JSON(t, &got)
	require.True(t, got.Sighted)
	require.Equal(t, "TLP:RED", got.TLP)
	require.Equal(t, []string{"ransomware"}, got.Tags)
	require.Equal(t, "from the EDR", got.Note)
	require.Equal(t, strings.Repeat("ab", 32), got.Value)

	// Null and absent fields stay; an unchanged PATCH records nothing.
	r = w.as("a-reporter").Request(http.MethodPatch, path, map[string]any{"tags": nil, "sighted": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &got)
	require.Equal(t, []string{"ransomware"}, got.Tags)
	require.Equal(t, []string{"observable_added", "observable_updated"}, w.eventKinds(t, "a-reporter", inc.ID))

	for _, tc := range []struct {
		user, path string
		body       map[string]any
		want       int
	}{
		{"a-viewer", path, map[string]any{"sighted": false}, http.StatusForbidden},
		{"b-reporter", path, map[string]any{"sighted": false}, http.StatusNotFound},
		{"a-reporter", path, map[string]any{"tlp": "purple"}, http.StatusUnprocessableEntity},
		{"a-reporter", path, map[string]any{"value": "x"}, http.StatusUnprocessableEntity},
		{"a-reporter", "/api/v1/incidents/" + inc.ID + "/observables/" + testapp.NewID(), map[string]any{"sighted": false}, http.StatusNotFound},
		{"a-reporter", "/api/v1/incidents/" + inc.ID + "/observables/not-a-uuid", map[string]any{"sighted": false}, http.StatusNotFound},
		{"a-viewer", "/api/v1/incidents/" + inc.ID + "/observables/not-a-uuid", map[string]any{"sighted": false}, http.StatusForbidden},
	} {
		r := w.as(tc.user).Request(http.MethodPatch, tc.path, tc.body)
		require.Equal(t, tc.want, r.Status, "%s %v: %s", tc.user, tc.body, r.Body)
	}

	// Another incident's observable is not reachable through this one.
	other := w.report(t, "a-reporter", "Other", "TLP:AMBER")
	r = w.as("a-reporter").Request(http.MethodDelete, "/api/v1/incidents/"+other.ID+"/observables/"+o.ID, nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	require.Equal(t, http.StatusForbidden, w.as("a-viewer").Request(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNotFound, w.as("b-reporter").Request(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNoContent, w.as("a-reporter").Request(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNotFound, w.as("a-reporter").Request(http.MethodDelete, path, nil).Status)
	require.Empty(t, w.list(t, "a-reporter", inc.ID))
	require.Equal(t, []string{"observable_added", "observable_updated", "observable_removed"}, w.eventKinds(t, "a-reporter", inc.ID))
}

func TestExport(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Ransomware at the city hall", "TLP:CLEAR")
	for _, b := range []map[string]any{
		{"type": "ipv4", "value": "198.51.100.7", "sighted": true, "tlp": "TLP:RED"},
		{"type": "url", "value": "hxxps://evil[.]example/pay", "tags": []string{"c2"}, "tlp": "amber"},
		{"type": "sha256", "value": strings.Repeat("0f", 32), "sighted": true},
		{"type": "cve", "value": "cve-2024-3094", "sighted": true, "tlp": "amber"},
		{"type": "asn", "value": "64500", "tlp": "amber"},
	} {
		w.add(t, "a-reporter", inc.ID, b, http.StatusCreated)
	}
	w.h.Eventually(func() bool {
		var b incidentBody
		w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil).JSON(t, &b)
		return b.CoordinatingOrg != nil
	}, "the incident is routed")

	// JSON: the API's own shapes.
	r := w.as("north-responder").Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/export", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `attachment; filename="`+inc.Reference+`.json"`, r.Header.Get("Content-Disposition"))
	var j struct {
		Incident    incidentBody
		Observables []observableBody
	}
	r.JSON(t, &j)
	require.Equal(t, inc.ID, j.Incident.ID)
	require.Len(t, j.Observables, 4, "all but the TLP:RED observable, which only named participants see")

	// STIX: a valid bundle, marked, stable.
	r = w.as("north-responder").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=stix", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, stix.MediaType, r.Header.Get("Content-Type"))
	require.NoError(t, stixtest.Validate(r.Body), "%s", r.Body)
	var bundle struct{ Objects []map[string]any }
	require.NoError(t, json.Unmarshal(r.Body, &bundle))
	types := map[string]int{}
	markings := map[string]bool{}
	var incidentObj map[string]any
	for _, o := range bundle.Objects {
		types[o["type"].(string)]++
		if o["type"] == "marking-definition" {
			markings[o["name"].(string)] = true
		}
		if o["type"] == "incident" {
			incidentObj = o
		}
	}
	require.Equal(t, 2, types["identity"], "the reporting and the coordinating organisation")
	require.Equal(t, 3, types["indicator"])
	require.Equal(t, 1, types["vulnerability"])
	require.Equal(t, 2, types["sighting"])
	require.Equal(t, map[string]bool{"TLP:AMBER": true, "TLP:CLEAR": true, "PAP:AMBER": true}, markings)
	require.Equal(t, []any{stix.TLPMarkingIDs["TLP:CLEAR"], stix.PAPMarkingIDs["PAP:AMBER"]}, incidentObj["object_marking_refs"])
	require.Contains(t, string(r.Body), inc.Reference)
	require.NotContains(t, string(r.Body), "198.51.100.7")

	again := w.as("north-responder").Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/export?format=stix", nil)
	require.Equal(t, string(r.Body), string(again.Body), "a re-export of unchanged data is the same bundle")

	// The reporting user, a named participant, gets the TLP:RED one too.
	r = w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=stix", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NoError(t, stixtest.Validate(r.Body), "%s", r.Body)
	require.Contains(t, string(r.Body), "198.51.100.7")
	require.Contains(t, string(r.Body), stix.TLPMarkingIDs["TLP:RED"])

	// Invisible: 404 in both formats, never a bundle.
	for _, f := range []string{"json", "stix"} {
		r := w.as("b-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format="+f, nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		require.NotContains(t, string(r.Body), "Ransomware")
	}
	r = w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=xml", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	var p problemBody
	r.JSON(t, &p)
	require.Equal(t, "format", p.Errors[0].Field)
}

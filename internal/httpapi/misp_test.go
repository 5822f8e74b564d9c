package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/misp/misptest"
	"github.com/stretchr/testify/require"
)

// mispEvent is the part of a MISP event file the tests read.
type mispEvent struct {
	Event struct {
		UUID         string `json:"uuid"`
		Info         string `json:"info"`
		Distribution string `json:"distribution"`
		Tag          []struct{ Name string }
		Attribute    []struct {
			UUID, Type, Category, Value, Distribution string
			ToIDs                                     bool `json:"to_ids"`
			Tag                                       []struct{ Name string }
		}
	}
}

// TestMISPExport: an incident as a MISP event, per incident and in the
// filtered list, valid against the draft's keys and types, stable across
// exports, through the visibility rule (another organisation's incident is
// a 404 and never in the list) and the TLP rule (a TLP:RED observable only
// for the incident's named participants).
func TestMISPExport(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Phishing wave at the city hall", "TLP:AMBER")
	r := w.as("a-reporter").Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"category": "fraud", "type": "phishing", "tags": []string{"wave-3"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "domain", "value": "login-cityhall.example", "note": "phishing page"}, http.StatusCreated)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "203.0.113.99", "tlp": "TLP:RED"}, http.StatusCreated)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "cve", "value": "CVE-2024-3094"}, http.StatusCreated)
	other := w.report(t, "b-reporter", "Defacement of the other city's site", "TLP:GREEN")
	w.add(t, "b-reporter", other.ID, map[string]any{"type": "domain", "value": "other-city.example"}, http.StatusCreated)

	get := func(user, path string) *mispEvent {
		t.Helper()
		r := w.as(user).Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.NoError(t, misptest.Check(r.Body), "%s", r.Body)
		var ev mispEvent
		require.NoError(t, json.Unmarshal(r.Body, &ev))
		return &ev
	}
	path := "/api/v1/incidents/" + inc.ID + "/export?format=misp"
	ev := get("a-reporter", path)
	require.Equal(t, inc.ID, ev.Event.UUID, "the event's uuid is the incident's")
	require.Equal(t, misp.YourOrganisationOnly, ev.Event.Distribution)
	var tags []string
	for _, tg := range ev.Event.Tag {
		tags = append(tags, tg.Name)
	}
	require.Equal(t, []string{"tlp:amber", "PAP:AMBER", `rsit:fraud="phishing"`, "wave-3"}, tags)
	values := map[string]bool{}
	for _, a := range ev.Event.Attribute {
		values[a.Value] = true
		switch a.Value {
		case "login-cityhall.example":
			require.Equal(t, "domain", a.Type)
			require.True(t, a.ToIDs)
		case "203.0.113.99":
			require.Equal(t, "tlp:red", a.Tag[0].Name)
			require.Equal(t, misp.YourOrganisationOnly, a.Distribution)
		case "CVE-2024-3094":
			require.Equal(t, "vulnerability", a.Type)
			require.False(t, a.ToIDs)
		}
	}
	require.True(t, values["203.0.113.99"], "the reporting user, a named participant, gets the TLP:RED one")
	require.Len(t, ev.Event.Attribute, 4, "three observables and the reference")

	// Stable: a second export is the same file.
	a := w.as("a-reporter").Request(http.MethodGet, path, nil)
	b := w.as("a-reporter").Request(http.MethodGet, path, nil)
	require.Equal(t, string(a.Body), string(b.Body))
	require.Contains(t, a.Header.Get("Content-Disposition"), ".misp.json")

	// The viewer of the reporting organisation is no named participant:
	// the TLP:RED observable is left out.
	ev = get("a-viewer", path)
	for _, a := range ev.Event.Attribute {
		require.NotEqual(t, "203.0.113.99", a.Value)
	}
	require.Len(t, ev.Event.Attribute, 3)

	// Another organisation's incident: 404, and not in the list.
	r = w.as("b-reporter").Request(http.MethodGet, path, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.NotContains(t, string(r.Body), "login-cityhall")

	list := func(user, query string) []mispEvent {
		t.Helper()
		r := w.as(user).Request(http.MethodGet, "/api/v1/incidents.misp.json"+query, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var c struct {
			Response   []json.RawMessage
			NextCursor *string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &c))
		out := make([]mispEvent, len(c.Response))
		for i, e := range c.Response {
			require.NoError(t, misptest.Check(e), "%s", e)
			require.NoError(t, json.Unmarshal(e, &out[i]))
		}
		return out
	}
	uuids := func(evs []mispEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Event.UUID)
		}
		return out
	}
	require.Equal(t, []string{other.ID}, uuids(list("b-reporter", "")), "another organisation's incident is not listed")
	require.ElementsMatch(t, []string{inc.ID, other.ID}, uuids(list("north-responder", "")))
	require.Equal(t, []string{inc.ID}, uuids(list("north-responder", "?tlp=TLP:AMBER")), "the list's filters apply")
	for _, e := range list("north-responder", "?tlp=TLP:AMBER") {
		for _, a := range e.Event.Attribute {
			require.NotEqual(t, "203.0.113.99", a.Value, "the coordinating CERT is no named participant")
		}
	}
	page := list("north-responder", "?limit=1")
	require.Len(t, page, 1)

	for _, q := range []string{"?limit=0", "?limit=101", "?colour=red", "?tlp=purple"} {
		r := w.as("north-responder").Request(http.MethodGet, "/api/v1/incidents.misp.json"+q, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", q, r.Body)
	}
}

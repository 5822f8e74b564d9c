package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

// An observable's own TLP label decides who sees it (security review
// finding 12): the visibility rule evaluated with the stricter of the
// observable's and the incident's label, on every exit that carries
// observables.

// The three observables of the TLP:AMBER incident of
// TestObservableTLPOnEveryExit, one per label.
const (
	tlpRedValue    = "203.0.113.66"         // TLP:RED: named participants only
	tlpStrictValue = "strict-only.example"  // TLP:AMBER+STRICT: also the reporting and coordinating organisations
	tlpAmberValue  = "amber-shared.example" // TLP:AMBER, the incident's: everyone who sees the incident
)

func TestObservableTLPOnEveryExit(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	guest, guestTok := w.h.User("national", access.Responder) // named participant from the CERT at the top
	_, w.users["national-viewer"] = w.h.User("national", access.Viewer)
	w.users["national-guest"] = guestTok

	inc := w.report(t, "a-reporter", "Credential phishing at the city hall", "TLP:AMBER")
	w.h.Eventually(func() bool {
		var b incidentBody
		w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil).JSON(t, &b)
		return b.CoordinatingOrg != nil
	}, "the incident is routed to the regional CERT")
	base := "/api/v1/incidents/" + inc.ID
	r := w.as("north-responder").Request(http.MethodPost, base+"/shares", map[string]any{"org": "city-b", "note": "same sender"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r = w.as("north-responder").Request(http.MethodPost, base+"/participants", map[string]any{"email": guest.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	red := w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": tlpRedValue, "tlp": "TLP:RED"}, http.StatusCreated)
	require.Equal(t, "TLP:RED", red.TLP)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "domain", "value": tlpStrictValue, "tlp": "amber+strict"}, http.StatusCreated)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "domain", "value": tlpAmberValue}, http.StatusCreated)

	all := []string{tlpRedValue, tlpStrictValue, tlpAmberValue}
	for _, tc := range []struct {
		user, relation string
		sees           []string
	}{
		{"a-reporter", "the reporting user, a named participant", all},
		{"national-guest", "a named participant of the CERT above", all},
		{"north-responder", "the CERT above, also coordinating", []string{tlpStrictValue, tlpAmberValue}},
		{"a-viewer", "the reporting organisation", []string{tlpStrictValue, tlpAmberValue}},
		{"national-viewer", "the CERT at the top", []string{tlpAmberValue}},
		{"b-reporter", "an organisation it was shared with", []string{tlpAmberValue}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			hidden := map[string]bool{}
			for _, v := range all {
				hidden[v] = true
			}
			for _, v := range tc.sees {
				delete(hidden, v)
			}
			exits := map[string]string{
				"observable list": base + "/observables",
				"json export":     base + "/export?format=json",
				"stix export":     base + "/export?format=stix",
				"misp export":     base + "/export?format=misp",
				"misp list":       "/api/v1/incidents.misp.json",
				"timeline":        base + "/timeline",
				"csv export":      "/api/v1/incidents.csv",
			}
			for exit, path := range exits {
				r := w.as(tc.user).Request(http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s (%s) %s: %s", tc.user, tc.relation, exit, r.Body)
				for _, v := range all {
					if hidden[v] {
						require.NotContains(t, string(r.Body), v, "%s (%s) reads %s in the %s", tc.user, tc.relation, v, exit)
					} else if exit != "csv export" { // the CSV holds no observables
						require.Contains(t, string(r.Body), v, "%s (%s) misses %s in the %s", tc.user, tc.relation, v, exit)
					}
				}
			}
			// Correlation: the search echoes what it searched for, so look
			// at the matches.
			for _, v := range all {
				m, r := w.search(t, tc.user, "value="+url.QueryEscape(v))
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				var found []string
				for _, x := range m.Matches {
					found = append(found, x.Observable.Value)
				}
				if hidden[v] {
					require.Empty(t, found, "%s (%s) finds %s by correlation", tc.user, tc.relation, v)
				} else {
					require.Equal(t, []string{v}, found, "%s (%s) correlation of %s", tc.user, tc.relation, v)
				}
			}
			// Writes: an observable the caller may not see does not exist
			// for them, and adding its value again reveals nothing of it.
			if hidden[tlpRedValue] {
				path := base + "/observables/" + red.ID
				if tc.user == "north-responder" { // a role that may change observables on this incident
					r := w.as(tc.user).Request(http.MethodPatch, path, map[string]any{"note": "seen"})
					require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
					r = w.as(tc.user).Request(http.MethodDelete, path, nil)
					require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
					r = w.as(tc.user).Request(http.MethodPost, base+"/observables", map[string]any{"type": "ipv4", "value": tlpRedValue})
					require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
					require.NotContains(t, string(r.Body), red.ID)
				}
			}
		})
	}
	require.Len(t, w.list(t, "a-reporter", inc.ID), 3, "the refused writes changed nothing")
}

func TestObservableLooserThanIncidentRefused(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Looser labels", "TLP:AMBER")
	o := w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "192.0.2.10"}, http.StatusCreated)
	require.Equal(t, "TLP:AMBER", o.TLP, "the incident's label by default")
	path := "/api/v1/incidents/" + inc.ID + "/observables"
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
	}{
		{"add green", http.MethodPost, path, map[string]any{"type": "ipv4", "value": "192.0.2.11", "tlp": "TLP:GREEN"}},
		{"add clear", http.MethodPost, path, map[string]any{"type": "cve", "value": "CVE-2024-3094", "tlp": "clear"}},
		{"merge with a looser label", http.MethodPost, path, map[string]any{"type": "ipv4", "value": "192.0.2.10", "tlp": "white"}},
		{"patch to green", http.MethodPatch, path + "/" + o.ID, map[string]any{"tlp": "TLP:GREEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.as("a-reporter").Request(tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			var p problemBody
			r.JSON(t, &p)
			require.Len(t, p.Errors, 1, "%s", r.Body)
			require.Equal(t, "tlp", p.Errors[0].Field)
			require.Equal(t, "not_looser_than_incident", p.Errors[0].Rule)
			require.Contains(t, p.Errors[0].Message, "TLP:AMBER")
		})
	}
	// Equal or stricter is fine.
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "192.0.2.12", "tlp": "TLP:AMBER"}, http.StatusCreated)
	r := w.as("a-reporter").Request(http.MethodPatch, path+"/"+o.ID, map[string]any{"tlp": "TLP:AMBER+STRICT"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, w.list(t, "a-reporter", inc.ID), 2, "nothing looser was stored")
}

// TestObservableTakesARaisedIncidentLabel: an observable's effective label
// is the stricter of its own and its incident's. Raising the incident
// raises the label shown and enforced; lowering it again shows the
// observable's own label.
func TestObservableTakesARaisedIncidentLabel(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Label changes", "TLP:GREEN")
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "192.0.2.20", "tlp": "TLP:AMBER"}, http.StatusCreated)
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "192.0.2.21"}, http.StatusCreated)
	setTLP := func(tlp string) {
		r := w.as("a-reporter").Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"tlp": tlp},
			"Content-Type", "application/merge-patch+json")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	labels := func() []string {
		var out []string
		for _, o := range w.list(t, "a-reporter", inc.ID) {
			out = append(out, o.Value+" "+o.TLP)
		}
		return out
	}
	require.Equal(t, []string{"192.0.2.20 TLP:AMBER", "192.0.2.21 TLP:GREEN"}, labels())

	setTLP("TLP:AMBER+STRICT")
	require.Equal(t, []string{"192.0.2.20 TLP:AMBER+STRICT", "192.0.2.21 TLP:AMBER+STRICT"}, labels())
	r := w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=stix", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), `"name":"TLP:GREEN"`, "no object of the bundle is marked looser than the incident")
	require.NotContains(t, string(r.Body), `"name":"TLP:AMBER"`)

	setTLP("TLP:GREEN")
	require.Equal(t, []string{"192.0.2.20 TLP:AMBER", "192.0.2.21 TLP:GREEN"}, labels(), "the observables' own labels again")
}

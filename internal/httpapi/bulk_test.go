package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// bulkWorld: two regions under the national CERT, a city in each, and
// people of each.
type bulkWorld struct {
	h     *testapp.Harness
	users map[string]string // name → token
	email map[string]string
}

func bulkSetup(t *testing.T) *bulkWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("south", org.RegionalCERT, "national")
	h.Org("city-a", org.LocalAuthority, "north")
	h.Org("city-c", org.LocalAuthority, "south")
	w := &bulkWorld{h: h, users: map[string]string{}, email: map[string]string{}}
	for name, u := range map[string]struct {
		org  string
		role access.Role
	}{
		"a-reporter": {"city-a", access.Reporter}, "c-reporter": {"city-c", access.Reporter},
		"north-responder": {"north", access.Responder}, "north-coordinator": {"north", access.Coordinator},
		"north-viewer":    {"north", access.Viewer},
		"south-responder": {"south", access.Responder}, "south-coordinator": {"south", access.Coordinator},
	} {
		usr, tok := h.User(u.org, u.role)
		w.users[name], w.email[name] = tok, usr.Email
	}
	return w
}

func (w *bulkWorld) as(user string) *testapp.Harness { return w.h.As(w.users[user]) }

func (w *bulkWorld) report(t *testing.T, user, title string) incidentBody {
	t.Helper()
	r := w.as(user).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": "TLP:AMBER"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc incidentBody
	r.JSON(t, &inc)
	// The routing worker sets the coordinating CERT (a change): wait for
	// it, so that what a test compares afterwards is its own doing.
	w.h.Eventually(func() bool {
		r := w.h.As(w.users[user]).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil)
		return r.Status == http.StatusOK && r.Map(t)["coordinating_org"] != nil
	}, "the incident is routed")
	return inc
}

type bulkResultBody struct {
	Action    string `json:"action"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Results   []struct {
		Incident  string         `json:"incident"`
		ID        *string        `json:"id"`
		Reference *string        `json:"reference"`
		Status    int            `json:"status"`
		Version   *int64         `json:"version"`
		Problem   map[string]any `json:"problem"`
	} `json:"results"`
}

func (w *bulkWorld) bulk(t *testing.T, user string, body map[string]any) bulkResultBody {
	t.Helper()
	r := w.as(user).Request(http.MethodPost, "/api/v1/incidents/bulk", body)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out bulkResultBody
	r.JSON(t, &out)
	return out
}

// get reads an incident as user (the raw map, to compare whole records).
func (w *bulkWorld) get(t *testing.T, user, id string) map[string]any {
	t.Helper()
	r := w.as(user).Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.Map(t)
}

// One confirmation, per-item results: three of the region's incidents
// acknowledged at once, one of which a coordinator closed meanwhile; that
// one says why (409, in the single call's problem document), the others go
// through, in the order given, by reference or by ID.
func TestBulkAcknowledgeReportsEachIncident(t *testing.T) {
	t.Parallel()
	w := bulkSetup(t)
	a, b, c := w.report(t, "a-reporter", "Bulk one"), w.report(t, "a-reporter", "Bulk two"), w.report(t, "a-reporter", "Bulk three")
	r := w.as("north-coordinator").Request(http.MethodPost, "/api/v1/incidents/"+b.ID+"/close", map[string]any{"resolution": "a duplicate"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	got := w.bulk(t, "north-responder", map[string]any{"action": "acknowledge", "incidents": []string{a.Reference, b.ID, c.Reference}})
	require.Equal(t, "acknowledge", got.Action)
	require.Equal(t, 2, got.Succeeded)
	require.Equal(t, 1, got.Failed)
	require.Len(t, got.Results, 3)
	require.Equal(t, a.Reference, got.Results[0].Incident)
	require.Equal(t, http.StatusOK, got.Results[0].Status)
	require.Equal(t, a.ID, *got.Results[0].ID)
	require.Nil(t, got.Results[0].Problem)
	require.Equal(t, b.ID, got.Results[1].Incident)
	require.Equal(t, http.StatusConflict, got.Results[1].Status)
	require.Nil(t, got.Results[1].ID)
	require.Contains(t, got.Results[1].Problem["detail"], "closed before anyone acknowledged it")
	require.Equal(t, http.StatusOK, got.Results[2].Status)

	require.NotNil(t, w.get(t, "north-responder", a.ID)["acknowledged_at"])
	require.NotNil(t, w.get(t, "north-responder", c.ID)["acknowledged_at"])
	require.Nil(t, w.get(t, "north-responder", b.ID)["acknowledged_at"])

	// A viewer may read the region's incidents but not acknowledge them:
	// each item is the single call's 403.
	d := w.report(t, "a-reporter", "Bulk four")
	got = w.bulk(t, "north-viewer", map[string]any{"action": "acknowledge", "incidents": []string{d.ID}})
	require.Equal(t, http.StatusForbidden, got.Results[0].Status)
	require.Nil(t, w.get(t, "north-responder", d.ID)["acknowledged_at"])
}

// Bulk actions on incidents another organisation may not see: every item
// is a 404 exactly like an incident that does not exist (no title, no
// reference in the answer), nothing changes, and the caller's own
// incident in the same request goes through.
func TestBulkOnIncidentsTheCallerCannotSeeIsNotFoundForEach(t *testing.T) {
	t.Parallel()
	w := bulkSetup(t)
	north1, north2 := w.report(t, "a-reporter", "Northern secret one"), w.report(t, "a-reporter", "Northern secret two")
	south := w.report(t, "c-reporter", "Southern own")
	before1, before2 := w.get(t, "north-responder", north1.ID), w.get(t, "north-responder", north2.ID)

	for _, body := range []map[string]any{
		{"action": "acknowledge"},
		{"action": "assign", "assignee": "me"},
		{"action": "classify", "category": "malicious-code", "type": "infected-system"},
		{"action": "severity", "severity": "critical"},
		{"action": "tlp", "tlp": "TLP:CLEAR"},
		{"action": "close", "resolution": "not ours"},
		{"action": "decline", "reason": "not ours"},
	} {
		body["incidents"] = []string{north1.ID, north2.Reference, "INC-1999-999999", south.ID}
		r := w.as("south-coordinator").Request(http.MethodPost, "/api/v1/incidents/bulk", body)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.NotContains(t, string(r.Body), "Northern secret", "%s: a hidden incident's title", body["action"])
		require.NotContains(t, string(r.Body), north2.ID, "%s: a hidden incident's ID behind its reference", body["action"])
		var got bulkResultBody
		r.JSON(t, &got)
		for i := range 3 {
			require.Equal(t, http.StatusNotFound, got.Results[i].Status, "%s item %d", body["action"], i)
			require.Nil(t, got.Results[i].ID)
			require.Nil(t, got.Results[i].Reference)
		}
		// The unknown reference and the hidden ones get the same problem.
		require.Equal(t, got.Results[2].Problem["type"], got.Results[0].Problem["type"])
		require.Equal(t, got.Results[2].Problem["title"], got.Results[1].Problem["title"])
		if body["action"] != "decline" {
			require.NotEqual(t, http.StatusNotFound, got.Results[3].Status, "%s: the caller's own region's incident: %v", body["action"], got.Results[3].Problem)
		}
	}
	after1, after2 := w.get(t, "north-responder", north1.ID), w.get(t, "north-responder", north2.ID)
	require.Equal(t, before1, after1, "nothing changed")
	require.Equal(t, before2, after2, "nothing changed")
}

// A request that is invalid as a whole is a 422 naming the field and
// changes nothing: an unknown action, a missing parameter, no incidents,
// one incident twice, more than 200.
func TestBulkInvalidRequestChangesNothing(t *testing.T) {
	t.Parallel()
	w := bulkSetup(t)
	a := w.report(t, "a-reporter", "Bulk invalid")
	many := make([]string, 201)
	for i := range many {
		many[i] = a.ID
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"action": "shred", "incidents": []string{a.ID}}, "action"},
		{map[string]any{"action": "close", "incidents": []string{a.ID}}, "resolution"},
		{map[string]any{"action": "assign", "incidents": []string{a.ID}}, "assignee"},
		{map[string]any{"action": "acknowledge", "incidents": []string{}}, "incidents"},
		{map[string]any{"action": "acknowledge", "incidents": []string{a.ID, strings.ToLower(a.ID)}}, "incidents"},
		{map[string]any{"action": "acknowledge", "incidents": many}, "incidents"},
	} {
		r := w.as("north-responder").Request(http.MethodPost, "/api/v1/incidents/bulk", c.body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", c.body["action"], r.Body)
		require.Contains(t, string(r.Body), `"field":"`+c.field+`"`, "%s", r.Body)
	}
	require.Nil(t, w.get(t, "north-responder", a.ID)["acknowledged_at"])
}

// Teams are their organisation's: another CERT's team is not listed, its
// ID reads as 404 like one that does not exist, cannot be renamed,
// deleted or changed (404 before the role), and cannot be assigned an
// incident (422 "exists", the same as an unknown ID).
func TestTeamsOfAnotherOrganisationAreInvisible(t *testing.T) {
	t.Parallel()
	w := bulkSetup(t)
	r := w.as("north-coordinator").Request(http.MethodPost, "/api/v1/teams", map[string]any{"name": "Night shift"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	northTeam := r.Map(t)["id"].(string)
	r = w.as("north-coordinator").Request(http.MethodPost, "/api/v1/teams/"+northTeam+"/members", map[string]any{"email": w.email["north-responder"]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	r = w.as("south-coordinator").Request(http.MethodGet, "/api/v1/teams", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), northTeam)
	require.NotContains(t, string(r.Body), "Night shift")

	unknown := w.as("south-coordinator").Request(http.MethodGet, "/api/v1/teams/"+testapp.NewID(), nil)
	require.Equal(t, http.StatusNotFound, unknown.Status)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/teams/" + northTeam, nil},
		{http.MethodPatch, "/api/v1/teams/" + northTeam, map[string]any{"name": "Taken over"}},
		{http.MethodPost, "/api/v1/teams/" + northTeam + "/members", map[string]any{"email": w.email["south-responder"]}},
		{http.MethodDelete, "/api/v1/teams/" + northTeam + "/members/" + testapp.NewID(), nil},
		{http.MethodDelete, "/api/v1/teams/" + northTeam, nil},
	} {
		for _, who := range []string{"south-coordinator", "south-responder"} {
			r := w.as(who).Request(c.method, c.path, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s %s: %s", who, c.method, c.path, r.Body)
			require.NotContains(t, string(r.Body), "Night shift")
		}
	}
	r = w.as("north-responder").Request(http.MethodGet, "/api/v1/teams/"+northTeam, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Night shift", r.Map(t)["name"], "unchanged")

	// A southern incident cannot be given to the northern team, by the
	// single call or in bulk: the same answer as a team that does not exist.
	inc := w.report(t, "c-reporter", "Southern")
	r = w.as("south-coordinator").Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"assignee_team": northTeam})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), `"rule":"exists"`)
	got := w.bulk(t, "south-coordinator", map[string]any{"action": "assign", "assignee_team": northTeam, "incidents": []string{inc.ID}})
	require.Equal(t, http.StatusUnprocessableEntity, got.Results[0].Status)
	require.Nil(t, w.get(t, "south-coordinator", inc.ID)["assignee_team"])
}

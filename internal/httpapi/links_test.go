package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

type linkListBody struct {
	IncidentID string `json:"incident_id"`
	Links      []struct {
		ID        string `json:"id"`
		Kind      string `json:"kind"`
		Direction string `json:"direction"`
		Incident  struct {
			Reference string `json:"reference"`
		} `json:"incident"`
	} `json:"links"`
	MergedInto *struct {
		Reference string `json:"reference"`
		Status    string `json:"status"`
		Stage     string `json:"stage"`
	} `json:"merged_into"`
}

// linkWorld: national > region > city-a, city-b; a TLP:AMBER incident of
// each city, both coordinated by region (CERT above both).
type linkWorld struct {
	h                               *testapp.Harness
	region, cityA, cityB, cityAResp secUser
	a, b                            incidentBody
}

func setupLinks(t *testing.T) *linkWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city-a", org.LocalAuthority, "region")
	h.Org("city-b", org.LocalAuthority, "region")
	w := &linkWorld{h: h, region: secNewUser(h, "region", access.Responder), cityA: secNewUser(h, "city-a", access.Reporter),
		cityB: secNewUser(h, "city-b", access.Responder), cityAResp: secNewUser(h, "city-a", access.Responder)}
	create := func(u secUser, title string) incidentBody {
		r := h.As(u.Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": "TLP:AMBER"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		var inc incidentBody
		r.JSON(t, &inc)
		return inc
	}
	w.a = create(w.cityA, "Phishing wave against the city hall mailboxes")
	w.b = create(w.cityB, "Phishing wave against city hall mailboxes")
	for _, o := range []struct {
		u   secUser
		inc incidentBody
		v   string
	}{{w.cityA, w.a, "evil.example"}, {w.cityA, w.a, "203.0.113.7"}, {w.cityB, w.b, "evil.example"}} {
		typ := "domain"
		if strings.Count(o.v, ".") == 3 {
			typ = "ipv4"
		}
		r := h.As(o.u.Token).Request(http.MethodPost, "/api/v1/incidents/"+o.inc.ID+"/observables", map[string]any{"type": typ, "value": o.v})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
	return w
}

func (w *linkWorld) links(t *testing.T, u secUser, inc incidentBody) linkListBody {
	t.Helper()
	r := w.h.As(u.Token).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/links", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l linkListBody
	r.JSON(t, &l)
	return l
}

func (w *linkWorld) kinds(t *testing.T, u secUser, inc incidentBody) []string {
	t.Helper()
	var tl timelineBody
	r := w.h.As(u.Token).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?limit=500", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &tl)
	var out []string
	for _, e := range tl.Events {
		out = append(out, e.Kind)
	}
	return out
}

// sameAsMissing requires that the answer for the hidden incident equals
// the answer for one that does not exist, but for the identifier.
func sameAsMissing(t *testing.T, hidden, missing *testapp.Response, hiddenID, missingID string) {
	t.Helper()
	require.Equal(t, http.StatusNotFound, hidden.Status, "%s", hidden.Body)
	require.Equal(t, missing.Status, hidden.Status)
	scrub := func(b []byte, id string) string {
		s := strings.ReplaceAll(string(b), id, "ID")
		if i := strings.Index(s, `"request_id"`); i >= 0 {
			s = s[:i]
		}
		return s
	}
	require.Equal(t, scrub(missing.Body, missingID), scrub(hidden.Body, hiddenID))
}

// TestLinksBothDirectionsVisibleWhereBothAre: a link shows from both
// ends to whoever sees both incidents, and to nobody else; an
// organisation that may not see the other incident gets the answer of a
// missing incident; both timelines record the link and its removal
// without naming the other incident.
func TestLinksBothDirectionsVisibleWhereBothAre(t *testing.T) {
	t.Parallel()
	w := setupLinks(t)
	r := w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links",
		map[string]any{"incident": w.b.Reference, "kind": "duplicate_of"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var link struct {
		ID string `json:"id"`
	}
	r.JSON(t, &link)
	again := w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links",
		map[string]any{"incident": w.b.ID, "kind": "duplicate_of"})
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)

	la := w.links(t, w.region, w.a)
	require.Len(t, la.Links, 1)
	require.Equal(t, "outgoing", la.Links[0].Direction)
	require.Equal(t, w.b.Reference, la.Links[0].Incident.Reference)
	lb := w.links(t, w.region, w.b)
	require.Len(t, lb.Links, 1)
	require.Equal(t, "incoming", lb.Links[0].Direction)
	require.Equal(t, w.a.Reference, lb.Links[0].Incident.Reference)

	// Each city sees its own incident, not the link to the other's.
	require.Empty(t, w.links(t, w.cityA, w.a).Links)
	require.Empty(t, w.links(t, w.cityB, w.b).Links)
	require.NotContains(t, string(w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID+"/timeline", nil).Body), w.b.Reference)

	// A city responder linking to the other city's incident: as if it did not exist.
	missing := testapp.NewID()
	hidden := w.h.As(w.cityAResp.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": w.b.ID, "kind": "related"})
	none := w.h.As(w.cityAResp.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": missing, "kind": "related"})
	sameAsMissing(t, hidden, none, w.b.ID, missing)
	// Removing the link from the city's side: the link is not there for it.
	gone := w.h.As(w.cityAResp.Token).Request(http.MethodDelete, "/api/v1/incidents/"+w.a.ID+"/links/"+link.ID, nil)
	noLink := w.h.As(w.cityAResp.Token).Request(http.MethodDelete, "/api/v1/incidents/"+w.a.ID+"/links/"+missing, nil)
	sameAsMissing(t, gone, noLink, link.ID, missing)
	// The other city's incident's links: as missing.
	sameAsMissing(t, w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.b.ID+"/links", nil),
		w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+missing+"/links", nil), w.b.ID, missing)
	// A reporter may not link (the write table), even its own incidents.
	own := w.h.As(w.cityA.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": w.a.ID, "kind": "related"})
	require.Equal(t, http.StatusForbidden, own.Status, "%s", own.Body)

	r = w.h.As(w.region.Token).Request(http.MethodDelete, "/api/v1/incidents/"+w.b.ID+"/links/"+link.ID, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	require.Empty(t, w.links(t, w.region, w.a).Links)
	for _, inc := range []incidentBody{w.a, w.b} {
		kinds := w.kinds(t, w.region, inc)
		require.Contains(t, kinds, "incident_linked")
		require.Contains(t, kinds, "incident_unlinked")
	}
}

// TestMergeAndUndo: a merge copies the observables, closes the duplicate
// as merged into the survivor, lets the duplicate's reporter follow the
// survivor's stage and status (and nothing more of it), and is undone
// within a day, restoring what it moved; after a day it is not.
func TestMergeAndUndo(t *testing.T) {
	t.Parallel()
	w := setupLinks(t)
	// The reporting organisation may not merge (the coordinators decide).
	r := w.h.As(w.cityAResp.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.a.ID})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	// Another region's incident is, for region, as missing.
	w.h.Org("region-2", org.RegionalCERT, "national")
	w.h.Org("city-c", org.LocalAuthority, "region-2")
	var c incidentBody
	r = w.h.As(secNewUser(w.h, "city-c", access.Reporter).Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing wave", "tlp": "TLP:AMBER"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &c)
	missing := testapp.NewID()
	sameAsMissing(t, w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": c.ID}),
		w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": missing}), c.ID, missing)
	sameAsMissing(t, w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": c.ID, "kind": "part_of"}),
		w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": missing, "kind": "part_of"}), c.ID, missing)

	// The indicator that moves carries its own PAP.
	_, err := w.h.App.DB.SQL.Exec(`UPDATE incident_observables SET pap = 'PAP:RED' WHERE incident_id = $1 AND value = '203.0.113.7'`, w.a.ID)
	require.NoError(t, err)
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.b.Reference})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var m struct {
		ObservablesCopied int `json:"observables_copied"`
	}
	r.JSON(t, &m)
	require.Equal(t, 1, m.ObservablesCopied, "evil.example is on both; 203.0.113.7 moves")

	var a struct {
		Status     string `json:"status"`
		Resolution string `json:"resolution"`
	}
	w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID, nil).JSON(t, &a)
	require.Equal(t, "closed", a.Status)
	require.Contains(t, a.Resolution, "merged into "+w.b.Reference)
	la := w.links(t, w.cityA, w.a)
	require.NotNil(t, la.MergedInto)
	require.Equal(t, w.b.Reference, la.MergedInto.Reference)
	require.Equal(t, "open", la.MergedInto.Status)
	require.Empty(t, la.Links, "the duplicate's reporter sees the survivor's status, not its links")
	require.Equal(t, http.StatusNotFound, w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.b.ID, nil).Status)
	obs := w.h.As(w.region.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.b.ID+"/observables", nil)
	require.Contains(t, string(obs.Body), "203.0.113.7")
	require.Contains(t, string(obs.Body), `"pap":"PAP:RED"`, "the copy keeps the observable's PAP")
	// City B sees the copied indicator on its incident (a merge widens its audience: documented).
	require.Contains(t, string(w.h.As(w.cityB.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.b.ID+"/observables", nil).Body), "203.0.113.7")
	require.Contains(t, w.kinds(t, w.region, w.a), "merged_into")
	require.Contains(t, w.kinds(t, w.region, w.b), "merged_from")

	// The survivor's status shows through: close B, city A sees it closed.
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.b.ID+"/close", map[string]any{"resolution": "done"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "closed", w.links(t, w.cityA, w.a).MergedInto.Status)
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.b.ID+"/reopen", map[string]any{"reason": "undo test"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// Merged twice: conflict.
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.b.ID})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)

	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge/undo", nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID, nil).JSON(t, &a)
	require.Equal(t, "open", a.Status)
	require.Nil(t, w.links(t, w.cityA, w.a).MergedInto)
	require.Empty(t, w.links(t, w.region, w.a).Links, "the link the merge made goes with it")
	require.NotContains(t, string(w.h.As(w.region.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.b.ID+"/observables", nil).Body), "203.0.113.7")
	require.Contains(t, w.kinds(t, w.region, w.b), "merge_undone")

	// After a day, the undo is refused.
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.b.ID})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	w.h.Advance(25 * time.Hour)
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge/undo", nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
}

// TestDuplicateSuggestionsAndCampaigns: the two cities' incidents share
// evil.example: the region sees each suggested for the other and one
// campaign of both; each city sees neither.
func TestDuplicateSuggestionsAndCampaigns(t *testing.T) {
	t.Parallel()
	w := setupLinks(t)
	var s struct {
		Suggestions []struct {
			Incident struct {
				Reference string `json:"reference"`
			} `json:"incident"`
			SharedObservables int `json:"shared_observables"`
		} `json:"suggestions"`
	}
	r := w.h.As(w.region.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID+"/duplicate-suggestions", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &s)
	require.Len(t, s.Suggestions, 1)
	require.Equal(t, w.b.Reference, s.Suggestions[0].Incident.Reference)
	require.Equal(t, 1, s.Suggestions[0].SharedObservables)
	r = w.h.As(w.cityA.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID+"/duplicate-suggestions", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotContains(t, string(r.Body), w.b.Reference)

	var c struct {
		Campaigns []struct {
			Value     string `json:"value"`
			Incidents []struct {
				Reference string `json:"reference"`
			} `json:"incidents"`
		} `json:"campaigns"`
	}
	r = w.h.As(w.region.Token).Request(http.MethodGet, "/api/v1/campaigns", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &c)
	require.Len(t, c.Campaigns, 1)
	require.Equal(t, "evil.example", c.Campaigns[0].Value)
	require.Len(t, c.Campaigns[0].Incidents, 2)
	for _, u := range []secUser{w.cityA, w.cityB} {
		r = w.h.As(u.Token).Request(http.MethodGet, "/api/v1/campaigns", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.JSONEq(t, `{"campaigns":[]}`, string(r.Body))
	}
	// Linked, they are no longer suggested.
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/links", map[string]any{"incident": w.b.ID, "kind": "related"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r = w.h.As(w.region.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.a.ID+"/duplicate-suggestions", nil)
	r.JSON(t, &s)
	require.Empty(t, s.Suggestions)
}

// TestMergeIsOneTransaction: a merge that fails at its last statement
// (the survivor's merged_from event, refused by a trigger planted for the
// test, as a crash there would end it) leaves nothing of itself: no
// observable copied, no link, no merge, the duplicate open; without the
// trigger the same merge goes through.
func TestMergeIsOneTransaction(t *testing.T) {
	t.Parallel()
	w := setupLinks(t)
	db := w.h.App.DB.SQL
	_, err := db.Exec(`CREATE FUNCTION links_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the merge is cut short'; END $$;
		CREATE TRIGGER links_test_fail BEFORE INSERT ON incident_events FOR EACH ROW
			WHEN (NEW.kind = 'merged_from') EXECUTE FUNCTION links_test_fail()`)
	require.NoError(t, err)
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, db.QueryRow(q, args...).Scan(&n))
		return n
	}
	before := count(`SELECT count(*) FROM incident_observables WHERE incident_id = $1`, w.b.ID)
	r := w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.b.ID})
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
	require.Equal(t, before, count(`SELECT count(*) FROM incident_observables WHERE incident_id = $1`, w.b.ID))
	require.Zero(t, count(`SELECT count(*) FROM incident_links`))
	require.Zero(t, count(`SELECT count(*) FROM incident_merges`))
	require.Equal(t, 1, count(`SELECT count(*) FROM incidents WHERE id = $1 AND status = 'open' AND resolution = ''`, w.a.ID))
	require.Zero(t, count(`SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind IN ('closed', 'merged_into', 'incident_linked')`, w.a.ID))

	_, err = db.Exec(`DROP TRIGGER links_test_fail ON incident_events`)
	require.NoError(t, err)
	r = w.h.As(w.region.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.a.ID+"/merge", map[string]any{"into": w.b.ID})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, before+1, count(`SELECT count(*) FROM incident_observables WHERE incident_id = $1`, w.b.ID))
	require.Equal(t, 1, count(`SELECT count(*) FROM incident_merges`))
}

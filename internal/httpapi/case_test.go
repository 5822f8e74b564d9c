package httpapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

type caseWorld struct {
	h                           *testapp.Harness
	reporter, responder, viewer string // tokens
	responderEmail              string
	siblingEmail                string
}

func caseSetup(t *testing.T) *caseWorld {
	t.Helper()
	// The case record's own story: no playbook runs on its timeline.
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("sibling", org.LocalAuthority, "region")
	w := &caseWorld{h: h}
	_, w.reporter = h.User("city", access.Reporter)
	u, tok := h.User("region", access.Responder)
	w.responder, w.responderEmail = tok, u.Email
	_, w.viewer = h.User("region", access.Viewer)
	s, _ := h.User("sibling", access.Responder)
	w.siblingEmail = s.Email
	return w
}

type caseIncident struct {
	ID         string   `json:"id"`
	Reference  string   `json:"reference"`
	Stage      string   `json:"stage"`
	Status     string   `json:"status"`
	Severity   string   `json:"severity"`
	Category   string   `json:"category"`
	Type       string   `json:"type"`
	Tags       []string `json:"tags"`
	Assignee   *string  `json:"assignee"`
	Version    int      `json:"version"`
	Resolution string   `json:"resolution"`
	DetectedAt *string  `json:"detected_at"`
	AckAt      *string  `json:"acknowledged_at"`
	Deadlines  []struct {
		Kind        string `json:"kind"`
		State       string `json:"state"`
		SecondsLeft int64  `json:"seconds_left"`
	} `json:"deadlines"`
}

func (w *caseWorld) report(t *testing.T, body map[string]any) caseIncident {
	t.Helper()
	r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc caseIncident
	r.JSON(t, &inc)
	w.h.Eventually(func() bool {
		var got struct {
			CoordinatingOrg *string `json:"coordinating_org"`
		}
		w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil).JSON(t, &got)
		return got.CoordinatingOrg != nil
	}, "routed to the regional CERT")
	return inc
}

// TestFromReportToClosed takes an incident through its life using only the
// API, and reads the timeline back as a story.
func TestFromReportToClosed(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	detected := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	inc := w.report(t, map[string]any{
		"title": "Ransomware on the city hall file server", "severity": "high", "detected_at": detected,
		"type": "malicious-code:infected-system", "tags": []string{"Ransomware", "ransomware", " lockbit "},
		"affected_assets":      []map[string]any{{"name": "fs01", "kind": "server", "criticality": "critical"}},
		"personal_data_breach": true,
	})
	require.Equal(t, "malicious-code", inc.Category, "category:type sets both")
	require.Equal(t, "infected-system", inc.Type)
	require.Equal(t, []string{"ransomware", "lockbit"}, inc.Tags, "tags are normalised")
	require.Len(t, inc.Deadlines, 1)
	require.Equal(t, "gdpr_notification", inc.Deadlines[0].Kind)
	require.InDelta(t, 70*3600, inc.Deadlines[0].SecondsLeft, 120, "72 h from detection, 2 h ago")

	rs := w.h.As(w.responder)
	path := "/api/v1/incidents/" + inc.Reference
	r := rs.Request(http.MethodPost, path+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var acked caseIncident
	r.JSON(t, &acked)
	require.NotNil(t, acked.AckAt)
	again := caseIncident{}
	rs.Request(http.MethodPost, path+"/acknowledge", nil).JSON(t, &again)
	require.Equal(t, *acked.AckAt, *again.AckAt, "the first acknowledgement is kept")
	require.Equal(t, acked.Version, again.Version, "acknowledging again changes nothing")

	r = rs.Request(http.MethodPatch, path, `{"significant": true, "severity": "critical", "assignee": "`+w.responderEmail+`"}`,
		"Content-Type", "application/merge-patch+json", "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var patched caseIncident
	r.JSON(t, &patched)
	require.Equal(t, w.responderEmail, *patched.Assignee)
	require.Len(t, patched.Deadlines, 4, "significant adds the three NIS2 deadlines")

	r = rs.Request(http.MethodPost, path+"/deadlines/nis2_early_warning/met", map[string]any{"reference": "CSIRT report 4711"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = rs.Request(http.MethodPost, path+"/timeline", map[string]any{"summary": "Attacker first seen on the VPN gateway",
		"occurred_at": time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	r = rs.Request(http.MethodPost, path+"/transitions", map[string]any{"to": "recovery"})
	require.Equal(t, http.StatusOK, r.Status, "forward by any number of stages")
	r = rs.Request(http.MethodPost, path+"/transitions", map[string]any{"to": "response"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "back without a reason")
	require.Equal(t, "reason", fieldOf(t, r))
	r = rs.Request(http.MethodPost, path+"/transitions", map[string]any{"to": "recovery"})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Contains(t, r.Map(t), "allowed", "a 409 names the allowed stages")
	r = rs.Request(http.MethodPost, path+"/close", map[string]any{"resolution": ""})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "resolution", fieldOf(t, r))
	r = rs.Request(http.MethodPost, path+"/close", map[string]any{"resolution": "Restored from offline backups."})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var closed caseIncident
	r.JSON(t, &closed)
	require.Equal(t, "closed", closed.Status)
	require.Equal(t, "recovery", closed.Stage, "closing moves nothing else")
	r = rs.Request(http.MethodPost, path+"/transitions", map[string]any{"to": "prevention", "reason": "x"})
	require.Equal(t, http.StatusConflict, r.Status, "a closed incident is reopened first")
	r = rs.Request(http.MethodPost, path+"/reopen", map[string]any{"reason": "It came back"})
	require.Equal(t, http.StatusOK, r.Status)
	r = rs.Request(http.MethodPost, path+"/close", map[string]any{"resolution": "Gone for good."})
	require.Equal(t, http.StatusOK, r.Status)

	var tl timelineBody
	rs.Request(http.MethodGet, path+"/timeline?limit=100", nil).JSON(t, &tl)
	var story []string
	for _, e := range tl.Events {
		story = append(story, e.Kind)
	}
	require.Equal(t, []string{"manual", "created", "routed", "acknowledged", "field_changed", "field_changed", "assigned", "participant_added",
		"deadline_met", "stage_changed", "closed", "reopened", "closed"}, story,
		"the timeline reads as a story, the manual entry first because it happened first")

	var only timelineBody
	rs.Request(http.MethodGet, path+"/timeline?kind=closed,reopened", nil).JSON(t, &only)
	require.Len(t, only.Events, 3, "kind filter")
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "DDoS on the citizen portal"})
	rs := w.h.As(w.responder)
	path := "/api/v1/incidents/" + inc.ID
	etag := rs.Request(http.MethodGet, path, nil).Header.Get("ETag")

	// Two clients read the same version and both try to update it.
	results := make([]int, 2)
	var wg sync.WaitGroup
	for i, sev := range []string{"critical", "low"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = rs.Request(http.MethodPatch, path, `{"severity":"`+sev+`"}`,
				"Content-Type", "application/merge-patch+json", "If-Match", etag).Status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, results, "exactly one wins")

	r := rs.Request(http.MethodPatch, path, `{"severity":"medium"}`, "Content-Type", "application/merge-patch+json", "If-Match", etag)
	require.Equal(t, http.StatusPreconditionFailed, r.Status)
	cur := r.Map(t)["current_version"]
	require.EqualValues(t, 2, cur, "the 412 says which version is current (created and routed 1, updated 2)")
	r = rs.Request(http.MethodPatch, path, `{"severity":"medium"}`, "Content-Type", "application/merge-patch+json",
		"If-Match", `"`+strconv.Itoa(int(cur.(float64)))+`"`)
	require.Equal(t, http.StatusOK, r.Status, "retried with the current version")
}

func TestPatchRules(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "Phishing wave", "category": "fraud", "type": "phishing",
		"detected_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	rs := w.h.As(w.responder)
	path := "/api/v1/incidents/" + inc.ID
	patch := func(body string) *testapp.Response {
		return rs.Request(http.MethodPatch, path, body, "Content-Type", "application/merge-patch+json")
	}
	for _, tc := range []struct{ body, field, rule string }{
		{`{"stage":"recovery"}`, "stage", "read_only"},
		{`{"owner":"me"}`, "owner", "unknown_field"},
		{`{"severity":null}`, "severity", "required"},
		{`{"severity":"huge"}`, "severity", "enum"},
		{`{"category":"malware"}`, "category", "enum"},
		{`{"type":"ddos"}`, "type", "enum"},
		{`{"tags":["bad tag!"]}`, "tags", "format"},
		{`{"affected_assets":[{"name":"","kind":"toaster"}]}`, "affected_assets[0].name", "length"},
		{`{"assignee":"nobody@example.org"}`, "assignee", "exists"},
		{`{"assignee":"` + w.siblingEmail + `"}`, "assignee", "visibility"},
		{`{"title":42}`, "title", "type"},
		{`{"detected_at":"2999-01-01T00:00:00Z"}`, "detected_at", "not_future"},
	} {
		r := patch(tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.body, r.Body)
		require.Equal(t, tc.field, fieldOf(t, r), tc.body)
	}
	r := rs.Request(http.MethodPatch, path, `{"title":"x"}`, "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status)

	// null clears; a new category clears the old type.
	r = patch(`{"detected_at": null, "category": "availability", "tags": ["ddos"]}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var got caseIncident
	r.JSON(t, &got)
	require.Nil(t, got.DetectedAt)
	require.Equal(t, "availability", got.Category)
	require.Empty(t, got.Type)
	// Nothing changed: no new version, no event.
	r = patch(`{"category": "availability"}`)
	var same caseIncident
	r.JSON(t, &same)
	require.Equal(t, got.Version, same.Version)

	var tl timelineBody
	rs.Request(http.MethodGet, path+"/timeline?kind=field_changed", nil).JSON(t, &tl)
	fields := map[string]bool{}
	for _, e := range tl.Events {
		fields[e.Data["field"].(string)] = true
	}
	require.Equal(t, map[string]bool{"detected_at": true, "category": true, "type": true, "tags": true}, fields,
		"one event per changed field")

	// Viewers change nothing; reporters only their own organisation's reports.
	r = w.h.As(w.viewer).Request(http.MethodPatch, path, `{"title":"x"}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusForbidden, r.Status)
	r = w.h.As(w.reporter).Request(http.MethodPatch, path, `{"description":"More facts: the mail came from a look-alike domain."}`,
		"Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, r.Status, "the reporter adds facts later")
}

func TestTaxonomyIsServed(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	r := w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/taxonomy", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), `"information-content-security"`)
	require.Contains(t, string(r.Body), `"data-leak"`)
	r = w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "category": "malware"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, string(r.Body), "abusive-content, malicious-code", "unknown values are refused with the valid ones")
}

// TestSentDescriptionHTMLIsIgnored: a report may carry description_html
// (docs/openapi.yaml says so), but certdesk renders its own from the
// Markdown: a client cannot plant HTML.
func TestSentDescriptionHTMLIsIgnored(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Planted HTML",
		"description": "plain *words*", "description_html": `<script>alert(1)</script>`})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	html := r.Map(t)["description_html"].(string)
	require.Contains(t, html, "<em>words</em>")
	require.NotContains(t, html, "<script")
}

// TestDescriptionIsRenderedInert: a description's Markdown comes back as
// sanitised HTML; script, event handlers and javascript: links do not.
func TestDescriptionIsRenderedInert(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "XSS probe",
		"description": "**Encrypted** shares.\n\n<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))"})
	get := func() map[string]any {
		return w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil).Map(t)
	}
	html := get()["description_html"].(string)
	require.Contains(t, html, "<strong>Encrypted</strong>")
	for _, bad := range []string{"<script", "onerror", "javascript:", "<img"} {
		require.NotContains(t, html, bad)
	}
	r := w.h.As(w.responder).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, `{"description":"Now _updated_ <iframe src=//evil>"}`,
		"Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	html = get()["description_html"].(string)
	require.Contains(t, html, "<em>updated</em>")
	require.NotContains(t, html, "<iframe")
	r = w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "a\u0000b"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "NUL in text is the client's error, not a 500")
	require.Equal(t, "title", fieldOf(t, r))
	for _, path := range []string{"/api/v1/incidents/a%00b", "/api/v1/incidents/%ff%fe/timeline"} {
		require.Equal(t, http.StatusNotFound, w.h.As(w.responder).Request(http.MethodGet, path, nil).Status, path)
	}
}

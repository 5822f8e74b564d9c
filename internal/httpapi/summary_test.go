package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A breach reported with the number of people affected keeps it; the
// coordinator writes the executive summary part by part, each change one
// summary_changed event with old and new text, and who wrote it last.
func TestAffectedPeopleAndExecutiveSummary(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "Portal breach", "personal_data_breach": true, "affected_people": 1200})
	type summary struct {
		Status    string  `json:"status"`
		Impact    string  `json:"impact"`
		NextSteps string  `json:"next_steps"`
		UpdatedAt *string `json:"updated_at"`
		UpdatedBy *string `json:"updated_by"`
	}
	type view struct {
		AffectedPeople *int64  `json:"affected_people"`
		Summary        summary `json:"executive_summary"`
	}
	var got view
	w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil).JSON(t, &got)
	require.NotNil(t, got.AffectedPeople)
	require.EqualValues(t, 1200, *got.AffectedPeople)
	require.Equal(t, summary{}, got.Summary, "nothing written yet")

	patch := func(body string) int {
		r := w.h.As(w.responder).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, body, "Content-Type", "application/merge-patch+json")
		if r.Status == http.StatusOK {
			r.JSON(t, &got)
		}
		return r.Status
	}
	require.Equal(t, http.StatusOK, patch(`{"executive_summary": {"status": " Contained. ", "impact": "Portal offline"}, "affected_people": 12000}`))
	require.Equal(t, "Contained.", got.Summary.Status, "trimmed")
	require.Equal(t, "Portal offline", got.Summary.Impact)
	require.EqualValues(t, 12000, *got.AffectedPeople)
	require.Equal(t, w.responderEmail, *got.Summary.UpdatedBy)
	require.NotNil(t, got.Summary.UpdatedAt)

	require.Equal(t, http.StatusOK, patch(`{"executive_summary": {"next_steps": "Restore by Friday", "impact": null}, "affected_people": null}`))
	require.Equal(t, summary{Status: "Contained.", NextSteps: "Restore by Friday", UpdatedAt: got.Summary.UpdatedAt, UpdatedBy: got.Summary.UpdatedBy}, got.Summary)
	require.Nil(t, got.AffectedPeople, "null: unknown again")

	r := w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?kind=summary_changed", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var tl struct {
		Events []struct {
			Actor string         `json:"actor"`
			Data  map[string]any `json:"data"`
		} `json:"events"`
	}
	r.JSON(t, &tl)
	require.Len(t, tl.Events, 2)
	require.Equal(t, map[string]any{"status": map[string]any{"old": "", "new": "Contained."},
		"impact": map[string]any{"old": "", "new": "Portal offline"}}, tl.Events[0].Data)
	require.Equal(t, map[string]any{"next_steps": map[string]any{"old": "", "new": "Restore by Friday"},
		"impact": map[string]any{"old": "Portal offline", "new": ""}}, tl.Events[1].Data)

	// The same text again changes nothing: no event.
	require.Equal(t, http.StatusOK, patch(`{"executive_summary": {"status": "Contained."}}`))
	w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?kind=summary_changed", nil).JSON(t, &tl)
	require.Len(t, tl.Events, 2)

	for _, c := range []struct{ body, field, rule string }{
		{`{"affected_people": -1}`, "affected_people", "range"},
		{`{"affected_people": "many"}`, "affected_people", "type"},
		{`{"executive_summary": {"mood": "fine"}}`, "executive_summary.mood", "unknown_field"},
		{`{"executive_summary": "fine"}`, "executive_summary", "type"},
		{`{"executive_summary": {"status": "` + strings.Repeat("x", 2001) + `"}}`, "executive_summary.status", "max_length"},
	} {
		r := w.h.As(w.responder).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, c.body, "Content-Type", "application/merge-patch+json")
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, c.body)
		var p struct {
			Errors []struct{ Field, Rule string } `json:"errors"`
		}
		r.JSON(t, &p)
		require.Len(t, p.Errors, 1, "%s", r.Body)
		require.Equal(t, c.field, p.Errors[0].Field, c.body)
		require.Equal(t, c.rule, p.Errors[0].Rule, c.body)
	}
	// A viewer writes nothing.
	r = w.h.As(w.viewer).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, `{"executive_summary": {"status": "x"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusForbidden, r.Status)
}

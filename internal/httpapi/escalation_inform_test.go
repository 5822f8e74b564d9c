package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

// The regional CERT informs a partner about a TLP:GREEN incident: the
// partner sees it with the rights of an organisation it was shared with
// (a comment, an indicator; not a timeline entry or a task, which an
// escalation to assist would allow), accepting changes nothing but the
// escalation's state ("informed"), the regional CERT keeps coordinating,
// and there is nothing to return. Declining another takes the sight away.
func TestInformEscalationGivesSightAndKeepsTheCoordinator(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	id, ref := w.report(t, "city-a", "Phishing wave against city staff", "medium", incident.TLPGreen)
	base := "/api/v1/incidents/" + ref
	partner := w.as("partner", access.Responder)
	require.Equal(t, http.StatusNotFound, partner.Request(http.MethodGet, base, nil).Status, "not shared yet")

	r := w.as("region-north", access.Responder).Request(http.MethodPost, base+"/escalations",
		map[string]any{"to": "partner", "kind": "inform", "reason": "the same sender hit your customers"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var e escBody
	r.JSON(t, &e)
	require.Equal(t, "inform", e.Kind)
	require.Equal(t, "requested", e.State)

	require.Equal(t, http.StatusOK, partner.Request(http.MethodGet, base, nil).Status, "informed: it sees the incident")
	for _, c := range []struct {
		path string
		body map[string]any
		want int
	}{
		{"/comments", map[string]any{"body": "Seen here too since Monday."}, http.StatusCreated},
		{"/observables", map[string]any{"type": "domain", "value": "login-city-a.example"}, http.StatusCreated},
		{"/timeline", map[string]any{"summary": "We blocked the sender"}, http.StatusForbidden},
		{"/tasks", map[string]any{"title": "Block the sender"}, http.StatusForbidden},
	} {
		r := partner.Request(http.MethodPost, base+c.path, c.body)
		require.Equal(t, c.want, r.Status, "%s: %s", c.path, r.Body)
	}

	r = w.as("partner", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &e)
	require.Equal(t, "accepted", e.State)
	require.Equal(t, "region-north", coordinatorOf(t, w.h, id), "informing hands nothing over")
	require.Equal(t, http.StatusForbidden, partner.Request(http.MethodPost, base+"/timeline", map[string]any{"summary": "x"}).Status,
		"accepted, still only shared with")
	r = w.as("partner", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/return", map[string]any{"reason": "done reading"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)

	// Another incident: the partner declines, and no longer sees it.
	_, ref2 := w.report(t, "city-a", "Fake invoices", "low", incident.TLPGreen)
	r = w.as("region-north", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+ref2+"/escalations",
		map[string]any{"to": "partner", "kind": "inform"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &e)
	require.Equal(t, http.StatusOK, partner.Request(http.MethodGet, "/api/v1/incidents/"+ref2, nil).Status)
	r = w.as("partner", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline", map[string]any{"reason": "not our customers"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusNotFound, partner.Request(http.MethodGet, "/api/v1/incidents/"+ref2, nil).Status)
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// escWorld is the directory of the escalation tests:
//
//	national-cert
//	├── region-north ── city-a, city-b
//	└── region-south ── city-c
//	partner
type escWorld struct {
	h     *testapp.Harness
	users map[string]map[access.Role]string // org → role → token
}

func newEscWorld(t *testing.T) *escWorld {
	t.Helper()
	secWarmSpec(t)
	h := testapp.New(t, testapp.Options{})
	for _, o := range []struct {
		slug   string
		kind   org.Kind
		parent string
	}{
		{"national-cert", org.NationalCERT, ""}, {"region-north", org.RegionalCERT, "national-cert"},
		{"city-a", org.LocalAuthority, "region-north"}, {"city-b", org.LocalAuthority, "region-north"},
		{"region-south", org.RegionalCERT, "national-cert"}, {"city-c", org.LocalAuthority, "region-south"},
		{"partner", org.Partner, ""},
	} {
		h.Org(o.slug, o.kind, o.parent)
	}
	w := &escWorld{h: h, users: map[string]map[access.Role]string{}}
	for _, o := range []string{"national-cert", "region-north", "city-a", "city-b", "region-south", "city-c", "partner"} {
		w.users[o] = map[access.Role]string{}
		for _, r := range secAllRoles {
			_, tok := h.User(o, r)
			w.users[o][r] = tok
		}
	}
	return w
}

func (w *escWorld) as(orgSlug string, r access.Role) *testapp.Harness {
	return w.h.As(w.users[orgSlug][r])
}

// report files an incident as city-a's reporter and waits for its routing.
func (w *escWorld) report(t *testing.T, reporterOrg, title, severity string, tlp incident.TLP) (id, ref string) {
	t.Helper()
	r := w.as(reporterOrg, access.Reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "severity": severity, "tlp": string(tlp)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var b struct{ ID, Reference string }
	r.JSON(t, &b)
	w.h.Eventually(func() bool {
		inc, err := w.h.App.Incidents.Get(context.Background(), access.System, b.ID)
		return err == nil && inc.CoordinatingOrgSlug != ""
	}, "the incident is routed")
	return b.ID, b.Reference
}

type escBody struct {
	ID                string  `json:"id"`
	IncidentReference string  `json:"incident_reference"`
	IncidentTitle     *string `json:"incident_title"`
	FromOrg           string  `json:"from_org"`
	ToOrg             string  `json:"to_org"`
	Kind              string  `json:"kind"`
	State             string  `json:"state"`
	RequestedBy       string  `json:"requested_by"`
	DecidedBy         *string `json:"decided_by"`
	DecisionReason    *string `json:"decision_reason"`
}

func escList(t *testing.T, h *testapp.Harness, query string) []escBody {
	t.Helper()
	r := h.Request(http.MethodGet, "/api/v1/escalations"+query, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Escalations []escBody }
	r.JSON(t, &l)
	return l.Escalations
}

func coordinatorOf(t *testing.T, h *testapp.Harness, id string) string {
	t.Helper()
	inc, err := h.App.Incidents.Get(context.Background(), access.System, id)
	require.NoError(t, err)
	return inc.CoordinatingOrgSlug
}

func timelineKinds(t *testing.T, h *testapp.Harness, id string) []string {
	t.Helper()
	_, evs, _, err := h.App.Incidents.Timeline(context.Background(), access.System, id, nil, incident.Page{Limit: 500})
	require.NoError(t, err)
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Kind))
	}
	return out
}

func problemAllowed(t *testing.T, r *testapp.Response) []string {
	t.Helper()
	var p struct{ Allowed []string }
	require.NoError(t, json.Unmarshal(r.Body, &p), "%s", r.Body)
	return p.Allowed
}

func TestEscalationRequestAcceptReturn(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	h := w.h
	id, ref := w.report(t, "city-a", "Ransomware at the city hall", "high", incident.TLPAmber)
	require.Equal(t, "region-north", coordinatorOf(t, h, id))

	// Shape first: a bad kind is a 422 for anyone.
	r := w.as("city-a", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations", map[string]any{"kind": "help"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Empty(t, fieldIs("kind")(r))
	// Reporters may not escalate; another region may not see the incident.
	r = w.as("city-a", access.Reporter).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations", map[string]any{"kind": "coordinate"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = w.as("region-south", access.Coordinator).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations", map[string]any{"kind": "coordinate"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	// Targets: not a sibling city, not another region's CERT, not the coordinator itself.
	for _, to := range []string{"city-b", "region-south", "region-north", "no-such-org"} {
		r = w.as("city-a", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations", map[string]any{"to": to})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "to %s: %s", to, r.Body)
		require.Empty(t, fieldIs("to")(r), "to %s", to)
	}

	// The city escalates; the default target is the CERT above the coordinator.
	r = w.as("city-a", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations",
		map[string]any{"kind": "coordinate", "reason": "three more cities hit"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var e escBody
	r.JSON(t, &e)
	require.Equal(t, "city-a", e.FromOrg)
	require.Equal(t, "national-cert", e.ToOrg)
	require.Equal(t, "requested", e.State)
	require.Equal(t, "/api/v1/escalations/"+e.ID, r.Header.Get("Location"))
	// One open request per target.
	r = w.as("city-a", access.Coordinator).Request(http.MethodPost, "/api/v1/incidents/"+id+"/escalations", map[string]any{"to": "national-cert"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)

	// Inbox and outbox.
	in := escList(t, w.as("national-cert", access.Viewer), "?direction=inbox&state=requested")
	require.Len(t, in, 1)
	require.Equal(t, e.ID, in[0].ID)
	require.Equal(t, "Ransomware at the city hall", *in[0].IncidentTitle)
	require.Empty(t, escList(t, w.as("national-cert", access.Viewer), "?direction=outbox"))
	require.Len(t, escList(t, w.as("city-a", access.Reporter), "?direction=outbox"), 1)
	for _, o := range []string{"region-north", "region-south", "city-b", "city-c", "partner"} {
		require.Empty(t, escList(t, w.as(o, access.Admin), ""), "%s sees another's escalations", o)
		r = w.as(o, access.Admin).Request(http.MethodGet, "/api/v1/escalations/"+e.ID, nil)
		require.Equal(t, http.StatusNotFound, r.Status, "%s reads the escalation", o)
	}
	r = w.as("national-cert", access.Viewer).Request(http.MethodGet, "/api/v1/escalations?direction=sideways", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Empty(t, fieldIs("direction")(r))

	// Who decides: another region's coordinator 404, the city 403, a
	// national responder 403, a decline without reason 422.
	r = w.as("region-south", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = w.as("city-a", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = w.as("national-cert", access.Responder).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = w.as("national-cert", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline", map[string]any{"reason": " "})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Empty(t, fieldIs("reason")(r))
	r = w.as("national-cert", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/return", map[string]any{"reason": "too early"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, []string{"accept", "decline"}, problemAllowed(t, r))

	// Accept: the national CERT coordinates.
	r = w.as("national-cert", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", map[string]any{"reason": "we take it"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &e)
	require.Equal(t, "accepted", e.State)
	require.Equal(t, "we take it", *e.DecisionReason)
	require.Equal(t, "national-cert", coordinatorOf(t, h, id))
	r = w.as("national-cert", access.Admin).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline", map[string]any{"reason": "changed our mind"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, []string{"return"}, problemAllowed(t, r))

	// Return: coordination goes back to the regional CERT.
	r = w.as("national-cert", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/return", map[string]any{"reason": "contained; region continues"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &e)
	require.Equal(t, "returned", e.State)
	require.Equal(t, "region-north", coordinatorOf(t, h, id))

	require.Subset(t, timelineKinds(t, h, id), []string{"escalated", "escalation_accepted", "escalation_returned"})
	// Both sides are notified of every state change, once.
	var n int
	require.NoError(t, h.App.DB.SQL.QueryRow(`SELECT count(*) FROM notifications n JOIN organizations o ON o.id = n.recipient_org_id
		WHERE n.incident_id = $1 AND n.event_kind LIKE 'escalation.%' AND o.slug IN ('city-a', 'national-cert')`, id).Scan(&n))
	require.Equal(t, 6, n)
	require.NoError(t, h.App.DB.SQL.QueryRow(`SELECT count(*) FROM audit_log WHERE target_id = $1 AND action LIKE 'escalation.%'`, e.ID).Scan(&n))
	require.Equal(t, 3, n)
}

func TestEscalationTLPAndPartners(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	h := w.h

	// TLP:AMBER+STRICT is not escalated: the national CERT would not see it.
	_, strict := w.report(t, "city-a", "Strict incident", "high", incident.TLPAmberStrict)
	r := w.as("region-north", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+strict+"/escalations", map[string]any{"kind": "coordinate"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	r = w.as("national-cert", access.Admin).Request(http.MethodGet, "/api/v1/incidents/"+strict, nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	// A partner: GREEN is escalated; AMBER only once shared explicitly.
	_, green := w.report(t, "city-a", "Green phishing wave", "medium", incident.TLPGreen)
	_, amber := w.report(t, "city-a", "Amber botnet", "medium", incident.TLPAmber)
	r = w.as("partner", access.Admin).Request(http.MethodGet, "/api/v1/incidents/"+green, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = w.as("region-north", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+amber+"/escalations", map[string]any{"to": "partner"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	r = w.as("region-north", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+green+"/escalations", map[string]any{"to": "partner", "reason": "cross-border"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var e escBody
	r.JSON(t, &e)
	require.Equal(t, "assist", e.Kind)
	// The receiving organisation sees the incident from the request on.
	r = w.as("partner", access.Viewer).Request(http.MethodGet, "/api/v1/incidents/"+green, nil)
	require.Equal(t, http.StatusOK, r.Status)
	in := escList(t, w.as("partner", access.Viewer), "?direction=inbox")
	require.Len(t, in, 1)
	require.NotNil(t, in[0].IncidentTitle)
	// Declining withdraws that visibility; the inbox keeps the entry without the title.
	r = w.as("partner", access.Coordinator).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline", map[string]any{"reason": "no capacity"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = w.as("partner", access.Viewer).Request(http.MethodGet, "/api/v1/incidents/"+green, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	in = escList(t, w.as("partner", access.Viewer), "?direction=inbox&state=declined")
	require.Len(t, in, 1)
	require.Nil(t, in[0].IncidentTitle, "the title of an incident the partner no longer sees")
	require.Equal(t, green, in[0].IncidentReference)

	// An accepted assist makes the organisation a participant organisation.
	_, other := w.report(t, "city-c", "Green DDoS", "high", incident.TLPGreen)
	r = w.as("region-south", access.Coordinator).Request(http.MethodPost, "/api/v1/incidents/"+other+"/escalations", map[string]any{"to": "partner", "kind": "assist"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &e)
	r = w.as("partner", access.Admin).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = w.as("partner", access.Viewer).Request(http.MethodGet, "/api/v1/incidents/"+other, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "region-south", coordinatorOf(t, h, other))

	// A title hidden by a later TLP change stays hidden in the inbox.
	id, hidden := w.report(t, "city-b", "Later restricted", "high", incident.TLPAmber)
	r = w.as("region-north", access.Coordinator).Request(http.MethodPost, "/api/v1/incidents/"+hidden+"/escalations", map[string]any{})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r = w.as("region-north", access.Coordinator).Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"tlp": "TLP:AMBER+STRICT"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, b := range escList(t, w.as("national-cert", access.Viewer), "?direction=inbox") {
		if b.IncidentReference == hidden {
			require.Nil(t, b.IncidentTitle)
		}
	}
	require.NotContains(t, string(w.as("national-cert", access.Viewer).Request(http.MethodGet, "/api/v1/escalations", nil).Body), "Later restricted")
}

func TestEscalateForPlaybook(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	h := w.h
	id, _ := w.report(t, "city-a", "Playbook escalates", "high", incident.TLPGreen)
	ctx := context.Background()
	var escID string
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, id)
		if err != nil {
			return err
		}
		escID, err = h.App.Escalations.EscalateForPlaybook(ctx, tx, inc, "parent", "", "no acknowledgement in 30 minutes")
		return err
	}))
	e, err := h.App.Escalations.Get(ctx, access.System, escID)
	require.NoError(t, err)
	require.Equal(t, "region-north", e.FromOrgSlug, "from the coordinating organisation")
	require.Equal(t, "national-cert", e.ToOrgSlug)
	require.Equal(t, "assist", string(e.Kind))
	require.Equal(t, "playbook", e.RequestedBy)
	// A slug that is no CERT above: a field error, and nothing is written.
	err = h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, id)
		if err != nil {
			return err
		}
		_, err = h.App.Escalations.EscalateForPlaybook(ctx, tx, inc, "region-south", "coordinate", "")
		return err
	})
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid")
	require.Len(t, escalationsOf(t, h, id), 1)
	// The national CERT accepts through the service (the Slack buttons' path).
	p, err := h.App.Identity.Authenticate(ctx, w.users["national-cert"][access.Coordinator], "127.0.0.1")
	require.NoError(t, err)
	acc, err := h.App.Escalations.Accept(ctx, p, escID, "")
	require.NoError(t, err)
	require.Equal(t, "accepted", string(acc.State))
}

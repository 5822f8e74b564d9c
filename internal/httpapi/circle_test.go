package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The circle of an incident (issue 10, finding 2 and "when TLP tightens or
// a share ends"): who may still act on and hear about an incident when its
// TLP is raised or a share ends, and how an organisation joins the circle
// of a TLP:AMBER+STRICT incident.

// circleWorld runs certdesk without workers, so that what a change queues
// (notifications) is still pending when the next change comes:
//
//	national-cert
//	└── region-north ── city-a, city-b
//	partner
type circleWorld struct {
	h      *testapp.Harness
	tokens map[string]string // "org/role" → token
	emails map[string]string // "org/role" → e-mail
}

func newCircleWorld(t *testing.T) *circleWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	h.Org("national-cert", org.NationalCERT, "")
	h.Org("region-north", org.RegionalCERT, "national-cert")
	h.Org("city-a", org.LocalAuthority, "region-north")
	h.Org("city-b", org.LocalAuthority, "region-north")
	h.Org("partner", org.Partner, "")
	w := &circleWorld{h: h, tokens: map[string]string{}, emails: map[string]string{}}
	for _, u := range []string{"city-a/reporter", "city-b/responder", "region-north/coordinator", "region-north/responder",
		"national-cert/coordinator", "national-cert/responder", "national-cert/viewer"} {
		slug, role, _ := cutSlash(u)
		user, tok := h.User(slug, access.Role(role))
		w.tokens[u], w.emails[u] = tok, user.Email
	}
	return w
}

func cutSlash(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (w *circleWorld) as(who string) *testapp.Harness { return w.h.As(w.tokens[who]) }

// report files an incident as city-a's reporter and routes it (no workers).
func (w *circleWorld) report(t *testing.T, title, tlp string) string {
	t.Helper()
	r := w.as("city-a/reporter").Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "severity": "high", "tlp": tlp})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.Map(t)["id"].(string)
	require.NoError(t, w.h.App.Incidents.Route(context.Background(), uuid.MustParse(id), nil))
	return id
}

// do sends a request as who and requires the status.
func (w *circleWorld) do(t *testing.T, who, method, path string, body any, want int) *testapp.Response {
	t.Helper()
	r := w.as(who).Request(method, path, body)
	require.Equal(t, want, r.Status, "%s %s as %s: %s", method, path, who, r.Body)
	return r
}

func (w *circleWorld) sees(t *testing.T, who, id string) bool {
	t.Helper()
	r := w.as(who).Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
	require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, r.Status, "%s", r.Body)
	return r.Status == http.StatusOK
}

type circleEvent struct {
	Kind  string
	Actor string
	Data  map[string]any
}

func (w *circleWorld) events(t *testing.T, id, kind string) []circleEvent {
	t.Helper()
	r := w.do(t, "region-north/coordinator", http.MethodGet, "/api/v1/incidents/"+id+"/timeline?limit=500&kind="+kind, nil, http.StatusOK)
	var tl struct{ Events []circleEvent }
	r.JSON(t, &tl)
	return tl.Events
}

func (w *circleWorld) audited(t *testing.T, action string) int {
	t.Helper()
	var n int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n))
	return n
}

// firstField is the field a problem's first field error names.
func firstField(t *testing.T, r *testapp.Response) string {
	t.Helper()
	var p struct{ Errors []struct{ Field string } }
	require.NoError(t, json.Unmarshal(r.Body, &p), "%s", r.Body)
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

// Finding 2 through the API: the regional CERT asks the national CERT to
// coordinate a TLP:AMBER incident, the reporter raises it to
// TLP:AMBER+STRICT, and the national CERT (now 404 on the incident) must
// not become its coordinator by accepting.
func TestFinding2AcceptAfterStrictRaiseIsRefused(t *testing.T) {
	t.Parallel()
	w := newCircleWorld(t)
	id := w.report(t, "Ransomware at the hospital", "TLP:AMBER")
	r := w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+id+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate"}, http.StatusCreated)
	escID := r.Map(t)["id"].(string)
	w.do(t, "city-a/reporter", http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"tlp": "TLP:AMBER+STRICT"}, http.StatusOK)
	require.False(t, w.sees(t, "national-cert/coordinator", id))

	r = w.do(t, "national-cert/coordinator", http.MethodPost, "/api/v1/escalations/"+escID+"/accept", nil, http.StatusConflict)
	require.Empty(t, problemAllowed(t, r), "a cancelled escalation allows nothing")
	require.Equal(t, "region-north", coordinatorOf(t, w.h, id))
	require.False(t, w.sees(t, "national-cert/coordinator", id))
	e := w.do(t, "region-north/coordinator", http.MethodGet, "/api/v1/escalations/"+escID, nil, http.StatusOK).Map(t)
	require.Equal(t, "cancelled", e["state"])

	// An escalation left open by a change that did not go through the
	// cascade (a TLP raised before this release, written here straight
	// into the row) still cannot be accepted by an organisation that does
	// not see the incident; it may still be declined, which reveals
	// nothing and gives nothing.
	id2 := w.report(t, "Second ransomware", "TLP:AMBER")
	r = w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+id2+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate"}, http.StatusCreated)
	esc2 := r.Map(t)["id"].(string)
	_, err := w.h.App.DB.SQL.Exec(`UPDATE incidents SET tlp = 'TLP:AMBER+STRICT' WHERE id = $1`, id2)
	require.NoError(t, err)
	w.do(t, "national-cert/coordinator", http.MethodPost, "/api/v1/escalations/"+esc2+"/accept", nil, http.StatusNotFound)
	require.Equal(t, "region-north", coordinatorOf(t, w.h, id2))
	r = w.do(t, "national-cert/coordinator", http.MethodPost, "/api/v1/escalations/"+esc2+"/decline", map[string]any{"reason": "cannot see it"}, http.StatusOK)
	require.Nil(t, r.Map(t)["incident_title"], "the decline's answer carries no title the decider may not see")
}

// When the TLP is raised, everything that reaches outside the new circle
// ends in the same transaction, each with a timeline entry: the pending
// escalation is cancelled, the share ends, the participant of an
// organisation outside TLP:AMBER+STRICT's circle is removed (and
// unassigned), and the notification queued for the organisation that
// lost sight is withdrawn.
func TestTLPRaiseCascade(t *testing.T) {
	t.Parallel()
	w := newCircleWorld(t)
	id := w.report(t, "Cascade incident", "TLP:AMBER")
	base := "/api/v1/incidents/" + id
	r := w.do(t, "region-north/coordinator", http.MethodPost, base+"/escalations", map[string]any{"to": "national-cert", "reason": "help"}, http.StatusCreated)
	escID := r.Map(t)["id"].(string)
	w.do(t, "region-north/coordinator", http.MethodPost, base+"/shares", map[string]any{"org": "city-b"}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPost, base+"/participants", map[string]any{"email": w.emails["national-cert/responder"]}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPatch, base, map[string]any{"assignee": w.emails["national-cert/responder"]}, http.StatusOK)
	require.True(t, w.sees(t, "city-b/responder", id))

	w.do(t, "region-north/coordinator", http.MethodPatch, base, map[string]any{"tlp": "TLP:AMBER+STRICT"}, http.StatusOK)

	e := w.do(t, "region-north/coordinator", http.MethodGet, "/api/v1/escalations/"+escID, nil, http.StatusOK).Map(t)
	require.Equal(t, "cancelled", e["state"], "the pending escalation is cancelled")
	require.False(t, w.sees(t, "national-cert/responder", id), "the participant outside the circle is removed")
	inc := w.do(t, "region-north/coordinator", http.MethodGet, base, nil, http.StatusOK).Map(t)
	require.Nil(t, inc["assignee"], "and no longer assigned")

	r = w.do(t, "region-north/coordinator", http.MethodGet, "/api/v1/notifications?limit=500&incident="+id, nil, http.StatusOK)
	var ns struct {
		Notifications []struct {
			RecipientOrg string `json:"recipient_org"`
			EventKind    string `json:"event_kind"`
			State        string
		}
	}
	r.JSON(t, &ns)
	withdrawn := 0
	for _, n := range ns.Notifications {
		if n.RecipientOrg == "national-cert" {
			require.Equal(t, "withdrawn", n.State, n.EventKind)
			withdrawn++
		} else {
			require.Equal(t, "pending", n.State, "%s to %s", n.EventKind, n.RecipientOrg)
		}
	}
	require.Equal(t, 1, withdrawn, "the escalation request queued for the national CERT")

	// One entry each; two shares end: city-b's and the one the escalation
	// gave the national CERT.
	for kind, n := range map[string]int{"escalation_cancelled": 1, "share_ended": 2, "participant_removed": 1, "notification_withdrawn": 1} {
		evs := w.events(t, id, kind)
		require.Len(t, evs, n, kind)
		for _, ev := range evs {
			require.Equal(t, w.emails["region-north/coordinator"], ev.Actor, "%s names who raised the TLP", kind)
			require.Contains(t, ev.Data["reason"], "TLP:AMBER+STRICT", kind)
		}
	}
	ended := w.events(t, id, "share_ended")
	require.ElementsMatch(t, []any{"city-b", "national-cert"}, []any{ended[0].Data["org"], ended[1].Data["org"]})
	require.Equal(t, w.emails["national-cert/responder"], w.events(t, id, "participant_removed")[0].Data["user"])
	require.Equal(t, "national-cert", w.events(t, id, "notification_withdrawn")[0].Data["recipient_org"])
	for action, n := range map[string]int{"escalation.cancelled": 1, "incident.share_ended": 2, "incident.participant_removed": 1} {
		require.Equal(t, n, w.audited(t, action), action)
	}

	// The share ended for good: lowering the TLP again does not bring it back.
	w.do(t, "region-north/coordinator", http.MethodPatch, base, map[string]any{"tlp": "TLP:AMBER"}, http.StatusOK)
	require.False(t, w.sees(t, "city-b/responder", id))

	// TLP:RED: no organisation as a whole sees it, so every share ends;
	// named participants are the circle and stay.
	red := w.report(t, "Red cascade", "TLP:AMBER")
	w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+red+"/shares", map[string]any{"org": "city-b"}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+red+"/participants", map[string]any{"email": w.emails["national-cert/responder"]}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+red+"/participants", map[string]any{"email": w.emails["region-north/coordinator"]}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPatch, "/api/v1/incidents/"+red, map[string]any{"tlp": "TLP:RED"}, http.StatusOK)
	require.True(t, w.sees(t, "national-cert/responder", red), "a named participant stays on TLP:RED")
	require.Len(t, w.events(t, red, "share_ended"), 1)
	require.Empty(t, w.events(t, red, "participant_removed"))
	w.do(t, "region-north/coordinator", http.MethodPatch, "/api/v1/incidents/"+red, map[string]any{"tlp": "TLP:AMBER"}, http.StatusOK)
	require.False(t, w.sees(t, "city-b/responder", red), "the share ended when the incident became TLP:RED")
}

// Point 4 of the issue: escalating a TLP:AMBER+STRICT incident to an
// organisation outside its circle needs the requester's confirmation that
// the organisation joins the circle; the confirmation is recorded, and the
// organisation then sees the incident. Participants from outside the circle
// are refused; an organisation that declines leaves the circle again.
func TestStrictEscalationNeedsConfirmation(t *testing.T) {
	t.Parallel()
	w := newCircleWorld(t)
	id := w.report(t, "Strict incident", "TLP:AMBER+STRICT")
	base := "/api/v1/incidents/" + id

	r := w.do(t, "region-north/coordinator", http.MethodPost, base+"/escalations", map[string]any{"to": "national-cert", "kind": "coordinate"}, http.StatusConflict)
	require.Equal(t, "joins_strict_circle", firstField(t, r), "the refusal names the confirmation field")
	r = w.do(t, "region-north/coordinator", http.MethodPost, base+"/participants", map[string]any{"email": w.emails["national-cert/viewer"]}, http.StatusConflict)
	require.Contains(t, string(r.Body), "circle")
	require.False(t, w.sees(t, "national-cert/viewer", id))

	r = w.do(t, "region-north/coordinator", http.MethodPost, base+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "joins_strict_circle": true}, http.StatusCreated)
	escID := r.Map(t)["id"].(string)
	require.True(t, w.sees(t, "national-cert/viewer", id), "the organisation joined the circle")
	joined := w.events(t, id, "strict_circle_joined")
	require.Len(t, joined, 1)
	require.Equal(t, "national-cert", joined[0].Data["org"])
	require.Equal(t, w.emails["region-north/coordinator"], joined[0].Actor)
	require.Equal(t, 1, w.audited(t, "incident.strict_circle_joined"))

	// Inside the circle now: its people may be named; others still not.
	w.do(t, "region-north/coordinator", http.MethodPost, base+"/participants", map[string]any{"email": w.emails["national-cert/viewer"]}, http.StatusCreated)
	w.do(t, "region-north/coordinator", http.MethodPost, base+"/participants", map[string]any{"email": w.emails["city-b/responder"]}, http.StatusConflict)

	// Declining leaves the circle, and its participants go with it.
	w.do(t, "national-cert/coordinator", http.MethodPost, "/api/v1/escalations/"+escID+"/decline", map[string]any{"reason": "not ours"}, http.StatusOK)
	require.False(t, w.sees(t, "national-cert/coordinator", id))
	require.False(t, w.sees(t, "national-cert/viewer", id), "the participant of the organisation that left is removed")
	require.Len(t, w.events(t, id, "participant_removed"), 1)

	// Accepted, coordination moves into the circle; the CERT that handed
	// it over stays in the circle rather than being locked out.
	id2 := w.report(t, "Strict incident, coordinated nationally", "TLP:AMBER+STRICT")
	r = w.do(t, "region-north/coordinator", http.MethodPost, "/api/v1/incidents/"+id2+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "joins_strict_circle": true}, http.StatusCreated)
	w.do(t, "national-cert/coordinator", http.MethodPost, "/api/v1/escalations/"+r.Map(t)["id"].(string)+"/accept", nil, http.StatusOK)
	require.Equal(t, "national-cert", coordinatorOf(t, w.h, id2))
	require.True(t, w.sees(t, "region-north/responder", id2), "the previous coordinator keeps the incident")
	orgs := map[any]bool{}
	for _, ev := range w.events(t, id2, "strict_circle_joined") {
		orgs[ev.Data["org"]] = true
	}
	require.Equal(t, map[any]bool{"national-cert": true, "region-north": true}, orgs)
}

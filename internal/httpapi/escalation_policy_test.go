package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// escalationsOf lists an incident's escalations as "from→to", oldest first.
func escalationsOf(t *testing.T, h *testapp.Harness, incidentID string) []string {
	t.Helper()
	rows, err := h.App.DB.SQL.QueryContext(context.Background(), `SELECT f.slug || '→' || o.slug FROM escalations e
		JOIN organizations f ON f.id = e.from_org_id JOIN organizations o ON o.id = e.to_org_id
		WHERE e.incident_id = $1 ORDER BY e.requested_at, e.id`, incidentID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// policyJobs lists the River jobs of an incident's policy timers with their state, by level.
func policyJobs(t *testing.T, h *testapp.Harness, incidentID string) map[int]string {
	t.Helper()
	rows, err := h.App.DB.SQL.QueryContext(context.Background(), `SELECT et.level, j.state FROM escalation_timers et
		JOIN river_job j ON j.id = et.job_id WHERE et.incident_id = $1`, incidentID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var level int
		var state string
		require.NoError(t, rows.Scan(&level, &state))
		out[level] = state
	}
	require.NoError(t, rows.Err())
	return out
}

// waitJobsIdle waits until no policy job of the incident is available or running.
func waitJobsIdle(t *testing.T, h *testapp.Harness, incidentID string) {
	t.Helper()
	h.Eventually(func() bool {
		for _, s := range policyJobs(t, h, incidentID) {
			if s == "available" || s == "running" || s == "retryable" {
				return false
			}
		}
		return true
	}, "the incident's policy jobs ran")
}

func TestEscalationPolicyClimbsTheTreeUntilAcknowledged(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	h := w.h
	// The regional CERT's policy covers its constituency.
	r := w.as("region-north", access.Admin).Request(http.MethodPut, "/api/v1/organizations/region-north/escalation-policy", map[string]any{
		"rules": []any{map[string]any{"name": "high-unacknowledged", "when": map[string]any{"min_severity": "high"},
			"unacknowledged_for": "15m", "action": "escalate", "to": "parent", "kind": "assist", "repeat_up": true}},
	})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = w.as("city-a", access.Viewer).Request(http.MethodGet, "/api/v1/organizations/city-a/escalation-policy", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "region-north", r.Map(t)["applies_from"])

	a, _ := w.report(t, "city-a", "Unacknowledged ransomware", "high", incident.TLPAmber)
	b, bref := w.report(t, "city-a", "Acknowledged after the first step", "critical", incident.TLPAmber)
	low, _ := w.report(t, "city-a", "Low-severity scan", "low", incident.TLPAmber)
	require.Equal(t, map[int]string{1: "scheduled"}, policyJobs(t, h, a))
	require.Empty(t, policyJobs(t, h, low), "a low-severity incident gets no timer")

	h.Advance(14 * time.Minute)
	waitJobsIdle(t, h, a)
	require.Empty(t, escalationsOf(t, h, a), "nothing before the 15 minutes")

	h.Advance(time.Minute + time.Second)
	h.Eventually(func() bool { return len(escalationsOf(t, h, a)) == 1 && len(escalationsOf(t, h, b)) == 1 }, "both escalate after 15 minutes")
	require.Equal(t, []string{"city-a→region-north"}, escalationsOf(t, h, a))
	waitJobsIdle(t, h, a)
	require.Equal(t, map[int]string{1: "completed", 2: "scheduled"}, policyJobs(t, h, a))
	var actor string
	require.NoError(t, h.App.DB.SQL.QueryRow(`SELECT requested_by FROM escalations WHERE incident_id = $1`, a).Scan(&actor))
	require.Equal(t, "escalation policy region-north: high-unacknowledged", actor)

	// A second run of the same job (a redelivery) escalates nothing more.
	_, err := h.App.DB.SQL.Exec(`UPDATE river_job SET state = 'available', finalized_at = NULL, scheduled_at = now()
		WHERE id = (SELECT job_id FROM escalation_timers WHERE incident_id = $1 AND level = 1)`, a)
	require.NoError(t, err)
	waitJobsIdle(t, h, a)
	require.Equal(t, []string{"city-a→region-north"}, escalationsOf(t, h, a))

	// b is acknowledged: its next level's job is cancelled with it.
	r = w.as("region-north", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+bref+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[int]string{1: "completed", 2: "cancelled"}, policyJobs(t, h, b))

	h.Advance(15*time.Minute + time.Second)
	h.Eventually(func() bool { return len(escalationsOf(t, h, a)) == 2 }, "a escalates to the national CERT after another 15 minutes")
	require.Equal(t, []string{"city-a→region-north", "region-north→national-cert"}, escalationsOf(t, h, a))
	waitJobsIdle(t, h, a)
	require.Equal(t, map[int]string{1: "completed", 2: "completed"}, policyJobs(t, h, a), "no level above the national CERT")

	// Acknowledged: nothing more, however long it stays open.
	r = w.as("national-cert", access.Coordinator).Request(http.MethodPost, "/api/v1/incidents/"+a+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	h.Advance(2 * time.Hour)
	waitJobsIdle(t, h, b)
	require.Len(t, escalationsOf(t, h, a), 2)
	require.Equal(t, []string{"city-a→region-north"}, escalationsOf(t, h, b))
	require.Empty(t, escalationsOf(t, h, low))
	require.Contains(t, timelineKinds(t, h, a), "escalated")
}

func TestEscalationPolicyStopsWhenNoLongerMatching(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	h := w.h
	r := w.as("national-cert", access.Admin).Request(http.MethodPut, "/api/v1/organizations/national-cert/escalation-policy", map[string]any{
		"rules": []any{
			map[string]any{"name": "high", "when": map[string]any{"min_severity": "high"}, "unacknowledged_for": "30m", "to": "national", "kind": "coordinate"},
			map[string]any{"name": "significant-now", "when": map[string]any{"significant": true}, "unacknowledged_for": "immediately", "action": "notify", "to": "national"},
		},
	})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	id, ref := w.report(t, "city-c", "Severity lowered later", "high", incident.TLPAmber)
	require.Equal(t, map[int]string{1: "scheduled"}, policyJobs(t, h, id))
	r = w.as("region-south", access.Responder).Request(http.MethodPatch, "/api/v1/incidents/"+ref, map[string]any{"severity": "medium"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[int]string{1: "cancelled"}, policyJobs(t, h, id), "a rule that no longer matches is cancelled")
	// Raised again: a new timer, due 30 minutes after the report, not after the change.
	r = w.as("region-south", access.Responder).Request(http.MethodPatch, "/api/v1/incidents/"+ref, map[string]any{"severity": "critical", "significant": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	h.Eventually(func() bool {
		var n int
		_ = h.App.DB.SQL.QueryRow(`SELECT count(*) FROM notifications n JOIN organizations o ON o.id = n.recipient_org_id
			WHERE n.incident_id = $1 AND n.event_kind = 'escalation.policy' AND o.slug = 'national-cert'`, id).Scan(&n)
		return n == 1
	}, "the significant incident is notified to the national CERT at once")
	h.Advance(30*time.Minute + time.Second)
	h.Eventually(func() bool { return len(escalationsOf(t, h, id)) == 1 }, "escalated after 30 minutes")
	require.Equal(t, []string{"city-c→national-cert"}, escalationsOf(t, h, id))
	require.Contains(t, timelineKinds(t, h, id), "escalation_policy_notified")

	// Closing cancels the timers as well.
	closed, cref := w.report(t, "city-c", "Closed quickly", "critical", incident.TLPGreen)
	require.Equal(t, map[int]string{1: "scheduled"}, policyJobs(t, h, closed))
	r = w.as("region-south", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+cref+"/close", map[string]any{"resolution": "false positive"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[int]string{1: "cancelled"}, policyJobs(t, h, closed))
	h.Advance(time.Hour)
	waitJobsIdle(t, h, closed)
	require.Empty(t, escalationsOf(t, h, closed))
}

func TestEscalationPolicyValidationAndAccess(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	put := func(as *testapp.Harness, slug string, body any) *testapp.Response {
		return as.Request(http.MethodPut, "/api/v1/organizations/"+slug+"/escalation-policy", body)
	}
	admin := w.as("region-north", access.Admin)
	for _, tc := range []struct {
		rule  map[string]any
		field string
	}{
		{map[string]any{"unacknowledged_for": "15m"}, "rules[0].name"},
		{map[string]any{"name": "x", "unacknowledged_for": "soon"}, "rules[0].unacknowledged_for"},
		{map[string]any{"name": "x", "unacknowledged_for": "10s"}, "rules[0].unacknowledged_for"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "when": map[string]any{"min_severity": "huge"}}, "rules[0].when.min_severity"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "action": "page"}, "rules[0].action"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "kind": "everything"}, "rules[0].kind"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "action": "notify", "kind": "assist"}, "rules[0].kind"},
		{map[string]any{"name": "x", "unacknowledged_for": "immediately", "repeat_up": true}, "rules[0].repeat_up"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "to": "city-b"}, "rules[0].to"},
		{map[string]any{"name": "x", "unacknowledged_for": "15m", "to": "nowhere"}, "rules[0].to"},
	} {
		r := put(admin, "region-north", map[string]any{"rules": []any{tc.rule}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", tc.rule, r.Body)
		require.Empty(t, fieldIs(tc.field)(r), "%v", tc.rule)
	}
	r := put(admin, "region-north", map[string]any{"rules": []any{map[string]any{"name": "x", "unacknowledged_for": "15m"},
		map[string]any{"name": "x", "unacknowledged_for": "1h"}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Empty(t, fieldIs("rules[1].name")(r))

	ok := map[string]any{"rules": []any{map[string]any{"name": "x", "unacknowledged_for": "1h30m", "to": "partner"}}}
	// Admins of the organisation and the CERTs above it; nobody else.
	for _, tc := range []struct {
		as   *testapp.Harness
		slug string
		want int
	}{
		{w.as("city-a", access.Admin), "city-a", http.StatusOK},
		{w.as("region-north", access.Admin), "city-a", http.StatusOK},
		{w.as("national-cert", access.Admin), "city-a", http.StatusOK},
		{w.as("region-north", access.Coordinator), "city-a", http.StatusForbidden},
		{w.as("city-a", access.Admin), "region-north", http.StatusForbidden},
		{w.as("region-south", access.Admin), "city-a", http.StatusForbidden},
		{w.as("partner", access.Admin), "city-a", http.StatusNotFound},
		{w.as("region-north", access.Admin), "no-such-org", http.StatusNotFound},
	} {
		r := put(tc.as, tc.slug, ok)
		require.Equal(t, tc.want, r.Status, "%s", r.Body)
	}
	r = w.as("region-south", access.Viewer).Request(http.MethodGet, "/api/v1/organizations/city-a/escalation-policy", nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	r = w.as("city-a", access.Reporter).Request(http.MethodGet, "/api/v1/organizations/city-a/escalation-policy", nil)
	require.Equal(t, http.StatusOK, r.Status)
	m := r.Map(t)
	require.Equal(t, "city-a", m["applies_from"])
	rules := m["rules"].([]any)
	require.Len(t, rules, 1)
	require.Equal(t, "1h30m", rules[0].(map[string]any)["unacknowledged_for"])
	require.Equal(t, "assist", rules[0].(map[string]any)["kind"])
}

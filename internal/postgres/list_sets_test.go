package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The Mine and Escalated-to-us lists read the same incidents whichever
// plan the size of their set picks (read exactly, or checked while the
// ordered index is walked), and only those the viewer may see. Not
// parallel: it changes the size that picks the plan.
func TestMineAndEscalatedToListTheSameInBothPlans(t *testing.T) {
	h, _ := setup(t)
	ctx := context.Background()
	region := h.Org("region", org.RegionalCERT, "national")
	city := h.Org("city-r", org.LocalAuthority, "region")
	other := h.Org("other-region", org.RegionalCERT, "national")
	me, _ := h.User("region", access.Responder)
	colleague, _ := h.User("region", access.Responder)
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := h.App.DB.Pool.Exec(ctx, q, args...)
		require.NoError(t, err)
	}
	team, otherTeam := uuid.New(), uuid.New()
	exec(`INSERT INTO teams (id, org_id, name, created_at, updated_at) VALUES ($1, $2, 'Night shift', now(), now()),
		($3, $2, 'Forensics', now(), now())`, team, region.ID, otherTeam)
	exec(`INSERT INTO team_members (team_id, user_id, added_at) VALUES ($1, $2, now())`, team, me.ID)

	// Incidents of the city, each set up by a statement on its row.
	var mine, escalated []string
	add := func(setup string, args ...any) string {
		t.Helper()
		inc := newIncident(city.ID)
		inc.CreatedAt = inc.CreatedAt.Add(-time.Duration(len(mine)+len(escalated)) * time.Minute)
		require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
			if err := tx.InsertIncident(ctx, inc); err != nil {
				return err
			}
			return tx.SetCoordinatingOrg(ctx, inc.ID, region.ID, inc.CreatedAt)
		}))
		if setup != "" {
			exec(setup, append([]any{inc.ID}, args...)...)
		}
		return inc.Reference
	}
	// An escalation shares the incident with the organisation asked (as
	// escalation.Service.Request does), whatever became of it.
	escalate := func(to uuid.UUID, state string) string {
		return `WITH e AS (INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, requested_by, requested_at)
			VALUES (gen_random_uuid(), $1, '` + region.ID.String() + `', '` + to.String() + `', 'assist', '` + state + `', 'test', now()))
			INSERT INTO incident_shares (incident_id, org_id, kind) VALUES ($1, '` + to.String() + `', 'escalation')`
	}
	for range 3 {
		mine = append(mine, add(`UPDATE incidents SET assignee_id = $2 WHERE id = $1`, me.ID))
	}
	mine = append(mine, add(`UPDATE incidents SET assignee_team_id = $2 WHERE id = $1`, team))
	add(`UPDATE incidents SET assignee_team_id = $2, assignee_id = $3 WHERE id = $1`, team, colleague.ID) // claimed by a colleague
	add(`UPDATE incidents SET assignee_team_id = $2 WHERE id = $1`, otherTeam)                            // not my team
	add(``)                                                                                               // nobody's
	for _, state := range []string{"requested", "accepted"} {
		escalated = append(escalated, add(escalate(other.ID, state)))
	}
	add(escalate(other.ID, "declined"))
	national, err := h.App.Store.OrganizationBySlug(ctx, "national")
	require.NoError(t, err)
	add(escalate(national.ID, "requested")) // to another organisation

	list := func(p access.Principal, f incident.Filter) []string {
		t.Helper()
		got, _, err := h.App.Incidents.List(ctx, p, f, incident.Page{Limit: 50})
		require.NoError(t, err)
		var refs []string
		for _, inc := range got {
			refs = append(refs, inc.Reference)
		}
		slices.Sort(refs)
		return refs
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	otherCERT, _ := h.User("other-region", access.Responder)
	for _, limit := range []int{2000, 1} {
		restore := postgres.SetSearchHitLimit(limit)
		require.Equal(t, sorted(mine), list(me.Principal(), incident.Filter{Assignee: "mine"}), "limit %d", limit)
		require.Empty(t, list(otherCERT.Principal(), incident.Filter{Assignee: "mine"}), "limit %d", limit)
		require.Equal(t, sorted(escalated), list(otherCERT.Principal(), incident.Filter{EscalatedTo: "other-region"}), "limit %d", limit)
		require.Empty(t, list(me.Principal(), incident.Filter{EscalatedTo: "region"}),
			"limit %d: the region sees every incident, but none is escalated to it", limit)
		require.Empty(t, list(otherCERT.Principal(), incident.Filter{EscalatedTo: "national"}), "limit %d: escalations to the national CERT are not other-region's to see", limit)
		restore()
	}
}

// Count counts what List lists, under the same visibility rule, and
// stops one past its bound.
func TestCountIsBoundedAndKeepsToWhatTheViewerSees(t *testing.T) {
	t.Parallel()
	h, city := setup(t)
	ctx := context.Background()
	for range 3 {
		inc := newIncident(city.ID)
		require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error { return tx.InsertIncident(ctx, inc) }))
	}
	h.Org("elsewhere", org.LocalAuthority, "national")
	reporter, _ := h.User("city", access.Reporter)
	stranger, _ := h.User("elsewhere", access.Reporter)
	count := func(p access.Principal, f incident.Filter, max int) int {
		t.Helper()
		n, err := h.App.Incidents.Count(ctx, p, f, max)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 3, count(reporter.Principal(), incident.Filter{}, 10))
	require.Equal(t, 3, count(reporter.Principal(), incident.Filter{}, 2), "one past the bound of 2")
	require.Equal(t, 2, count(reporter.Principal(), incident.Filter{}, 1))
	require.Equal(t, 0, count(stranger.Principal(), incident.Filter{}, 10))
	require.Equal(t, 3, count(reporter.Principal(), incident.Filter{CoordinatingOrg: incident.NoOrg}, 10), "not routed")
	require.Equal(t, 0, count(reporter.Principal(), incident.Filter{Assignee: "nobody@nowhere.example"}, 10))
	_, err := h.App.Incidents.Count(ctx, reporter.Principal(), incident.Filter{Status: "lost"}, 10)
	require.Error(t, err, "the filter is validated as List's")
}

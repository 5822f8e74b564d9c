package app_test

import (
	"context"
	"io"
	"testing"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// Issue 5's done-when: the demo's high-severity ransomware report starts
// the ransomware playbook on its own, and its steps appear on the
// incident's timeline; no other shipped playbook starts on it.
func TestDemoRansomwareReportStartsItsPlaybook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := testapp.New(t, testapp.Options{})
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL))
	const title = "Ransomware encrypted file servers at city hall"
	var steps int
	h.Eventually(func() bool {
		_ = h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id
			WHERE i.title = $1 AND e.kind = 'playbook_step'`, title).Scan(&steps)
		return steps >= 3
	}, "the ransomware run's steps reach the timeline")
	var playbooks []string
	rows, err := h.App.DB.Pool.Query(ctx, `SELECT r.playbook_id FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id
		WHERE i.title = $1 ORDER BY 1`, title)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		playbooks = append(playbooks, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"ransomware"}, playbooks)
	var trigger string
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT r.trigger FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id
		WHERE i.title = $1`, title).Scan(&trigger))
	require.Equal(t, "incident.created", trigger)
}

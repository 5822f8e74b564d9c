package worker_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestNewJobsArePickedUpWithoutPolling polls only once a minute, so a job
// that is worked within seconds was found through LISTEN/NOTIFY. The job
// must also be completed in the transaction of its effect (JobCompleteTx on
// the *sql.Tx under GORM): completed on its first attempt, without errors.
func TestNewJobsArePickedUpWithoutPolling(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{Config: func(c *config.Config) { c.JobPollInterval = time.Minute }})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	_, tok := h.User("city", access.Reporter)
	ctx := context.Background()
	// The client fetches once when it starts; give that fetch time to pass so
	// that the jobs below can only be found by a notification.
	time.Sleep(200 * time.Millisecond)

	for i := range 3 {
		r := h.As(tok).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
			"title": "Phishing wave", "severity": "high", "tlp": "amber"})
		require.Equal(t, http.StatusCreated, r.Status)
		var inc struct {
			ID string `json:"id"`
		}
		r.JSON(t, &inc)
		began := time.Now()
		var state string
		var attempt int
		var errs int
		require.Eventually(t, func() bool {
			// The report is routed in its own transaction, which queues
			// the delivery of the coordinator's notification.
			err := h.App.DB.SQL.QueryRowContext(ctx, `SELECT j.state, j.attempt, coalesce(array_length(j.errors, 1), 0)
				FROM river_job j JOIN notifications n ON j.args->>'notification_id' = n.id::text
				WHERE j.kind = 'notify.deliver' AND n.incident_id = $1 AND n.event_kind = 'incident.routed'`, inc.ID).Scan(&state, &attempt, &errs)
			require.NoError(t, err)
			return state == "completed"
		}, 10*time.Second, 5*time.Millisecond, "delivery job %d not completed within 10 s with a 1 min poll interval", i)
		t.Logf("job %d completed %s after the report answered", i, time.Since(began).Round(time.Millisecond))
		require.Equal(t, 1, attempt, "completed on the first attempt")
		require.Zero(t, errs, "no failed attempt (JobCompleteTx found its client)")

		var routed, routeJobs int
		require.NoError(t, h.App.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM incident_events
			WHERE incident_id = $1 AND kind = 'routed'`, inc.ID).Scan(&routed))
		require.Equal(t, 1, routed)
		require.NoError(t, h.App.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM river_job
			WHERE kind = 'incident.route' AND args->>'incident_id' = $1`, inc.ID).Scan(&routeJobs))
		require.Zero(t, routeJobs, "routed in the report's transaction, without a job")
	}
}

package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func setup(t *testing.T) (*testapp.Harness, *org.Organization) {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	return h, h.Org("city", org.LocalAuthority, "national")
}

func newIncident(reporter uuid.UUID) *incident.Incident {
	now := time.Now().UTC()
	return &incident.Incident{ID: uuid.New(), Reference: "INC-2026-" + uuid.NewString()[:6], Title: "t",
		ReportingOrgID: reporter, Stage: incident.Response, Status: incident.Open, Severity: incident.High,
		TLP: incident.TLPAmber, ReportedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
}

func count(t *testing.T, h *testapp.Harness, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

func TestRollbackLeavesNeitherIncidentNorJob(t *testing.T) {
	t.Parallel()
	h, city := setup(t)
	ctx := context.Background()
	boom := errors.New("boom")
	inc := newIncident(city.ID)
	err := h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		require.NoError(t, tx.InsertIncident(ctx, inc))
		require.NoError(t, tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, Actor: "t", Kind: incident.EventCreated, OccurredAt: time.Now()}))
		require.NoError(t, tx.Enqueue(ctx, incident.RouteJob{IncidentID: inc.ID}, nil))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, count(t, h, "SELECT count(*) FROM incidents"))
	require.Zero(t, count(t, h, "SELECT count(*) FROM incident_events"))
	require.Zero(t, count(t, h, "SELECT count(*) FROM river_job"))
}

func TestCommitKeepsIncidentEventAndJobTogether(t *testing.T) {
	t.Parallel()
	h, city := setup(t)
	ctx := context.Background()
	inc := newIncident(city.ID)
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, incident.RouteJob{IncidentID: inc.ID}, nil); err != nil {
			return err
		}
		stx, err := postgres.SQLTxOf(tx)
		require.NoError(t, err)
		job := rivertest.RequireInsertedTx[*riverdatabasesql.Driver](ctx, t, stx, &incident.RouteJob{}, nil)
		require.Equal(t, inc.ID, job.Args.IncidentID, "the job is visible inside the transaction")
		// Enqueuing the same job twice is one job: a step's effect happens once.
		return tx.Enqueue(ctx, incident.RouteJob{IncidentID: inc.ID}, nil)
	}))
	require.Equal(t, 1, count(t, h, "SELECT count(*) FROM incidents WHERE id = $1", inc.ID))
	require.Equal(t, 1, count(t, h, "SELECT count(*) FROM river_job WHERE kind = 'incident.route'"))
}

func TestTimelineIsAppendOnly(t *testing.T) {
	t.Parallel()
	h, city := setup(t)
	ctx := context.Background()
	inc := newIncident(city.ID)
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, Actor: "t", Kind: incident.EventCreated, OccurredAt: time.Now()})
	}))
	_, err := h.App.DB.Pool.Exec(ctx, "UPDATE incident_events SET actor = 'someone else'")
	require.ErrorContains(t, err, "append-only")
	_, err = h.App.DB.Pool.Exec(ctx, "DELETE FROM incident_events")
	require.ErrorContains(t, err, "append-only")
	require.Equal(t, 1, count(t, h, "SELECT count(*) FROM incident_events WHERE actor = 't'"))
}

func TestUnknownReporterIsAFieldError(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	err := h.App.Store.InTx(context.Background(), func(ctx context.Context, tx incident.Tx) error {
		return tx.InsertIncident(ctx, newIncident(uuid.New()))
	})
	require.ErrorContains(t, err, "reporting_org")
}

func TestMigrateIsIdempotentAndStatusIsComplete(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, h.App.DB.SQL, nil))
	require.NoError(t, postgres.SchemaCurrent(ctx, h.App.DB.SQL))
	st, err := postgres.Status(ctx, h.App.DB.SQL)
	require.NoError(t, err)
	var river, ours int
	for _, s := range st {
		require.True(t, s.Applied, "%s %d", s.Component, s.Version)
		if s.Component == "river" {
			river++
		} else {
			ours++
		}
	}
	require.Positive(t, river)
	require.Positive(t, ours)
}

// TestMigrateUpgradesADatabaseOfRiverV041 takes a database whose River
// schema is where River v0.41 left it (main line version 7: version 8
// arrived with v0.48) and checks that certdesk reports the pending
// migration, that Migrate applies exactly it, and that jobs queued before
// the upgrade survive it and new ones queue after it. rivermigrate itself
// decides what is pending from river_migration; this checks that certdesk's
// Migrate and SchemaCurrent go through it.
func TestMigrateUpgradesADatabaseOfRiverV041(t *testing.T) {
	t.Parallel()
	h, city := setup(t)
	ctx := context.Background()
	rm, err := rivermigrate.New(riverdatabasesql.New(h.App.DB.SQL), nil)
	require.NoError(t, err)
	_, err = rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: 7})
	require.NoError(t, err)
	require.Equal(t, 7, count(t, h, "SELECT max(version) FROM river_migration WHERE line = 'main'"))

	before := newIncident(city.ID)
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.InsertIncident(ctx, before); err != nil {
			return err
		}
		return tx.Enqueue(ctx, incident.RouteJob{IncidentID: before.ID}, nil)
	}))
	require.ErrorContains(t, postgres.SchemaCurrent(ctx, h.App.DB.SQL), "river migration 8")

	require.NoError(t, postgres.Migrate(ctx, h.App.DB.SQL, nil))
	require.NoError(t, postgres.SchemaCurrent(ctx, h.App.DB.SQL))
	require.Equal(t, 8, count(t, h, "SELECT max(version) FROM river_migration WHERE line = 'main'"))
	require.Equal(t, 1, count(t, h, "SELECT count(*) FROM river_job WHERE kind = 'incident.route' AND state = 'available'"))

	after := newIncident(city.ID)
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.InsertIncident(ctx, after); err != nil {
			return err
		}
		return tx.Enqueue(ctx, incident.RouteJob{IncidentID: after.ID}, nil)
	}))
	require.Equal(t, 2, count(t, h, "SELECT count(*) FROM river_job WHERE kind = 'incident.route'"))
}

package deadline_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// timerRows counts the incident's deadline_timers rows.
func (b *bundle) timerRows(t *testing.T, id string) int {
	t.Helper()
	var n int
	require.NoError(t, b.h.App.DB.SQL.QueryRowContext(context.Background(),
		`SELECT count(*) FROM deadline_timers WHERE incident_id = $1`, id).Scan(&n))
	return n
}

func (b *bundle) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	_, err := b.h.App.DB.SQL.ExecContext(context.Background(), q, args...)
	require.NoError(t, err)
}

func scheduled(js []job) []job {
	var out []job
	for _, j := range js {
		if j.State == "scheduled" {
			out = append(out, j)
		}
	}
	return out
}

// An incident flagged before deadline timers existed (no timer rows, no
// jobs) is planned when the workers start; planning again changes
// nothing, and the timers it planned fire.
func TestBackfillPlansIncidentsFlaggedBeforeTimers(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"significant": true})
	plain := b.report(t, nil)
	require.Len(t, scheduled(b.jobs(t, id)), 9)
	// As before migration 0012: the flag without rows or jobs.
	b.exec(t, `DELETE FROM deadline_timers WHERE incident_id = $1`, id)
	b.exec(t, `UPDATE river_job SET state = 'cancelled', finalized_at = now() WHERE kind = 'deadline.timer' AND args->>'incident_id' = $1`, id)
	require.Empty(t, scheduled(b.jobs(t, id)))

	n, err := b.h.App.Deadlines.Backfill(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the flagged incident only")
	require.Equal(t, 9, b.timerRows(t, id))
	require.Len(t, scheduled(b.jobs(t, id)), 9)
	require.Zero(t, b.timerRows(t, plain))

	n, err = b.h.App.Deadlines.Backfill(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "idempotent")
	require.Len(t, b.jobs(t, id), 18, "nine cancelled, nine planned, none added by the second run")

	b.h.Advance(12*time.Hour + time.Minute)
	evs := b.waitEvents(t, id, deadline.EventReminder, 1)
	require.Equal(t, "nis2_early_warning", evs[0].Data["kind"])
}

// When a deadline moves without an incident event (the reporting
// organisation's time zone changed, moving the NIS2 final report, a
// calendar month, across a DST change), the timer job that finds its due
// time changed plans the timers again.
func TestTimerFindingItsDueTimeMovedReplans(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{NoWorkers: true})
	// Aware 1 Oct 2026 10:00 UTC: the notification is due 4 Oct 10:00 UTC,
	// the final report a calendar month later: 4 Nov 10:00 UTC in UTC, and
	// in Berlin 4 Oct 12:00 CEST + 1 month = 4 Nov 12:00 CET = 11:00 UTC.
	detected := time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)
	id := b.report(t, map[string]any{"significant": true, "detected_at": detected})
	final := find(b.jobs(t, id), incident.NIS2FinalReport, deadline.PointDue)
	require.Len(t, final, 1)
	require.Equal(t, time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC), final[0].Args.DueAt.UTC())

	b.exec(t, `UPDATE organizations SET time_zone = 'Europe/Berlin' WHERE slug = 'city'`)
	noop := func(context.Context, deadline.Tx) error { return nil }
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), final[0].Args, final[0].ID, noop))
	require.Empty(t, b.events(t, id, deadline.EventMissed), "the stale job records nothing")

	js := find(b.jobs(t, id), incident.NIS2FinalReport, deadline.PointDue)
	require.Len(t, js, 2, "a new job for the new due time")
	require.Equal(t, time.Date(2026, 11, 4, 11, 0, 0, 0, time.UTC), js[1].Args.DueAt.UTC())
	require.Equal(t, "available", js[1].State, "past due: it fires at once")
	var due time.Time
	var jobID int64
	require.NoError(t, b.h.App.DB.SQL.QueryRowContext(context.Background(), `SELECT due_at, job_id FROM deadline_timers
		WHERE incident_id = $1 AND kind = 'nis2_final_report' AND point = 'due'`, id).Scan(&due, &jobID))
	require.Equal(t, time.Date(2026, 11, 4, 11, 0, 0, 0, time.UTC), due.UTC())
	require.Equal(t, js[1].ID, jobID)

	// The new job records the miss.
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), js[1].Args, js[1].ID, noop))
	missed := b.events(t, id, deadline.EventMissed)
	var finals int
	for _, ev := range missed {
		if ev.Data["kind"] == "nis2_final_report" {
			finals++
		}
	}
	require.Equal(t, 1, finals)
}

// A timer planned again with the arguments of a job that already
// completed (a job that ran stale, then its timer was re-planned) gets a
// job of its own: River's uniqueness by arguments would hand back the
// completed job, and the timer would never fire.
func TestReplannedTimerGetsItsOwnJob(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"personal_data_breach": true})
	old := find(b.jobs(t, id), incident.GDPRNotification, "90%")
	require.Len(t, old, 1)
	// The 90 % job completed without effect and its timer row is gone.
	b.exec(t, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, old[0].ID)
	b.exec(t, `DELETE FROM deadline_timers WHERE incident_id = $1 AND kind = 'gdpr_notification' AND point = '90%'`, id)

	// Any change that plans again (here: the other flag) re-plans it.
	r := b.h.As(b.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"significant": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	js := find(b.jobs(t, id), incident.GDPRNotification, "90%")
	require.Len(t, js, 2, "a new job, not the completed one")
	require.Equal(t, "scheduled", js[1].State)
	require.Equal(t, old[0].Args, js[1].Args, "the same arguments")

	b.h.Advance(65 * time.Hour) // past 90 % of 72 h
	b.h.Eventually(func() bool {
		for _, ev := range b.events(t, id, deadline.EventReminder) {
			if ev.Data["kind"] == "gdpr_notification" && ev.Data["point"] == "90%" {
				return true
			}
		}
		return false
	}, "the re-planned 90 % reminder fired")
}

// A fired timer stays as a tombstone: clearing a flag and setting it
// again does not remind or record a miss a second time.
func TestFlagClearedAndSetAgainDoesNotFireTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"personal_data_breach": true})
	b.h.Advance(36*time.Hour + time.Minute)
	b.waitEvents(t, id, deadline.EventReminder, 1)
	b.h.Advance(37 * time.Hour) // 73 h 1 min: the 90 % reminder is skipped if late, the miss recorded
	b.waitEvents(t, id, deadline.EventMissed, 1)
	b.settled(t, id)
	reminders := len(b.events(t, id, deadline.EventReminder))

	for _, on := range []bool{false, true} {
		r := b.h.As(b.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"personal_data_breach": on})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	b.h.Advance(time.Hour)
	b.settled(t, id)
	require.Len(t, b.events(t, id, deadline.EventMissed), 1, "the miss is recorded once")
	require.Len(t, b.events(t, id, deadline.EventReminder), reminders)
	for _, j := range b.jobs(t, id) {
		require.NotEqual(t, "scheduled", j.State, "nothing left to fire: %s %s", j.Args.Deadline, j.Args.Point)
	}
}

// A timer job that fails on its last attempt is given up on the timeline
// (deadline_timer_failed) and cancelled, instead of River discarding it
// and the reminder or miss going missing without a trace.
func TestLastAttemptOfATimerGivesUpOnTheTimeline(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"personal_data_breach": true})
	half := find(b.jobs(t, id), incident.GDPRNotification, "50%")
	require.Len(t, half, 1)
	// The reminder cannot be written (a failure retrying cannot fix in
	// time), and its first attempt is its last.
	b.exec(t, `CREATE FUNCTION refuse_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'reminders refused by the test'; END $$`)
	b.exec(t, `CREATE TRIGGER refuse_reminders BEFORE INSERT ON incident_events FOR EACH ROW
		WHEN (NEW.kind = 'deadline_reminder') EXECUTE FUNCTION refuse_reminders()`)
	b.exec(t, `UPDATE river_job SET max_attempts = 1 WHERE id = $1`, half[0].ID)

	b.h.Advance(36*time.Hour + time.Minute)
	failed := b.waitEvents(t, id, deadline.EventTimerFailed, 1)
	require.Equal(t, "gdpr_notification", failed[0].Data["kind"])
	require.Equal(t, "50%", failed[0].Data["point"])
	require.Contains(t, failed[0].Data["error"], "gave up after 1 attempts")
	require.Contains(t, failed[0].Data["error"], "reminders refused by the test")
	b.h.Eventually(func() bool { return find(b.jobs(t, id), incident.GDPRNotification, "50%")[0].State == "cancelled" },
		"the job is cancelled, not discarded")
	require.Empty(t, b.events(t, id, deadline.EventReminder))

	// Given up once: running the job again records nothing more.
	noop := func(context.Context, deadline.Tx) error { return nil }
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), half[0].Args, half[0].ID, noop))
	require.Len(t, b.events(t, id, deadline.EventTimerFailed), 1)
}

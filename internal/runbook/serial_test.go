package runbook_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A step job locks the incident, then the run row, and reads the steps
// after both (no step row is locked). These tests make the writers of one
// run meet: they hold the incident's lock from the test, let every
// contender queue behind it (PostgreSQL grants a row's waiters in the
// order they came), release it, and check that each writer saw what the
// one before it committed: nothing lost, nothing done twice.

// workers starts a River client working the app's jobs, as a worker
// process would, and returns a function that stops it.
func workers(t *testing.T, w *world, concurrency int) (stop func()) {
	t.Helper()
	ws := &worker.Workers{Incidents: w.h.App.Incidents, Notify: w.h.App.Notify, Runs: w.h.App.Runs}
	rc, err := worker.New(worker.Options{DB: w.h.App.DB.SQL, Logger: slog.New(slog.DiscardHandler), Work: true,
		Concurrency: concurrency, PollInterval: 20 * time.Millisecond}, ws)
	require.NoError(t, err)
	require.NoError(t, rc.Start(context.Background()))
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, rc.Stop(ctx))
	}
	t.Cleanup(stop)
	return stop
}

// settled waits until every job but the playbook's is finished (the
// report's routing and notification jobs lock the incident too), so that
// only the contenders a test starts queue behind the incident's lock.
func settled(t *testing.T, w *world) {
	t.Helper()
	w.h.Eventually(func() bool {
		return w.count(t, `SELECT count(*) FROM river_job WHERE kind <> 'playbook.step'
			AND state NOT IN ('completed', 'cancelled', 'discarded')`) == 0
	}, "the report's own jobs are done")
}

// holdIncident locks the incident in a transaction of the test and
// returns a function that commits it.
func holdIncident(t *testing.T, w *world, incID string) (release func()) {
	t.Helper()
	tx, err := w.h.App.DB.SQL.BeginTx(context.Background(), &sql.TxOptions{})
	require.NoError(t, err)
	_, err = tx.Exec(`SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE`, incID)
	require.NoError(t, err)
	done := false
	release = func() {
		if !done {
			done = true
			require.NoError(t, tx.Commit())
		}
	}
	t.Cleanup(func() {
		if !done {
			_ = tx.Rollback()
		}
	})
	return release
}

// waiters waits until n transactions of the test's database wait for a
// lock (on a loaded machine a River client takes seconds to start).
func waiters(t *testing.T, w *world, n int) {
	t.Helper()
	got := 0
	if assert.Eventually(t, func() bool {
		got = w.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
		return got == n
	}, time.Minute, 20*time.Millisecond) {
		return
	}
	rows, err := w.h.App.DB.SQL.Query(`SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 120)
		FROM pg_stat_activity WHERE datname = current_database()`)
	require.NoError(t, err)
	for rows.Next() {
		var st, wt, we, q string
		require.NoError(t, rows.Scan(&st, &wt, &we, &q))
		t.Logf("%s %s %s %s", st, wt, we, q)
	}
	rows.Close()
	t.Fatalf("%d transactions wait for a lock, want %d", got, n)
}

// post sends a request in the background; the returned function waits for
// its status.
func post(w *world, as, path string, body any) (status func() int) {
	ch := make(chan int, 1)
	go func() {
		ch <- w.as(as).Request(http.MethodPost, path, body).Status
	}()
	return func() int { return <-ch }
}

const fanOutPlaybook = `
id: fan
name: Fan out
version: 1
triggers:
  - on: incident.created
    when: category == "vulnerable"
steps:
  - id: gate
    action: approval
    with: { role: coordinator, prompt: "Go?" }
  - { id: a1, needs: [gate], action: task.create, with: { title: "A1" } }
  - { id: a2, needs: [gate], action: task.create, with: { title: "A2" } }
  - { id: a3, needs: [gate], action: task.create, with: { title: "A3" } }
  - { id: a4, needs: [gate], action: task.create, with: { title: "A4" } }
  - id: join
    needs: [a1, a2, a3, a4]
    action: task.create
    with: { title: "Join" }
`

// Four steps of one run become ready in one transaction (their jobs in one
// insert), then finish at once: their jobs all wait on the incident's lock
// and go one after another. Each sees the steps the ones before finished,
// so the step that needs all four starts exactly once, when the last of
// them finishes.
func TestStepsFinishingAtOnce(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{NoWorkers: true}, fanOutPlaybook)
	id := w.report(t, map[string]any{"severity": "low", "category": "vulnerable", "type": "weak-crypto"})
	stop := workers(t, w, 2)
	r := w.until(t, id, "fan", func(r runView) bool { return r.step("gate").Status == "waiting" }, "the gate waits")
	settled(t, w)
	stop()

	ok := w.as("coordinator").Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs/"+r.ID+"/approvals/gate",
		map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM river_job WHERE kind <> 'playbook.step'
		AND state NOT IN ('completed', 'cancelled', 'discarded')`), "the approval queued no other job")
	require.Equal(t, 4, w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND state = 'available'
		AND args->>'run_id' = $1`, r.ID), "the four jobs are queued")
	require.Equal(t, 1, w.count(t, `SELECT count(DISTINCT created_at) FROM river_job WHERE kind = 'playbook.step'
		AND state = 'available' AND args->>'run_id' = $1`, r.ID), "by one insert")

	release := holdIncident(t, w, id)
	workers(t, w, 4)
	waiters(t, w, 4)
	release()
	r = w.until(t, id, "fan", func(r runView) bool { return r.State != "running" }, "the run ends")

	require.Equal(t, "succeeded", r.State, "%s", r.statuses())
	for _, st := range r.Steps {
		require.Equal(t, "succeeded", st.Status, st.ID)
		require.Equal(t, 1, st.Attempts, st.ID)
	}
	require.Equal(t, 5, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1`, id), "a task per task step")
	require.Equal(t, 5, w.count(t, `SELECT count(DISTINCT title) FROM incident_tasks WHERE incident_id = $1`, id))
	require.Equal(t, 5, w.count(t, `SELECT count(DISTINCT position) FROM incident_tasks WHERE incident_id = $1`, id),
		"each task its own position")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND args->>'step_id' = 'join'`),
		"the join step is queued once")
	require.Equal(t, 6, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_step'
		AND data->>'status' = 'succeeded'`, id), "one succeeded event per step")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_finished'`, id))
}

const racePlaybook = `
id: race
name: Race
version: 1
triggers:
  - on: incident.created
    when: category == "vulnerable"
steps:
  - id: go
    action: approval
    with: { role: coordinator, prompt: "Start the work?" }
  - id: approve
    action: approval
    with: { role: coordinator, prompt: "Sign off?" }
  - id: work
    needs: [go]
    action: task.create
    with: { title: "Work" }
  - id: after
    needs: [work, approve]
    action: task.create
    with: { title: "After" }
`

// raceSetup brings a run of racePlaybook to the moment the work step's job
// is queued (go approved) while approve waits, with no worker running.
func raceSetup(t *testing.T) (w *world, incID, runID string) {
	t.Helper()
	w = setup(t, testapp.Options{NoWorkers: true}, racePlaybook)
	incID = w.report(t, map[string]any{"severity": "low", "category": "vulnerable", "type": "weak-crypto"})
	stop := workers(t, w, 2)
	r := w.until(t, incID, "race", func(r runView) bool {
		return r.step("go").Status == "waiting" && r.step("approve").Status == "waiting"
	}, "both approvals wait")
	settled(t, w)
	stop()
	ok := w.as("coordinator").Request(http.MethodPost, "/api/v1/incidents/"+incID+"/playbook-runs/"+r.ID+"/approvals/go",
		map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	require.Equal(t, "running", w.run(t, incID, "race").step("work").Status, "the work step's job is queued")
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM river_job WHERE kind <> 'playbook.step'
		AND state NOT IN ('completed', 'cancelled', 'discarded')`), "the approval queued no other job")
	return w, incID, r.ID
}

// An approval answered while a step's job runs, in either order: both
// commit, and the step that needs them both runs once.
func TestApprovalWhileAStepRuns(t *testing.T) {
	t.Parallel()
	for _, stepFirst := range []bool{true, false} {
		name := "the approval first"
		if stepFirst {
			name = "the step first"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, id, runID := raceSetup(t)
			release := holdIncident(t, w, id)
			var status func() int
			decide := func() {
				status = post(w, "coordinator", "/api/v1/incidents/"+id+"/playbook-runs/"+runID+"/approvals/approve",
					map[string]any{"decision": "approve"})
			}
			if stepFirst {
				workers(t, w, 2)
				waiters(t, w, 1)
				decide()
			} else {
				decide()
				waiters(t, w, 1)
				workers(t, w, 2)
			}
			waiters(t, w, 2)
			release()
			require.Equal(t, http.StatusOK, status())

			r := w.until(t, id, "race", func(r runView) bool { return r.State != "running" }, "the run ends")
			require.Equal(t, "succeeded", r.State, "%s", r.statuses())
			for _, st := range r.Steps {
				require.Equal(t, "succeeded", st.Status, st.ID)
			}
			require.Equal(t, 1, r.step("work").Attempts)
			require.Equal(t, 1, r.step("after").Attempts)
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1 AND title = 'Work'`, id))
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1 AND title = 'After'`, id))
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND args->>'step_id' = 'after'`))
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_finished'`, id))
		})
	}
}

// A run cancelled while a step's job runs, in either order: a step that
// went first keeps its effect; a step after the cancel does nothing; no
// later step runs and no job of the run is left.
func TestCancelWhileAStepRuns(t *testing.T) {
	t.Parallel()
	for _, stepFirst := range []bool{true, false} {
		name := "the cancel first"
		if stepFirst {
			name = "the step first"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, id, runID := raceSetup(t)
			release := holdIncident(t, w, id)
			var status func() int
			cancel := func() {
				status = post(w, "coordinator", "/api/v1/incidents/"+id+"/playbook-runs/"+runID+"/cancel", nil)
			}
			if stepFirst {
				workers(t, w, 2)
				waiters(t, w, 1)
				cancel()
			} else {
				cancel()
				waiters(t, w, 1)
				workers(t, w, 2)
			}
			waiters(t, w, 2)
			release()
			require.Equal(t, http.StatusOK, status())
			w.h.Eventually(func() bool {
				return w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step'
					AND state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`) == 0
			}, "no job of the run is left")

			r := w.run(t, id, "race")
			require.Equal(t, "cancelled", r.State, "%s", r.statuses())
			want, tasks := "cancelled", 0
			if stepFirst {
				want, tasks = "succeeded", 1
			}
			require.Equal(t, want, r.step("work").Status)
			require.Equal(t, tasks, r.step("work").Attempts)
			require.Equal(t, tasks, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1 AND title = 'Work'`, id))
			require.Equal(t, "cancelled", r.step("approve").Status)
			require.Equal(t, "cancelled", r.step("after").Status)
			require.Equal(t, 0, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1 AND title = 'After'`, id))
			require.Equal(t, 0, w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND args->>'step_id' = 'after'`))
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_finished'`, id))
		})
	}
}

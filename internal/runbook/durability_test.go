package runbook_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/worker"
	"github.com/stretchr/testify/require"
)

// chain returns a playbook of n steps, each needing the one before: all
// task.create but step pause, which waits an hour (0: none).
func chain(n, pause int) string {
	var b strings.Builder
	b.WriteString("id: chain\nname: Chain\nversion: 1\ntriggers:\n  - on: incident.created\n    when: category == \"intrusions\"\nsteps:\n")
	for i := 1; i <= n; i++ {
		if i == pause {
			fmt.Fprintf(&b, "  - id: s%d\n    action: wait\n    with: { for: 1h }\n", i)
		} else {
			fmt.Fprintf(&b, "  - id: s%d\n    action: task.create\n    with: { title: \"Step %d\" }\n", i, i)
		}
		if i > 1 {
			fmt.Fprintf(&b, "    needs: [s%d]\n", i-1)
		}
	}
	return b.String()
}

// A run survives its River client being stopped mid-run: a new client on
// the same database finishes it, and every step's effect happened exactly
// once. Delivering finished jobs again changes nothing.
func TestRunSurvivesANewRiverClient(t *testing.T) {
	t.Parallel()
	// Step 6 waits an hour, so the run is certainly mid-way when the
	// client stops (workers pick jobs up within milliseconds).
	const n, pause = 12, 6
	w := setup(t, testapp.Options{}, chain(n, pause))
	id := w.report(t, map[string]any{"severity": "medium", "category": "intrusions", "type": "system-compromise"})
	w.until(t, id, "chain", func(r runView) bool { return r.step("s5").Status == "succeeded" }, "the run is under way")

	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, w.h.App.River.Stop(stopCtx))
	r := w.run(t, id, "chain")
	require.Equal(t, "running", r.State, "stopped mid-run")
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, r.statuses(), w.run(t, id, "chain").statuses(), "nothing moves without a worker")

	// A new River client, as a freshly started worker process would build.
	ws := &worker.Workers{Incidents: w.h.App.Incidents, Notify: w.h.App.Notify, Runs: w.h.App.Runs}
	rc, err := worker.New(worker.Options{DB: w.h.App.DB.SQL, Logger: slog.New(slog.DiscardHandler), Work: true,
		Concurrency: 4, PollInterval: 20 * time.Millisecond}, ws)
	require.NoError(t, err)
	require.NoError(t, rc.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(ctx)
	})
	w.h.Advance(time.Hour)
	r = w.until(t, id, "chain", func(r runView) bool { return r.State == "succeeded" }, "the new client finishes the run")

	check := func() {
		require.Equal(t, n-1, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1`, id), "one task per task step")
		require.Equal(t, n-1, w.count(t, `SELECT count(DISTINCT title) FROM incident_tasks WHERE incident_id = $1`, id))
		require.Equal(t, n-1, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'task_created'`, id))
		require.Equal(t, n, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_step'
			AND data->>'status' = 'succeeded'`, id), "one succeeded event per step")
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_events WHERE incident_id = $1 AND kind = 'playbook_finished'`, id))
		for _, st := range w.run(t, id, "chain").Steps {
			require.Equal(t, 1, st.Attempts, st.ID)
		}
	}
	check()

	// A duplicate delivery of every step job (as after a crash between
	// the effect's commit and River noticing) finds nothing to do.
	res, err := w.h.App.DB.SQL.Exec(`UPDATE river_job SET state = 'available', finalized_at = NULL, attempt = 0
		WHERE kind = 'playbook.step' AND state = 'completed'`)
	require.NoError(t, err)
	again, _ := res.RowsAffected()
	require.GreaterOrEqual(t, again, int64(n), "every step's job, and the wait's wake-up")
	w.h.Eventually(func() bool {
		return w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND state <> 'completed'`) == 0
	}, "the redelivered jobs complete")
	check()
}

const retryPlaybook = `
id: retries
name: Retries
version: 1
triggers:
  - on: incident.created
    when: category == "fraud"
steps:
  - id: tell-late
    action: notify
    with: { to: late-org, template: hello }
    retry: { attempts: 3, backoff: 1m }
  - id: tell-nobody
    needs: [tell-late]
    action: notify
    with: { to: nowhere, template: hello }
    retry: { attempts: 2, backoff: 1m }
    on_failure: continue
  - id: tell-reporter
    needs: [tell-nobody]
    action: notify
    with: { to: reporting_org, template: hello }
  - id: tell-parent
    needs: [tell-nobody]
    action: notify
    with: { to: parent, template: hello }
  - id: hook
    needs: [tell-reporter, tell-parent]
    action: webhook
    with: { url: "https://hooks.example/x" }
`

// A failing step is retried after its backoff (a new job each attempt):
// a retry can succeed, used-up attempts apply on_failure (continue: the
// run goes on), notify resolves its recipients, and a webhook step fails
// visibly while certdesk has no outbound client.
func TestRetriesNotifyAndWebhook(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, retryPlaybook)
	id := w.report(t, map[string]any{"severity": "low", "category": "fraud", "type": "phishing"})
	r := w.until(t, id, "retries", func(r runView) bool { return r.step("tell-late").Attempts == 1 }, "the first attempt fails")
	require.Equal(t, "running", r.step("tell-late").Status)
	require.Contains(t, r.step("tell-late").LastError, `there is no organisation "late-org"`)

	w.h.Org("late-org", org.Operator, "region")
	w.h.Advance(time.Minute)
	r = w.until(t, id, "retries", func(r runView) bool { return r.step("tell-nobody").Attempts == 1 }, "the retry succeeds")
	require.Equal(t, "succeeded", r.step("tell-late").Status)
	require.Equal(t, 2, r.step("tell-late").Attempts)
	require.Equal(t, "late-org", r.step("tell-late").Output["recipient"])

	w.h.Advance(time.Minute)
	r = w.until(t, id, "retries", func(r runView) bool { return r.State != "running" }, "the run ends")
	require.Equal(t, "failed", r.step("tell-nobody").Status)
	require.Equal(t, 2, r.step("tell-nobody").Attempts)
	require.Equal(t, "city", r.step("tell-reporter").Output["recipient"])
	require.Equal(t, "national", r.step("tell-parent").Output["recipient"], "parent: the CERT above the coordinating organisation")
	require.Equal(t, "failed", r.step("hook").Status)
	require.Contains(t, r.step("hook").LastError, "webhook delivery is not configured")
	require.Equal(t, 1, r.step("hook").Attempts, "not retried: another attempt cannot fix it")
	require.Equal(t, "failed", r.State)

	// late-org, an operator elsewhere in the region, does not see the
	// incident: nothing is queued for it, and its step says so.
	require.Equal(t, "late-org does not see the incident", r.step("tell-late").Output["not_sent"])
	require.Equal(t, 2, w.count(t, `SELECT count(*) FROM notifications WHERE incident_id = $1 AND event_key LIKE 'playbook:%'`, id))
	var retries int
	for _, e := range w.timeline(t, id, "playbook_step") {
		if e["retry_at"] != nil {
			retries++
		}
	}
	require.Equal(t, 2, retries, "each scheduled retry is on the timeline")
}

// Cancelling a run cancels its scheduled jobs and its unfinished steps.
func TestCancel(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, waitPlaybook)
	id := w.report(t, map[string]any{"severity": "medium", "category": "availability", "type": "ddos"})
	r := w.until(t, id, "waits", func(r runView) bool { return r.step("pause").Status == "waiting" }, "the pause starts")
	path := "/api/v1/incidents/" + id + "/playbook-runs/" + r.ID + "/cancel"
	require.Equal(t, http.StatusForbidden, w.as("viewer").Request(http.MethodPost, path, nil).Status)
	require.Equal(t, http.StatusNotFound, w.as("outsider").Request(http.MethodPost, path, nil).Status)
	c := w.as("coordinator").Request(http.MethodPost, path, nil)
	require.Equal(t, http.StatusOK, c.Status, "%s", c.Body)
	c.JSON(t, &r)
	require.Equal(t, "cancelled", r.State)
	require.Equal(t, "cancelled", r.step("pause").Status)
	require.Equal(t, "cancelled", r.step("after-pause").Status)
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'playbook.step' AND state IN ('scheduled', 'available')`),
		"no job of the run is left to run")
	require.Equal(t, http.StatusConflict, w.as("coordinator").Request(http.MethodPost, path, nil).Status)
	w.h.Advance(2 * time.Hour)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, "cancelled", w.run(t, id, "waits").State)
}

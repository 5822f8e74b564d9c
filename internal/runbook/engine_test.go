package runbook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// dagPlaybook: b and c need a; c is skipped by its condition; d needs b and
// c (a skipped need counts as done); e sets tags after d.
const dagPlaybook = `
id: dag
name: DAG
version: 1
triggers:
  - on: incident.created
    when: category == "malicious-code"
  - on: manual
steps:
  - id: d
    needs: [b, c]
    action: task.create
    with: { title: "Task d" }
  - id: a
    action: task.create
    with: { title: "Task a", due: 2h }
  - id: b
    needs: [a]
    action: task.create
    with: { title: "Task b" }
  - id: c
    needs: [a]
    when: severity == "critical"
    action: task.create
    with: { title: "Task c" }
  - id: e
    needs: [d]
    action: set
    with: { tags: [playbook-done], severity: high, flags: { significant: true } }
`

// Steps run in the order of needs, a false condition skips its step (which
// counts as done for its dependents), each task.create creates exactly one
// task, set changes the incident as a normal timeline change, and every
// step change is on the timeline.
func TestDAGOrderWhenSkipsAndEffects(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, dagPlaybook)
	id := w.report(t, map[string]any{"severity": "medium", "category": "malicious-code", "type": "infected-system", "tags": []string{"x"}})

	r := w.until(t, id, "dag", func(r runView) bool { return r.State == "succeeded" }, "the run succeeds")
	require.Equal(t, "incident.created", r.Trigger)
	require.Equal(t, "d=succeeded a=succeeded b=succeeded c=skipped e=succeeded", r.statuses())
	require.Equal(t, []string{"b", "c"}, r.step("d").Needs, "the run shows the DAG")
	require.Equal(t, 1, r.step("a").Attempts)
	require.NotEmpty(t, r.step("a").Output["task_id"])

	require.Equal(t, 3, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1`, id), "one task per task.create that ran")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1 AND title = 'Task a' AND due_at IS NOT NULL`, id))

	inc := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)
	require.Equal(t, "high", inc["severity"])
	require.ElementsMatch(t, []any{"x", "playbook-done"}, inc["tags"])
	require.Equal(t, true, inc["significant"])

	changes := w.timeline(t, id, "field_changed")
	require.Len(t, changes, 3)
	for _, c := range changes {
		require.Equal(t, "playbook dag", c["_actor"], "set is a normal change by the playbook")
	}

	// The timeline shows every step change, in the order of needs.
	var finished []string
	for _, e := range w.timeline(t, id, "playbook_step") {
		if s := e["status"]; s == "succeeded" || s == "skipped" {
			finished = append(finished, e["step"].(string)+"="+s.(string))
		}
	}
	// c is skipped as soon as a is done (its condition is evaluated when it
	// becomes ready), before b's job runs.
	require.Equal(t, []string{"a=succeeded", "c=skipped", "b=succeeded", "d=succeeded", "e=succeeded"}, finished)
	require.Len(t, w.timeline(t, id, "playbook_started"), 1)
	fin := w.timeline(t, id, "playbook_finished")
	require.Len(t, fin, 1)
	require.Equal(t, "succeeded", fin[0]["state"])

	// A second trigger of the same version starts nothing; neither does a
	// manual start (409).
	r2 := w.as("coordinator").Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs", map[string]any{"playbook": "dag"})
	require.Equal(t, http.StatusConflict, r2.Status, "%s", r2.Body)
	require.Len(t, w.runs(t, id), 1)
}

// An incident the trigger's condition does not match starts nothing; a
// manual start does, by a responder.
func TestManualStart(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, dagPlaybook)
	id := w.report(t, map[string]any{"severity": "low", "category": "fraud", "type": "phishing"})
	time.Sleep(100 * time.Millisecond)
	require.Empty(t, w.runs(t, id))

	for _, c := range []struct {
		who, playbook string
		want          int
		field         string
	}{
		{"viewer", "dag", http.StatusForbidden, ""},
		{"reporter", "dag", http.StatusForbidden, ""},
		{"outsider", "dag", http.StatusNotFound, ""},
		{"responder", "nope", http.StatusUnprocessableEntity, "playbook"},
		{"responder", "", http.StatusUnprocessableEntity, "playbook"},
	} {
		r := w.as(c.who).Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs", map[string]any{"playbook": c.playbook})
		require.Equal(t, c.want, r.Status, "%s %q: %s", c.who, c.playbook, r.Body)
		if c.field != "" {
			require.Contains(t, string(r.Body), `"field":"`+c.field+`"`)
		}
	}
	r := w.as("responder").Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs", map[string]any{"playbook": "dag"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var started runView
	r.JSON(t, &started)
	require.Equal(t, "manual", started.Trigger)
	// The workers listen for new jobs, so the run may be under way (or
	// done) by the time the answer is read back.
	require.Contains(t, []string{"running", "succeeded"}, started.State)
	require.Contains(t, []string{"running", "succeeded"}, started.step("a").Status, "the first step's job is queued with the run")
	w.until(t, id, "dag", func(r runView) bool { return r.State == "succeeded" }, "the manual run succeeds")

	// Reads of runs follow the visibility rule.
	require.Equal(t, http.StatusNotFound, w.as("outsider").Request(http.MethodGet, "/api/v1/incidents/"+id+"/playbook-runs", nil).Status)
	require.Equal(t, http.StatusNotFound, w.as("outsider").Request(http.MethodGet, "/api/v1/incidents/"+id+"/playbook-runs/"+started.ID, nil).Status)
	require.Equal(t, http.StatusOK, w.as("viewer").Request(http.MethodGet, "/api/v1/incidents/"+id+"/playbook-runs/"+started.ID, nil).Status)
	require.Equal(t, http.StatusNotFound, w.as("viewer").Request(http.MethodGet, "/api/v1/incidents/"+id+"/playbook-runs/"+testapp.NewID(), nil).Status)
}

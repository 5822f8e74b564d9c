package runbook_test

import (
	"context"
	"github.com/certdesk/certdesk/internal/access"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// A high-severity malicious-code incident tagged ransomware starts the
// shipped ransomware playbook from the incident's own transaction; its
// steps appear on the timeline; the acknowledgement wait resumes in the
// acknowledgement's transaction (its timeout job cancelled), so the
// escalate handler step is never run; the input step takes validated
// answers that a later condition reads.
func TestRansomwareTriggerAckAndInput(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{})
	id := w.report(t, map[string]any{"title": "Files encrypted", "severity": "high", "category": "malicious-code",
		"type": "infected-system", "tags": []string{"ransomware"}})

	// The run was inserted by the creating transaction itself.
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM playbook_runs WHERE incident_id = $1 AND playbook_id = 'ransomware'`, id))
	r := w.until(t, id, "ransomware", func(r runView) bool {
		return r.step("wait-ack").Status == "waiting" && r.step("exfiltration-check").Status == "waiting"
	}, "the run reaches its waits")
	require.Equal(t, "incident.created", r.Trigger)
	require.Equal(t, "acknowledgement", r.step("wait-ack").WaitingFor)
	require.Equal(t, "pending", r.step("escalate").Status, "a handler step waits to be jumped to")
	require.Equal(t, "succeeded", r.step("tell-cert").Status)
	require.NotEmpty(t, w.timeline(t, id, "playbook_step"))
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM notifications WHERE incident_id = $1 AND event_key LIKE 'playbook:%'`, id),
		"notify records one notification intent")
	var header string
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT message->>'header' FROM notifications WHERE incident_id = $1
		AND event_key LIKE 'playbook:%'`, id).Scan(&header))
	require.Contains(t, header, "Ransomware: response started", "the message is the step's template, ransomware_started")
	var timeoutJob int64
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT job_id FROM playbook_steps s JOIN playbook_runs r ON r.id = s.run_id
		WHERE r.incident_id = $1 AND s.step_id = 'wait-ack'`, id).Scan(&timeoutJob))

	ack := w.as("coordinator").Request(http.MethodPost, "/api/v1/incidents/"+id+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, ack.Status, "%s", ack.Body)
	r = w.run(t, id, "ransomware")
	require.Equal(t, "succeeded", r.step("wait-ack").Status, "resumed in the acknowledgement's transaction")
	var state string
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT state FROM river_job WHERE id = $1`, timeoutJob).Scan(&state))
	require.Equal(t, "cancelled", state, "the timeout job was cancelled")

	// Answers are validated against the step's schema.
	path := "/api/v1/incidents/" + id + "/playbook-runs/" + r.ID + "/inputs/exfiltration-check"
	bad := w.as("responder").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{"exfiltration": "maybe"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, "%s", bad.Body)
	require.Contains(t, string(bad.Body), `"field":"answers.exfiltration"`)
	missing := w.as("responder").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{}})
	require.Equal(t, http.StatusUnprocessableEntity, missing.Status)
	require.Contains(t, string(missing.Body), `"field":"answers.exfiltration","rule":"required"`)
	require.Equal(t, http.StatusForbidden, w.as("viewer").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{"exfiltration": true}}).Status)
	require.Equal(t, http.StatusNotFound, w.as("outsider").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{"exfiltration": true}}).Status)

	ok := w.as("responder").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{"exfiltration": true, "data_categories": []string{"citizens"}}})
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	again := w.as("responder").Request(http.MethodPost, path, map[string]any{"answers": map[string]any{"exfiltration": true}})
	require.Equal(t, http.StatusConflict, again.Status, "an answered input takes no second answer")

	// mark-breach reads steps["exfiltration-check"].output.exfiltration.
	r = w.until(t, id, "ransomware", func(r runView) bool { return r.step("mark-breach").Status == "succeeded" }, "mark-breach runs")
	require.Equal(t, true, r.step("exfiltration-check").Output["exfiltration"])
	inc := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)
	require.Equal(t, true, inc["personal_data_breach"])

	r = w.until(t, id, "ransomware", func(r runView) bool { return r.State == "succeeded" }, "the run ends")
	require.Equal(t, "skipped", r.step("escalate").Status, "a handler step nobody jumped to is skipped at the end")
	require.Equal(t, "skipped", r.step("raise-severity").Status)
	require.Equal(t, "skipped", r.step("nis2-early-warning").Status, "the incident is not significant")
	// Marking the breach triggered the personal-data-breach playbook too
	// (incident.updated). In one snapshot, every task is the effect of
	// exactly one succeeded task.create step of some run.
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM playbook_runs WHERE incident_id = $1 AND playbook_id = 'personal-data-breach'`, id))
	require.Equal(t, 1, w.count(t, `SELECT ((SELECT count(*) FROM incident_tasks WHERE incident_id = $1) =
		(SELECT count(*) FROM playbook_steps s JOIN playbook_runs r ON r.id = s.run_id
		 WHERE r.incident_id = $1 AND s.action = 'task.create' AND s.status = 'succeeded'))::int`, id))
	require.Equal(t, 4, w.count(t, `SELECT count(*) FROM playbook_steps s JOIN playbook_runs r ON r.id = s.run_id
		WHERE r.incident_id = $1 AND r.playbook_id = 'ransomware' AND s.action = 'task.create' AND s.status = 'succeeded'`, id))
}

// escalator is a test double at the edge: it records what the engine asks
// and checks that it is asked inside the step's transaction.
type escalator struct {
	mu    sync.Mutex
	calls []string
}

func (e *escalator) EscalateForPlaybook(ctx context.Context, tx incident.Tx, inc *incident.Incident, to, kind, reason string) (string, error) {
	if _, err := postgres.SQLTxOf(tx); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, inc.Reference+" "+to+" "+kind+" "+reason)
	return "esc-1", nil
}

// The acknowledgement wait times out on time (the controllable clock moves
// River's scheduled timeout job): on_timeout jumps to the escalate handler
// step. Without an Escalator the step fails visibly and the run fails;
// with one, it is called with the resolved arguments.
func TestWaitTimeoutJumpsToEscalate(t *testing.T) {
	t.Parallel()
	for _, withEscalator := range []bool{false, true} {
		t.Run(map[bool]string{false: "no escalator", true: "escalator"}[withEscalator], func(t *testing.T) {
			t.Parallel()
			w := setup(t, testapp.Options{})
			esc := &escalator{}
			if withEscalator {
				w.h.App.Runs.SetEscalator(esc)
			} else {
				w.h.App.Runs.SetEscalator(nil)
			}
			id := w.report(t, map[string]any{"severity": "critical", "category": "malicious-code", "type": "infected-system"})
			w.until(t, id, "ransomware", func(r runView) bool { return r.step("wait-ack").Status == "waiting" }, "waiting for the ack")

			w.h.Advance(29 * time.Minute)
			time.Sleep(200 * time.Millisecond)
			require.Equal(t, "waiting", w.run(t, id, "ransomware").step("wait-ack").Status, "not before its time")

			w.h.Advance(2 * time.Minute)
			r := w.until(t, id, "ransomware", func(r runView) bool {
				s := r.step("escalate").Status
				return s == "succeeded" || s == "failed"
			}, "the timeout jumps to escalate")
			require.Equal(t, "failed", r.step("wait-ack").Status)
			require.Contains(t, r.step("wait-ack").LastError, "timed out")
			require.Equal(t, "wait-ack", r.step("escalate").JumpedFrom)
			if !withEscalator {
				require.Equal(t, "failed", r.step("escalate").Status)
				require.Contains(t, r.step("escalate").LastError, "escalation is not configured")
				r = w.until(t, id, "ransomware", func(r runView) bool { return r.State == "failed" }, "the run fails")
				require.Contains(t, r.Error, "escalation is not configured")
				require.Equal(t, "cancelled", r.step("exfiltration-check").Status, "what remains is cancelled")
				return
			}
			require.Equal(t, "succeeded", r.step("escalate").Status)
			require.Equal(t, "esc-1", r.step("escalate").Output["escalation_id"])
			ref := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)["reference"].(string)
			esc.mu.Lock()
			defer esc.mu.Unlock()
			require.Equal(t, []string{ref + " parent assist No acknowledgement of a ransomware report within 30 minutes"}, esc.calls)
		})
	}
}

const waitPlaybook = `
id: waits
name: Waits
version: 1
triggers:
  - on: incident.created
    when: category == "availability"
steps:
  - id: work
    action: task.create
    with: { title: "Mitigate" }
  - id: pause
    needs: [work]
    action: wait
    with: { for: 1h }
  - id: after-pause
    needs: [pause]
    action: task.create
    with: { title: "After the pause" }
  - id: work-done
    needs: [work]
    action: wait
    with: { for: "task_done:work", timeout: 1d }
  - id: in-recovery
    needs: [work]
    action: wait
    with: { for: "stage:recovery", timeout: 1d }
    on_timeout: continue
  - id: approve
    needs: [work-done]
    action: approval
    with: { role: coordinator, prompt: "Close the case?" }
    on_failure: rejected
  - id: rejected
    action: task.create
    with: { title: "Rejected: find out why" }
`

// A wait for a duration resumes when its time comes; a wait for a task
// resumes when the task is completed; an approval refuses the wrong role,
// and a rejection jumps to the on_failure handler step.
func TestWaitsAndApproval(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, waitPlaybook)
	id := w.report(t, map[string]any{"severity": "medium", "category": "availability", "type": "ddos"})
	r := w.until(t, id, "waits", func(r runView) bool {
		return r.step("pause").Status == "waiting" && r.step("work-done").Status == "waiting" && r.step("in-recovery").Status == "waiting"
	}, "the waits start")

	w.h.Advance(59 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, "waiting", w.run(t, id, "waits").step("pause").Status)
	w.h.Advance(2 * time.Minute)
	w.until(t, id, "waits", func(r runView) bool { return r.step("after-pause").Status == "succeeded" }, "the pause ends on time")

	// Completing the task resumes work-done in the task's transaction.
	taskID := r.step("work").Output["task_id"].(string)
	done := w.as("responder").Request(http.MethodPatch, "/api/v1/incidents/"+id+"/tasks/"+taskID, map[string]any{"status": "done"})
	require.Equal(t, http.StatusOK, done.Status, "%s", done.Body)
	r = w.run(t, id, "waits")
	require.Equal(t, "succeeded", r.step("work-done").Status)
	require.Contains(t, []string{"running", "waiting"}, r.step("approve").Status, "the approval's job was queued in the same transaction")
	r = w.until(t, id, "waits", func(r runView) bool { return r.step("approve").Status == "waiting" }, "the approval waits")
	require.Equal(t, "approval:coordinator", r.step("approve").WaitingFor)

	// Moving to recovery resumes in-recovery.
	tr := w.as("responder").Request(http.MethodPost, "/api/v1/incidents/"+id+"/transitions", map[string]any{"to": "recovery"})
	require.Equal(t, http.StatusOK, tr.Status, "%s", tr.Body)
	require.Equal(t, "succeeded", w.run(t, id, "waits").step("in-recovery").Status)

	path := "/api/v1/incidents/" + id + "/playbook-runs/" + r.ID + "/approvals/approve"
	wrong := w.as("responder").Request(http.MethodPost, path, map[string]any{"decision": "approve"})
	require.Equal(t, http.StatusForbidden, wrong.Status, "a responder is not the coordinator the step names: %s", wrong.Body)
	require.Equal(t, http.StatusNotFound, w.as("outsider").Request(http.MethodPost, path, map[string]any{"decision": "approve"}).Status)
	bad := w.as("coordinator").Request(http.MethodPost, path, map[string]any{"decision": "maybe"})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, string(bad.Body), `"field":"decision"`)

	rej := w.as("coordinator").Request(http.MethodPost, path, map[string]any{"decision": "reject", "comment": "not yet"})
	require.Equal(t, http.StatusOK, rej.Status, "%s", rej.Body)
	r = w.until(t, id, "waits", func(r runView) bool { return r.State == "succeeded" }, "the run ends")
	require.Equal(t, "failed", r.step("approve").Status)
	require.Contains(t, r.step("approve").LastError, "rejected by ")
	require.Equal(t, "succeeded", r.step("rejected").Status, "on_failure jumped to the handler step")
	require.Equal(t, "approve", r.step("rejected").JumpedFrom)

	var decided bool
	for _, e := range w.timeline(t, id, "playbook_step") {
		if e["step"] == "approve" && e["status"] == "failed" {
			decided = true
			require.Equal(t, "reject", e["output"].(map[string]any)["decision"], "the decision is on the timeline")
			require.Contains(t, e["_actor"], "coordinator.", "with who made it")
		}
	}
	require.True(t, decided)
	require.Equal(t, 3, w.count(t, `SELECT count(*) FROM incident_tasks WHERE incident_id = $1`, id))
}

// With the application's own escalation service, the ransomware
// playbook's timeout escalates for real: the parent CERT of the
// coordinating CERT finds the request in its inbox, and the timeline says
// the incident was escalated.
func TestWaitTimeoutEscalatesThroughTheEscalationService(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{})
	_, national := w.h.User("national", access.Coordinator)
	id := w.report(t, map[string]any{"severity": "critical", "category": "malicious-code", "type": "infected-system"})
	w.until(t, id, "ransomware", func(r runView) bool { return r.step("wait-ack").Status == "waiting" }, "waiting for the ack")
	w.h.Advance(31 * time.Minute)
	r := w.until(t, id, "ransomware", func(r runView) bool {
		s := r.step("escalate").Status
		return s == "succeeded" || s == "failed"
	}, "the timeout jumps to escalate")
	require.Equal(t, "succeeded", r.step("escalate").Status, "%s", r.step("escalate").LastError)
	escID, _ := r.step("escalate").Output["escalation_id"].(string)
	require.NotEmpty(t, escID)

	inbox := w.h.As(national).Request(http.MethodGet, "/api/v1/escalations?direction=inbox", nil)
	require.Equal(t, http.StatusOK, inbox.Status, "%s", inbox.Body)
	var list struct {
		Escalations []struct {
			ID, Kind, State, Reason string
			FromOrg                 string `json:"from_org"`
			ToOrg                   string `json:"to_org"`
		} `json:"escalations"`
	}
	inbox.JSON(t, &list)
	require.Len(t, list.Escalations, 1)
	e := list.Escalations[0]
	require.Equal(t, escID, e.ID)
	require.Equal(t, "assist", e.Kind)
	require.Equal(t, "requested", e.State)
	require.Equal(t, "national", e.ToOrg)
	require.Contains(t, e.Reason, "No acknowledgement")
	require.NotEmpty(t, w.timeline(t, id, "escalated"), "the escalation is on the timeline")
}

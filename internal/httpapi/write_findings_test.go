package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The security review's findings 4 and 5 (issue 10), with the answers
// written out: these tests do not ask the write table, so that they say
// what the table must say.

// TestReporterWritesOnlyToOwnReports is finding 4: reporters change only
// their own organisation's reports, also through tasks, observables and
// evidence. A reporter of a partner or of a city the incident was shared
// with, or of a CERT above the reporter, saw a GREEN incident and could
// create and cancel its tasks, add and delete its indicators and upload
// evidence to it (201, 200, 204); now each is 403 and nothing changed. The
// reporting organisation's reporter and the coordinating CERT's responder
// still can.
func TestReporterWritesOnlyToOwnReports(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	seedSecTree(h)
	ctx := context.Background()
	cityReporter := secNewUser(h, "city-a", access.Reporter)
	northResponder := secNewUser(h, "region-north", access.Responder)
	inc := secReport(t, h, cityReporter, "Finding 4", incident.TLPGreen)
	secWaitRouted(t, h, inc)
	secShare(t, h, northResponder, inc, "partner", http.StatusCreated)
	secShare(t, h, northResponder, inc, "city-c", http.StatusCreated)

	strangers := map[string]secUser{
		"partner shared with": secNewUser(h, "partner", access.Reporter),
		"city shared with":    secNewUser(h, "city-c", access.Reporter),
		"CERT above the city": secNewUser(h, "national-cert", access.Reporter),
		"coordinating CERT":   secNewUser(h, "region-north", access.Reporter),
		"sibling city (no relation, but a participant)": func() secUser {
			u := secNewUser(h, "city-b", access.Reporter)
			_, err := h.App.Incidents.AddParticipant(ctx, access.System, inc.ID, u.Email)
			require.NoError(t, err)
			return u
		}(),
	}
	tk, err := h.App.Tasks.Create(ctx, access.System, inc.ID, task.NewTask{Title: "isolate the host"})
	require.NoError(t, err)
	ob, _, err := h.App.Observables.Add(ctx, access.System, inc.ID, observable.NewObservable{Type: observable.IPv4, Value: "198.51.100.7"})
	require.NoError(t, err)

	base := "/api/v1/incidents/" + inc.ID
	writes := func(u secUser, n int) map[string]*testapp.Response {
		file, ct := multipartBody(filePart(fmt.Sprintf("finding-4-%d.txt", n), []byte("evidence")))
		return map[string]*testapp.Response{
			"create a task": h.As(u.Token).Request(http.MethodPost, base+"/tasks", map[string]any{"title": fmt.Sprintf("task %d", n)}),
			"cancel a task": h.As(u.Token).Request(http.MethodPatch, base+"/tasks/"+tk.ID.String(), map[string]any{"status": "cancelled"}),
			"add an indicator": h.As(u.Token).Request(http.MethodPost, base+"/observables",
				map[string]any{"type": "domain", "value": fmt.Sprintf("f4-%d.example.org", n)}),
			"delete an indicator": h.As(u.Token).Request(http.MethodDelete, base+"/observables/"+ob.ID.String(), nil),
			"upload evidence":     h.As(u.Token).Request(http.MethodPost, base+"/attachments", file, "Content-Type", ct),
		}
	}
	n := 0
	for who, u := range strangers {
		n++
		for what, r := range writes(u, n) {
			require.Equal(t, http.StatusForbidden, r.Status, "a reporter of the %s may not %s: %s", who, what, r.Body)
		}
	}
	got, err := h.App.Tasks.Get(ctx, access.System, inc.ID, tk.ID.String())
	require.NoError(t, err)
	require.Equal(t, task.Open, got.Status, "the task was not cancelled")
	_, obs, _, err := h.App.Observables.List(ctx, access.System, inc.ID, observable.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, obs, 1, "no indicator was added or deleted")
	_, ts, _, err := h.App.Tasks.List(ctx, access.System, inc.ID, "", incident.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, ts, 1, "no task was created")
	_, atts, _, err := h.App.Evidence.List(ctx, access.System, inc.ID, incident.Page{Limit: 50})
	require.NoError(t, err)
	require.Empty(t, atts, "no evidence was uploaded")

	// The reporting organisation's reporter, and the coordinating CERT's
	// responder, still do all of it (the task is cancelled by the first).
	for i, u := range []secUser{cityReporter, northResponder} {
		for what, r := range writes(u, 100+i) {
			want := map[string]int{"create a task": http.StatusCreated, "cancel a task": http.StatusOK, "add an indicator": http.StatusCreated,
				"delete an indicator": http.StatusNoContent, "upload evidence": http.StatusCreated}[what]
			if what == "delete an indicator" && i == 1 {
				want = http.StatusNotFound // the reporter deleted it
			}
			require.Equal(t, want, r.Status, "%s/%s may %s: %s", u.OrgSlug, u.Role, what, r.Body)
		}
	}
}

// findingFivePlaybook waits for an approval by a coordinator and for an
// input, both at once.
const findingFivePlaybook = `
id: finding-5
name: Finding 5
version: 1
triggers:
  - on: manual
steps:
  - id: contain
    action: approval
    with: { role: coordinator, prompt: "Disconnect the file servers?" }
  - id: scope
    action: input
    with: { prompt: "Which systems are affected?", schema: { type: object } }
`

// TestOnlyTheCoordinatorDecidesPlaybookSteps is finding 5: a CERT's
// playbook approvals and inputs are decided by the organisation that
// coordinates the incident. A partner that only received a share decided
// the coordinating CERT's approval and answered its input (200); now
// that, the coordinators of a city the incident was shared with and of a
// CERT above the reporter (which may take coordination over by escalation,
// not by deciding its steps) are 403, the step still waits, and the
// coordinating CERT's coordinator decides. Inputs are answered by those
// who work the incident: the reporting city's reporter answers one.
func TestOnlyTheCoordinatorDecidesPlaybookSteps(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	pbs, err := playbook.LoadSources([]playbook.Source{{Name: "finding-5.yaml", Data: []byte(findingFivePlaybook)}})
	require.NoError(t, err)
	h := testapp.New(t, testapp.Options{Playbooks: pbs})
	seedSecTree(h)
	ctx := context.Background()
	cityReporter := secNewUser(h, "city-a", access.Reporter)
	northResponder := secNewUser(h, "region-north", access.Responder)
	northCoordinator := secNewUser(h, "region-north", access.Coordinator)
	inc := secReport(t, h, cityReporter, "Finding 5", incident.TLPGreen)
	secWaitRouted(t, h, inc)
	secShare(t, h, northResponder, inc, "partner", http.StatusCreated)
	secShare(t, h, northResponder, inc, "city-c", http.StatusCreated)
	run, err := h.App.Runs.Start(ctx, access.System, inc.ID, "finding-5")
	require.NoError(t, err)
	status := func(step string) runbook.Status {
		r, err := h.App.Runs.Get(ctx, access.System, inc.ID, run.ID.String())
		require.NoError(t, err)
		for _, s := range r.Steps {
			if s.ID == step {
				return s.Status
			}
		}
		t.Fatalf("no step %s", step)
		return ""
	}
	h.Eventually(func() bool { return status("contain") == runbook.Waiting && status("scope") == runbook.Waiting }, "both steps wait")

	base := "/api/v1/incidents/" + inc.Ref + "/playbook-runs/" + run.ID.String()
	approve := func(u secUser) *testapp.Response {
		return h.As(u.Token).Request(http.MethodPost, base+"/approvals/contain", map[string]any{"decision": "approve", "comment": "go"})
	}
	answer := func(u secUser) *testapp.Response {
		return h.As(u.Token).Request(http.MethodPost, base+"/inputs/scope", map[string]any{"answers": map[string]any{"by": u.Email}})
	}
	for _, o := range []string{"partner", "city-c", "national-cert"} {
		for _, role := range []access.Role{access.Coordinator, access.Admin} {
			u := secNewUser(h, o, role)
			r := approve(u)
			require.Equal(t, http.StatusForbidden, r.Status, "%s/%s decides the coordinating CERT's approval: %s", o, role, r.Body)
		}
	}
	for _, o := range []string{"partner", "city-c"} {
		for _, role := range []access.Role{access.Responder, access.Coordinator} {
			u := secNewUser(h, o, role)
			r := answer(u)
			require.Equal(t, http.StatusForbidden, r.Status, "%s/%s answers the coordinating CERT's input: %s", o, role, r.Body)
		}
	}
	require.Equal(t, runbook.Waiting, status("contain"))
	require.Equal(t, runbook.Waiting, status("scope"))

	// The coordinating CERT's responder may not decide a coordinator's
	// step; its coordinator does. The reporting city's reporter answers.
	require.Equal(t, http.StatusForbidden, approve(northResponder).Status)
	r := approve(northCoordinator)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = answer(cityReporter)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, runbook.Succeeded, status("contain"))
	require.Equal(t, runbook.Succeeded, status("scope"))
}

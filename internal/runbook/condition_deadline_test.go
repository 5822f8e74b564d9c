package runbook_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// slowPlaybook's check condition passes every static bound (two levels of
// predicates) but iterates over the square of what the input step is
// answered with: 10,000 answered items are 10^8 iterations, seconds of CPU
// inside the answering request's transaction without a deadline (and as
// many hours for an answer the size of the body limit).
const slowPlaybook = `
id: slow
name: Slow condition
version: 1
triggers:
  - on: manual
steps:
  - id: ask
    action: input
    with:
      prompt: "Which items?"
      schema: { type: object, properties: { items: { type: array, items: { type: string } } }, required: [items] }
  - id: check
    needs: [ask]
    when: 'any(steps.ask.output.items, any(steps.ask.output.items, # == "never"))'
    action: set
    with: { severity: critical }
  - id: after
    needs: [check]
    action: set
    with: { tags: [checked] }
`

// A condition that slips past the static bounds is stopped by the
// evaluation's deadline: the answering request returns, the step is
// skipped with the reason on the timeline, and the run goes on.
func TestConditionDeadlineSkipsTheStepAndFreesTheRequest(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{}, slowPlaybook)
	id := w.report(t, map[string]any{"severity": "low", "category": "fraud", "type": "phishing"})
	r := w.as("responder").Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs", map[string]any{"playbook": "slow"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var run runView
	r.JSON(t, &run)
	w.until(t, id, "slow", func(r runView) bool { return r.step("ask").Status == "waiting" }, "the input step waits")

	items := slices.Repeat([]string{"x"}, 10_000)
	ans := w.as("responder").Request(http.MethodPost, "/api/v1/incidents/"+id+"/playbook-runs/"+run.ID+"/inputs/ask",
		map[string]any{"answers": map[string]any{"items": items}})
	require.Equal(t, http.StatusOK, ans.Status, "%s", ans.Body)

	done := w.until(t, id, "slow", func(r runView) bool { return r.State == "succeeded" }, "the run goes on and ends")
	require.Equal(t, "skipped", done.step("check").Status)
	require.Equal(t, "succeeded", done.step("after").Status)
	var reason string
	for _, e := range w.timeline(t, id, "playbook_step") {
		if e["step"] == "check" && e["status"] == "skipped" {
			reason, _ = e["reason"].(string)
		}
	}
	require.Contains(t, reason, "condition failed")
	require.Contains(t, reason, playbook.ErrConditionTimeout.Error())
	inc := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)
	require.Equal(t, "low", inc["severity"], "the skipped step changed nothing")
}

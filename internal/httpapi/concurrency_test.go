package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The concurrency battery (issue 15, item 5; docs/reliability.md): many
// clients send the same write at the same moment through the real HTTP API
// on a real PostgreSQL, and the guarantee that makes it safe holds — an
// Idempotency-Key gives one incident, an ETag lets one writer win, an
// escalation is decided once. Each test logs its figure.

// together runs n calls of f at once: every goroutine waits on one start
// signal, so the requests overlap as much as the machine allows. It
// returns the answers in call order.
func together(n int, f func(i int) *testapp.Response) []*testapp.Response {
	out := make([]*testapp.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestConcurrentIdempotentReportsMakeOneIncident: 50 POSTs of the same
// report with one Idempotency-Key, all at once, give one incident; every
// answer is a 201 with that incident, and all but one say they are
// replays.
func TestConcurrentIdempotentReportsMakeOneIncident(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	toks := tree(h)
	const posts = 50
	rs := together(posts, func(int) *testapp.Response {
		return report(h, toks, "city", "Concurrent idempotent report", "Idempotency-Key", "burst-1")
	})
	ids := map[string]int{}
	replays := 0
	for _, r := range rs {
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		var inc incidentBody
		r.JSON(t, &inc)
		ids[inc.ID]++
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replays++
		}
	}
	n := countIncidents(t, h, "Concurrent idempotent report")
	t.Logf("%d POSTs with one Idempotency-Key, %d incident, %d replays", posts, n, replays)
	require.Len(t, ids, 1, "every answer names the same incident")
	require.Equal(t, 1, n)
	require.Equal(t, posts-1, replays, "all answers but the first are replays")
	var events int
	require.NoError(t, h.App.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id WHERE i.title = $1 AND e.kind = 'created'`,
		"Concurrent idempotent report").Scan(&events))
	require.Equal(t, 1, events, "one created event on the timeline")
}

// TestConcurrentPatchesWithOneETag: 10 PATCHes based on the same ETag, all
// at once: one is applied (200), nine are refused with 412, and the
// incident's version moved by exactly one.
func TestConcurrentPatchesWithOneETag(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "Ten editors, one version"})
	rs := w.h.As(w.responder)
	path := "/api/v1/incidents/" + inc.ID
	first := rs.Request(http.MethodGet, path, nil)
	etag := first.Header.Get("ETag")
	var before caseIncident
	first.JSON(t, &before)
	const patches = 10
	sev := []string{"low", "medium", "high", "critical"}
	answers := together(patches, func(i int) *testapp.Response {
		return rs.Request(http.MethodPatch, path, fmt.Sprintf(`{"severity":%q,"tags":["editor-%d"]}`, sev[i%len(sev)], i),
			"Content-Type", "application/merge-patch+json", "If-Match", etag)
	})
	ok, refused := 0, 0
	winner := -1
	for i, r := range answers {
		switch r.Status {
		case http.StatusOK:
			ok++
			winner = i
		case http.StatusPreconditionFailed:
			refused++
		default:
			t.Fatalf("PATCH %d: %d %s", i, r.Status, r.Body)
		}
	}
	t.Logf("%d PATCHes with one ETag, %d applied (200), %d refused (412)", patches, ok, refused)
	require.Equal(t, 1, ok)
	require.Equal(t, patches-1, refused)
	var after caseIncident
	rs.Request(http.MethodGet, path, nil).JSON(t, &after)
	require.Equal(t, before.Version+1, after.Version, "one write, one version")
	require.Equal(t, []string{fmt.Sprintf("editor-%d", winner)}, after.Tags, "the winner's write is the one stored")
}

// TestConcurrentEscalationDecisions: 20 decisions on one requested
// escalation (10 accepts, 10 declines, by the target's coordinator and
// admin), all at once: one wins (200), nineteen are conflicts (409); the
// timeline, the audit log and the coordination agree with the winner.
func TestConcurrentEscalationDecisions(t *testing.T) {
	t.Parallel()
	w := newEscWorld(t)
	id, ref := w.report(t, "city-a", "Twenty deciders", "high", incident.TLPAmber)
	r := w.as("city-a", access.Responder).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations",
		map[string]any{"kind": "coordinate", "reason": "too big for the region"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var e escBody
	r.JSON(t, &e)
	require.Equal(t, "national-cert", e.ToOrg)

	const decisions = 20
	answers := together(decisions, func(i int) *testapp.Response {
		who := w.as("national-cert", access.Coordinator)
		if i%4 >= 2 {
			who = w.as("national-cert", access.Admin)
		}
		if i%2 == 0 {
			return who.Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/accept", map[string]any{"reason": fmt.Sprintf("accept %d", i)})
		}
		return who.Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline", map[string]any{"reason": fmt.Sprintf("decline %d", i)})
	})
	won, conflicts := 0, 0
	var winner escBody
	for i, a := range answers {
		switch a.Status {
		case http.StatusOK:
			won++
			a.JSON(t, &winner)
		case http.StatusConflict:
			conflicts++
		default:
			t.Fatalf("decision %d: %d %s", i, a.Status, a.Body)
		}
	}
	t.Logf("%d concurrent escalation decisions, %d won (%s), %d conflicts (409)", decisions, won, winner.State, conflicts)
	require.Equal(t, 1, won)
	require.Equal(t, decisions-1, conflicts)

	var got escBody
	w.as("national-cert", access.Viewer).Request(http.MethodGet, "/api/v1/escalations/"+e.ID, nil).JSON(t, &got)
	require.Equal(t, winner.State, got.State)
	require.Equal(t, *winner.DecisionReason, *got.DecisionReason)
	decided := 0
	for _, k := range timelineKinds(t, w.h, id) {
		if k == "escalation_accepted" || k == "escalation_declined" {
			decided++
		}
	}
	require.Equal(t, 1, decided, "one decision on the timeline")
	var audited int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM audit_log WHERE target_id = $1
		AND action IN ('escalation.accepted', 'escalation.declined')`, e.ID).Scan(&audited))
	want := "region-north"
	if winner.State == "accepted" {
		want = "national-cert"
	}
	require.Equal(t, want, coordinatorOf(t, w.h, id))
	require.Equal(t, 1, audited, "one decision in the audit log")
}

package notify_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate holds Slack's answers to chat.postMessage until the test opens it.
type gate struct {
	mu        sync.Mutex
	arrived   chan struct{} // closed at the first held call
	open      chan struct{} // closed by release
	held      int           // calls waiting now
	abandoned int           // calls the client gave up while held
}

// hold makes every later chat.postMessage wait at the gate until release.
func (f *fakeSlack) hold() *gate {
	g := &gate{arrived: make(chan struct{}), open: make(chan struct{})}
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
	return g
}

// wait blocks the call of r at the gate; false when the client gave up.
func (g *gate) wait(r *http.Request) bool {
	g.mu.Lock()
	if g.held == 0 && g.abandoned == 0 {
		select {
		case <-g.arrived:
		default:
			close(g.arrived)
		}
	}
	g.held++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
		return true
	case <-r.Context().Done():
		g.mu.Lock()
		g.abandoned++
		g.mu.Unlock()
		return false
	}
}

func (g *gate) release() { close(g.open) }

// still reports how many calls wait at the gate and how many the client
// gave up.
func (g *gate) still() (held, abandoned int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held, g.abandoned
}

// A delivery holds no lock while Slack answers: with Slack's answer held
// back, a change of the incident and a comment on it, through the API,
// complete while the call that posts its notification is still open (the
// fake counts it as waiting, and not given up by the client). Then Slack
// answers, and the message is recorded once.
func TestWritesToTheIncidentDoNotWaitForSlack(t *testing.T) {
	t.Parallel()
	e := setup(t)
	g := e.slack.hold()
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Slow Slack", "severity": "medium", "tlp": "amber"})["id"].(string)
	select {
	case <-g.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the routing notification never reached Slack")
	}

	base := "/api/v1/incidents/" + id
	done := make(chan int, 2)
	go func() {
		done <- e.h.As(e.cert).Request(http.MethodPatch, base, map[string]any{"title": "Slow Slack, renamed"}).Status
	}()
	go func() {
		done <- e.h.As(e.cert).Request(http.MethodPost, base+"/comments", map[string]any{"body": "while Slack thinks"}).Status
	}()
	for range 2 {
		select {
		case status := <-done:
			require.Less(t, status, 300)
		case <-time.After(60 * time.Second):
			t.Fatal("a write to the incident waited for Slack")
		}
	}
	held, abandoned := g.still()
	require.Equal(t, 1, held, "Slack's answer is still held back: the writes did not wait for it")
	require.Zero(t, abandoned, "the delivery did not give up on Slack meanwhile")
	require.Empty(t, e.slack.all())

	g.release()
	ns := e.delivered(t, e.cert, id, 1)
	e.deliveriesDone(t)
	posts := e.slack.all()
	require.Len(t, posts, 1, "delivered once")
	require.Equal(t, regionChannel, posts[0].channel())
	require.Equal(t, "incident.routed", ns[0].EventKind)
	require.Equal(t, 1, ns[0].Attempts)
	r := e.h.As(e.cert).Request(http.MethodGet, base+"/timeline?kind=notified", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var tl struct{ Events []map[string]any }
	r.JSON(t, &tl)
	require.Len(t, tl.Events, 1, "one notified event")
}

// failRecords makes the next n recordings of a sent notification fail
// in the database (a trigger; a sequence counts, outside the failing
// transactions). It returns a function that removes the trigger.
func failRecords(t *testing.T, e *env, n int) func() {
	t.Helper()
	ctx := context.Background()
	_, err := e.h.App.DB.SQL.ExecContext(ctx, `
		CREATE SEQUENCE test_record_failures;
		CREATE FUNCTION test_fail_record() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.state = 'sent' AND nextval('test_record_failures') <= `+strconv.Itoa(n)+` THEN
				RAISE EXCEPTION 'the test refuses to record this';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_fail_record BEFORE UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION test_fail_record();`)
	require.NoError(t, err)
	return func() {
		_, err := e.h.App.DB.SQL.ExecContext(ctx, `DROP TRIGGER test_fail_record ON notifications`)
		require.NoError(t, err)
	}
}

// Slack accepted the message and recording that failed once: the
// delivery records it again at once, and nothing is posted twice.
func TestRecordFailingOnceAfterSlackAcceptedSendsOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	failRecords(t, e, 1)
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Record once more", "severity": "medium", "tlp": "amber"})["id"].(string)
	ns := e.delivered(t, e.cert, id, 1)
	e.deliveriesDone(t)
	require.Len(t, e.slack.all(), 1)
	require.Equal(t, 1, ns[0].Attempts)
}

// Slack accepted two replies and the database refused to record them
// for longer than the delivery keeps trying. The claims stay until they
// lapse (ClaimLease), River retries the jobs, and once the claims have
// lapsed each retry looks for its message in its thread first (by the
// notification's ID in the message's metadata), finds it and records it:
// posted once, recorded once, nothing lost.
func TestSentButNotRecordedIsFoundInItsThread(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Twice in the thread", "severity": "medium", "tlp": "amber"})["id"].(string)
	base := "/api/v1/incidents/" + id
	e.delivered(t, e.cert, id, 1)
	e.do(t, e.cert, http.MethodPost, base+"/acknowledge", nil)
	e.delivered(t, e.cert, id, 2) // both channels have their thread now
	roots := requireThreads(t, e.slack.all())

	unfail := failRecords(t, e, 1_000_000)
	e.do(t, e.cert, http.MethodPost, base+"/transitions", map[string]any{"to": "recovery"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, e.slack.all(), 4, "both replies posted")
		var failed int
		assert.NoError(c, e.h.App.DB.SQL.QueryRowContext(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'notify.deliver' AND state IN ('retryable', 'scheduled') AND errors IS NOT NULL`).Scan(&failed))
		assert.Equal(c, 2, failed, "both jobs failed to record and wait for their retry")
	}, 60*time.Second, 50*time.Millisecond, "posted but not recorded")
	for _, n := range e.notifications(t, e.cert, id) {
		if n.EventKind == "incident.stage_changed" {
			require.Equal(t, "pending", n.State, "not recorded")
		}
	}

	unfail()
	e.h.Advance(notify.ClaimLease + time.Minute) // the claims lapse, the retries are due
	ns := e.delivered(t, e.cert, id, 4)
	e.deliveriesDone(t)
	posts := e.slack.all()
	require.Len(t, posts, 4, "each reply posted once: the retry finds it in its thread and records it")
	require.Equal(t, roots, requireThreads(t, posts), "no new thread")
	byTS := map[string]post{}
	for _, p := range posts[2:] {
		require.Equal(t, roots[p.channel()], p.thread(), "posted into its thread")
		require.Contains(t, p.form.Get("text"), "Stage changed to recovery")
		byTS[p.form.Get("ts")] = p
	}
	for _, n := range ns {
		if n.EventKind == "incident.stage_changed" {
			require.Equal(t, 1, n.Attempts, "the call whose outcome was never recorded does not count; the search that found it does")
			require.Contains(t, byTS, n.MessageTS, "the message found is the one recorded")
		}
	}
}

// A delivery that claimed its notification and died before recording
// anything (its claim is left, as a worker killed during the call leaves
// it) loses nothing: the retry of its job waits while the claim holds,
// sends nothing meanwhile, and delivers the notification once the claim
// has lapsed.
func TestClaimNeverRecordedIsDeliveredAfterItLapses(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.slack.setDown(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Worker died", "severity": "medium", "tlp": "amber"})["id"].(string)
	ns := e.tried(t, id)
	require.Eventually(t, func() bool {
		var state string
		_ = e.h.App.DB.SQL.QueryRowContext(context.Background(), `SELECT state FROM river_job
			WHERE kind = 'notify.deliver' AND args->>'notification_id' = $1`, ns[0].ID).Scan(&state)
		return state == "retryable"
	}, 30*time.Second, 20*time.Millisecond, "the first attempt failed")
	// The claim a dead worker leaves: held for ClaimLease from now.
	var attempts int
	require.NoError(t, e.h.App.DB.SQL.QueryRowContext(context.Background(), `UPDATE notifications SET claimed_until = $2,
		claim_token = gen_random_uuid() WHERE id = $1 RETURNING attempts`,
		ns[0].ID, e.h.Clock.Now().Add(notify.ClaimLease)).Scan(&attempts))
	e.slack.setDown(nil)

	e.h.Advance(time.Minute) // the retry is due; the claim still holds
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "scheduled", e.jobState(c, ns[0].ID), "the retry waits for the claim (a snooze)")
	}, 30*time.Second, 20*time.Millisecond, "the retry found the claim")
	require.Empty(t, e.slack.all(), "nothing sent while another delivery holds the claim")

	e.h.Advance(notify.ClaimLease) // the claim has lapsed
	ns = e.delivered(t, e.cert, id, 1)
	e.deliveriesDone(t)
	require.Len(t, e.slack.all(), 1)
	require.Equal(t, attempts+1, ns[0].Attempts, "the failed ones and the one that sent: the dead worker's recorded nothing")
}

// Two deliveries of one notification at once (a rescued job whose first
// run is still alive, a job retried by hand): the second finds the
// first's claim and is told to wait (notify.ClaimedError, a snooze for
// the worker) instead of sending; once the first has recorded, another
// delivery finds the notification sent and sends nothing.
func TestTwoDeliveriesOfOneNotificationSendOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	g := e.slack.hold()
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Raced", "severity": "medium", "tlp": "amber"})["id"].(string)
	select {
	case <-g.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the routing notification never reached Slack")
	}
	ns := e.notifications(t, e.cert, id)
	require.Len(t, ns, 1)
	nid := uuid.MustParse(ns[0].ID)
	completed := 0
	complete := func(context.Context, notify.Tx) error { completed++; return nil }

	err := e.h.App.Notify.Deliver(context.Background(), nid, complete)
	var claimed *notify.ClaimedError
	require.ErrorAs(t, err, &claimed, "the job's delivery holds the claim")
	require.Positive(t, claimed.Wait)
	require.Zero(t, completed)

	g.release()
	e.delivered(t, e.cert, id, 1)
	require.NoError(t, e.h.App.Notify.Deliver(context.Background(), nid, complete))
	require.Equal(t, 1, completed, "the late delivery completes without sending")
	e.deliveriesDone(t)
	require.Len(t, e.slack.all(), 1)
}

// The label raised while Slack is answering: the change does not wait
// for Slack, and the message that was on its way leaves as its claim
// decided (the incident was TLP:AMBER then). It is recorded as sent, not
// withdrawn, and after the change on the timeline; because the change
// found no thread to update, the record queues the update of the thread's
// first message, which replaces it, for a channel that no longer sees the
// incident, by the withdrawn root (no title).
func TestLabelRaisedDuringTheCallIsRecordedAndTheRootWithdrawn(t *testing.T) {
	t.Parallel()
	e := setup(t)
	g := e.slack.hold()
	id := e.do(t, e.cityResponder, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "QUOKKA-3 at the harbour", "severity": "high", "tlp": "amber"})["id"].(string)
	select {
	case <-g.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the routing notification never reached Slack")
	}
	e.do(t, e.cityResponder, http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"tlp": "TLP:RED"})
	held, abandoned := g.still()
	require.Equal(t, 1, held, "the change did not wait for Slack")
	require.Zero(t, abandoned)

	g.release()
	ns := e.delivered(t, e.cityResponder, id, 1)
	require.Equal(t, "incident.routed", ns[0].EventKind)
	posts := e.slack.all()
	require.Len(t, posts, 1)
	require.Contains(t, posts[0].form.Get("text"), "QUOKKA-3", "decided at the claim, before the change")
	r := e.h.As(e.cityResponder).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?limit=100", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var tl struct{ Events []struct{ Kind string } }
	r.JSON(t, &tl)
	var order []string
	for _, ev := range tl.Events {
		if ev.Kind == "notified" || ev.Kind == "notification_withdrawn" || ev.Kind == "field_changed" {
			order = append(order, ev.Kind)
		}
	}
	require.Equal(t, []string{"field_changed", "notified"}, order, "a message on its way is not withdrawn; it is recorded after the change")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ups := e.slack.allUpdates()
		if assert.NotEmpty(c, ups) {
			last := ups[len(ups)-1]
			assert.Equal(c, regionChannel, last.Get("channel"))
			assert.Equal(c, posts[0].ts(), last.Get("ts"), "the thread's first message")
			assert.Contains(c, last.Get("text"), "no longer shared")
			assert.NotContains(c, last.Get("text"), "QUOKKA")
		}
	}, 60*time.Second, 50*time.Millisecond, "the first message replaced by the withdrawn root")
}

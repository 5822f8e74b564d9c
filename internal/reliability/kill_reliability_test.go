//go:build reliability

package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// reliabilityPlaybook is started by every report of category "test": a
// task, then a notification to the coordinating CERT (its Slack
// channel), so that every report makes a routing notification, a
// playbook run with two steps and a playbook notification.
const reliabilityPlaybook = `id: reliability
name: Reliability battery
version: 1
triggers:
  - on: incident.created
    when: category == "test"
steps:
  - id: task
    action: task.create
    with: { title: "Check the report" }
  - id: tell
    action: notify
    needs: [task]
    with: { to: coordinating_org, template: ransomware_started }
`

// loadResult is what the clients of a load did.
type loadResult struct {
	mu      sync.Mutex
	acked   map[string]string // title → incident ID, for every 2xx
	tried   []string          // every title sent at least once
	retries atomic.Int64      // attempts beyond the first
	errs    []error           // refusals (4xx): a bug in the test
}

// runLoad runs n clients that post reports (category "test") with
// Idempotency-Keys until ctx ends; base picks the server of each
// attempt. A client whose report is not acknowledged when ctx ends leaves
// it unacknowledged.
func runLoad(ctx context.Context, n int, token, prefix string, base func(client int) string) *loadResult {
	return runObservedLoad(ctx, n, token, prefix, base, nil)
}

// runObservedLoad is runLoad with observe told of every attempt
// (reporter.observe).
func runObservedLoad(ctx context.Context, n int, token, prefix string, base func(client int) string,
	observe func(wrote time.Time, status int, err error)) *loadResult {
	res := &loadResult{acked: map[string]string{}}
	r := &reporter{token: token, client: &http.Client{Timeout: 30 * time.Second}, observe: observe}
	var wg sync.WaitGroup
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				title := fmt.Sprintf("%s report %d-%d", prefix, c, i)
				key := fmt.Sprintf("%s-%d-%d", strings.ToLower(prefix), c, i)
				res.mu.Lock()
				res.tried = append(res.tried, title)
				res.mu.Unlock()
				id, attempts, err := r.post(ctx, func() string { return base(c) }, key, title, "test")
				res.retries.Add(int64(attempts - 1))
				res.mu.Lock()
				switch {
				case err == nil:
					res.acked[title] = id
				case errors.Is(err, errRefused):
					res.errs = append(res.errs, err)
				}
				res.mu.Unlock()
				if errors.Is(err, errRefused) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// checkReports asserts that every acknowledged report exists exactly once
// with the acknowledged ID and that no report exists twice; it returns
// the number of acknowledged reports.
func (h *harness) checkReports(res *loadResult) int {
	h.t.Helper()
	for _, err := range res.errs {
		h.t.Errorf("a report was refused: %v", err)
	}
	type row struct {
		n   int
		ids string
	}
	stored := map[string]row{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT title, count(*), string_agg(id::text, ',') FROM incidents WHERE category = 'test' GROUP BY title`)
	if err != nil {
		h.t.Fatal(err)
	}
	for rows.Next() {
		var title string
		var r row
		if err := rows.Scan(&title, &r.n, &r.ids); err != nil {
			h.t.Fatal(err)
		}
		stored[title] = r
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	for _, title := range res.tried {
		r := stored[title]
		id, acked := res.acked[title]
		switch {
		case r.n > 1:
			h.t.Errorf("%q exists %d times", title, r.n)
		case acked && r.n == 0:
			h.t.Errorf("%q was acknowledged (%s) and is lost", title, id)
		case acked && r.ids != id:
			h.t.Errorf("%q was acknowledged as %s and is %s", title, id, r.ids)
		}
	}
	return len(res.acked)
}

// waitWorkDone waits until every report of category "test" is routed,
// has one run of the reliability playbook that succeeded, and has no
// notification left undelivered; then no message may have reached Slack
// twice.
func (h *harness) waitWorkDone(limit time.Duration) (took time.Duration, notifications int) {
	h.t.Helper()
	took = h.eventually(limit, "work after the last restart", func() string {
		var reports, unrouted, runs, unfinished, pending, failed int
		h.query(`SELECT count(*), count(*) FILTER (WHERE coordinating_org_id IS NULL) FROM incidents WHERE category = 'test'`, &reports, &unrouted)
		h.query(`SELECT count(*), count(*) FILTER (WHERE r.state <> 'succeeded') FROM playbook_runs r
			JOIN incidents i ON i.id = r.incident_id WHERE i.category = 'test' AND r.playbook_id = 'reliability'`, &runs, &unfinished)
		h.query(`SELECT count(*) FILTER (WHERE n.state = 'pending'), count(*) FILTER (WHERE n.state = 'failed'), count(*) FROM notifications n
			JOIN incidents i ON i.id = n.incident_id WHERE i.category = 'test'`, &pending, &failed, &notifications)
		if failed > 0 {
			h.t.Fatalf("%d notifications failed for good", failed)
		}
		if unrouted > 0 || runs != reports || unfinished > 0 || pending > 0 {
			return fmt.Sprintf("%d reports: %d unrouted, %d playbook runs (%d unfinished), %d of %d notifications pending",
				reports, unrouted, runs, unfinished, pending, notifications)
		}
		return ""
	})
	// The playbook's task step ran once per report: no task twice.
	var withTask, twice int
	h.query(`SELECT count(*), count(*) FILTER (WHERE n > 1) FROM (SELECT t.incident_id, count(*) AS n FROM incident_tasks t
		JOIN incidents i ON i.id = t.incident_id WHERE i.category = 'test' AND t.title = 'Check the report' GROUP BY t.incident_id) x`, &withTask, &twice)
	var reports int
	h.query(`SELECT count(*) FROM incidents WHERE category = 'test'`, &reports)
	if withTask != reports || twice > 0 {
		h.t.Errorf("%d reports, %d with the playbook's task, %d with it more than once", reports, withTask, twice)
	}
	// Every notification of these reports went to Slack: one post each.
	var sent int
	h.query(`SELECT count(*) FROM notifications n JOIN incidents i ON i.id = n.incident_id
		WHERE i.category = 'test' AND n.state = 'sent' AND n.provider = 'slack'`, &sent)
	if sent == 0 {
		h.t.Errorf("no notification of the reports went to Slack")
	}
	return took, notifications
}

// TestReliabilityKillUnderLoad is T1: eight clients post reports with
// Idempotency-Keys while `certdesk serve` (API and workers) is killed
// with SIGKILL every 2–5 s and restarted.
func TestReliabilityKillUnderLoad(t *testing.T) {
	h := newHarness(t)
	token := h.demoToken("reporter@city-northbridge.demo")
	h.env["CERTDESK_PLAYBOOK_DIR"] = h.writePlaybook("reliability", reliabilityPlaybook)
	srv := h.serve("serve", nil)

	duration := pick(20*time.Second, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	done := make(chan *loadResult)
	go func() { done <- runLoad(ctx, 8, token, "T1", func(int) string { return srv.URL() }) }()

	kills := 0
	var down time.Duration // from each kill to /readyz 200 again
	// The next kill is 2–5 s after the last one, restart included, and
	// at least half a second after the server was ready again.
	last := time.Now()
	for ctx.Err() == nil {
		wait := max(time.Until(last.Add(2*time.Second+rand.N(3*time.Second))), 500*time.Millisecond)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			last = time.Now()
			srv.kill()
			kills++
			srv.start()
			down += time.Since(last)
		}
	}
	res := <-done
	acked := h.checkReports(res)
	took, notes := h.waitWorkDone(3 * time.Minute)
	posts, dup, extra := h.slack.counts()
	// A delivery killed after Slack took its message and before the
	// outcome was recorded is retried once its claim lapses; the retry
	// finds the message by the notification's ID in its metadata and
	// records it instead of posting again (notify.Finder).
	if dup > 0 {
		t.Errorf("%d messages reached Slack more than once (%d extra posts)", dup, extra)
	}
	mean := time.Duration(0)
	if kills > 0 {
		mean = down / time.Duration(kills)
	}
	t.Logf("T1: %d acknowledged reports, %d kills, 0 lost, %d duplicated deliveries (%d retried requests; down %s per kill on average; %d notifications of the reports, %d Slack posts in all; work done %s after the last restart)",
		acked, kills, dup, res.retries.Load(), mean.Round(100*time.Millisecond), notes, posts, took.Round(time.Second))
}

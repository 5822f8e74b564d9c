//go:build reliability

package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestReliabilityGracefulShutdown is T6: `certdesk serve` (API and
// workers) gets SIGTERM under load, exits, and is started again. Every
// request the server had received before the signal is answered (no
// connection cut under it), the process exits cleanly with no job left
// running, and after the restart nothing is lost and no message reached
// Slack twice.
func TestReliabilityGracefulShutdown(t *testing.T) {
	h := newHarness(t)
	token := h.demoToken("reporter@city-northbridge.demo")
	// A webhook step after the playbook's notification, to a receiver
	// that takes half a second: jobs are running when the signal comes.
	var active atomic.Int64
	var hookMu sync.Mutex
	hookCalls := map[string]int{} // Idempotency-Key → calls
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		_, _ = io.Copy(io.Discard, r.Body)
		hookMu.Lock()
		hookCalls[r.Header.Get("Idempotency-Key")]++
		hookMu.Unlock()
		time.Sleep(500 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)
	h.env["CERTDESK_PLAYBOOK_DIR"] = h.writePlaybook("reliability", reliabilityPlaybook+fmt.Sprintf(`  - id: call
    action: webhook
    needs: [tell]
    with: { url: %q, body: { battery: T6 } }
`, recv.URL+"/hook"))
	h.env["CERTDESK_WEBHOOK_SECRET"] = "reliability-webhook-secret"
	h.env["CERTDESK_OUTBOUND_ALLOW"] = "127.0.0.1/32"
	srv := h.serve("serve", nil)

	stops := pick(2, 5)
	var signalled atomic.Int64 // UnixNano of the last SIGTERM
	var mu sync.Mutex
	var cut []error
	var answered, answeredAfter, refused, fivexx int
	observe := func(wrote time.Time, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case status >= 500:
			fivexx++
		case status > 0:
			answered++
			if sig := signalled.Load(); sig != 0 && wrote.UnixNano() < sig && time.Now().UnixNano() > sig {
				answeredAfter++ // in flight across the signal, and answered
			}
		case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			refused++ // not accepted (the listener is closed) or the load's end
		case !wrote.IsZero() && wrote.UnixNano() < signalled.Load():
			cut = append(cut, err) // received before the signal, never answered
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *loadResult)
	go func() {
		done <- runObservedLoad(ctx, 8, token, "T6", func(int) string { return srv.URL() }, observe)
	}()
	var stopTimes []time.Duration
	callsAtSignal := 0 // webhook calls in flight when a signal came
	for i := 0; i < stops; i++ {
		time.Sleep(pick(3*time.Second, 6*time.Second))
		signalled.Store(time.Now().UnixNano())
		callsAtSignal += int(active.Load())
		began := time.Now()
		if err := srv.stop(syscall.SIGTERM); err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
		stopTimes = append(stopTimes, time.Since(began))
		var running int
		h.query(`SELECT count(*) FROM river_job WHERE state = 'running'`, &running)
		if running > 0 {
			t.Errorf("%d jobs were left running after the graceful stop", running)
		}
		srv.start()
	}
	time.Sleep(pick(2*time.Second, 5*time.Second))
	cancel()
	res := <-done
	if srv.logContains("did not stop in time") {
		t.Errorf("the workers did not stop within CERTDESK_SHUTDOWN_TIMEOUT")
	}
	acked := h.checkReports(res)
	took, notes := h.waitWorkDone(3 * time.Minute)
	_, dup, extra := h.slack.counts()
	if dup > 0 {
		t.Errorf("%d messages reached Slack more than once (%d extra posts) although every stop was graceful", dup, extra)
	}
	for _, err := range cut {
		t.Errorf("a request received before SIGTERM was cut: %v", err)
	}
	if fivexx > 0 {
		t.Errorf("%d answers were 5xx", fivexx)
	}
	// Running jobs finished before the process exited: no webhook step
	// was called twice.
	hookMu.Lock()
	repeated := 0
	for key, n := range hookCalls {
		if n > 1 {
			repeated++
			t.Errorf("webhook step %s was called %d times", key, n)
		}
	}
	steps := len(hookCalls)
	hookMu.Unlock()
	var reports int
	h.query(`SELECT count(*) FROM incidents WHERE category = 'test'`, &reports)
	if steps != reports {
		t.Errorf("%d reports, %d webhook steps called", reports, steps)
	}
	var longest time.Duration
	for _, d := range stopTimes {
		longest = max(longest, d)
	}
	t.Logf("T6: %d SIGTERMs under load, %d acknowledged reports, %d requests in flight at a signal all answered, %d cut, 0 lost, %d duplicated deliveries, 0 jobs left running, %d webhook calls in flight at a signal finished, %d of %d webhook steps called twice (%d refused while stopped; %d notifications of the reports; longest stop %s; work done %s after the last restart)",
		stops, acked, answeredAfter, len(cut), dup, callsAtSignal, repeated, steps, refused, notes, longest.Round(10*time.Millisecond), took.Round(time.Second))
}

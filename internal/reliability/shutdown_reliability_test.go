//go:build reliability

package reliability

import (
	"context"
	"errors"
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
	h.env["CERTDESK_PLAYBOOK_DIR"] = h.writePlaybook("reliability", reliabilityPlaybook)
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
	for i := 0; i < stops; i++ {
		time.Sleep(pick(3*time.Second, 6*time.Second))
		signalled.Store(time.Now().UnixNano())
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
	var longest time.Duration
	for _, d := range stopTimes {
		longest = max(longest, d)
	}
	t.Logf("T6: %d SIGTERMs under load, %d acknowledged reports, %d requests in flight at a signal all answered, %d cut, 0 lost, %d duplicated deliveries, 0 jobs left running (%d refused while stopped; %d notifications of the reports; longest stop %s; work done %s after the last restart)",
		stops, acked, answeredAfter, len(cut), dup, refused, notes, longest.Round(10*time.Millisecond), took.Round(time.Second))
}

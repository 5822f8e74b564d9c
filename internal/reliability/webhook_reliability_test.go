//go:build reliability

package reliability

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestReliabilityWebhookWorkerKilled is T3: a playbook's webhook step
// calls a receiver that kills the `certdesk worker` process (SIGKILL)
// when the call arrives, before it answers. After the worker's restart
// River rescues the stuck job (CERTDESK_JOB_RESCUE_AFTER) and the step
// completes, with at most one repeated call, carrying the same
// Idempotency-Key as the first.
func TestReliabilityWebhookWorkerKilled(t *testing.T) {
	h := newHarness(t)
	token := h.demoToken("reporter@city-northbridge.demo")

	var mu sync.Mutex
	calls := map[string]int{} // Idempotency-Key → calls
	var noKey int
	var victim *proc
	killed := make(chan struct{}, 1)
	armed := false // the next call kills the worker
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		if key == "" {
			noKey++
		}
		calls[key]++
		kill := armed
		armed = false
		mu.Unlock()
		if kill {
			victim.kill() // the worker dies with the call in flight
			killed <- struct{}{}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)

	h.env["CERTDESK_PLAYBOOK_DIR"] = h.writePlaybook("reliability-webhook", fmt.Sprintf(`id: reliability-webhook
name: Reliability battery (webhook)
version: 1
triggers:
  - on: incident.created
    when: category == "test"
steps:
  - id: call
    action: webhook
    with: { url: %q, body: { battery: T3 } }
`, recv.URL+"/hook"))
	h.env["CERTDESK_WEBHOOK_SECRET"] = "reliability-webhook-secret"
	h.env["CERTDESK_OUTBOUND_ALLOW"] = "127.0.0.1/32"
	api := h.serve("api", map[string]string{"CERTDESK_WORKERS": "false"})
	victim = h.worker("worker", map[string]string{"CERTDESK_LOG_LEVEL": "info"})

	rounds := pick(1, 4)
	var recovered []time.Duration
	for i := 0; i < rounds; i++ {
		mu.Lock()
		armed = true
		mu.Unlock()
		h.reportVia(api.URL(), token, fmt.Sprintf("T3 report %d", i), "test")
		select {
		case <-killed:
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: the webhook was not called within 2 minutes", i)
		}
		victim.start()
		took := h.eventually(3*time.Minute, fmt.Sprintf("round %d: the webhook step", i), func() string {
			var runs, done int
			h.query(`SELECT count(*), count(*) FILTER (WHERE state = 'succeeded') FROM playbook_runs WHERE playbook_id = 'reliability-webhook'`, &runs, &done)
			if runs != i+1 || done != i+1 {
				return fmt.Sprintf("%d runs, %d succeeded", runs, done)
			}
			return ""
		})
		recovered = append(recovered, took)
	}
	mu.Lock()
	defer mu.Unlock()
	if noKey > 0 {
		t.Errorf("%d calls without an Idempotency-Key", noKey)
	}
	if len(calls) != rounds {
		t.Errorf("%d distinct Idempotency-Keys for %d steps", len(calls), rounds)
	}
	dups, total := 0, 0
	for key, n := range calls {
		total += n
		if n > 2 {
			t.Errorf("step %s was called %d times", key, n)
		}
		dups += n - 1
	}
	var longest time.Duration
	for _, d := range recovered {
		longest = max(longest, d)
	}
	t.Logf("T3: %d webhook steps, the worker killed during each call: %d calls, %d repeated with the same Idempotency-Key, every step completed (longest %s from the restart, CERTDESK_JOB_RESCUE_AFTER=%s)",
		rounds, total, dups, longest.Round(time.Second), h.env["CERTDESK_JOB_RESCUE_AFTER"])
}

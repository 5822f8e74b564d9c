package runbook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// A webhook step posts a signed JSON body through the SSRF-guarded
// outbound client: to an allowed receiver once, and never to an address
// the guard refuses (a refusal is permanent: no retries).
func TestWebhookStep(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []map[string]any
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := outbound.Verify("s3cret", r.Header, body, time.Now(), time.Hour); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		m := map[string]any{}
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		keys = append(keys, r.Header.Get(outbound.HeaderIdempotencyKey))
		mu.Unlock()
	}))
	defer srv.Close()
	pb := `
id: hooks
name: Hooks
version: 1
triggers:
  - on: incident.created
    when: category == "vulnerable"
steps:
  - id: allowed
    action: webhook
    with: { url: "` + srv.URL + `/in", body: { text: hello, n: 3 } }
    retry: { attempts: 3, backoff: 1m }
  - id: metadata
    needs: [allowed]
    action: webhook
    with: { url: "http://169.254.169.254/latest/meta-data/" }
    retry: { attempts: 3, backoff: 1m }
    on_failure: continue
`
	w := setup(t, testapp.Options{Config: func(c *config.Config) {
		c.WebhookSecret = "s3cret"
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}}, pb)
	id := w.report(t, map[string]any{"severity": "low", "category": "vulnerable", "type": "vulnerable-system"})
	r := w.until(t, id, "hooks", func(r runView) bool { return r.State != "running" }, "the run ends")
	require.Equal(t, "succeeded", r.State)
	require.Equal(t, "succeeded", r.step("allowed").Status)
	require.EqualValues(t, 200, r.step("allowed").Output["status"])
	require.Equal(t, "failed", r.step("metadata").Status)
	require.Equal(t, 1, r.step("metadata").Attempts, "a refused destination is not retried")
	require.Contains(t, r.step("metadata").LastError, "169.254.169.254")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1, "one signed request reached the receiver")
	require.Equal(t, map[string]any{"text": "hello", "n": float64(3)}, got[0]["body"])
	require.Equal(t, "hooks", got[0]["playbook"])
	require.Equal(t, r.ID+":allowed:1", got[0]["delivery"])
	require.Equal(t, []string{r.ID + ":allowed"}, keys, "the key names the run's step, the same on every attempt")
}

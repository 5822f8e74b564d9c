//go:build reliability

package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stormPlan is the shape of one chat storm.
type stormPlan struct {
	channels      int           // Slack channels, one regional CERT each
	every         time.Duration // one report per channel this often
	before, storm time.Duration // calm, then the storm
	after         time.Duration // reports still coming once the storm is over
	maxRetryAfter int           // Retry-After of a 429: 1..maxRetryAfter seconds
	clientTimeout time.Duration // SLACK_TIMEOUT
	hang          time.Duration // a timeout: the fake answers nothing this long
	drain         time.Duration // how long the backlog may take to drain
}

func stormPlanFor(mode string) stormPlan {
	if mode == "long" {
		return stormPlan{channels: 6, every: time.Second, before: 10 * time.Second, storm: 3 * time.Minute,
			after: 20 * time.Second, maxRetryAfter: 30, clientTimeout: 5 * time.Second, hang: 7 * time.Second, drain: 8 * time.Minute}
	}
	return stormPlan{channels: 4, every: 600 * time.Millisecond, before: 3 * time.Second, storm: 15 * time.Second,
		after: 2 * time.Second, maxRetryAfter: 3, clientTimeout: 2 * time.Second, hang: 3 * time.Second, drain: 90 * time.Second}
}

// stormCall is one request the fake Slack received.
type stormCall struct {
	method  string
	at      time.Time // received
	outcome string    // "ok", "429", "503", "timeout", "lost" (posted, then no answer)
	// a 429: when it was answered and the Retry-After it gave
	answered   time.Time
	retryAfter time.Duration
	ts         string // an accepted chat.postMessage ("ok", "lost"): the message's ts
	thread     string // its thread_ts
	meta       string // its metadata
}

// stormSlack is Slack's Web API in a storm: between start and end every
// call is answered 429 with a random Retry-After, 503, or nothing at all
// (it hangs past the client's timeout; a post may also be taken and then
// left unanswered, as when an answer is lost); outside it, calls
// succeed. conversations.history and .replies, storm or not, answer
// with the accepted posts and their metadata. It records every call per
// channel.
type stormSlack struct {
	plan       stormPlan
	mu         sync.Mutex
	rng        *rand.Rand
	start, end time.Time
	calls      map[string][]*stormCall // channel → calls in order of receipt
	lost       map[string]bool         // channels that had a post taken and not answered
	seq        int
}

func (f *stormSlack) setStorm(start, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.start, f.end = start, end
}

func (f *stormSlack) handle(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		channel := r.Form.Get("channel")
		now := time.Now()
		f.mu.Lock()
		c := &stormCall{method: method, at: now, outcome: "ok"}
		f.calls[channel] = append(f.calls[channel], c)
		if !now.Before(f.start) && now.Before(f.end) {
			outcomes := []string{"429", "429", "503", "timeout"}
			if method == "chat.postMessage" {
				outcomes = append(outcomes, "lost")
			}
			c.outcome = outcomes[f.rng.IntN(len(outcomes))]
			if method == "chat.postMessage" && !f.lost[channel] {
				c.outcome = "lost" // each channel's first post in the storm: taken, never answered
			}
			if c.outcome == "lost" {
				f.lost[channel] = true
			}
		}
		retryAfter := 1 + f.rng.IntN(f.plan.maxRetryAfter)
		switch c.outcome {
		case "429":
			// The answer's time is taken under the lock, before the answer
			// leaves: the client cannot know of it any earlier.
			c.answered, c.retryAfter = time.Now(), time.Duration(retryAfter)*time.Second
			f.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case "503":
			f.mu.Unlock()
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		case "lost":
			f.seq++
			c.ts, c.thread, c.meta = fmt.Sprintf("1700000100.%06d", f.seq), r.Form.Get("thread_ts"), r.Form.Get("metadata")
			f.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(f.plan.hang):
			}
			return
		case "timeout":
			f.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(f.plan.hang):
			}
			return
		}
		if strings.HasPrefix(method, "conversations.") {
			msgs := []map[string]any{}
			for _, p := range f.calls[channel] {
				if p.method != "chat.postMessage" || p.ts == "" || (method == "conversations.replies" && p.thread != r.Form.Get("ts")) {
					continue
				}
				m := map[string]any{"type": "message", "ts": p.ts}
				if p.meta != "" {
					m["metadata"] = json.RawMessage(p.meta)
				}
				msgs = append(msgs, m)
			}
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
			return
		}
		f.seq++
		ts := r.Form.Get("ts")
		if method == "chat.postMessage" {
			ts = fmt.Sprintf("1700000100.%06d", f.seq)
			c.ts, c.thread, c.meta = ts, r.Form.Get("thread_ts"), r.Form.Get("metadata")
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": ts})
	}
}

// TestReliabilityChatStorm is item 4 of the reliability battery
// (docs/reliability.md, "Chat storms"): reports keep coming for several
// channels while Slack answers 429 with Retry-After, 503, or nothing;
// in the end every event is in its channel exactly once, no channel was
// called before the Retry-After it was given, and each channel's backlog
// drained in the order its notifications were created.
func TestReliabilityChatStorm(t *testing.T) {
	mode := os.Getenv("CERTDESK_RELIABILITY")
	plan := stormPlanFor(mode)
	f := &stormSlack{plan: plan, rng: rand.New(rand.NewPCG(4, 2026)), calls: map[string][]*stormCall{}, lost: map[string]bool{}}
	f.setStorm(time.Now().Add(24*time.Hour), time.Now().Add(24*time.Hour))
	mux := http.NewServeMux()
	mux.HandleFunc("/api/chat.postMessage", f.handle("chat.postMessage"))
	mux.HandleFunc("/api/chat.update", f.handle("chat.update"))
	mux.HandleFunc("/api/conversations.history", f.handle("conversations.history"))
	mux.HandleFunc("/api/conversations.replies", f.handle("conversations.replies"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SlackAPIURL = srv.URL + "/api/"
		c.SlackBotToken = "xoxb-test"
		c.SlackTimeout = plan.clientTimeout
	}})
	ctx := context.Background()
	channels := make([]string, plan.channels)
	reporters := make([]string, plan.channels)
	for i := range channels {
		channels[i] = fmt.Sprintf("C0STORM%04d", i)
		region := &org.Organization{Slug: fmt.Sprintf("region-%d", i), Name: fmt.Sprintf("Region %d CERT", i),
			Kind: org.RegionalCERT, ChatChannel: channels[i]}
		require.NoError(t, h.App.Store.CreateOrganization(ctx, region))
		city := &org.Organization{Slug: fmt.Sprintf("city-%d", i), Name: fmt.Sprintf("City %d", i),
			Kind: org.LocalAuthority, ParentID: &region.ID}
		require.NoError(t, h.App.Store.CreateOrganization(ctx, city))
		_, reporters[i] = h.User(city.Slug, access.Reporter)
	}

	// Reports for every channel, one after the other per channel, from
	// before the storm until after it.
	begin := time.Now()
	stormStart, stormEnd := begin.Add(plan.before), begin.Add(plan.before+plan.storm)
	f.setStorm(stormStart, stormEnd)
	stop := stormEnd.Add(plan.after)
	var wg sync.WaitGroup
	reported := make([]int, plan.channels)
	for i := range channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(plan.every)
			defer tick.Stop()
			for n := 0; time.Now().Before(stop); n++ {
				r := h.WithT(t).As(reporters[i]).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
					"title": fmt.Sprintf("Storm report %d for %s", n, channels[i]), "severity": "medium", "tlp": "amber"})
				if !assert.Equal(t, http.StatusCreated, r.Status, "%s", r.Body) {
					return
				}
				reported[i]++
				<-tick.C
			}
		}()
	}
	wg.Wait()
	events := 0
	for _, n := range reported {
		events += n
	}

	// The backlog drains: every notification sent, every delivery job done.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var pending, jobs int
		assert.NoError(c, h.App.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE state <> 'sent'`).Scan(&pending))
		assert.NoError(c, h.App.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM river_job
			WHERE kind IN ('notify.deliver', 'notify.update_root') AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&jobs))
		assert.Zero(c, pending, "notifications not sent")
		assert.Zero(c, jobs, "delivery jobs not done")
	}, plan.drain, 250*time.Millisecond, "the backlog drains")
	drained := time.Since(stormEnd)

	// The notifications as recorded: one per event, each with its ts.
	type note struct {
		channel, ts string
		created     time.Time
		id          string
	}
	rows, err := h.App.DB.SQL.QueryContext(ctx, `SELECT channel, provider_message_id, created_at, id::text FROM notifications
		WHERE provider = 'slack' ORDER BY channel, created_at, id`)
	require.NoError(t, err)
	byTS := map[string]note{}
	order := map[string][]string{} // channel → ts in order of creation
	for rows.Next() {
		var n note
		require.NoError(t, rows.Scan(&n.channel, &n.ts, &n.created, &n.id))
		byTS[n.ts] = n
		order[n.channel] = append(order[n.channel], n.ts)
	}
	require.NoError(t, rows.Err())
	require.Len(t, byTS, events, "one Slack notification per report")

	f.mu.Lock()
	defer f.mu.Unlock()
	var n429, n503, nTimeout, nLost, delivered, early int

	for ci, ch := range channels {
		calls := f.calls[ch]
		var posted []string // ts of accepted posts, in order of receipt
		var postedAt []time.Time
		var firstFailure time.Time // when certdesk first learnt of a failed call to the channel
		for k, c := range calls {
			switch c.outcome {
			case "429":
				n429++
			case "503":
				n503++
			case "timeout":
				nTimeout++
			case "lost":
				nLost++
			}
			if c.ts != "" {
				posted = append(posted, c.ts) // accepted, answered or not
				postedAt = append(postedAt, c.at)
			}
			// certdesk learns of a failure when it is answered, or, for a
			// call left unanswered, when its client gives up.
			if c.outcome != "ok" {
				known := c.at
				if c.outcome == "timeout" || c.outcome == "lost" {
					known = c.at.Add(plan.clientTimeout)
				}
				if firstFailure.IsZero() || known.Before(firstFailure) {
					firstFailure = known
				}
			}
			// Never before Retry-After: no call to the channel received
			// after a 429 was answered and before its Retry-After passed.
			if c.outcome == "429" {
				for _, later := range calls[k+1:] {
					if later.at.After(c.answered) && later.at.Before(c.answered.Add(c.retryAfter)) {
						early++
						t.Errorf("%s: %s at %s, %s after a 429 that said Retry-After %s", ch, later.method,
							later.at.Format("15:04:05.000"), later.at.Sub(c.answered), c.retryAfter)
					}
				}
			}
		}
		// Exactly once: every notification of the channel posted once, and
		// nothing else posted.
		seen := map[string]int{}
		for _, ts := range posted {
			seen[ts]++
		}
		for _, ts := range order[ch] {
			if seen[ts] == 1 {
				delivered++
			}
			require.Equal(t, 1, seen[ts], "%s: notification with ts %q posted %d times", ch, ts, seen[ts])
		}
		require.Len(t, posted, len(order[ch]), "%s: posts", ch)
		require.Equal(t, reported[ci], len(order[ch]), "%s: one notification per report", ch)
		// In order: from the moment certdesk learnt of the channel's first
		// failure on, posts arrive in the order their notifications were
		// created.
		require.False(t, firstFailure.IsZero(), "%s saw no storm", ch)
		var after []string
		for k, ts := range posted {
			if postedAt[k].After(firstFailure) {
				after = append(after, ts)
			}
		}
		rank := map[string]int{}
		for k, ts := range order[ch] {
			rank[ts] = k
		}
		require.True(t, sort.SliceIsSorted(after, func(a, b int) bool { return rank[after[a]] < rank[after[b]] }),
			"%s: posts after the first failure out of order of creation: %v (ranks %v)", ch, after, ranksOf(after, rank))
	}
	require.Zero(t, early, "calls before Retry-After")
	require.Positive(t, nLost, "the storm took posts without answering them")
	t.Logf("T4: %d events, %d channels, %d 429s, %d 503s, %d timeouts, %d posts whose answer was lost, %d delivered once, %d early retries, in order (mode %q, storm %s, backlog drained %s after it)",
		events, plan.channels, n429, n503, nTimeout, nLost, delivered, early, mode, plan.storm, drained.Round(100*time.Millisecond))
}

// ranksOf maps each ts to its notification's rank of creation.
func ranksOf(tss []string, rank map[string]int) []int {
	out := make([]int, len(tss))
	for i, ts := range tss {
		out[i] = rank[ts]
	}
	return out
}

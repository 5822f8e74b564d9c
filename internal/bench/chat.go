package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The report → Slack message targets (design §8).
const (
	chatP50Target = 100
	chatP99Target = 500
	// chatChannel is the regional CERT's Slack channel in this phase.
	chatChannel = "C0BENCHREG1"
	// chatDrain bounds the wait for the last messages after the last
	// report.
	chatDrain = 60 * time.Second
)

// chatArrivals is a fake Slack (internal/slackfake) that notes when each
// top-level chat.postMessage arrived, by the first incident reference it
// names.
type chatArrivals struct {
	fake *slackfake.Server
	mu   sync.Mutex
	at   map[string]time.Time // reference → first post in chatChannel
	ref  *regexp.Regexp
}

func newChatArrivals() *chatArrivals {
	return &chatArrivals{fake: slackfake.New(nil, nil), at: map[string]time.Time{}, ref: regexp.MustCompile(`INC-\d{4}-\d{6,}`)}
}

// Handler serves the fake Slack, noting the arrival of every
// chat.postMessage before the fake answers it.
func (c *chatArrivals) Handler() http.Handler {
	next := c.fake.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/chat.postMessage" {
			now := time.Now()
			// ParseForm keeps the form, so the fake reads the same one.
			if err := r.ParseForm(); err == nil && r.PostForm.Get("channel") == chatChannel && r.PostForm.Get("thread_ts") == "" {
				if ref := c.ref.FindString(r.PostForm.Get("text") + " " + r.PostForm.Get("blocks")); ref != "" {
					c.mu.Lock()
					if _, ok := c.at[ref]; !ok {
						c.at[ref] = now
					}
					c.mu.Unlock()
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// arrived returns when the message about ref arrived.
func (c *chatArrivals) arrived(ref string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.at[ref]
	return t, ok
}

// chat measures report → Slack message: the real app with its workers,
// wired to a local fake Slack, with the city's regional CERT's chat
// channel set; reports are POSTed over REST at ChatRate per second for
// Duration (open loop: each report is sent when it is due, whether or
// not earlier ones were answered), and for each, the time from its commit
// (the commit timestamp of its "created" event) to the arrival of the
// chat.postMessage about it at the fake, p50 and p99.
func (e *env) chat(ctx context.Context) error {
	slack := newChatArrivals()
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ssrv := &http.Server{Handler: slack.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ssrv.Serve(sln) }()
	defer ssrv.Close()

	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.DataDir, cfg.BlobDir = e.dir, e.dir+"/blobs-chat"
	cfg.JobPollInterval = e.opts.PollInterval
	cfg.SlackAPIURL, cfg.SlackBotToken = "http://"+sln.Addr().String()+"/api/", "xoxb-bench"
	a, url, closeDB, err := e.phaseApp(ctx, "chat", cfg, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer closeDB()
	// As in the intake phase: the ransomware playbook would start in each
	// report's transaction; this phase measures the report's own path.
	a.Runs.SetPlaybooks(nil)
	stopWorkers, err := runWorkers(ctx, a)
	if err != nil {
		return err
	}
	defer stopWorkers()
	base, closeHTTP, err := serveHTTP(a)
	if err != nil {
		return err
	}
	defer closeHTTP()
	token, err := e.reporter(ctx, a, chatChannel)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	body, _ := json.Marshal(map[string]any{
		"title": "Ransomware at the city hall", "description": description, "stage": "response",
		"severity": "high", "tlp": "TLP:AMBER", "category": "malicious-code", "type": "infected-system", "tags": []string{"ransomware"},
	})
	// post reports one incident and returns its reference and when the
	// answer came.
	post := func(ctx context.Context) (string, time.Time, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/incidents", bytes.NewReader(body))
		if err != nil {
			return "", time.Time{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return "", time.Time{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered := time.Now()
		if resp.StatusCode != http.StatusCreated {
			return "", time.Time{}, fmt.Errorf("POST /api/v1/incidents: %d %s", resp.StatusCode, b)
		}
		var out struct {
			Reference string `json:"reference"`
		}
		if err := json.Unmarshal(b, &out); err != nil || out.Reference == "" {
			return "", time.Time{}, fmt.Errorf("POST /api/v1/incidents: no reference in %s", b)
		}
		return out.Reference, answered, nil
	}
	// Warm up (connections, the token cache, first plans), and check that
	// a report reaches the channel at all.
	for range 3 {
		ref, _, err := post(ctx)
		if err != nil {
			return err
		}
		if missing, err := waitArrivals(ctx, slack, []string{ref}, 30*time.Second); err != nil || missing > 0 {
			return fmt.Errorf("warm-up: no Slack message about %s after 30 s (err %v)", ref, err)
		}
	}

	e.progress("report → Slack: %d reports/s for %s", e.opts.ChatRate, e.opts.Duration)
	type sent struct {
		ref      string
		answered time.Time
		took     time.Duration // the POST's latency
		err      error
	}
	var (
		mu  sync.Mutex
		all []sent
		wg  sync.WaitGroup
	)
	// The i-th report is due at began + i/rate, whatever happened to the
	// earlier ones: a report that is late (a busy machine) is sent at
	// once, so the phase sends rate × duration reports.
	count := max(1, int(e.opts.Duration.Seconds()*float64(e.opts.ChatRate)))
	began := time.Now()
	for i := range count {
		due := began.Add(time.Duration(i) * time.Second / time.Duration(e.opts.ChatRate))
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-time.After(time.Until(due)):
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			ref, at, err := post(ctx)
			mu.Lock()
			all = append(all, sent{ref, at, at.Sub(t), err})
			mu.Unlock()
		}()
	}
	sending := time.Since(began)
	wg.Wait()
	offered := float64(len(all)) / (sending + time.Second/time.Duration(e.opts.ChatRate)).Seconds()
	refs := make([]string, 0, len(all))
	answered := map[string]time.Time{}
	var posts []time.Duration
	for _, s := range all {
		if s.err != nil {
			return s.err
		}
		refs = append(refs, s.ref)
		answered[s.ref] = s.answered
		posts = append(posts, s.took)
	}
	// A loaded machine may not keep up with the rate: the wait is
	// bounded, and a message that has not arrived by then counts with the
	// time waited (a lower bound), so the percentiles cannot flatter.
	missing, err := waitArrivals(ctx, slack, refs, chatDrain)
	if err != nil {
		return err
	}
	gaveUp := time.Now()
	commits, err := commitTimes(ctx, url, refs)
	if err != nil {
		return err
	}
	var fromCommit, fromAnswer []time.Duration
	for _, ref := range refs {
		at, ok := slack.arrived(ref)
		if !ok {
			at = gaveUp
		}
		c, ok := commits[ref]
		if !ok {
			return fmt.Errorf("no commit time for %s", ref)
		}
		fromCommit = append(fromCommit, max(0, at.Sub(c)))
		fromAnswer = append(fromAnswer, max(0, at.Sub(answered[ref])))
	}
	note := fmt.Sprintf("%d reports POSTed at %.0f/s (target rate %d/s) for %s over REST, each routed to its regional CERT whose channel "+
		"is set, to a local fake Slack (internal/slackfake); from the commit of the report (pg_xact_commit_timestamp of its "+
		"\"created\" event, track_commit_timestamp) to the top-level chat.postMessage naming it arriving at the fake; "+
		"from the POST's response instead: p50 %.1f ms, p99 %.1f ms; the POSTs took p50 %.1f ms, p99 %.1f ms; playbook triggers off",
		len(refs), offered, e.opts.ChatRate, e.opts.Duration, Ms(Percentile(fromAnswer, 50)), Ms(Percentile(fromAnswer, 99)),
		Ms(Percentile(posts, 50)), Ms(Percentile(posts, 99)))
	// Where the time goes: how long each job of the path waited for a
	// worker and how long it ran.
	for _, kind := range []string{"notify.deliver"} {
		waited, err := durations(ctx, url, `SELECT EXTRACT(epoch FROM attempted_at - scheduled_at) FROM river_job
			WHERE kind = '`+kind+`' AND attempted_at IS NOT NULL AND created_at >= $1`, began)
		if err != nil {
			return err
		}
		ran, err := durations(ctx, url, `SELECT EXTRACT(epoch FROM finalized_at - attempted_at) FROM river_job
			WHERE kind = '`+kind+`' AND finalized_at IS NOT NULL AND created_at >= $1`, began)
		if err != nil {
			return err
		}
		note += fmt.Sprintf("; %s jobs waited p50 %.1f / p99 %.1f ms for a worker and ran p50 %.1f / p99 %.1f ms", kind,
			Ms(Percentile(waited, 50)), Ms(Percentile(waited, 99)), Ms(Percentile(ran, 50)), Ms(Percentile(ran, 99)))
	}
	if missing > 0 {
		note += fmt.Sprintf("; %d messages had NOT arrived %s after the last report and count with the time waited", missing, chatDrain)
	}
	e.report.Rows = append(e.report.Rows,
		NewRow("report → Slack message, p50", "ms", Ms(Percentile(fromCommit, 50)), 0, Target{AtMost, chatP50Target}, ""),
		NewRow("report → Slack message, p99", "ms", Ms(Percentile(fromCommit, 99)), 0, Target{AtMost, chatP99Target}, note))
	return nil
}

// waitArrivals waits until the fake Slack has a message about every
// reference, at most limit, and returns how many are still missing.
func waitArrivals(ctx context.Context, slack *chatArrivals, refs []string, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		missing := 0
		for _, ref := range refs {
			if _, ok := slack.arrived(ref); !ok {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing, nil
		}
		// A poll with a deadline: the fake notes arrivals in a map, and
		// 20 ms is short against the latencies measured.
		select {
		case <-ctx.Done():
			return missing, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// commitTimes returns, by reference, when each incident's report
// committed: the commit timestamp of its "created" event (an append-only
// row, written in the report's transaction).
func commitTimes(ctx context.Context, url string, refs []string) (map[string]time.Time, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT i.reference, pg_xact_commit_timestamp(e.xmin)
		FROM incidents i JOIN incident_events e ON e.incident_id = i.id AND e.kind = 'created'
		WHERE i.reference = ANY ($1)`, refs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]time.Time, len(refs))
	for rows.Next() {
		var ref string
		var at time.Time
		if err := rows.Scan(&ref, &at); err != nil {
			return nil, err
		}
		out[ref] = at
	}
	return out, rows.Err()
}

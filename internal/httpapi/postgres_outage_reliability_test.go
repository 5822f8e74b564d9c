//go:build reliability

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

// outageLongMode reports whether the battery runs in its long mode
// (CERTDESK_RELIABILITY=long); quick is the default.
func outageLongMode() bool { return os.Getenv("CERTDESK_RELIABILITY") == "long" }

// outageCluster is a PostgreSQL cluster of the test's own, on a fixed
// port, that the test stops and starts again (the shared test cluster is
// never touched).
type outageCluster struct {
	t    *testing.T
	dir  string
	port int
	mu   sync.Mutex
	c    *pgembed.Cluster
}

func (oc *outageCluster) start() {
	oc.t.Helper()
	c, err := pgembed.Start(context.Background(), pgembed.Options{DataDir: oc.dir, Port: oc.port, StartTimeout: time.Minute})
	require.NoError(oc.t, err)
	oc.mu.Lock()
	oc.c = c
	oc.mu.Unlock()
}

func (oc *outageCluster) stop() {
	oc.t.Helper()
	oc.mu.Lock()
	c := oc.c
	oc.mu.Unlock()
	require.NoError(oc.t, c.Stop())
}

// outageStats counts what the load clients saw, by phase.
type outageStats struct {
	mu        sync.Mutex
	requests  map[string]int           // phase → requests
	status    map[string]map[int]int   // phase → status → count
	transport map[string]int           // phase → transport errors (no answer)
	maxLat    map[string]time.Duration // phase → longest answer
	bad       []string                 // answers that break the promise
	acked     map[string]string        // Idempotency-Key → incident ID, once a 201 came
	phase     atomic.Value             // string
}

func (s *outageStats) record(status int, lat time.Duration, what string) {
	ph := s.phase.Load().(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[ph]++
	if s.status[ph] == nil {
		s.status[ph] = map[int]int{}
	}
	if status == 0 {
		s.transport[ph]++
	} else {
		s.status[ph][status]++
	}
	if lat > s.maxLat[ph] {
		s.maxLat[ph] = lat
	}
	if what != "" && len(s.bad) < 20 {
		s.bad = append(s.bad, ph+": "+what)
	}
}

// TestReliabilityPostgresOutage (issue 15, item 2; docs/reliability.md):
// the real app (API and River workers) on a PostgreSQL cluster of the
// test's own, under load — reporters posting reports with
// Idempotency-Keys and retrying them until acknowledged, a reader of
// lists, a web UI page, /readyz — while PostgreSQL is restarted, then
// stopped for 30 s (long mode; 8 s in quick mode) and started again.
// Clients get 503 with a problem document (a page on UI routes) and
// Retry-After, never a 500 and never an answer later than the request
// time limit; /readyz is 503 while the database is down and 200 after;
// every acknowledged report exists afterwards, once; and the jobs queued
// before the outage (held back by pausing the queue from the restart to
// the end of the outage) and after it finish.
func TestReliabilityPostgresOutage(t *testing.T) {
	outage := 8 * time.Second
	steady := 2 * time.Second
	if outageLongMode() {
		outage, steady = 30*time.Second, 5*time.Second
	}
	const requestTimeout = 5 * time.Second
	// An answer may take the request's time limit, plus the error page
	// (which has a few seconds of its own to find the session) and the
	// loaded machine's scheduling.
	const maxLatency = requestTimeout + 6*time.Second

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	// The server runs as user postgres when the test runs as root: the
	// data folder is made with os.MkdirTemp, as testdb's (pgembed gives
	// it to that user), not inside t.TempDir's folder (mode 0700).
	dir, err := os.MkdirTemp("", "cdt-outage")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	oc := &outageCluster{t: t, dir: dir, port: port}
	oc.start()
	t.Cleanup(func() {
		oc.mu.Lock()
		defer oc.mu.Unlock()
		_ = oc.c.Stop()
	})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, oc.c.URL("postgres"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE certdesk")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	dbURL := oc.c.URL("certdesk")
	mdb, err := postgres.Open(ctx, dbURL, 2, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, postgres.Migrate(ctx, mdb.SQL, slog.New(slog.DiscardHandler)))
	mdb.Close()

	h := testapp.New(t, testapp.Options{DatabaseURL: dbURL, Config: func(c *config.Config) {
		c.RequestTimeout = requestTimeout
	}})
	toks := tree(h)

	st := &outageStats{requests: map[string]int{}, status: map[string]map[int]int{}, transport: map[string]int{},
		maxLat: map[string]time.Duration{}, acked: map[string]string{}}
	st.phase.Store("before")
	client := &http.Client{Timeout: 2 * maxLatency}

	// do sends one request and checks the shape of its answer; it returns
	// the status (0: no answer) and the body.
	do := func(method, path, token string, body []byte, header ...string) (int, []byte) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, h.URL+path, rd)
		if err != nil {
			panic(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		began := time.Now()
		resp, err := client.Do(req)
		lat := time.Since(began)
		if err != nil {
			st.record(0, lat, fmt.Sprintf("%s %s: no answer after %s: %v", method, path, lat.Round(time.Millisecond), err))
			return 0, nil
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var what string
		switch {
		case lat > maxLatency:
			what = fmt.Sprintf("%s %s: %d after %s", method, path, resp.StatusCode, lat.Round(time.Millisecond))
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable:
			what = fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, out)
		case resp.StatusCode == http.StatusServiceUnavailable:
			what = checkUnavailable(path, resp, out)
		}
		st.record(resp.StatusCode, lat, what)
		return resp.StatusCode, out
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Reporters: each report has its own Idempotency-Key and is retried
	// with it until acknowledged (201), as a careful client would.
	const reporters = 3
	var pending atomic.Int64
	for r := range reporters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; loadCtx.Err() == nil; n++ {
				key := uuid.NewString()
				body, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("Outage report %d-%d", r, n),
					"severity": "high", "tlp": "amber"})
				pending.Add(1)
				var giveUp time.Time
				for {
					if loadCtx.Err() != nil && giveUp.IsZero() {
						giveUp = time.Now().Add(time.Minute)
					}
					if !giveUp.IsZero() && time.Now().After(giveUp) {
						return // pending stays above zero: the test fails
					}
					status, out := do(http.MethodPost, "/api/v1/incidents", toks["city"], body, "Idempotency-Key", key)
					if status == http.StatusCreated {
						var inc incidentBody
						if json.Unmarshal(out, &inc) == nil && inc.ID != "" {
							st.mu.Lock()
							st.acked[key] = inc.ID
							st.mu.Unlock()
						}
						break
					}
					// Retried until acknowledged, also after the load
					// stopped: a report in flight is never dropped. The
					// client backs off as a real one would after a 503.
					<-time.After(100 * time.Millisecond)
				}
				pending.Add(-1)
			}
		}()
	}
	// A reader of lists and one incident, and a web UI page with a
	// session cookie (the session is looked up in the database).
	wg.Add(1)
	go func() {
		defer wg.Done()
		for loadCtx.Err() == nil {
			do(http.MethodGet, "/api/v1/incidents?limit=20", toks["region"], nil)
			do(http.MethodGet, "/incidents", "", nil, "Cookie", "certdesk-session="+strings.Repeat("a", 43))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// /readyz, on its own, every 200 ms: what a load balancer sees.
	type probe struct {
		phase  string
		status int
	}
	var probes []probe
	var probeMu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for loadCtx.Err() == nil {
			status, _ := do(http.MethodGet, "/readyz", "", nil)
			probeMu.Lock()
			probes = append(probes, probe{st.phase.Load().(string), status})
			probeMu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()

	waitReady := func(within time.Duration) time.Duration {
		began := time.Now()
		poll := time.NewTicker(100 * time.Millisecond)
		defer poll.Stop()
		for ; time.Since(began) < within; <-poll.C {
			resp, err := client.Get(h.URL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(began)
				}
			}
		}
		t.Fatalf("/readyz not green %s after PostgreSQL started", within)
		return 0
	}
	waitRed := func(within time.Duration) {
		require.Eventually(t, func() bool {
			resp, err := client.Get(h.URL + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusServiceUnavailable
		}, within, 50*time.Millisecond, "/readyz did not go red with PostgreSQL stopped")
	}

	time.Sleep(steady)
	// A restart: stop (fast shutdown) and start at once.
	st.phase.Store("restart")
	oc.stop()
	waitRed(5 * time.Second)
	oc.start()
	greenAfterRestart := waitReady(30 * time.Second)
	st.phase.Store("between")
	// The queue is paused until the outage is over, so that the jobs of
	// the reports acknowledged now are still waiting when the database
	// goes away.
	require.NoError(t, h.App.River.QueuePause(ctx, "default", nil))
	time.Sleep(steady)
	// River's producers learn of the pause by polling, so the reports'
	// jobs may or may not be held back yet: add work that is sure to
	// wait, the throttle's sweep (it reads and writes the database), due
	// in the middle of the outage.
	const sweeps = 20
	for range sweeps {
		_, err := h.App.River.Insert(ctx, throttle.SweepJob{}, &river.InsertOpts{ScheduledAt: time.Now().Add(outage / 2)})
		require.NoError(t, err)
	}

	// Jobs queued before the outage: the ones not finished when it
	// begins (the paused queue's).
	var waiting []int64
	rows, err := h.App.DB.Pool.Query(ctx, `SELECT id FROM river_job
		WHERE state NOT IN ('completed', 'cancelled', 'discarded') AND scheduled_at <= now() + interval '1 minute'`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		waiting = append(waiting, id)
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, len(waiting), sweeps, "the jobs queued before the outage are waiting")

	st.phase.Store("outage")
	oc.stop()
	waitRed(5 * time.Second)
	time.Sleep(outage)
	st.phase.Store("after")
	oc.start()
	greenAfterOutage := waitReady(30 * time.Second)
	require.NoError(t, h.App.River.QueueResume(ctx, "default", nil))
	time.Sleep(steady)
	stopLoad()
	wg.Wait()
	require.Zero(t, pending.Load())

	// Every acknowledged report is there, once.
	st.mu.Lock()
	acked := st.acked
	st.mu.Unlock()
	ids := make([]string, 0, len(acked))
	for _, id := range acked {
		ids = append(ids, id)
	}
	var found int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE id = ANY($1::uuid[])`, ids).Scan(&found))
	var titles, distinctTitles int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx,
		`SELECT count(*), count(DISTINCT title) FROM incidents WHERE title LIKE 'Outage report %'`).Scan(&titles, &distinctTitles))
	lost := len(acked) - found

	// The jobs queued before the outage, and those of the reports after
	// it, finish: River's workers recovered.
	drainBegan := time.Now()
	var left int
	require.Eventually(t, func() bool {
		_ = h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job
			WHERE state NOT IN ('completed', 'cancelled', 'discarded') AND (id = ANY($1) OR NOT kind = ANY($2))`,
			waiting, notReportJobs).Scan(&left)
		return left == 0
	}, 4*time.Minute, 200*time.Millisecond, "jobs still waiting after the outage")
	drained := time.Since(drainBegan)
	var discarded int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'discarded'`).Scan(&discarded))

	st.mu.Lock()
	defer st.mu.Unlock()
	total, s503, s500, transport := 0, 0, 0, 0
	for ph, n := range st.requests {
		total += n
		s503 += st.status[ph][503]
		transport += st.transport[ph]
		for code, c := range st.status[ph] {
			if code >= 500 && code != 503 {
				s500 += c
			}
		}
	}
	red, green := 0, 0
	probeMu.Lock()
	for _, p := range probes {
		if p.phase == "outage" {
			if p.status == http.StatusServiceUnavailable {
				red++
			} else {
				green++
			}
		}
	}
	probeMu.Unlock()
	t.Logf("T2: %d requests (%d during the %s outage), %d answered 503, %d 500s, %d without an answer; "+
		"max latency during the outage %s (restart %s); /readyz during the outage %d red, %d green, green %s after the restart and %s after the outage; "+
		"%d acknowledged reports, %d lost, %d stored (%d distinct); %d jobs queued before the outage, all done %s after the load, %d discarded",
		total, st.requests["outage"], outage, s503, s500, transport,
		st.maxLat["outage"].Round(time.Millisecond), st.maxLat["restart"].Round(time.Millisecond), red, green,
		greenAfterRestart.Round(time.Millisecond), greenAfterOutage.Round(time.Millisecond),
		len(acked), lost, titles, distinctTitles, len(waiting), drained.Round(time.Millisecond), discarded)
	for ph, m := range st.status {
		t.Logf("  %s: %v, %d without answer, max %s", ph, m, st.transport[ph], st.maxLat[ph].Round(time.Millisecond))
	}
	require.Empty(t, st.bad, "answers that break the promise")
	require.Zero(t, s500)
	require.Zero(t, lost, "acknowledged reports lost")
	require.Equal(t, titles, distinctTitles, "a report stored twice")
	require.NotZero(t, st.status["outage"][503], "no 503 during the outage")
	require.NotZero(t, st.status["after"][http.StatusCreated], "no report acknowledged after the outage")
	require.Zero(t, green, "/readyz green while PostgreSQL was stopped")
	require.Zero(t, discarded, "jobs given up")
}

// notReportJobs are the kinds of job that are not a report's work to
// finish now: River's leader inserts the first three on a schedule, and
// the timers wait for their (legal or policy) deadline.
var notReportJobs = []string{"throttle.sweep", "stats.compact", "audit.verify", "deadline.timer", "escalation.policy"}

// checkUnavailable checks a 503: Retry-After, and a problem document on
// API routes or an HTML page on the web UI's. It returns what is wrong,
// or "".
func checkUnavailable(path string, resp *http.Response, body []byte) string {
	if resp.Header.Get("Retry-After") == "" && path != "/readyz" {
		return fmt.Sprintf("%s: 503 without Retry-After", path)
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(path, "/api/"):
		var p map[string]any
		if !strings.HasPrefix(ct, "application/problem+json") || json.Unmarshal(body, &p) != nil || p["status"] != float64(503) || p["type"] == nil {
			return fmt.Sprintf("%s: 503 is not a problem document: %s %s", path, ct, body)
		}
	case path == "/readyz":
		var p map[string]any
		if json.Unmarshal(body, &p) != nil || p["status"] != "unavailable" {
			return fmt.Sprintf("%s: %s", path, body)
		}
	default:
		if !strings.HasPrefix(ct, "text/html") || !bytes.Contains(body, []byte("<html")) {
			return fmt.Sprintf("%s: 503 is not a page: %s", path, ct)
		}
	}
	return ""
}

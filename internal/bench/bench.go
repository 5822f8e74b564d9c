package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/worker"
	"github.com/jackc/pgx/v5"
)

// Options configures Run. Zero values take the defaults of DefaultOptions.
type Options struct {
	// Duration of each load phase (raw baseline, then intake over REST).
	Duration time.Duration
	// Clients is the number of concurrent clients of both load phases.
	Clients int
	// PollInterval is River's fetch poll interval for the app
	// (CERTDESK_JOB_POLL_INTERVAL). Workers LISTEN for new jobs, so this is
	// only the fallback for notifications River leaves out.
	PollInterval time.Duration
	// IdleProbes is the number of paced single reports whose job pickup is
	// measured on an otherwise idle app.
	IdleProbes int
	// RiverJobs is the number of no-op jobs of River's own baseline.
	RiverJobs int
	// RiverWorkers is River's MaxWorkers for that baseline; the default is
	// certdesk's own (CERTDESK_WORKER_CONCURRENCY), so that playbook steps
	// are compared with River under the same settings.
	RiverWorkers int
	// Large seeds LargeCount incidents and times list and search pages.
	Large      bool
	LargeCount int
	// LargeOnly skips the load phases and runs only the large one.
	LargeOnly bool
	// LargeSkipMetrics skips the metrics' backfill and the dashboard of the
	// large phase.
	LargeSkipMetrics bool
	// LargeRequests is the number of requests per viewer in the large phase.
	LargeRequests int
	// UIRequests is the number of requests per page of the web UI phases.
	UIRequests int
	// TimelineEvents is the length of the long timeline whose first page
	// is timed; TimelineRequests the requests per page.
	TimelineEvents   int
	TimelineRequests int
	// ChatRate is the rate (reports per second, for Duration) of the
	// report → Slack message phase.
	ChatRate int
	// CPUProfile, when set, receives a CPU profile of the intake phase
	// (server and load generator together).
	CPUProfile io.Writer
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// DefaultOptions are the figures `make bench` runs with. The poll interval
// and River's workers are certdesk's defaults (CERTDESK_JOB_POLL_INTERVAL,
// CERTDESK_WORKER_CONCURRENCY).
func DefaultOptions() Options {
	o := Options{Duration: 10 * time.Second, Clients: 32, PollInterval: 100 * time.Millisecond, IdleProbes: 40,
		RiverJobs: 2000, RiverWorkers: 50, LargeCount: 1_000_000, LargeRequests: 20, UIRequests: 100,
		TimelineEvents: 10_000, TimelineRequests: 100, ChatRate: 50}
	if c, err := config.Load(func(string) string { return "" }); err == nil {
		o.PollInterval, o.RiverWorkers = c.JobPollInterval, c.WorkerConcurrency
	}
	return o
}

func (o *Options) fill() {
	d := DefaultOptions()
	if o.Duration <= 0 {
		o.Duration = d.Duration
	}
	if o.Clients <= 0 {
		o.Clients = d.Clients
	}
	if o.PollInterval <= 0 {
		o.PollInterval = d.PollInterval
	}
	if o.IdleProbes <= 0 {
		o.IdleProbes = d.IdleProbes
	}
	if o.RiverJobs <= 0 {
		o.RiverJobs = d.RiverJobs
	}
	if o.RiverWorkers <= 0 {
		o.RiverWorkers = d.RiverWorkers
	}
	if o.LargeCount <= 0 {
		o.LargeCount = d.LargeCount
	}
	if o.LargeRequests <= 0 {
		o.LargeRequests = d.LargeRequests
	}
	if o.UIRequests <= 0 {
		o.UIRequests = d.UIRequests
	}
	if o.TimelineEvents <= 0 {
		o.TimelineEvents = d.TimelineEvents
	}
	if o.TimelineRequests <= 0 {
		o.TimelineRequests = d.TimelineRequests
	}
	if o.ChatRate <= 0 {
		o.ChatRate = d.ChatRate
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// env is what the phases share: the running cluster and the scratch folder.
type env struct {
	opts    Options
	cluster *pgembed.Cluster
	dir     string
	log     *slog.Logger
	report  *Report
	began   time.Time
}

func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.opts.Progress, "bench: %5.1fs "+format+"\n", append([]any{time.Since(e.began).Seconds()}, args...)...)
}

// Run starts a throwaway PostgreSQL, measures every phase against its
// baseline and returns the report. Every phase is bounded in count and
// time; ctx cancels the run.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.fill()
	began := time.Now()
	r := &Report{Started: began.UTC(), Machine: machine()}
	dir, err := os.MkdirTemp("", "certdesk-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// When we run as root, postgres runs as user "postgres" and must be
	// able to enter the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	e := &env{opts: opts, dir: dir, log: slog.New(slog.DiscardHandler), report: r, began: began}
	e.progress("starting PostgreSQL in %s (durable: fsync on, synchronous_commit on)", dir)
	if err := e.startCluster(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = e.cluster.Stop() }()

	r.Settings = append(r.Settings,
		fmt.Sprintf("PostgreSQL: pgembed, durable settings (fsync on, synchronous_commit on, full_page_writes on), track_commit_timestamp on; port %d on 127.0.0.1", e.cluster.Port()),
		fmt.Sprintf("load: %d concurrent clients for %s per phase", opts.Clients, opts.Duration),
		fmt.Sprintf("job poll interval (CERTDESK_JOB_POLL_INTERVAL): %s, a fallback: workers LISTEN for new jobs (riverpgxv5's listener on the pgx pool), FetchCooldown %s", opts.PollInterval, worker.FetchCooldown),
	)

	if !opts.LargeOnly {
		raw, err := e.rawBaseline(ctx)
		if err != nil {
			return nil, fmt.Errorf("raw PostgreSQL baseline: %w", err)
		}
		rows, err := e.rawReportRows(ctx)
		if err != nil {
			return nil, fmt.Errorf("raw PostgreSQL, every row of a report: %w", err)
		}
		if err := e.intake(ctx, raw, rows); err != nil {
			return nil, fmt.Errorf("intake: %w", err)
		}
		riverRate, err := e.riverBaseline(ctx)
		if err != nil {
			return nil, fmt.Errorf("river baseline: %w", err)
		}
		if err := e.playbookSteps(ctx, riverRate); err != nil {
			return nil, fmt.Errorf("playbook steps: %w", err)
		}
		if err := e.uiDemo(ctx); err != nil {
			return nil, fmt.Errorf("web UI: %w", err)
		}
		if err := e.timeline(ctx); err != nil {
			return nil, fmt.Errorf("timeline: %w", err)
		}
		if err := e.chat(ctx); err != nil {
			return nil, fmt.Errorf("report → Slack: %w", err)
		}
	}
	if opts.Large || opts.LargeOnly {
		if err := e.large(ctx); err != nil {
			return nil, fmt.Errorf("large: %w", err)
		}
	} else {
		r.Notes = append(r.Notes, "list/search and the web UI's pages at 1,000,000 incidents not measured (run with -large; seeding takes minutes)")
	}
	r.Took = Seconds(time.Since(began))
	return r, nil
}

// startCluster starts a durable cluster (fsync on, like production) in the
// scratch folder, turns track_commit_timestamp on (it needs a restart) so
// that job pickup can be measured from the exact commit time.
func (e *env) startCluster(ctx context.Context) error {
	opts := pgembed.Options{DataDir: filepath.Join(e.dir, "pg"), Logger: e.log}
	c, err := pgembed.Start(ctx, opts)
	if err != nil {
		return err
	}
	for _, set := range []string{"ALTER SYSTEM SET track_commit_timestamp = on",
		"ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"} {
		if err := execSQL(ctx, c.URL("postgres"), set); err != nil {
			_ = c.Stop()
			return err
		}
	}
	e.progress("restarting PostgreSQL for track_commit_timestamp and pg_stat_statements")
	if err := c.Stop(); err != nil {
		return err
	}
	if e.cluster, err = pgembed.Start(ctx, opts); err != nil {
		return err
	}
	var on string
	if err := querySQL(ctx, e.cluster.URL("postgres"), "SHOW track_commit_timestamp", &on); err != nil {
		return err
	}
	var fsync string
	if err := querySQL(ctx, e.cluster.URL("postgres"), "SHOW fsync", &fsync); err != nil {
		return err
	}
	if on != "on" || fsync != "on" {
		return fmt.Errorf("cluster settings: track_commit_timestamp=%s fsync=%s, want both on", on, fsync)
	}
	// The statement counts (costs.go) read pg_stat_statements from here,
	// with the time each statement took to plan as well as to run.
	for _, q := range []string{"CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
		"ALTER SYSTEM SET pg_stat_statements.track_planning = on", "SELECT pg_reload_conf()"} {
		if err := execSQL(ctx, e.cluster.URL("postgres"), q); err != nil {
			return err
		}
	}
	return nil
}

// database creates a database on the cluster, migrates it and opens it.
func (e *env) database(ctx context.Context, name string, maxConns int) (*postgres.DB, string, error) {
	if err := execSQL(ctx, e.cluster.URL("postgres"), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, "", err
	}
	e.progress("migrating database %s", name)
	url := e.cluster.URL(name)
	db, err := postgres.Open(ctx, url, maxConns, e.log)
	if err != nil {
		return nil, "", err
	}
	if err := postgres.Migrate(ctx, db.SQL, e.log); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("migrate %s: %w", name, err)
	}
	return db, url, nil
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func querySQL(ctx context.Context, url, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// machine describes where the run happened.
func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; the load generator runs in the same process",
		host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// rssMB reads a field (VmRSS, VmHWM) of /proc/self/status in MB.
func rssMB(field string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	var kb float64
	for _, line := range splitLines(string(b)) {
		if _, err := fmt.Sscanf(line, field+": %f kB", &kb); err == nil {
			return kb / 1024, nil
		}
	}
	return 0, errors.New(field + " not found in /proc/self/status")
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// load runs clients goroutines calling op until d has passed and returns
// the latencies of the successful calls, the time taken and the first
// error. A call in flight when d ends is finished and counted (so every
// client completes at least one call, however slow); calls are cancelled
// only by ctx or when they run past d + loadGrace. Each client stops at its
// first error.
func load(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, client int) error) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d+loadGrace)
	defer cancel()
	type result struct {
		lat []time.Duration
		err error
	}
	results := make(chan result, clients)
	began := time.Now()
	for c := range clients {
		go func() {
			var res result
			for time.Since(began) < d && ctx.Err() == nil {
				t := time.Now()
				if err := op(ctx, c); err != nil {
					res.err = err
					break
				}
				res.lat = append(res.lat, time.Since(t))
			}
			results <- res
		}()
	}
	var all []time.Duration
	var firstErr error
	for range clients {
		res := <-results
		all = append(all, res.lat...)
		if firstErr == nil {
			firstErr = res.err
		}
	}
	return all, time.Since(began), firstErr
}

// loadGrace bounds how long a load phase may run past its duration to
// finish the calls in flight.
const loadGrace = 30 * time.Second

// phaseApp opens a database of the phase's own (name) and builds the app
// on it with cfg; closeDB closes the database.
func (e *env) phaseApp(ctx context.Context, name string, cfg config.Config, maxConns int) (a *app.App, url string, closeDB func(), err error) {
	db, url, err := e.database(ctx, name, maxConns)
	if err != nil {
		return nil, "", nil, err
	}
	if a, err = app.New(cfg, db, e.log, time.Now); err != nil {
		db.Close()
		return nil, "", nil, err
	}
	return a, url, db.Close, nil
}

// runWorkers starts a's River workers; stop stops them, waiting 10 s at
// most for jobs under way.
func runWorkers(ctx context.Context, a *app.App) (stop func(), err error) {
	if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = a.River.Stop(stopCtx)
	}, nil
}

// serveHTTP serves a's handler on a loopback port: its base URL, and the
// function that closes the server.
func serveHTTP(a *app.App) (base string, closeHTTP func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// description is the ~1 KB description of every report, raw or over REST.
var description = strings.Repeat("Ransomware on the payroll server of the city hall; files encrypted, ransom note found. ", 12)

// rawResult is the raw PostgreSQL baseline.
type rawResult struct {
	rate float64
	p50  time.Duration
	p99  time.Duration
	cpu  cpuUse // the processor time per unit (every row of a report only)
}

// rawPool migrates a database of the phase's own and opens a pgx pool of
// one connection per client on it, for the raw baselines.
func (e *env) rawPool(ctx context.Context, name string) (*pgxpool.Pool, error) {
	db, url, err := e.database(ctx, name, e.opts.Clients+4)
	if err != nil {
		return nil, err
	}
	db.Close()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(e.opts.Clients)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// rawBaseline commits, with pgx directly and the same number of clients,
// what an intake commits at its heart: an incident row of ~1 KB, its
// "created" event and a river_job row, in one transaction with
// synchronous commit, in a database of the same schema.
func (e *env) rawBaseline(ctx context.Context) (rawResult, error) {
	pool, err := e.rawPool(ctx, "raw")
	if err != nil {
		return rawResult{}, err
	}
	defer pool.Close()
	orgID := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, slug, name, kind) VALUES ($1, 'raw-city', 'Raw city', 'local_authority')`, orgID); err != nil {
		return rawResult{}, err
	}
	var seq atomic.Int64
	e.progress("raw PostgreSQL baseline: %d clients, %s", e.opts.Clients, e.opts.Duration)
	lat, took, err := load(ctx, e.opts.Clients, e.opts.Duration, func(ctx context.Context, _ int) error {
		n := seq.Add(1)
		id, now := uuid.New(), time.Now().UTC()
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
		title := fmt.Sprintf("Ransomware at the city hall %d", n)
		if _, err := tx.Exec(ctx, `INSERT INTO incidents (id, reference, title, description, reporting_org_id, stage, status,
			severity, tlp, reported_at, created_at, updated_at, version, category, type, tags)
			VALUES ($1, $2, $3, $4, $5, 'response', 'open', 'high', 'TLP:AMBER', $6, $6, $6, 1, 'malicious-code', 'infected-system', '{ransomware}')`,
			id, fmt.Sprintf("RAW-%d", n), title, description, orgID, now); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"reference": fmt.Sprintf("RAW-%d", n), "title": title, "stage": "response",
			"severity": "high", "tlp": "TLP:AMBER", "reporting_org": "raw-city"})
		if _, err := tx.Exec(ctx, `INSERT INTO incident_events (incident_id, actor, kind, data, occurred_at)
			VALUES ($1, 'bench', 'created', $2, $3)`, id, data, now); err != nil {
			return err
		}
		args, _ := json.Marshal(map[string]any{"incident_id": id})
		key := sha256.Sum256(append([]byte("kind=incident.route&args="), args...))
		if _, err := tx.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, priority, unique_key, unique_states)
			VALUES ($1, 'incident.route', 25, 'default', 'available', 1, $2, B'11110101')`, args, key[:]); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return rawResult{}, err
	}
	if len(lat) == 0 {
		return rawResult{}, fmt.Errorf("no transaction committed in %s", took)
	}
	res := rawResult{rate: float64(len(lat)) / took.Seconds(), p50: Percentile(lat, 50), p99: Percentile(lat, 99)}
	e.progress("raw PostgreSQL: %.0f transactions/s", res.rate)
	return res, nil
}

// intake runs the real app on its own database and reports incidents over
// REST with a bearer token, then measures job pickup under that load and on
// an idle app, and the process's memory.
func (e *env) intake(ctx context.Context, raw, rows rawResult) error {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.DataDir = e.dir
	cfg.BlobDir = e.dir + "/blobs"
	cfg.JobPollInterval = e.opts.PollInterval
	a, url, closeDB, err := e.phaseApp(ctx, "certdesk", cfg, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer closeDB()
	// The reports are ransomware reports, which would start the shipped
	// ransomware playbook in each report's transaction: intake measures
	// the report itself, as its raw baseline does; playbook steps have a
	// phase of their own.
	a.Runs.SetPlaybooks(nil)
	e.report.Settings = append(e.report.Settings, "intake: playbook triggers off (the playbook phase measures runs)")
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

	token, err := e.reporter(ctx, a, "")
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: e.opts.Clients * 2, MaxIdleConnsPerHost: e.opts.Clients * 2, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	body, _ := json.Marshal(map[string]any{
		"title": "Ransomware at the city hall", "description": description, "stage": "response",
		"severity": "high", "tlp": "TLP:AMBER", "category": "malicious-code", "type": "infected-system", "tags": []string{"ransomware"},
	})
	post := func(ctx context.Context, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/incidents", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /api/v1/incidents: %d %s", resp.StatusCode, b)
		}
		return nil
	}
	// Warm up: connections, token cache, first plans.
	for range 3 {
		if err := post(ctx, 0); err != nil {
			return err
		}
	}

	e.progress("intake over REST: %d clients, %s", e.opts.Clients, e.opts.Duration)
	loadStart := time.Now()
	cpuStart, err := e.cpuNow()
	if err != nil {
		return err
	}
	if e.opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(e.opts.CPUProfile); err != nil {
			return err
		}
	}
	lat, took, err := load(ctx, e.opts.Clients, e.opts.Duration, post)
	if e.opts.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if len(lat) == 0 {
		return fmt.Errorf("no incident reported in %s", took)
	}
	rss, err := rssMB("VmRSS")
	if err != nil {
		return err
	}
	hwm, _ := rssMB("VmHWM")
	rate := float64(len(lat)) / took.Seconds()
	e.progress("intake: %.0f incidents/s", rate)
	r := e.report
	r.Rows = append(r.Rows,
		NewRow("raw PostgreSQL: every row of a report, its two commits", "/s", rows.rate, 0, Target{},
			fmt.Sprintf("the baseline (issue 14: \"the same rows\"); incident, 2 events, participant, notification, facts, deltas, job; then notification sent and job completed; one pgx batch per commit; p50 %.1f ms, p99 %.1f ms; %d clients",
				Ms(rows.p50), Ms(rows.p99), e.opts.Clients)),
		NewRow("intake over REST, authenticated", "/s", rate, rows.rate, Target{AtLeastRatio, 0.75}, ""),
		NewRow("raw PostgreSQL: incident + event + job, one transaction", "/s", raw.rate, 0, Target{},
			fmt.Sprintf("three of a report's rows, the baseline until 2026-12-05; p50 %.1f ms, p99 %.1f ms; pgx, %d clients", Ms(raw.p50), Ms(raw.p99), e.opts.Clients)),
		NewRow("intake over REST vs three rows", "/s", rate, raw.rate, Target{}, "the ratio reported until 2026-12-05"),
		NewRow("intake latency p50", "ms", Ms(Percentile(lat, 50)), Ms(rows.p50), Target{}, "baseline: every row of a report"),
		NewRow("intake latency p99", "ms", Ms(Percentile(lat, 99)), Ms(rows.p99), Target{AtMost, 100}, "baseline: every row of a report"),
	)

	// Job pickup under the load: wait (bounded) for the backlog to drain.
	drained, err := waitJobs(ctx, url, 60*time.Second)
	if err != nil {
		return err
	}
	// The processor time of the reports and their jobs: from the load's
	// start until its backlog was done.
	cpuEnd, err := e.cpuNow()
	if err != nil {
		return err
	}
	cpu := cpuBetween(cpuStart, cpuEnd, len(lat))
	r.Rows = append(r.Rows,
		NewRow("PostgreSQL CPU per report, over REST with its jobs", "ms", Ms(cpu.pgPer), Ms(rows.cpu.pgPer), Target{},
			"baseline: raw PostgreSQL, every row of a report; the cluster's processes from /proc, from the load's start until its jobs were done"),
		NewRow("certdesk CPU per report (server, workers and the load's clients)", "ms", Ms(cpu.selfPer), 0, Target{},
			"the bench process's user and system time over the same span"),
		NewRow("cores busy during intake (PostgreSQL + certdesk)", "%", 100*cpu.busy, 100*rows.cpu.busy, Target{},
			fmt.Sprintf("of %d cores; baseline: the raw phase's", runtime.NumCPU())),
	)
	under, err := pickups(ctx, url, loadStart)
	if err != nil {
		return err
	}
	working, err := workTimes(ctx, url, loadStart)
	if err != nil {
		return err
	}

	// Job pickup on an idle app: single reports, paced at random phases
	// of the poll interval.
	e.progress("job pickup on an idle app: %d paced reports", e.opts.IdleProbes)
	idleStart := time.Now()
	for range e.opts.IdleProbes {
		if err := post(ctx, 0); err != nil {
			return err
		}
		time.Sleep(e.opts.PollInterval/2 + rand.N(e.opts.PollInterval))
	}
	if _, err := waitJobs(ctx, url, 30*time.Second); err != nil {
		return err
	}
	idle, err := pickups(ctx, url, idleStart)
	if err != nil {
		return err
	}
	// What one report costs in the database, counted: one report at a
	// time on the idle app, each with all its jobs done.
	e.progress("counting statements and write transactions of %d reports", costReports)
	c, err := e.measureCost(ctx, "certdesk", costReports, 2*time.Second, func(ctx context.Context) error { return post(ctx, 0) },
		func(ctx context.Context) error { return allJobsDone(ctx, url, 30*time.Second) })
	if err != nil {
		return fmt.Errorf("counting a report's statements: %w", err)
	}
	e.progress("per report: %.1f statements, %.2f write transactions, PostgreSQL %.2f ms planning and %.2f ms running them, %.2f ms of its processes' CPU; the most executed:\n%s",
		c.statements, c.writes, c.planMs, c.execMs, c.pgCPUMs, c.breakdown(40))

	note := fmt.Sprintf("poll interval %s; %d jobs; commit (track_commit_timestamp) to River's attempted_at", e.opts.PollInterval, len(under))
	if !drained {
		note += "; the backlog had NOT drained after 60 s"
	}
	r.Rows = append(r.Rows,
		NewRow("job pickup after commit, under the intake load, p50", "ms", Ms(Percentile(under, 50)), 0, Target{}, ""),
		NewRow("job pickup after commit, under the intake load, p99", "ms", Ms(Percentile(under, 99)), 0, Target{AtMost, 50}, note),
		NewRow("first job (notify.deliver) run time under the intake load, p50", "ms", Ms(Percentile(working, 50)), 0, Target{}, ""),
		NewRow("first job (notify.deliver) run time under the intake load, p99", "ms", Ms(Percentile(working, 99)), 0, Target{},
			fmt.Sprintf("River's attempted_at to finalized_at; %d workers (CERTDESK_WORKER_CONCURRENCY), %d database connections (CERTDESK_DB_MAX_CONNS) shared with the API; "+
				"when jobs arrive faster than workers/run time, they queue and pickup grows", cfg.WorkerConcurrency, cfg.DBMaxConns)),
		NewRow("job pickup after commit, idle app, p50", "ms", Ms(Percentile(idle, 50)), 0, Target{}, ""),
		NewRow("job pickup after commit, idle app, p99", "ms", Ms(Percentile(idle, 99)), 0, Target{AtMost, 50},
			fmt.Sprintf("%d single reports paced %s–%s apart", len(idle), e.opts.PollInterval/2, e.opts.PollInterval*3/2)),
		NewRow("SQL statements per report, with its jobs", "", c.statements, 0, Target{AtMost, maxReportStatements},
			fmt.Sprintf("pg_stat_statements, BEGIN and COMMIT included; %d reports one at a time on the idle app, each with its jobs done, less the idle app's own", costReports)),
		NewRow("write transactions per report, with its jobs", "", c.writes, 0, Target{AtMost, maxReportWrites},
			"transaction IDs assigned: each a commit that waits for the WAL flush"),
		NewRow("resident memory after the intake load (VmRSS)", "MB", rss, 0, Target{Below, 150},
			fmt.Sprintf("peak VmHWM %.1f MB; the process also hosts the load generator (and River, as serve does)", hwm)),
	)
	return nil
}

// costReports is how many reports the statement count is taken over.
const costReports = 20

// The most a report may cost, with its jobs: the counts measured last
// (docs/performance.md; 51 statements and 4.8 write transactions when first
// taken, 34–35 and 3–3.8 once reports were routed in their own
// transaction, 30.9 once the roll-ups' and the delivery's locks joined
// other statements), so that they can only go down. Lower them when a
// change lowers the counts.
const (
	maxReportStatements = 32
	maxReportWrites     = 4
)

// reporter creates a national CERT, a regional CERT (chat channel
// regionChannel, "" for none) and a city, and a reporter of the city with
// an API token.
func (e *env) reporter(ctx context.Context, a *app.App, regionChannel string) (string, error) {
	nat := &org.Organization{Slug: "bench-national", Name: "National CERT", Kind: org.NationalCERT}
	if err := a.Store.CreateOrganization(ctx, nat); err != nil {
		return "", err
	}
	reg := &org.Organization{Slug: "bench-region", Name: "Regional CERT", Kind: org.RegionalCERT, ParentID: &nat.ID, ChatChannel: regionChannel}
	if err := a.Store.CreateOrganization(ctx, reg); err != nil {
		return "", err
	}
	city := &org.Organization{Slug: "bench-city", Name: "City", Kind: org.LocalAuthority, ParentID: &reg.ID}
	if err := a.Store.CreateOrganization(ctx, city); err != nil {
		return "", err
	}
	u, err := a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: city.ID, Email: "reporter@bench-city.example",
		Name: "Bench reporter", Role: access.Reporter})
	if err != nil {
		return "", err
	}
	tok, _, err := a.Identity.CreateToken(ctx, access.System, u.ID, "bench", nil)
	return tok, err
}

// firstJob is the kind of the first job a report queues: the delivery of
// its coordinator's notification (routing runs in the report's own
// transaction; until issue 14 step 2 it was an incident.route job).
const firstJob = "notify.deliver"

// firstJobOf joins river_job j to the incident i of the "routed"
// notification n it delivers.
const firstJobOf = `river_job j JOIN notifications n ON n.event_kind = 'incident.routed' AND j.args->>'notification_id' = n.id::text
		JOIN incidents i ON i.id = n.incident_id`

// waitJobs waits until no firstJob job is left unfinished, at most limit;
// it reports whether they all finished.
func waitJobs(ctx context.Context, url string, limit time.Duration) (bool, error) {
	deadline := time.Now().Add(limit)
	for {
		var n int64
		if err := querySQL(ctx, url, `SELECT count(*) FROM river_job WHERE kind = '`+firstJob+`' AND state NOT IN ('completed', 'discarded', 'cancelled')`, &n); err != nil {
			return false, err
		}
		if n == 0 {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pickups returns, for every incident created since since, the time from
// the commit of its report (the commit timestamp of its "created" event,
// an append-only row) to the moment River fetched its first job (firstJob).
func pickups(ctx context.Context, url string, since time.Time) ([]time.Duration, error) {
	out, err := durations(ctx, url, `SELECT EXTRACT(epoch FROM j.attempted_at - pg_xact_commit_timestamp(e.xmin))
		FROM `+firstJobOf+`
		JOIN incident_events e ON e.incident_id = i.id AND e.kind = 'created'
		WHERE j.kind = '`+firstJob+`' AND e.occurred_at >= $1 AND j.attempted_at IS NOT NULL`, since)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no job pickup found since %s", since.Format(time.RFC3339Nano))
	}
	for i, d := range out {
		// A job cannot be fetched before its commit, but once (a smoke run
		// on the loaded 2-core VM, with workers that LISTEN and fetch
		// within milliseconds) attempted_at came out 21 ms before the
		// commit timestamp; the cause was not found. Count such a pickup
		// as 0 rather than let it pull the percentiles below zero.
		out[i] = max(0, d)
	}
	return out, nil
}

// workTimes returns, for the first job (firstJob) of every incident created
// since since, how long it ran: from River's fetch (attempted_at) to its
// completion (finalized_at, set in the transaction of its effect).
func workTimes(ctx context.Context, url string, since time.Time) ([]time.Duration, error) {
	out, err := durations(ctx, url, `SELECT EXTRACT(epoch FROM j.finalized_at - j.attempted_at)
		FROM `+firstJobOf+`
		WHERE j.kind = '`+firstJob+`' AND j.finalized_at IS NOT NULL AND i.created_at >= $1`, since)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no finished %s job since %s", firstJob, since.Format(time.RFC3339Nano))
	}
	return out, nil
}

// durations runs query (one column of seconds, one argument: since) on a
// pool of its own and returns the rows as durations.
func durations(ctx context.Context, url, query string, since time.Time) ([]time.Duration, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, query, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var s float64
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, time.Duration(s*float64(time.Second)))
	}
	return out, rows.Err()
}

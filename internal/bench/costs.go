package bench

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cost of one unit of work in the database, counted by PostgreSQL
// itself rather than timed: the statements a database executed
// (pg_stat_statements, loaded by startCluster; BEGIN and COMMIT count, as
// they are round trips too) and the transactions that wrote (transaction
// IDs assigned on the cluster: each is a commit that waits for the WAL
// flush, which is what limits intake on a durable two-core machine). The
// counts do not depend on the machine's load, so they can only go down.

// snapshot is the cluster's counters at one moment.
type snapshot struct {
	at     time.Time
	writes float64            // the next transaction ID to be assigned
	calls  map[string]float64 // statements of the database, by normalised text
	plan   map[string]float64 // their planning time so far, ms
	exec   map[string]float64 // their execution time so far, ms
	pgCPU  float64            // the cluster's processor time so far, ms
}

// snap reads the counters of database db.
func (e *env) snap(ctx context.Context, db string) (snapshot, error) {
	s := snapshot{calls: map[string]float64{}, plan: map[string]float64{}, exec: map[string]float64{}}
	conn, err := pgx.Connect(ctx, e.cluster.URL("postgres"))
	if err != nil {
		return s, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT s.query, sum(s.calls)::float8, sum(s.total_plan_time)::float8,
			sum(s.total_exec_time)::float8 FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 GROUP BY s.query`, db)
	if err != nil {
		return s, err
	}
	for rows.Next() {
		var q string
		var n, plan, exec float64
		if err := rows.Scan(&q, &n, &plan, &exec); err != nil {
			rows.Close()
			return s, err
		}
		q = normaliseSQL(q)
		s.calls[q] += n
		s.plan[q] += plan
		s.exec[q] += exec
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, err
	}
	var next string
	if err := conn.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&next); err != nil {
		return s, err
	}
	if _, err := fmt.Sscan(next, &s.writes); err != nil {
		return s, err
	}
	cpu, err := e.cluster.CPU()
	if err != nil {
		return s, err
	}
	s.pgCPU = float64(cpu) / float64(time.Millisecond)
	s.at = time.Now()
	return s, nil
}

var spaces = regexp.MustCompile(`\s+`)

// normaliseSQL folds a statement's whitespace, so that the same statement
// written over several lines reads as one line in the breakdown.
func normaliseSQL(q string) string { return strings.TrimSpace(spaces.ReplaceAllString(q, " ")) }

// cost is the work per unit between two snapshots, less what the idle
// app did in the same time (River's leader election and maintenance,
// the workers' fallback polls).
type cost struct {
	statements, writes float64
	// planMs and execMs are PostgreSQL's time per unit planning and
	// running the statements (pg_stat_statements, track_planning on).
	planMs, execMs float64
	// pgCPUMs is the cluster's processor time per unit (all its
	// processes: backends, WAL writer, autovacuum, …).
	pgCPUMs float64
	// top are the statements most executed per unit, most first.
	top []statementCost
}

type statementCost struct {
	query      string
	calls      float64
	plan, exec float64 // ms per unit
}

// costPer returns the cost of each of n units done between from and to,
// given idle, the counters of the idle app over a time of its own before.
func costPer(idleFrom, idleTo, from, to snapshot, n int) cost {
	idleSecs := idleTo.at.Sub(idleFrom.at).Seconds()
	secs := to.at.Sub(from.at).Seconds()
	idle := func(a, b float64) float64 {
		if idleSecs <= 0 {
			return 0
		}
		return (b - a) / idleSecs * secs
	}
	per := func(v float64) float64 { return max(0, v) / float64(n) }
	c := cost{writes: per(to.writes - from.writes - idle(idleFrom.writes, idleTo.writes)),
		pgCPUMs: per(to.pgCPU - from.pgCPU - idle(idleFrom.pgCPU, idleTo.pgCPU))}
	for q, after := range to.calls {
		calls := per(after - from.calls[q] - idle(idleFrom.calls[q], idleTo.calls[q]))
		plan := per(to.plan[q] - from.plan[q] - idle(idleFrom.plan[q], idleTo.plan[q]))
		exec := per(to.exec[q] - from.exec[q] - idle(idleFrom.exec[q], idleTo.exec[q]))
		c.statements += calls
		c.planMs += plan
		c.execMs += exec
		if calls >= 0.5 {
			c.top = append(c.top, statementCost{q, calls, plan, exec})
		}
	}
	sort.Slice(c.top, func(i, j int) bool {
		if c.top[i].calls != c.top[j].calls {
			return c.top[i].calls > c.top[j].calls
		}
		return c.top[i].query < c.top[j].query
	})
	return c
}

// measureCost counts the cost of n units of work: do runs one unit, and
// settle waits until the work a unit left behind (its jobs) is done. The
// idle app is counted first for idleFor.
func (e *env) measureCost(ctx context.Context, db string, n int, idleFor time.Duration, do func(ctx context.Context) error,
	settle func(ctx context.Context) error) (cost, error) {
	if err := settle(ctx); err != nil {
		return cost{}, err
	}
	idleFrom, idleTo, err := e.idleWindow(ctx, db, idleFor)
	if err != nil {
		return cost{}, err
	}
	for range n {
		if err := do(ctx); err != nil {
			return cost{}, err
		}
	}
	if err := settle(ctx); err != nil {
		return cost{}, err
	}
	to, err := e.snap(ctx, db)
	if err != nil {
		return cost{}, err
	}
	return costPer(idleFrom, idleTo, idleTo, to, n), nil
}

// idleWindow counts what the idle app does by itself during d (River's
// leader election and maintenance, the workers' fallback polls): the
// counters at its start and its end. Waiting out d is the measurement
// itself, not a wait for a condition.
func (e *env) idleWindow(ctx context.Context, db string, d time.Duration) (from, to snapshot, err error) {
	if from, err = e.snap(ctx, db); err != nil {
		return from, to, err
	}
	select {
	case <-ctx.Done():
		return from, to, ctx.Err()
	case <-time.After(d):
	}
	to, err = e.snap(ctx, db)
	return from, to, err
}

// breakdown renders the statements most executed per unit, for the
// progress output and the notes.
func (c cost) breakdown(limit int) string {
	var b strings.Builder
	for i, s := range c.top {
		if i == limit {
			fmt.Fprintf(&b, "  … and %d more statements\n", len(c.top)-limit)
			break
		}
		q := s.query
		if len(q) > 100 {
			q = q[:100] + "…"
		}
		fmt.Fprintf(&b, "  %5.1f  plan %5.2f ms  run %5.2f ms  %s\n", s.calls, s.plan, s.exec, q)
	}
	return b.String()
}

// allJobsDone waits until no River job is due or running, at most limit:
// the work a report or a step left behind is done (a timer scheduled for
// later is not due).
func allJobsDone(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var n int64
		if err := querySQL(ctx, url, `SELECT count(*) FROM river_job
			WHERE state IN ('available', 'running', 'retryable', 'pending') AND scheduled_at <= now()`, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still due or running after %s", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

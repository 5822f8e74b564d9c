// Package worker runs certdesk's background jobs on River. Each worker is
// small and idempotent, and completes its job in the same transaction as the
// job's effect, so that a job's effect happens once even when it is
// delivered twice.
package worker

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// Client is the River client type used everywhere in certdesk.
type Client = river.Client[*sql.Tx]

// Options configures New.
type Options struct {
	DB *sql.DB
	// Pool is the pgx pool under DB. When set, a working client LISTENs for
	// River's insert notifications on one of its connections and picks new
	// jobs up within milliseconds of their commit; nil: it only polls.
	Pool         *pgxpool.Pool
	Logger       *slog.Logger
	Work         bool          // false: an insert-only client (API-only processes)
	Concurrency  int           // jobs worked at once
	PollInterval time.Duration // how often to look for jobs (a fallback when Pool is set)
	// RescueAfter is how long a job may stay running before River takes
	// it for the job of a dead process and runs it again
	// (CERTDESK_JOB_RESCUE_AFTER); zero: RescueAfter. A job's own time
	// limit is half of it, at most JobTimeout.
	RescueAfter time.Duration
}

// RescueAfter is the default of Options.RescueAfter.
const RescueAfter = 2 * time.Minute

// JobTimeout is the longest a job may run (less when Options.RescueAfter
// is under twice this).
const JobTimeout = time.Minute

// FetchCooldown is the shortest time between two fetches of a queue, and
// between two insert notifications per queue of one client. River's
// default (100 ms) caps a queue at MaxWorkers jobs per 100 ms and delays
// a job that arrives just after a fetch by up to 100 ms.
const FetchCooldown = 5 * time.Millisecond

// Driver returns certdesk's River driver: riverdatabasesql on db (jobs are
// inserted, worked and completed on *sql.Tx, the transaction under GORM).
// When pool (the pgx pool under db) is not nil, the driver LISTENs for
// River's notifications on a connection of pool
// (riverdatabasesql.NewWithPgxListener), so that a working client picks new
// jobs up within milliseconds of their commit instead of at its next poll.
// That connection is taken out of pool for the client's lifetime.
func Driver(db *sql.DB, pool *pgxpool.Pool) *riverdatabasesql.Driver {
	if pool == nil {
		return riverdatabasesql.New(db)
	}
	return riverdatabasesql.NewWithPgxListener(db, pool)
}

// Workers are the job handlers. Their services are set after the client
// exists, because the services queue jobs through the client.
type Workers struct {
	Incidents *incident.Service
	Notify    *notify.Service
	Deadlines *deadline.Service
	// Escalations runs escalation policy timers.
	Escalations *escalation.Service
	Runs        *runbook.Service
	// Stats folds the metrics' roll-up deltas into their totals
	// (stats.CompactJob, periodic).
	Stats *stats.Maintainer
	// Throttle summarises failed authentications into the audit log and
	// removes old throttle windows (throttle.SweepJob, periodic).
	Throttle *throttle.Sweeper
	// AuditWatch verifies the audit log's hash chain and alerts the
	// national CERT's administrators once per broken chain
	// (audit.WatchJob, periodic).
	AuditWatch *audit.Watcher
	// Mail mails the confirm links of reports sent by e-mail
	// (mailin.ConfirmJob); nil when the SMTP listener is off.
	Mail *mailin.Service
}

// New returns a River client with every worker registered. The workers read
// their services from w when they run, so w must be filled before Start.
func New(opts Options, w *Workers) (*Client, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &routeWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register route worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &notifyWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register notify worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &deadlineWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register deadline worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &policyWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register escalation policy worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &playbookWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register playbook worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &updateRootWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register thread root worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &mailConfirmWorker{w: w}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &respondWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register slack reply worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &sweepWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register throttle sweep worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &compactWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register stats compaction worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &auditWatchWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register audit chain worker: %w", err)
	}
	rescue := opts.RescueAfter
	if rescue <= 0 {
		rescue = RescueAfter
	}
	cfg := &river.Config{
		Logger:            opts.Logger.With("component", "river"),
		Workers:           workers,
		FetchPollInterval: opts.PollInterval,
		FetchCooldown:     min(opts.PollInterval, FetchCooldown),
		// Our jobs are short (outbound calls are bounded well below this);
		// a job still "running" after RescueStuckJobsAfter belonged to a
		// process that died, and is retried that soon rather than River's
		// default of an hour later. A job's time limit is at most half of
		// that, so that a live job is never taken for a dead one.
		JobTimeout:           min(JobTimeout, rescue/2),
		RescueStuckJobsAfter: rescue,
		MaxAttempts:          25,
	}
	if opts.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.Concurrency}}
		cfg.PeriodicJobs = periodicJobs()
	}
	c, err := river.NewClient(Driver(opts.DB, opts.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}

// completeWith returns a function that completes job inside the incident
// transaction it is given: the job is done exactly when its effect commits.
func completeWith[T river.JobArgs](job *river.Job[T]) func(ctx context.Context, tx incident.Tx) error {
	return completeTx[incident.Tx](job)
}

// completeTx returns a function that completes job inside the domain
// transaction it is given, of any domain's Tx type (notify.Tx,
// deadline.Tx, ...: the postgres transaction implements them all), so
// that the job is done exactly when its effect commits:
// completeTx[notify.Tx](job).
func completeTx[Tx any, T river.JobArgs](job *river.Job[T]) func(ctx context.Context, tx Tx) error {
	return func(ctx context.Context, tx Tx) error {
		stx, err := sqlTxOf(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
		return err
	}
}

// sqlTxer is what the store's domain transactions offer River: the
// *sql.Tx they run in, so that a job completes in the transaction of its
// effect. The workers reach it through the domain's Tx interface value,
// without knowing the store.
type sqlTxer interface{ SQLTx() *sql.Tx }

// sqlTxOf returns the *sql.Tx of a domain transaction.
func sqlTxOf(tx any) (*sql.Tx, error) {
	t, ok := tx.(sqlTxer)
	if !ok {
		return nil, fmt.Errorf("worker: %T does not run in a *sql.Tx", tx)
	}
	return t.SQLTx(), nil
}

// routeWorker assigns the coordinating organisation of a new incident.
type routeWorker struct {
	river.WorkerDefaults[incident.RouteJob]
	w *Workers
}

func (rw *routeWorker) Work(ctx context.Context, job *river.Job[incident.RouteJob]) error {
	return cancelPermanent(rw.w.Incidents.Route(ctx, job.Args.IncidentID, completeWith(job)))
}

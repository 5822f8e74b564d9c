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

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/slack"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// Client is the River client type used everywhere in certdesk.
type Client = river.Client[*sql.Tx]

// Options configures New.
type Options struct {
	DB           *sql.DB
	Logger       *slog.Logger
	Work         bool          // false: an insert-only client (API-only processes)
	Concurrency  int           // jobs worked at once
	PollInterval time.Duration // how often to look for jobs
}

// Workers are the job handlers. Their services are set after the client
// exists, because the services queue jobs through the client.
type Workers struct {
	Incidents *incident.Service
	Notify    *notify.Service
	// Slack posts replies to Slack's response_urls; nil without Slack.
	Slack *slack.Client
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
	if err := river.AddWorkerSafely(workers, &updateRootWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register thread root worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &respondWorker{w: w}); err != nil {
		return nil, fmt.Errorf("register slack reply worker: %w", err)
	}
	cfg := &river.Config{
		Logger:            opts.Logger.With("component", "river"),
		Workers:           workers,
		FetchPollInterval: opts.PollInterval,
		FetchCooldown:     min(opts.PollInterval, 100*time.Millisecond),
		// Our jobs are short (outbound calls are bounded well below this);
		// a job still "running" after RescueStuckJobsAfter belonged to a
		// process that died, and is retried that soon rather than River's
		// default of an hour later.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 2 * time.Minute,
		MaxAttempts:          25,
	}
	if opts.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.Concurrency}}
	}
	c, err := river.NewClient(riverdatabasesql.New(opts.DB), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}

// completeWith returns a function that completes job inside the domain
// transaction it is given: the job is done exactly when its effect commits.
func completeWith[T river.JobArgs](job *river.Job[T]) func(ctx context.Context, tx incident.Tx) error {
	return func(ctx context.Context, tx incident.Tx) error {
		stx, err := postgres.SQLTxOf(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
		return err
	}
}

// routeWorker assigns the coordinating organisation of a new incident.
type routeWorker struct {
	river.WorkerDefaults[incident.RouteJob]
	w *Workers
}

func (rw *routeWorker) Work(ctx context.Context, job *river.Job[incident.RouteJob]) error {
	return cancelPermanent(rw.w.Incidents.Route(ctx, job.Args.IncidentID, completeWith(job)))
}

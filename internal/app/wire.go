package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/httpapi"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/markdown"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/slack"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/worker"
	"github.com/labstack/echo/v4"
)

// App is certdesk built on an open, migrated database: the job client, the
// store, the services and the HTTP handler. Serve runs one; tests build
// their own on a throwaway database.
type App struct {
	DB        *postgres.DB
	Store     *postgres.Store
	River     *worker.Client
	Incidents *incident.Service
	Comments  *comment.Service
	Identity  *identity.Service
	Orgs      *org.Service
	Evidence  *evidence.Service
	Blobs     *blob.Store
	// Observables holds the observable (IOC) use cases and exports.
	Observables *observable.Service
	Tasks       *task.Service
	// Notify is the notification outbox; Slack when SLACK_BOT_TOKEN is set.
	Notify *notify.Service
	// SlackInbound handles Slack's button presses and /incident commands;
	// nil unless SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are both set.
	SlackInbound *slack.Inbound
	// Events hands every timeline event to the services that react to it,
	// inside the transaction that appended it.
	Events *incident.Bus
	HTTP   *echo.Echo

	// Outbound sends signed webhook requests, refusing private addresses
	// unless CERTDESK_OUTBOUND_ALLOW lists them. Its timestamps use now.
	Outbound *outbound.Client
}

// New wires an App. cfg.Workers decides whether its River client works jobs
// (call River.Start) or only inserts them. now is the clock.
func New(cfg config.Config, db *postgres.DB, log *slog.Logger, now func() time.Time) (*App, error) {
	ws := &worker.Workers{}
	rc, err := worker.New(worker.Options{DB: db.SQL, Logger: log, Work: cfg.Workers,
		Concurrency: cfg.WorkerConcurrency, PollInterval: cfg.JobPollInterval}, ws)
	if err != nil {
		return nil, err
	}
	store := postgres.NewStore(db, rc)
	bus := &incident.Bus{}
	store.OnEvents(bus.Dispatch)
	incidents := incident.NewService(store, now)
	incidents.Renderer, incidents.RenderVersion = markdown.Render, markdown.Version
	a := &App{DB: db, Store: store, River: rc, Incidents: incidents, Events: bus,
		Identity: identity.NewService(store, now), Orgs: org.NewService(store)}
	a.Tasks = task.NewService(store, a.Incidents, now)
	ws.Incidents = a.Incidents
	var notifier notify.Notifier
	var slackClient *slack.Client
	if cfg.SlackBotToken != "" {
		slackClient = slack.New(cfg.SlackBotToken, cfg.SlackAPIURL, 15*time.Second)
		notifier = slackClient
	}
	if a.Outbound, err = outbound.New(outbound.Options{Allow: cfg.OutboundAllow, Now: now}); err != nil {
		return nil, fmt.Errorf("CERTDESK_OUTBOUND_ALLOW: %w", err)
	}
	if a.Notify, err = notify.NewService(notify.Options{Store: store, Incidents: a.Incidents, Notifier: notifier, Webhooks: a.Outbound,
		Logger: log.With("component", "notify"), BaseURL: cfg.BaseURL, Now: now}); err != nil {
		return nil, err
	}
	a.Incidents.OnRouted = a.Notify.OnRouted
	ws.Notify, ws.Slack = a.Notify, slackClient
	a.Events.Subscribe(a.Notify.RootHandler())
	var slackInbound httpapi.SlackInbound
	if slackClient != nil && cfg.SlackSigningSecret != "" {
		// Decide (the Accept / Decline buttons) is the escalation service's:
		// a.SlackInbound.SetDecide once it exists.
		if a.SlackInbound, err = slack.NewInbound(slack.InboundOptions{SigningSecret: cfg.SlackSigningSecret,
			Client: slackClient, Users: store, Incidents: a.Incidents, Audit: store.AuditAlone,
			Enqueue: func(ctx context.Context, job incident.Job) error {
				return store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error { return tx.Enqueue(ctx, job, nil) })
			},
			BaseURL: cfg.BaseURL, Now: now, Logger: log.With("component", "slack")}); err != nil {
			return nil, err
		}
		slackInbound = a.SlackInbound
	}
	if a.Blobs, err = blob.New(cfg.BlobDir); err != nil {
		return nil, fmt.Errorf("CERTDESK_BLOB_DIR: %w", err)
	}
	// Uploads cut short by a crash leave temporary files; an hour is far
	// longer than any upload still running in another process.
	if n, err := a.Blobs.CleanTemp(now(), time.Hour); err != nil {
		log.Warn("could not clean temporary upload files", "dir", a.Blobs.Root(), "err", err)
	} else if n > 0 {
		log.Info("removed temporary upload files", "dir", a.Blobs.Root(), "count", n)
	}
	if a.Evidence, err = evidence.NewService(evidence.Options{Store: store, Incidents: a.Incidents, Blobs: a.Blobs,
		MaxBytes: cfg.MaxUploadBytes, Now: now}); err != nil {
		return nil, err
	}
	a.Observables = observable.NewService(store, a.Incidents, now)
	if a.Comments, err = comment.NewService(comment.Options{Store: store, Incidents: a.Incidents,
		Render: markdown.Render, RenderVersion: markdown.Version, Text: markdown.HTMLText, Now: now}); err != nil {
		return nil, err
	}
	a.HTTP = httpapi.New(httpapi.Options{
		Logger: log, Incidents: a.Incidents, Comments: a.Comments, Identity: a.Identity, Orgs: a.Orgs, Evidence: a.Evidence, Tasks: a.Tasks, Audit: store,
		Observables: a.Observables, Notify: a.Notify, Slack: slackInbound,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			if err := postgres.SchemaCurrent(ctx, db.SQL); err != nil {
				return fmt.Errorf("%w: %w", httpapi.ErrSchemaPending, err)
			}
			return nil
		},
		MetricsDB: db.SQL, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, UploadTimeout: cfg.UploadTimeout,
		TrustProxy: cfg.TrustProxy, BaseURL: cfg.BaseURL, Now: now,
	})
	return a, nil
}

package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/httpapi"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/markdown"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/postgres"
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
	HTTP      *echo.Echo
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
	a := &App{DB: db, Store: store, River: rc, Incidents: incident.NewService(store, now),
		Identity: identity.NewService(store, now), Orgs: org.NewService(store)}
	ws.Incidents = a.Incidents
	if a.Comments, err = comment.NewService(comment.Options{Store: store, Incidents: a.Incidents,
		Render: markdown.Render, RenderVersion: markdown.Version, Text: markdown.HTMLText, Now: now}); err != nil {
		return nil, err
	}
	a.HTTP = httpapi.New(httpapi.Options{
		Logger: log, Incidents: a.Incidents, Comments: a.Comments, Identity: a.Identity, Orgs: a.Orgs, Audit: store,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			if err := postgres.SchemaCurrent(ctx, db.SQL); err != nil {
				return fmt.Errorf("%w: %w", httpapi.ErrSchemaPending, err)
			}
			return nil
		},
		MetricsDB: db.SQL, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout,
		TrustProxy: cfg.TrustProxy, BaseURL: cfg.BaseURL,
	})
	return a, nil
}

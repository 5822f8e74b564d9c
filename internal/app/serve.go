package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/certdesk/certdesk/internal/postgres"
)

func serve(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "[flags]", "Runs the web UI (people sign in at <CERTDESK_BASE_URL>/signin with their e-mail and password),\n"+
		"the JSON API under /api/v1 (API tokens) and, unless CERTDESK_WORKERS=false, the background workers.\n"+
		"Without DATABASE_URL it runs an embedded PostgreSQL in $CERTDESK_DATA_DIR/postgres.\n"+
		"Web sessions end after CERTDESK_SESSION_IDLE_TIMEOUT without activity and CERTDESK_SESSION_LIFETIME at the latest.")
	addr := fs.String("addr", "", "listen address (overrides CERTDESK_ADDR)")
	demo := fs.Bool("demo", false, "seed the demo data (certdesk demo) before serving; idempotent")
	skip := fs.Bool("skip-invalid-playbooks", false, "start without the playbooks that do not validate (overrides CERTDESK_SKIP_INVALID_PLAYBOOKS)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *skip {
		cfg.SkipInvalidPlaybooks = true
	}
	return runServer(ctx, cfg, env, nil, *demo)
}

// Serve runs the service with cfg until ctx is cancelled, then shuts down
// gracefully: HTTP first (in-flight requests finish), then the workers
// (running jobs get until the shutdown timeout), then the database. When
// ready is not nil it receives the listening address once the server
// accepts connections.
func Serve(ctx context.Context, cfg config.Config, env Env, ready chan<- string) error {
	return runServer(ctx, cfg, env, ready, false)
}

// runServer is Serve; with demo it seeds the demo (App.SeedDemo) after
// migrating and before serving.
func runServer(ctx context.Context, cfg config.Config, env Env, ready chan<- string, demo bool) error {
	// Playbooks first: an invalid one stops start-up before the database opens.
	pbs, err := startPlaybooks(cfg, newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	log, db, closeDB, err := openDatabase(ctx, cfg, env, true)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := newApp(cfg, db, log, time.Now, pbs)
	if err != nil {
		return err
	}
	if demo {
		if err := a.SeedDemo(ctx, env.Stdout, cfg.BaseURL); err != nil {
			return cliError(err)
		}
		fmt.Fprintln(env.Stdout)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (CERTDESK_ADDR): %w", cfg.Addr, err)
	}
	if cfg.Workers {
		if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
			ln.Close()
			return fmt.Errorf("start workers: %w", err)
		}
		if _, err := a.Deadlines.Backfill(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("start workers: %w", err)
		}
		go backfillStats(ctx, a, log)
	}
	var mailSrv *mailin.Server
	if cfg.Mail.Listen != "" && a.Mail != nil {
		if mailSrv, err = a.Mail.Listen(cfg.Mail.Listen); err != nil {
			ln.Close()
			stopWorkers(ctx, a, cfg.Workers, log)
			return err
		}
		go func() {
			if err := mailSrv.Serve(); err != nil {
				log.Error("smtp listener stopped", "err", err)
			}
		}()
		log.Info("certdesk takes mail", "smtp", mailSrv.Addr(), "domain", cfg.Mail.Domain)
	}
	srv := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("certdesk is serving", "url", url, "workers", cfg.Workers, "version", Version)
	fmt.Fprintf(env.Stdout, "certdesk %s is serving at %s (stop with Ctrl-C)\nOpen %s/ in a browser to sign in.\n", Version, url, url)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	if mailSrv != nil {
		if err := mailSrv.Shutdown(shutCtx); err != nil {
			log.Error("smtp shutdown", "err", err)
		}
	}
	stopWorkers(shutCtx, a, cfg.Workers, log)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

// stopWorkers stops River: jobs in progress get until ctx's deadline to
// finish; after that they are cancelled and retried by the next process.
func stopWorkers(ctx context.Context, a *App, started bool, log *slog.Logger) {
	if !started {
		return
	}
	if err := a.River.Stop(ctx); err != nil {
		log.Warn("workers did not stop in time; cancelling running jobs (they will run again)", "err", err)
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.River.StopAndCancel(hard)
	}
}

func workerCmd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "worker", "", "Runs background workers only, against DATABASE_URL (or the embedded database).\nRun as many as needed: they share the job queue in PostgreSQL.")
	skip := fs.Bool("skip-invalid-playbooks", false, "start without the playbooks that do not validate (overrides CERTDESK_SKIP_INVALID_PLAYBOOKS)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	if *skip {
		cfg.SkipInvalidPlaybooks = true
	}
	pbs, err := startPlaybooks(cfg, newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	log, db, closeDB, err := openDatabase(ctx, cfg, env, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := postgres.SchemaCurrent(ctx, db.SQL); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	cfg.Workers = true
	a, err := newApp(cfg, db, log, time.Now, pbs)
	if err != nil {
		return err
	}
	if err := a.River.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	if _, err := a.Deadlines.Backfill(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	go backfillStats(ctx, a, log)
	log.Info("certdesk worker running", "concurrency", cfg.WorkerConcurrency)
	<-ctx.Done()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	stopWorkers(shutCtx, a, true, log)
	return nil
}

func migrate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "migrate", "up|status", "up: applies River's and certdesk's pending migrations.\nstatus: lists every migration and whether it is applied.")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		fmt.Fprintln(env.Stderr, "certdesk migrate: say 'up' or 'status'")
		return ErrUsage
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	log, db, closeDB, err := openDatabase(ctx, cfg, env, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if fs.Arg(0) == "up" {
		if err := postgres.Migrate(ctx, db.SQL, log); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "migrations are up to date")
		return nil
	}
	st, err := postgres.Status(ctx, db.SQL)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%-9s %-8s %-8s %s\n", "COMPONENT", "VERSION", "STATE", "NAME")
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(env.Stdout, "%-9s %-8d %-8s %s\n", m.Component, m.Version, state, m.Name)
	}
	return nil
}

// backfillStats computes the metrics' facts of incidents that have none
// (after the upgrade that brought the metrics, or incidents written by
// other means), in the background: until it is done, the dashboard counts
// only the incidents it has reached (docs/operations.md).
func backfillStats(ctx context.Context, a *App, log *slog.Logger) {
	began := time.Now()
	n, err := a.StatsMaintainer.Backfill(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("metrics backfill stopped", "err", err, "incidents", n)
	case n > 0:
		log.Info("metrics backfilled", "incidents", n, "took", time.Since(began).Round(time.Millisecond))
	}
}

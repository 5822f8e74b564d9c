package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/jackc/pgx/v5"
)

// embeddedDatabase is the name of certdesk's database in the embedded cluster.
const embeddedDatabase = "certdesk"

// database opens the configured database: DATABASE_URL when set, else the
// embedded PostgreSQL in DataDir/postgres, created on first use. The returned
// close function closes the pool and stops an embedded server.
func database(ctx context.Context, cfg config.Config, log *slog.Logger) (*postgres.DB, func(), error) {
	url := cfg.DatabaseURL
	stop := func() {}
	var err error
	if url == "" {
		dir := filepath.Join(cfg.DataDir, "postgres")
		log.Info("DATABASE_URL is not set: using the embedded PostgreSQL", "data_dir", dir)
		bin, err := pgembed.FindBinDir(func(name string) string {
			if name == "PG_BINDIR" {
				return cfg.PGBinDir
			}
			return ""
		})
		if err != nil {
			return nil, nil, noDatabaseError(err)
		}
		cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, BinDir: bin, Logger: log.With("component", "pgembed")})
		if err != nil {
			if errors.Is(err, pgembed.ErrNoBinaries) {
				return nil, nil, noDatabaseError(err)
			}
			return nil, nil, fmt.Errorf("embedded postgres: %w", err)
		}
		stop = func() {
			if err := cluster.Stop(); err != nil {
				log.Error("stop embedded postgres", "err", err)
			}
		}
		if err := ensureDatabase(ctx, cluster.URL("postgres"), embeddedDatabase); err != nil {
			stop()
			return nil, nil, err
		}
		url = cluster.URL(embeddedDatabase)
	}
	db, err := postgres.Open(ctx, url, cfg.DBMaxConns, log)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return db, func() { db.Close(); stop() }, nil

}

// noDatabaseError explains a start without DATABASE_URL where the embedded
// PostgreSQL cannot run, as in the container image, which holds no
// PostgreSQL. It wraps err (pgembed.ErrNoBinaries).
func noDatabaseError(err error) error {
	return fmt.Errorf("DATABASE_URL is not set, and the embedded PostgreSQL it would start instead cannot run: %w. "+
		"In the container image DATABASE_URL is required (the image holds no PostgreSQL): "+
		"see docs/operations.md, \"Docker image\" and \"Deploying with Compose\"", err)
}

// ensureDatabase creates database name on the server at adminURL if missing.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// openDatabase is the start of every command that needs the database: the
// configuration's logger and the open database (embedded or external),
// migrated first when migrate is true. close releases both.
func openDatabase(ctx context.Context, cfg config.Config, env Env, migrate bool) (*slog.Logger, *postgres.DB, func(), error) {
	log := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	db, closeDB, err := database(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if migrate {
		if err := postgres.Migrate(ctx, db.SQL, log); err != nil {
			closeDB()
			return nil, nil, nil, err
		}
	}
	return log, db, closeDB, nil
}

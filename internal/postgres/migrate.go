package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/certdesk/certdesk/migrations"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// migrationLock is the advisory lock key held while migrating, so that
// several processes starting together migrate one after the other.
const migrationLock = 0x63657274 // "cert"

// Migrate applies River's migrations, then certdesk's, under an advisory
// lock. It is idempotent. log may be nil.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // released with the session anyway

	rm, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("applied river migration", "version", v.Version, "name", v.Name)
	}
	p, err := provider(db)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate certdesk: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Component string // "river" or "certdesk"
	Version   int64
	Name      string
	Applied   bool
}

// Status lists River's and certdesk's migrations with their state.
func Status(ctx context.Context, db *sql.DB) ([]MigrationStatus, error) {
	rm, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: quiet(nil)})
	if err != nil {
		return nil, err
	}
	var out []MigrationStatus
	applied := map[int]bool{}
	if existing, err := rm.ExistingVersions(ctx); err == nil {
		for _, m := range existing {
			applied[m.Version] = true
		}
	}
	for _, m := range rm.AllVersions() {
		out = append(out, MigrationStatus{"river", int64(m.Version), m.Name, applied[m.Version]})
	}
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	for _, s := range st {
		out = append(out, MigrationStatus{"certdesk", s.Source.Version, s.Source.Path, s.State == goose.StateApplied})
	}
	return out, nil
}

// SchemaCurrent reports whether every migration is applied; when not, the
// error says what is pending.
func SchemaCurrent(ctx context.Context, db *sql.DB) error {
	st, err := Status(ctx, db)
	if err != nil {
		return err
	}
	for _, s := range st {
		if !s.Applied {
			return fmt.Errorf("%s migration %d (%s) is pending: run 'certdesk migrate up'", s.Component, s.Version, s.Name)
		}
	}
	return nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log.With("component", "rivermigrate")
}

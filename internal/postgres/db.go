// Package postgres is the only package that talks to PostgreSQL through GORM.
// It opens the connection pool shared by GORM and River, runs migrations,
// and implements the domain packages' stores. Row structs are unexported
// and mapped to domain types.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is an open database: one pgx pool, the *sql.DB over it (used by River
// and goose) and GORM on the same *sql.DB.
type DB struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	Gorm *gorm.DB
}

// Open connects to the database at url with at most maxConns connections
// and checks that it answers.
func Open(ctx context.Context, url string, maxConns int, log *slog.Logger) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	// No JIT compilation: certdesk's statements are short and indexed, and
	// PostgreSQL's cost estimate can still start the compiler on one that
	// reads a bloated table, where compiling took 280 ms of a 300 ms query,
	// or on a timeline of 10,000 events, estimated high for its visibility
	// subplans, where it took 19 s of 19.3 s (docs/performance.md). A
	// setting of the URL wins.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	gdb, err := gorm.Open(gormpg.New(gormpg.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // every write we do is inside an explicit transaction
		PrepareStmt:            false,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	return &DB{Pool: pool, SQL: sqlDB, Gorm: gdb}, nil
}

// Close closes the *sql.DB and the pool.
func (db *DB) Close() {
	_ = db.SQL.Close()
	db.Pool.Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// JobInserter queues and cancels River jobs inside a *sql.Tx. *river.Client[*sql.Tx]
// implements it.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobCancelTx(ctx context.Context, tx *sql.Tx, jobID int64) (*rivertype.JobRow, error)
}

// SQLTx returns the *sql.Tx under a GORM transaction handle.
func SQLTx(tx *gorm.DB) (*sql.Tx, error) {
	switch c := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return c, nil
	case *gorm.PreparedStmtTX:
		if t, ok := c.Tx.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, errors.New("not inside a GORM transaction")
}

// Package testdb gives each test its own PostgreSQL database, cloned from a
// template that is migrated once. The server is TEST_DATABASE_URL when set,
// else a throwaway cluster started from the local PostgreSQL binaries for
// this test process (fsync off) and removed when the process ends.
//
// Packages that use it call testdb.Main from TestMain so the cluster stops.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/migrations"
	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	adminURL string
	template string
	cluster  *pgembed.Cluster
	setupErr error
)

// Main runs the tests of a package and stops the throwaway cluster after.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has more to stop
// (a browser): it runs the tests, stops the cluster and returns the exit
// code.
func Run(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop()
	}
	return code
}

// New returns the URL of a new, migrated, empty database for t, dropped
// when t ends.
func New(t testing.TB) string {
	t.Helper()
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("testdb: %v", setupErr)
	}
	ctx := context.Background()
	name := "t_" + randomHex(8)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	defer conn.Close(ctx)
	// Cloning can collide with another clone of the same template starting
	// at the same moment ("source database is being accessed"): retry.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
		if err == nil || attempt == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("testdb: clone template: %v", err)
	}
	dropWhenDone(t, name)
	return withDatabase(adminURL, name)
}

// NewEmpty returns the URL of a new database with nothing in it (no
// migrations: for a restore, or a test that migrates it itself), dropped
// when t ends.
func NewEmpty(t testing.TB) string {
	t.Helper()
	admin := Admin(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	defer conn.Close(ctx)
	name := "e_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("testdb: create: %v", err)
	}
	dropWhenDone(t, name)
	return withDatabase(admin, name)
}

// dropWhenDone drops the database name when t ends.
func dropWhenDone(t testing.TB, name string) {
	ctx := context.Background()
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("testdb: connect for drop: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop: %v", err)
		}
	})
}

// Admin returns the URL of the server's maintenance database, for tests
// that manage databases themselves (for example to make one unreachable).
func Admin(t testing.TB) string {
	t.Helper()
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("testdb: %v", setupErr)
	}
	return adminURL
}

func setup() error {
	ctx := context.Background()
	adminURL = os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "cdt")
		if err != nil {
			return err
		}
		cluster, err = pgembed.Start(ctx, pgembed.Options{DataDir: dir, Ephemeral: true})
		if err != nil {
			return fmt.Errorf("start throwaway postgres (or set TEST_DATABASE_URL): %w", err)
		}
		adminURL = cluster.URL("postgres")
	}
	h, err := schemaHash()
	if err != nil {
		return err
	}
	template = "tmpl_" + h
	return ensureTemplate(ctx)
}

// ensureTemplate creates and migrates the template once per schema, under an
// advisory lock so that test processes sharing a server build it once.
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7357)"); err != nil {
		return err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7357)") //nolint:errcheck // released with the session anyway
	var ready, exists bool
	if err := conn.QueryRow(ctx, `SELECT count(*) > 0, coalesce(bool_or(datistemplate), false) FROM pg_database WHERE datname = $1`,
		template).Scan(&exists, &ready); err != nil {
		return err
	}
	if ready {
		return nil
	}
	if exists { // left half-built by a killed run
		if _, err := conn.Exec(ctx, "DROP DATABASE "+template+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, withDatabase(adminURL, template), 4, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, db.SQL, slog.New(slog.DiscardHandler))
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+template+" WITH is_template true ALLOW_CONNECTIONS false")
	return err
}

// schemaHash identifies the schema: the migration files and River's version.
func schemaHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		fmt.Fprintf(h, "%s\n%d\n", path, len(b))
		h.Write(b)
		return err
	})
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/riverqueue/river" {
				h.Write([]byte(d.Version))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

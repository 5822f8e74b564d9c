// Package backup writes and restores a consistent copy of a certdesk
// deployment: a pg_dump of its database and the evidence files that the
// dump's attachment rows name, with a manifest that records what the copy
// holds and the SHA-256 of every part.
//
// # Why the copy is consistent
//
// Create opens a REPEATABLE READ transaction, exports its snapshot
// (pg_export_snapshot) and runs pg_dump with --snapshot, so the dump shows
// the database exactly as that transaction sees it. In the same
// transaction it lists the SHA-256s of incident_attachments, then copies
// those files (and only those) from the evidence store. Every row in the
// snapshot was committed before the snapshot was taken, and certdesk stores
// an attachment's bytes durably (fsync, or the object store's answer)
// before the transaction that inserts its row commits; certdesk never
// deletes evidence files. So each file the dump names exists when it is
// copied, however many uploads run meanwhile. Files uploaded after the
// snapshot are not copied: the copy has no file without a row and no row
// without its file.
//
// The backend does not matter: the files are read through
// evidence.BlobStore, from the folder or from the S3-compatible store
// alike, and restored through it into whichever backend the target uses.
//
// # Layout
//
//	<dir>/manifest.json          what the backup holds (Manifest)
//	<dir>/manifest.json.sha256   the manifest's SHA-256, in sha256sum format
//	<dir>/database.pgdump        pg_dump --format=custom
//	<dir>/evidence/sha256/aa/bb/<sha256>   one file per distinct content
//
// The manifest is written last: a folder without one is an interrupted
// backup, and Restore refuses it.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/migrations"
	"github.com/jackc/pgx/v5"
)

// Format is the manifest's format tag; Restore reads only this format.
const Format = "certdesk-backup/1"

// Names of the parts inside a backup folder.
const (
	ManifestFile    = "manifest.json"
	ManifestSumFile = "manifest.json.sha256"
	DatabaseFile    = "database.pgdump"
	EvidenceDir     = "evidence"
)

// Manifest describes one backup. It is written as manifest.json.
type Manifest struct {
	Format          string    `json:"format"`
	CertdeskVersion string    `json:"certdesk_version"`
	CreatedAt       time.Time `json:"created_at"`
	// SnapshotAt is the database's clock in the dump's snapshot: the
	// backup holds what was committed before it.
	SnapshotAt time.Time  `json:"snapshot_at"`
	Database   Database   `json:"database"`
	Migrations Migrations `json:"migrations"`
	Counts     Counts     `json:"counts"`
	AuditHead  AuditHead  `json:"audit_head"`
	Evidence   Evidence   `json:"evidence"`
}

// Database is the dump's part of the manifest.
type Database struct {
	File          string `json:"file"`
	Format        string `json:"format"`
	Size          int64  `json:"size"`
	SHA256        string `json:"sha256"`
	PGDump        string `json:"pg_dump"`
	ServerVersion string `json:"server_version"`
}

// Migrations is the migration level of the dumped database: the highest
// applied version of certdesk's migrations and of River's.
type Migrations struct {
	Certdesk int64 `json:"certdesk"`
	River    int64 `json:"river"`
}

// Counts are row counts in the dump's snapshot.
type Counts struct {
	Incidents     int64 `json:"incidents"`
	EvidenceRows  int64 `json:"evidence_rows"`
	EvidenceFiles int64 `json:"evidence_files"`
	EvidenceBytes int64 `json:"evidence_bytes"`
	AuditRows     int64 `json:"audit_rows"`
}

// AuditHead is the audit chain's recorded head in the snapshot.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Evidence is the evidence files' part of the manifest.
type Evidence struct {
	// Backend is where the files were read from: "folder" or "s3".
	Backend string `json:"backend"`
	// Included is false when the backup was taken with the files left in
	// the object store (Options.SkipEvidence); Files still lists them.
	Included bool   `json:"included"`
	Dir      string `json:"dir,omitempty"`
	Files    []File `json:"files"`
}

// File is one evidence file: its name is its SHA-256.
type File struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Options configure Create.
type Options struct {
	// DatabaseURL is the database to dump (postgres://…).
	DatabaseURL string
	// PGDump is the pg_dump program (Tool finds it).
	PGDump string
	// Blobs is the evidence store the files are read from.
	Blobs evidence.BlobStore
	// Backend names Blobs in the manifest ("folder" or "s3").
	Backend string
	// SkipEvidence leaves the files out (they stay in the object store,
	// protected by its versioning and replication); the manifest still
	// lists them.
	SkipEvidence bool
	// Version is certdesk's version, recorded in the manifest.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Create writes a backup into dir, which must not exist or be empty.
// On error the partial folder is left for inspection; it has no manifest,
// so Restore refuses it.
func Create(ctx context.Context, dir string, o Options) (*Manifest, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PGDump == "" || o.DatabaseURL == "" || o.Blobs == nil {
		return nil, errors.New("backup: PGDump, DatabaseURL and Blobs are required")
	}
	if err := CheckTarget(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m := &Manifest{Format: Format, CertdeskVersion: o.Version, CreatedAt: o.Now().UTC()}

	conn, err := connect(ctx, o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("backup: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("backup: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot(), now(), current_setting('server_version')").
		Scan(&snapshot, &m.SnapshotAt, &m.Database.ServerVersion); err != nil {
		return nil, fmt.Errorf("backup: export snapshot: %w", err)
	}
	m.SnapshotAt = m.SnapshotAt.UTC()
	if err := readFacts(ctx, tx, m); err != nil {
		return nil, err
	}

	m.Database.File, m.Database.Format = DatabaseFile, "pg_dump custom"
	if m.Database.PGDump, err = toolVersion(ctx, o.PGDump); err != nil {
		return nil, err
	}
	dumpPath := filepath.Join(dir, DatabaseFile)
	if err := runTool(ctx, o.PGDump, o.DatabaseURL, "--format=custom", "--snapshot="+snapshot,
		"--no-password", "--file="+dumpPath); err != nil {
		return nil, err
	}
	// The snapshot is no longer needed: pg_dump has read everything, and
	// the file list was read in it above.
	_ = tx.Rollback(ctx)
	if m.Database.SHA256, m.Database.Size, err = hashFile(dumpPath); err != nil {
		return nil, err
	}
	if err := syncFile(dumpPath); err != nil {
		return nil, err
	}

	m.Evidence.Backend = o.Backend
	if !o.SkipEvidence {
		m.Evidence.Included, m.Evidence.Dir = true, EvidenceDir
		for _, f := range m.Evidence.Files {
			if err := copyBlob(ctx, o.Blobs, f, filepath.Join(dir, EvidenceDir, blobPath(f.SHA256))); err != nil {
				return nil, err
			}
		}
	}
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// readFacts fills the manifest's counts, migration level, audit head and
// evidence list from the snapshot's transaction.
func readFacts(ctx context.Context, tx pgx.Tx, m *Manifest) error {
	q := func(what, sql string, dst ...any) error {
		if err := tx.QueryRow(ctx, sql).Scan(dst...); err != nil {
			return fmt.Errorf("backup: read %s: %w", what, err)
		}
		return nil
	}
	if err := q("migration level", `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`, &m.Migrations.Certdesk); err != nil {
		return err
	}
	if err := q("river migration level", `SELECT coalesce(max(version), 0) FROM river_migration`, &m.Migrations.River); err != nil {
		return err
	}
	if err := q("counts", `SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM incident_attachments), (SELECT count(*) FROM audit_log)`,
		&m.Counts.Incidents, &m.Counts.EvidenceRows, &m.Counts.AuditRows); err != nil {
		return err
	}
	var head []byte
	if err := q("audit head", `SELECT seq, hash FROM audit_chain_head`, &m.AuditHead.Seq, &head); err != nil {
		return err
	}
	m.AuditHead.Hash = hex.EncodeToString(head)
	rows, err := tx.Query(ctx, `SELECT sha256, max(size) FROM incident_attachments GROUP BY sha256 ORDER BY sha256`)
	if err != nil {
		return fmt.Errorf("backup: list evidence: %w", err)
	}
	files, err := pgx.CollectRows(rows, pgx.RowToStructByPos[File])
	if err != nil {
		return fmt.Errorf("backup: list evidence: %w", err)
	}
	m.Evidence.Files = files
	if m.Evidence.Files == nil {
		m.Evidence.Files = []File{}
	}
	m.Counts.EvidenceFiles = int64(len(files))
	for _, f := range files {
		m.Counts.EvidenceBytes += f.Size
	}
	return nil
}

// copyBlob copies one evidence file out of the store, checking its size
// and SHA-256 on the way.
func copyBlob(ctx context.Context, blobs evidence.BlobStore, f File, dst string) error {
	r, _, err := blobs.Open(ctx, f.SHA256)
	if err != nil {
		return fmt.Errorf("backup: evidence file %s (named by the dump's attachment rows): %w", f.SHA256, err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o400)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), r)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: copy evidence file %s: %w", f.SHA256, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 || n != f.Size {
		return fmt.Errorf("backup: evidence file %s in the store is damaged: it has %d bytes with SHA-256 %s, its rows say %d bytes", f.SHA256, n, got, f.Size)
	}
	return nil
}

// blobPath is the place of a file in the evidence folder (the same as the
// blob store's layout, so the folder can be copied or checked by hand).
func blobPath(sum string) string {
	return filepath.Join("sha256", sum[:2], sum[2:4], sum)
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: manifest: %w", err)
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	if err := writeSynced(filepath.Join(dir, ManifestFile), b); err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(dir, ManifestSumFile), []byte(hex.EncodeToString(sum[:])+"  "+ManifestFile+"\n")); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o400)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs folders; the files are synced
	return nil
}

// CheckTarget reports whether dir can receive a backup: it must not exist
// or be an empty folder.
func CheckTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("backup: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("backup: %s is not empty: name a new folder", dir)
	}
	return nil
}

// hashFile returns a file's SHA-256 and size.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("backup: read %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Tool returns the path of a PostgreSQL client program (pg_dump,
// pg_restore): in binDir when it holds it, else on the PATH.
func Tool(binDir, name string) (string, error) {
	if binDir != "" {
		p := filepath.Join(binDir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found in %q or on the PATH: install the PostgreSQL client programs (Debian: postgresql-client) or set PG_BINDIR", name, binDir)
	}
	return p, nil
}

// toolVersion returns the first line of `<tool> --version`.
func toolVersion(ctx context.Context, tool string) (string, error) {
	out, err := exec.CommandContext(ctx, tool, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("backup: %s --version: %w", tool, err)
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]), nil
}

// runTool runs a PostgreSQL client program against databaseURL. The
// password, if any, goes in PGPASSWORD rather than on the command line,
// where other users could read it.
func runTool(ctx context.Context, tool, databaseURL string, args ...string) error {
	conn, password, err := splitPassword(databaseURL)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, append(args, "--dbname="+conn)...)
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return fmt.Errorf("%s failed: %w: %s", filepath.Base(tool), err, msg)
	}
	return nil
}

// splitPassword takes the password out of a postgres:// URL, and the
// pgxpool settings (pool_*) that libpq does not know. Other forms
// (key=value) are passed as they are.
func splitPassword(databaseURL string) (string, string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return databaseURL, "", nil
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	var pw string
	if u.User != nil {
		pw, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	return u.String(), pw, nil
}

// connect opens one connection to databaseURL (without pool settings).
func connect(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	for k := range cfg.RuntimeParams {
		if strings.HasPrefix(k, "pool_") {
			delete(cfg.RuntimeParams, k)
		}
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// KnownMigration is the highest certdesk migration this binary carries.
func KnownMigration() (int64, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	var max int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > max {
			max = v
		}
	}
	return max, nil
}

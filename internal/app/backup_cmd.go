package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/certdesk/certdesk/internal/backup"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/objstore"
	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/certdesk/certdesk/internal/postgres"
)

// backupCmd is `certdesk backup <dir>`: a consistent copy of the database
// and the evidence files it names (internal/backup, docs/operations.md).
func backupCmd(ctx context.Context, env Env, args []string) error {
	const cmd = "backup"
	fs := newFlags(env, cmd, "[--skip-evidence] <dir>|<file.tar>",
		"Writes a backup into <dir> (new or empty), or into one new file when the name\n"+
			"ends in .tar (the same parts, packed; written beside it first): a pg_dump of\n"+
			"the database taken in one snapshot, the evidence files its attachment rows name\n"+
			"(read from the folder or the object store), and manifest.json with the migration\n"+
			"level, counts and the SHA-256 of every part. Works against the embedded\n"+
			"database (also while `serve` runs) and DATABASE_URL. It changes nothing in the\n"+
			"database: run it before `migrate up`. pg_dump is taken from PG_BINDIR, the\n"+
			"Debian layout (/usr/lib/postgresql/*/bin) or the PATH.")
	skip := fs.Bool("skip-evidence", false, "leave the evidence files in the object store (CERTDESK_BLOB_BACKEND=s3, with versioning or replication); the manifest still lists them")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(env.Stderr, "certdesk %s: name one folder (or a new .tar file) to write the backup into\n", cmd)
		return ErrUsage
	}
	target := fs.Arg(0)
	if backup.IsArchive(target) {
		if _, err := os.Lstat(target); err == nil {
			return fmt.Errorf("backup: %s exists: name a new file", target)
		}
	} else if err := backup.CheckTarget(target); err != nil {
		return err
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	if *skip && cfg.BlobBackend != config.BackendS3 {
		fmt.Fprintf(env.Stderr, "certdesk %s: --skip-evidence is for CERTDESK_BLOB_BACKEND=s3: a folder's files are only backed up here\n", cmd)
		return ErrUsage
	}
	pgDump, err := backup.Tool(pgBinDir(cfg), "pg_dump")
	if err != nil {
		return err
	}
	// No migration: a backup is what an operator takes before upgrading.
	_, db, closeDB, err := openDatabase(ctx, cfg, env, false)
	if err != nil {
		return err
	}
	defer closeDB()
	blobs, err := backupBlobs(ctx, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	dir := target
	if backup.IsArchive(target) {
		// The parts are written to a folder beside the file, then packed.
		if dir, err = os.MkdirTemp(filepath.Dir(target), ".certdesk-backup-"); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	m, err := backup.Create(ctx, dir, backup.Options{DatabaseURL: db.Pool.Config().ConnString(), PGDump: pgDump,
		Blobs: blobs, Backend: cfg.BlobBackend, SkipEvidence: *skip, Version: Version})
	if err != nil {
		return err
	}
	if dir != target {
		if err := backup.Pack(dir, target); err != nil {
			return err
		}
	}
	where := "included"
	if !m.Evidence.Included {
		where = "left in the object store"
	}
	_, err = fmt.Fprintf(env.Stdout, "backup %s: snapshot %s, certdesk migration %d, %d incidents, %d evidence rows, %d evidence files (%d bytes, %s), %d audit rows (head %d), database dump %d bytes, SHA-256 %s, %s\n",
		target, m.SnapshotAt.Format(time.RFC3339), m.Migrations.Certdesk, m.Counts.Incidents, m.Counts.EvidenceRows,
		m.Counts.EvidenceFiles, m.Counts.EvidenceBytes, where, m.Counts.AuditRows, m.AuditHead.Seq, m.Database.Size, m.Database.SHA256,
		time.Since(start).Round(time.Millisecond))
	return err
}

// restoreCmd is `certdesk restore <dir>`.
func restoreCmd(ctx context.Context, env Env, args []string) error {
	const cmd = "restore"
	fs := newFlags(env, cmd, "[--replace] [--verify-only] <dir>|<file.tar>",
		"Restores a backup written by `certdesk backup` into the configured database\n"+
			"(DATABASE_URL or the embedded one) and evidence store. First checks every part\n"+
			"against the manifest's SHA-256 and refuses a damaged backup; refuses a database\n"+
			"or evidence folder that is not empty unless --replace. Stores the evidence\n"+
			"files, restores the dump in one transaction, then applies the migrations this\n"+
			"certdesk has beyond the backup's. Run `certdesk audit verify` afterwards.")
	replace := fs.Bool("replace", false, "drop everything in the database's public schema first, and add the files to a non-empty evidence folder")
	verifyOnly := fs.Bool("verify-only", false, "only check the backup's parts against its manifest; restore nothing")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(env.Stderr, "certdesk %s: name the backup's folder or .tar file\n", cmd)
		return ErrUsage
	}
	name := fs.Arg(0)
	dir, cleanup, err := openBackup(name)
	if err != nil {
		return err
	}
	defer cleanup()
	if *verifyOnly {
		m, err := backup.Verify(dir)
		if err != nil {
			return renamed(err, name)
		}
		_, err = fmt.Fprintf(env.Stdout, "ok: backup %s of %s (certdesk %s, migration %d): database dump and %d evidence files match the manifest\n",
			name, m.SnapshotAt.Format(time.RFC3339), m.CertdeskVersion, m.Migrations.Certdesk, len(m.Evidence.Files))
		return err
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	pgRestore, err := backup.Tool(pgBinDir(cfg), "pg_restore")
	if err != nil {
		return err
	}
	// Check the backup before anything starts (an embedded server, a
	// connection): a damaged backup changes nothing.
	m, err := backup.Verify(dir)
	if err != nil {
		return renamed(err, name)
	}
	log, db, closeDB, err := openDatabase(ctx, cfg, env, false)
	if err != nil {
		return err
	}
	defer closeDB()
	blobs, err := openBlobs(cfg, log, time.Now)
	if err != nil {
		return err
	}
	o := backup.RestoreOptions{DatabaseURL: db.Pool.Config().ConnString(), PGRestore: pgRestore, Blobs: blobs, Replace: *replace}
	if cfg.BlobBackend == config.BackendFolder {
		o.BlobDir = cfg.BlobDir
	}
	if err := backup.Restore(ctx, dir, m, o); err != nil {
		return renamed(err, name)
	}
	if err := postgres.Migrate(ctx, db.SQL, log); err != nil {
		return fmt.Errorf("restore: the backup is restored, but migrating it failed: %w", err)
	}
	note := ""
	if !m.Evidence.Included {
		note = " (evidence files were not in the backup: they must still be in the object store)"
	}
	_, err = fmt.Fprintf(env.Stdout, "restored %s (snapshot %s, certdesk %s, migration %d): %d incidents, %d evidence files%s, %d audit rows; run 'certdesk audit verify'\n",
		name, m.SnapshotAt.Format(time.RFC3339), m.CertdeskVersion, m.Migrations.Certdesk, m.Counts.Incidents, m.Counts.EvidenceFiles, note, m.Counts.AuditRows)
	return err
}

// backupBlobs opens the evidence backend for reading, as openBlobs does but
// without its clean-up of old temporary uploads: a backup changes nothing.
func backupBlobs(ctx context.Context, cfg config.Config) (evidence.BlobStore, error) {
	if cfg.BlobBackend != config.BackendS3 {
		s, err := blob.New(cfg.BlobDir)
		if err != nil {
			return nil, fmt.Errorf("CERTDESK_BLOB_DIR: %w", err)
		}
		return s, nil
	}
	s, err := objstore.New(objstore.Options{Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, TLS: cfg.S3.TLS, PathStyle: cfg.S3.PathStyle, Prefix: cfg.S3.Prefix})
	if err != nil {
		return nil, fmt.Errorf("CERTDESK_S3_*: %w", err)
	}
	if err := s.Check(ctx); err != nil {
		return nil, fmt.Errorf("CERTDESK_S3_*: %w", err)
	}
	return s, nil
}

// openBackup returns the folder of the backup name: name itself, or for a
// single-file backup (a regular file) a temporary folder it is unpacked
// into ($TMPDIR; it needs the backup's size), removed by cleanup.
func openBackup(name string) (string, func(), error) {
	fi, err := os.Stat(name)
	if err != nil {
		return "", nil, fmt.Errorf("restore: %w", err)
	}
	if fi.IsDir() {
		return name, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "certdesk-restore-")
	if err != nil {
		return "", nil, fmt.Errorf("restore: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := backup.Unpack(name, dir); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

// renamed makes an error about an unpacked backup name the file the user
// gave rather than the temporary folder.
func renamed(err error, name string) error {
	var d *backup.DamagedError
	if errors.As(err, &d) && d.Dir != name {
		d.Dir = name
	}
	return err
}

// pgBinDir is the folder of the PostgreSQL programs: PG_BINDIR, else the
// embedded database's (pgembed.FindBinDir), else "" (the PATH).
func pgBinDir(cfg config.Config) string {
	if cfg.PGBinDir != "" {
		return cfg.PGBinDir
	}
	dir, err := pgembed.FindBinDir(func(string) string { return "" })
	if err != nil {
		return ""
	}
	return dir
}

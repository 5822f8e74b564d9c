package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/certdesk/certdesk/internal/evidence"
)

// DamagedError reports a backup whose part does not match its manifest
// (or has no manifest). Nothing has been restored when Restore returns it.
type DamagedError struct {
	Dir    string
	Part   string // manifest.json, database.pgdump, evidence/sha256/…
	Detail string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("backup %s is damaged: %s: %s; nothing was restored", e.Dir, e.Part, e.Detail)
}

// NotEmptyError reports a restore target that already holds data.
type NotEmptyError struct {
	What   string // "database" or "evidence folder"
	Detail string
}

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("the %s is not empty (%s): restore into an empty one, or pass --replace to overwrite it", e.What, e.Detail)
}

var hexSum = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Verify reads the backup in dir and checks every part against the
// manifest: the manifest's own SHA-256, the dump's size and SHA-256, and
// the size and SHA-256 of every evidence file included. It returns the
// manifest, or a *DamagedError naming the first part that does not match.
func Verify(dir string) (*Manifest, error) {
	damaged := func(part, format string, a ...any) error {
		return &DamagedError{Dir: dir, Part: part, Detail: fmt.Sprintf(format, a...)}
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, damaged(ManifestFile, "missing (an interrupted backup, or not a certdesk backup)")
	} else if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	sumLine, err := os.ReadFile(filepath.Join(dir, ManifestSumFile))
	if err != nil {
		return nil, damaged(ManifestSumFile, "cannot be read: %v", err)
	}
	want, _, _ := strings.Cut(strings.TrimSpace(string(sumLine)), " ")
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
		return nil, damaged(ManifestFile, "its SHA-256 %s does not match %s (%s)", hex.EncodeToString(got[:]), want, ManifestSumFile)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, damaged(ManifestFile, "not valid JSON: %v", err)
	}
	if m.Format != Format {
		return nil, damaged(ManifestFile, "format %q, this certdesk reads %q", m.Format, Format)
	}
	if m.Database.File != DatabaseFile {
		return nil, damaged(ManifestFile, "names the database file %q, not %q", m.Database.File, DatabaseFile)
	}
	if err := checkPart(dir, DatabaseFile, m.Database.SHA256, m.Database.Size); err != nil {
		return nil, err
	}
	for _, f := range m.Evidence.Files {
		if !hexSum.MatchString(f.SHA256) {
			return nil, damaged(ManifestFile, "evidence file name %q is not a SHA-256", f.SHA256)
		}
		if m.Evidence.Included {
			if err := checkPart(dir, filepath.Join(EvidenceDir, blobPath(f.SHA256)), f.SHA256, f.Size); err != nil {
				return nil, err
			}
		}
	}
	return &m, nil
}

// checkPart compares a part's size and SHA-256 with the manifest's.
func checkPart(dir, part, sum string, size int64) error {
	got, n, err := hashFile(filepath.Join(dir, part))
	if err != nil {
		return &DamagedError{Dir: dir, Part: part, Detail: fmt.Sprintf("cannot be read: %v", errors.Unwrap(err))}
	}
	if got != sum || n != size {
		return &DamagedError{Dir: dir, Part: part, Detail: fmt.Sprintf("%d bytes with SHA-256 %s, the manifest says %d bytes with SHA-256 %s", n, got, size, sum)}
	}
	return nil
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// DatabaseURL is the target database; it must be empty unless Replace.
	DatabaseURL string
	// PGRestore is the pg_restore program (Tool finds it).
	PGRestore string
	// Blobs is the target evidence store.
	Blobs evidence.BlobStore
	// BlobDir, when the target is a folder, is checked to hold no evidence
	// file yet unless Replace.
	BlobDir string
	// Replace drops the target database's public schema (everything
	// certdesk and River keep) before restoring, and adds the files to a
	// non-empty evidence folder.
	Replace bool
}

// Restore restores the backup in dir, whose manifest m Verify returned
// (Verify reads every part; the caller runs it first, before it opens
// anything, so that a damaged backup changes nothing). It refuses a backup
// from a newer certdesk, checks that the targets are empty, stores the evidence files
// and then restores the dump in one transaction (pg_restore
// --single-transaction): a failure leaves the database as it was. Files
// come first, as with an upload: a row never exists without its file.
// The caller applies the migrations this binary has beyond the backup's.
func Restore(ctx context.Context, dir string, m *Manifest, o RestoreOptions) error {
	known, err := KnownMigration()
	if err != nil {
		return err
	}
	if m.Migrations.Certdesk > known {
		return fmt.Errorf("the backup is at certdesk migration %d and this certdesk knows migrations up to %d: restore it with the certdesk that made it (%s) or a newer one",
			m.Migrations.Certdesk, known, m.CertdeskVersion)
	}
	conn, err := connect(ctx, o.DatabaseURL)
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var relations int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'`).Scan(&relations); err != nil {
		return fmt.Errorf("restore: inspect the database: %w", err)
	}
	if relations > 0 && !o.Replace {
		return &NotEmptyError{What: "database", Detail: fmt.Sprintf("%d tables, views or sequences", relations)}
	}
	if o.BlobDir != "" && !o.Replace {
		if name, err := anyFile(filepath.Join(o.BlobDir, "sha256")); err != nil {
			return err
		} else if name != "" {
			return &NotEmptyError{What: "evidence folder", Detail: "it holds " + name}
		}
	}
	if m.Evidence.Included {
		for _, f := range m.Evidence.Files {
			if err := putBlob(ctx, o.Blobs, filepath.Join(dir, EvidenceDir, blobPath(f.SHA256)), f); err != nil {
				return err
			}
		}
	}
	if relations > 0 {
		// Everything certdesk and River keep lives in the public schema.
		if _, err := conn.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
			return fmt.Errorf("restore: --replace: drop the public schema: %w", err)
		}
	}
	if err := runTool(ctx, o.PGRestore, o.DatabaseURL, "--single-transaction", "--exit-on-error",
		"--no-owner", "--no-privileges", "--no-password", filepath.Join(dir, DatabaseFile)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// putBlob stores one evidence file of the backup and checks that the
// store computed the same SHA-256.
func putBlob(ctx context.Context, blobs evidence.BlobStore, path string, f File) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	sum, size, err := blobs.Put(ctx, in, f.Size)
	if err != nil {
		return fmt.Errorf("restore: evidence file %s: %w", f.SHA256, err)
	}
	if sum != f.SHA256 || size != f.Size {
		return fmt.Errorf("restore: evidence file %s changed while it was restored (stored as %s, %d bytes)", f.SHA256, sum, size)
	}
	return nil
}

// anyFile returns the path of some file under dir, or "" when there is
// none (or dir does not exist).
func anyFile(dir string) (string, error) {
	var found string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() {
			found = path
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("restore: look into the evidence folder: %w", err)
	}
	return found, nil
}

// Package blob is a content-addressed file store: each blob is a read-only
// file named by the SHA-256 of its bytes, at <root>/sha256/<aa>/<bb>/<hex>.
// It holds the bytes of evidence attachments; their metadata (and which
// incident they belong to) lives in PostgreSQL.
//
// Names come only from hashes this package computed or validated, never
// from user input, so no file name a client sends can reach the file
// system. Identical content is stored once.
//
// A Put is durable when it returns: the file and its folder are fsynced
// before and after the rename into place. A blob whose database row was
// never committed (the transaction rolled back, the process died) is an
// orphan: harmless, never served (only rows lead to blobs), and a job that
// removes unreferenced blobs can collect it later. Interrupted uploads leave
// temporary files in <root>/tmp; CleanTemp removes old ones.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
)

// Store is a content-addressed folder. The zero value is not usable; call New.
type Store struct {
	root string
}

// New returns a Store rooted at dir. It touches nothing on disk: folders
// are created by the first Put, so a service that never receives an
// attachment needs no writable folder.
func New(dir string) (*Store, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("blob: the folder is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Store{root: abs}, nil
}

// Root returns the store's absolute folder.
func (s *Store) Root() string { return s.root }

var _ evidence.BlobStore = (*Store)(nil)

// chunk is the copy buffer size; the context is checked between chunks.
const chunk = 64 << 10

// Put copies r into the store and returns the SHA-256 (64 lower-case hex
// digits) and size of what it read. It stops with *evidence.TooLargeError
// as soon as r yields more than max bytes, and with r's own error when
// reading fails; in both cases nothing is kept. A full file system
// (ENOSPC, EDQUOT) is apperr.InsufficientStorage, and nothing is kept
// either: the temporary file is removed. When it returns without error
// the blob is on stable storage.
func (s *Store) Put(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	tmpDir := filepath.Join(s.root, "tmp")
	if err := mkdirs(tmpDir); err != nil {
		return "", 0, err
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return "", 0, storageErr(fmt.Errorf("blob: create temporary file: %w", err))
	}
	tmp := f.Name()
	kept := false
	defer func() {
		if !kept {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return "", 0, fmt.Errorf("blob: %w", err)
	}
	h := sha256.New()
	size, err := copyLimited(ctx, io.MultiWriter(f, h), r, max)
	if err != nil {
		return "", 0, err
	}
	if err := f.Sync(); err != nil {
		return "", 0, storageErr(fmt.Errorf("blob: sync: %w", err))
	}
	if err := f.Chmod(0o400); err != nil {
		return "", 0, fmt.Errorf("blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", 0, storageErr(fmt.Errorf("blob: close: %w", err))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := s.path(sum)
	if err := mkdirs(filepath.Dir(dst)); err != nil {
		return "", 0, err
	}
	if _, err := os.Lstat(dst); err == nil {
		// Already stored: the same bytes, by their hash. Drop the copy.
		return sum, size, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", 0, fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", 0, storageErr(fmt.Errorf("blob: move into place: %w", err))
	}
	kept = true
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return "", 0, err
	}
	return sum, size, nil
}

// copyLimited copies at most max bytes from r to w; one byte more is a
// *evidence.TooLargeError. Read errors are returned as they are (they are
// the client's); write errors are wrapped (they are ours).
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, chunk)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if n+int64(m) > max {
				return n, &evidence.TooLargeError{Max: max}
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return n, storageErr(fmt.Errorf("blob: write: %w", err))
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// mkdirs creates dir and its missing parents and syncs every folder that
// gained an entry, so that a blob's path survives a crash.
func mkdirs(dir string) error {
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return storageErr(fmt.Errorf("blob: create %s: %w", dir, err))
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// storageErr returns err as apperr.InsufficientStorage (507) when the file
// system is full (ENOSPC) or the quota is used up (EDQUOT), else err.
// Put removes its temporary file on every error, so a full disk leaves
// nothing half-written behind.
func storageErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &apperr.Error{Code: apperr.InsufficientStorage, Err: err,
			Message: "no space left in the evidence store: the file was not stored; tell the administrators"}
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: open folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return storageErr(fmt.Errorf("blob: sync folder %s: %w", dir, err))
	}
	return nil
}

// ValidHash reports whether s is a SHA-256 as this store names blobs: 64
// lower-case hex digits, nothing else.
func ValidHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// path is where the blob of a valid hash lives.
func (s *Store) path(sum string) string {
	return filepath.Join(s.root, "sha256", sum[0:2], sum[2:4], sum)
}

// Open returns the blob with SHA-256 sum and its size. A sum that is not 64
// lower-case hex digits is refused before any file is touched; a missing
// blob is apperr.NotFound.
func (s *Store) Open(_ context.Context, sum string) (io.ReadSeekCloser, int64, error) {
	if !ValidHash(sum) {
		return nil, 0, apperr.New(apperr.NotFound, "blob not found")
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, &apperr.Error{Code: apperr.Internal, Message: "the stored file of an attachment is missing", Err: err}
	} else if err != nil {
		return nil, 0, fmt.Errorf("blob: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("blob: stat: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("blob: %s is not a regular file", sum)
	}
	return f, st.Size(), nil
}

// Delete removes the blob with SHA-256 sum. A blob that is not there is
// no error (deleting twice is deleting once); a sum that is not a valid
// hash is apperr.NotFound. The caller makes sure no row still leads to it.
func (s *Store) Delete(_ context.Context, sum string) error {
	if !ValidHash(sum) {
		return apperr.New(apperr.NotFound, "blob not found")
	}
	p := s.path(sum)
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

// CleanTemp removes temporary files of uploads that started before
// now-olderThan (left by a crash or a killed process) and returns how many
// it removed. A missing folder is not an error.
func (s *Store) CleanTemp(now time.Time, olderThan time.Duration) (int, error) {
	dir := filepath.Join(s.root, "tmp")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "upload-") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < olderThan {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}

package blob_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/stretchr/testify/require"
)

func setup(t *testing.T) (*blob.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := blob.New(dir)
	require.NoError(t, err)
	return s, dir
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestFolderBlobsAreReadOnly: the folder keeps each blob read-only at its
// content address (the contract every backend keeps is in contract_test.go).
func TestFolderBlobsAreReadOnly(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	sum, _, err := s.Put(context.Background(), strings.NewReader("evidence"), 1024)
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, "sha256", sum[:2], sum[2:4], sum))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o400), st.Mode().Perm(), "blobs are read-only")
}

type failingReader struct{ n int }

var errBroken = errors.New("connection broke")

func (f *failingReader) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	m := min(len(b), f.n)
	f.n -= m
	return m, nil
}

func TestOpenRefusesAnythingButAHash(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	// A file outside the content address space that a path could reach.
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600))
	valid := strings.Repeat("a", 64)
	for _, name := range []string{
		"", "secret", "../secret", "../../../../etc/passwd", "/etc/passwd",
		strings.ToUpper(valid), valid + "0", valid[:63], valid[:62] + "/x", valid[:60] + "../x",
		valid[:63] + "g", valid[:63] + "\x00", "sha256/" + valid,
	} {
		_, _, err := s.Open(context.Background(), name)
		require.True(t, apperr.Is(err, apperr.NotFound), "Open(%q): %v", name, err)
		require.False(t, blob.ValidHash(name), name)
	}
	require.True(t, blob.ValidHash(valid))
	_, _, err := s.Open(context.Background(), valid)
	require.Error(t, err, "a valid hash without a blob is an error")
}

func FuzzValidHash(f *testing.F) {
	for _, s := range []string{strings.Repeat("0", 64), "../x", strings.Repeat("F", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !blob.ValidHash(s) {
			return
		}
		if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
			t.Fatalf("ValidHash(%q) accepted a name that is not 64 lower-case hex digits", s)
		}
	})
}

func TestCleanTempRemovesOnlyOldUploads(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	n, err := s.CleanTemp(time.Now(), time.Hour)
	require.NoError(t, err, "a store that never stored anything has nothing to clean")
	require.Zero(t, n)

	sum, _, err := s.Put(context.Background(), strings.NewReader("kept"), 1024)
	require.NoError(t, err)
	tmp := filepath.Join(dir, "tmp")
	old, fresh := filepath.Join(tmp, "upload-old"), filepath.Join(tmp, "upload-fresh")
	require.NoError(t, os.WriteFile(old, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("x"), 0o600))
	past := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(old, past, past))

	n, err = s.CleanTemp(time.Now(), time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoFileExists(t, old)
	require.FileExists(t, fresh, "an upload that may still be running stays")
	_, _, err = s.Open(context.Background(), sum)
	require.NoError(t, err, "stored blobs are never touched")
}

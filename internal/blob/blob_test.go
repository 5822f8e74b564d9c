package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/evidence"
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

func TestPutOpenRoundTrip(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("evidence\x00\xff"), 20_000) // several copy chunks
	sum, size, err := s.Put(ctx, bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err, "exactly the limit is accepted")
	require.Equal(t, hash(data), sum)
	require.Equal(t, int64(len(data)), size)

	rel := filepath.Join("sha256", sum[:2], sum[2:4], sum)
	require.Equal(t, []string{rel}, files(t, dir), "one blob at its content address, no temporary file left")
	st, err := os.Stat(filepath.Join(dir, rel))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o400), st.Mode().Perm(), "blobs are read-only")

	r, n, err := s.Open(sum)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, size, n)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, data, got)
}

func TestPutDeduplicates(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	ctx := context.Background()
	a, _, err := s.Put(ctx, strings.NewReader("same bytes"), 1024)
	require.NoError(t, err)
	b, _, err := s.Put(ctx, strings.NewReader("same bytes"), 1024)
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Len(t, files(t, dir), 1)
	c, _, err := s.Put(ctx, strings.NewReader("other bytes"), 1024)
	require.NoError(t, err)
	require.NotEqual(t, a, c)
	require.Len(t, files(t, dir), 2)
}

func TestPutRefusesMoreThanMax(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	_, _, err := s.Put(context.Background(), bytes.NewReader(make([]byte, 1025)), 1024)
	var tl *evidence.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, int64(1024), tl.Max)
	require.Empty(t, files(t, dir), "nothing is kept")
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

func TestPutKeepsNothingOnReadError(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	_, _, err := s.Put(context.Background(), &failingReader{n: 200_000}, 1<<20)
	require.ErrorIs(t, err, errBroken, "the reader's error comes back as it is")
	require.Empty(t, files(t, dir))
}

func TestPutStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	s, dir := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := s.Put(ctx, strings.NewReader("late"), 1024)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, files(t, dir))
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
		_, _, err := s.Open(name)
		require.True(t, apperr.Is(err, apperr.NotFound), "Open(%q): %v", name, err)
		require.False(t, blob.ValidHash(name), name)
	}
	require.True(t, blob.ValidHash(valid))
	_, _, err := s.Open(valid)
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
	_, _, err = s.Open(sum)
	require.NoError(t, err, "stored blobs are never touched")
}

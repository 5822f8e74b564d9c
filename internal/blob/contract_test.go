package blob_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/objstore"
	"github.com/certdesk/certdesk/internal/s3fake"
	"github.com/stretchr/testify/require"
)

// backend is what both evidence backends promise: evidence.BlobStore and
// Delete.
type backend interface {
	evidence.BlobStore
	Delete(ctx context.Context, sum string) error
}

// world is one backend under test and a look at everything it stored:
// paths relative to the folder, or keys relative to the prefix, with
// incomplete multipart uploads as "incomplete:<key>".
type world struct {
	store  backend
	stored func(t *testing.T) []string
}

// backends are the two evidence backends; every contract case runs
// against each.
var backends = []struct {
	name  string
	setup func(t *testing.T) world
}{
	{"folder", func(t *testing.T) world {
		dir := filepath.Join(t.TempDir(), "blobs")
		s, err := blob.New(dir)
		require.NoError(t, err)
		return world{store: s, stored: func(t *testing.T) []string {
			var out []string
			for _, f := range files(t, dir) {
				out = append(out, filepath.ToSlash(f))
			}
			return out
		}}
	}},
	{"s3", func(t *testing.T) world {
		srv := s3fake.New(t)
		o := srv.Options
		o.Prefix = "evidence"
		s, err := objstore.New(o)
		require.NoError(t, err)
		require.NoError(t, s.Check(context.Background()))
		return world{store: s, stored: func(t *testing.T) []string {
			var out []string
			for _, k := range srv.Keys(t) {
				rel, ok := strings.CutPrefix(k, "evidence/")
				require.True(t, ok, "key %q outside the prefix", k)
				out = append(out, rel)
			}
			for _, k := range srv.Incomplete(t) {
				out = append(out, "incomplete:"+k)
			}
			return out
		}}
	}},
}

// big is more than one part of an S3 multipart upload (5 MiB), so that
// uploads to S3 take the multipart path and fail after a part was sent.
const big = 5<<20 + 300_000

func contentAddress(sum string) string { return "sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum }

// TestBackendContract runs one table against the folder and the S3
// backend: what evidence relies on holds for both.
func TestBackendContract(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, w world)
	}{
		{"round trip of exactly the limit, streamed in parts", func(t *testing.T, w world) {
			data := bytes.Repeat([]byte("evidence\x00\xff"), big/10)
			sum, size, err := w.store.Put(context.Background(), bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err, "exactly the limit is accepted")
			require.Equal(t, hash(data), sum)
			require.Equal(t, int64(len(data)), size)
			require.Equal(t, []string{contentAddress(sum)}, w.stored(t), "one blob at its content address, nothing temporary left")
			r, n, err := w.store.Open(context.Background(), sum)
			require.NoError(t, err)
			defer r.Close()
			require.Equal(t, size, n)
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "the bytes come back as they went in")
		}},
		{"an empty file", func(t *testing.T, w world) {
			sum, size, err := w.store.Put(context.Background(), strings.NewReader(""), 1024)
			require.NoError(t, err)
			require.Equal(t, hash(nil), sum)
			require.Zero(t, size)
			r, n, err := w.store.Open(context.Background(), sum)
			require.NoError(t, err)
			defer r.Close()
			require.Zero(t, n)
		}},
		{"identical content is stored once", func(t *testing.T, w world) {
			ctx := context.Background()
			a, _, err := w.store.Put(ctx, strings.NewReader("same bytes"), 1024)
			require.NoError(t, err)
			b, _, err := w.store.Put(ctx, strings.NewReader("same bytes"), 1024)
			require.NoError(t, err)
			require.Equal(t, a, b)
			require.Len(t, w.stored(t), 1)
			c, _, err := w.store.Put(ctx, strings.NewReader("other bytes"), 1024)
			require.NoError(t, err)
			require.NotEqual(t, a, c)
			require.Len(t, w.stored(t), 2)
		}},
		{"one byte more than the limit keeps nothing", func(t *testing.T, w world) {
			_, _, err := w.store.Put(context.Background(), bytes.NewReader(make([]byte, 1025)), 1024)
			var tl *evidence.TooLargeError
			require.ErrorAs(t, err, &tl)
			require.Equal(t, int64(1024), tl.Max)
			require.Empty(t, w.stored(t), "nothing is kept")
		}},
		{"too large after a part was sent keeps nothing", func(t *testing.T, w world) {
			_, _, err := w.store.Put(context.Background(), bytes.NewReader(make([]byte, big+1)), big)
			var tl *evidence.TooLargeError
			require.ErrorAs(t, err, &tl)
			require.Empty(t, w.stored(t), "no blob, no temporary object, no upload left open")
		}},
		{"a read error keeps nothing", func(t *testing.T, w world) {
			for _, n := range []int{200_000, big} {
				_, _, err := w.store.Put(context.Background(), &failingReader{n: n}, 1<<30)
				require.ErrorIs(t, err, errBroken, "the reader's error comes back as it is")
				require.Empty(t, w.stored(t), "after %d bytes", n)
			}
		}},
		{"an ended context keeps nothing", func(t *testing.T, w world) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, _, err := w.store.Put(ctx, strings.NewReader("late"), 1024)
			require.ErrorIs(t, err, context.Canceled)

			ctx, cancel = context.WithCancel(context.Background())
			_, _, err = w.store.Put(ctx, &cancellingReader{r: bytes.NewReader(make([]byte, big)), after: big - 1000, cancel: cancel}, 1<<30)
			require.ErrorIs(t, err, context.Canceled, "cancelled in the middle of the upload")
			require.Empty(t, w.stored(t))
		}},
		{"open refuses anything but a hash", func(t *testing.T, w world) {
			valid := strings.Repeat("a", 64)
			for _, name := range []string{
				"", "secret", "../secret", "../../../../etc/passwd", "/etc/passwd", "tmp/upload-x",
				strings.ToUpper(valid), valid + "0", valid[:63], valid[:62] + "/x", valid[:60] + "../x",
				valid[:63] + "g", valid[:63] + "\x00", "sha256/" + valid,
			} {
				_, _, err := w.store.Open(context.Background(), name)
				require.True(t, apperr.Is(err, apperr.NotFound), "Open(%q): %v", name, err)
				require.True(t, apperr.Is(w.store.Delete(context.Background(), name), apperr.NotFound), "Delete(%q)", name)
			}
			_, _, err := w.store.Open(context.Background(), valid)
			require.True(t, apperr.Is(err, apperr.Internal), "a valid hash without a blob is an internal error: %v", err)
		}},
		{"ranges: seek and ServeContent", func(t *testing.T, w world) {
			data := make([]byte, 300_000)
			for i := range data {
				data[i] = byte(i * 7)
			}
			sum, _, err := w.store.Put(context.Background(), bytes.NewReader(data), 1<<20)
			require.NoError(t, err)
			r, n, err := w.store.Open(context.Background(), sum)
			require.NoError(t, err)
			defer r.Close()
			end, err := r.Seek(0, io.SeekEnd)
			require.NoError(t, err)
			require.Equal(t, n, end)
			_, err = r.Seek(123_456, io.SeekStart)
			require.NoError(t, err)
			part := make([]byte, 1000)
			_, err = io.ReadFull(r, part)
			require.NoError(t, err)
			require.Equal(t, data[123_456:124_456], part)

			r2, _, err := w.store.Open(context.Background(), sum)
			require.NoError(t, err)
			defer r2.Close()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set("Range", "bytes=250000-250099")
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "", time.Time{}, r2)
			require.Equal(t, http.StatusPartialContent, rec.Code)
			require.Equal(t, data[250_000:250_100], rec.Body.Bytes())
		}},
		{"delete", func(t *testing.T, w world) {
			ctx := context.Background()
			sum, _, err := w.store.Put(ctx, strings.NewReader("to be deleted"), 1024)
			require.NoError(t, err)
			other, _, err := w.store.Put(ctx, strings.NewReader("kept"), 1024)
			require.NoError(t, err)
			require.NoError(t, w.store.Delete(ctx, sum))
			require.Equal(t, []string{contentAddress(other)}, w.stored(t))
			_, _, err = w.store.Open(ctx, sum)
			require.True(t, apperr.Is(err, apperr.Internal), "%v", err)
			require.NoError(t, w.store.Delete(ctx, sum), "deleting twice is deleting once")
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b.setup(t))
				})
			}
		})
	}
}

// cancellingReader cancels its context once after bytes were read.
type cancellingReader struct {
	r      io.Reader
	after  int
	n      int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(b []byte) (int, error) {
	m, err := c.r.Read(b)
	c.n += m
	if c.n >= c.after {
		c.cancel()
	}
	return m, err
}

package objstore_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/objstore"
	"github.com/certdesk/certdesk/internal/s3fake"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"
)

// The contract shared with the folder backend is in
// internal/blob/contract_test.go; these are the S3 backend's own cases.

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	ok := objstore.Options{Endpoint: "s3.example.org", Bucket: "b", AccessKey: "a", SecretKey: "s", TLS: true}
	_, err := objstore.New(ok)
	require.NoError(t, err)
	for name, change := range map[string]func(o *objstore.Options){
		"no endpoint":        func(o *objstore.Options) { o.Endpoint = "" },
		"endpoint as a URL":  func(o *objstore.Options) { o.Endpoint = "https://s3.example.org" },
		"endpoint with path": func(o *objstore.Options) { o.Endpoint = "s3.example.org/bucket" },
		"no bucket":          func(o *objstore.Options) { o.Bucket = "" },
		"no access key":      func(o *objstore.Options) { o.AccessKey = "" },
		"no secret key":      func(o *objstore.Options) { o.SecretKey = "" },
	} {
		o := ok
		change(&o)
		_, err := objstore.New(o)
		require.Error(t, err, name)
	}
}

func TestCheckNamesAMissingBucket(t *testing.T) {
	t.Parallel()
	srv := s3fake.New(t)
	o := srv.Options
	o.Bucket = "no-such-bucket"
	s, err := objstore.New(o)
	require.NoError(t, err)
	err = s.Check(context.Background())
	require.ErrorContains(t, err, `bucket "no-such-bucket"`)
}

// TestCleanTempRemovesOnlyOldLeftovers: what a crash between upload and
// copy leaves under tmp/ (a temporary object, an incomplete multipart
// upload) goes once it is old; blobs and recent uploads stay.
func TestCleanTempRemovesOnlyOldLeftovers(t *testing.T) {
	t.Parallel()
	srv := s3fake.New(t)
	s, err := objstore.New(srv.Options)
	require.NoError(t, err)
	ctx := context.Background()
	n, err := s.CleanTemp(ctx, time.Now(), time.Hour)
	require.NoError(t, err, "an empty bucket has nothing to clean")
	require.Zero(t, n)

	sum, _, err := s.Put(ctx, strings.NewReader("kept"), 1024)
	require.NoError(t, err)
	srv.PutRaw(t, "tmp/upload-crashed", "half")
	c, err := minio.NewCore(srv.Options.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.Options.AccessKey, srv.Options.SecretKey, ""),
		Region: srv.Options.Region, BucketLookup: minio.BucketLookupPath})
	require.NoError(t, err)
	_, err = c.NewMultipartUpload(ctx, s3fake.Bucket, "tmp/upload-open", minio.PutObjectOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"tmp/upload-open"}, srv.Incomplete(t))

	n, err = s.CleanTemp(ctx, time.Now(), time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "uploads that may still be running stay")
	require.Len(t, srv.Keys(t), 2)

	n, err = s.CleanTemp(ctx, time.Now().Add(2*time.Hour), time.Hour)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum}, srv.Keys(t), "stored blobs are never touched")
	require.Empty(t, srv.Incomplete(t))
}

// countingReader yields n bytes and counts what was read.
type countingReader struct {
	n    int64
	read atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	left := c.n - c.read.Load()
	if left <= 0 {
		return 0, io.EOF
	}
	m := int(min(int64(len(b)), left))
	for i := range b[:m] {
		b[i] = byte(i)
	}
	c.read.Add(int64(m))
	return m, nil
}

// TestPutStreamsAPartAtATime: a large upload is never read far ahead of
// what the store received. When each part request arrives, the reader has
// given at most two parts more than the store acknowledged: memory per
// upload is bounded by the part size, not by the file.
func TestPutStreamsAPartAtATime(t *testing.T) {
	t.Parallel()
	const part = 5 << 20
	src := &countingReader{n: 6*part + 12345}
	var received, parts, worst atomic.Int64
	srv := s3fake.NewWrapped(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" {
				if gap := src.read.Load() - received.Load(); gap > worst.Load() {
					worst.Store(gap)
				}
				next.ServeHTTP(w, r)
				received.Add(r.ContentLength)
				parts.Add(1)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	s, err := objstore.New(srv.Options)
	require.NoError(t, err)
	_, size, err := s.Put(context.Background(), src, 1<<30)
	require.NoError(t, err)
	require.Equal(t, src.n, size)
	require.EqualValues(t, 7, parts.Load(), "parts of 5 MiB")
	t.Logf("read ahead of the store by at most %d bytes (part %d)", worst.Load(), part)
	require.LessOrEqual(t, worst.Load(), int64(2*part), "read ahead of the store by at most two parts")
}

// TestStoreDownIsUnavailable: a store that cannot be reached is
// apperr.Unavailable (503: try again), never an internal error.
func TestStoreDownIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := s3fake.New(t)
	s, err := objstore.New(srv.Options)
	require.NoError(t, err)
	sum, _, err := s.Put(context.Background(), strings.NewReader("stored before the outage"), 1024)
	require.NoError(t, err)
	srv.Close()
	_, _, err = s.Put(context.Background(), strings.NewReader("during the outage"), 1024)
	require.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	_, _, err = s.Open(context.Background(), sum)
	require.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	require.True(t, apperr.Is(s.Delete(context.Background(), sum), apperr.Unavailable))
}

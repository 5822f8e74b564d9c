package objstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

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

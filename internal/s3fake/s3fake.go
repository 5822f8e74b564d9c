// Package s3fake starts an S3-compatible server in the test process
// (gofakes3 with its in-memory backend) for the tests of the object-store
// evidence backend: a fake only at the edge, the way internal/slackfake
// stands in for Slack. It is for tests only.
package s3fake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/objstore"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Bucket is the bucket every fake server has.
const Bucket = "certdesk-evidence"

// Server is a running fake S3 server with one empty bucket.
type Server struct {
	// Options reach the server's bucket (path style, no TLS).
	Options objstore.Options
	client  *minio.Client
	srv     *httptest.Server
}

// Close stops the server: the store becomes unreachable.
func (s *Server) Close() { s.srv.Close() }

// New starts a fake S3 server with an empty bucket Bucket; it stops when
// t ends.
func New(t testing.TB) *Server {
	t.Helper()
	return NewWrapped(t, nil)
}

// NewWrapped is New with the server's handler passed through wrap (a test
// that watches the requests); nil wraps nothing.
func NewWrapped(t testing.TB, wrap func(http.Handler) http.Handler) *Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(Bucket); err != nil {
		t.Fatalf("s3fake: create bucket: %v", err)
	}
	h := gofakes3.New(backend, gofakes3.WithoutVersioning()).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := objstore.Options{Endpoint: u.Host, Bucket: Bucket, Region: "us-east-1",
		AccessKey: "test-access-key", SecretKey: "test-secret-key", PathStyle: true}
	c, err := minio.New(o.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Region: o.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Options: o, client: c, srv: srv}
}

// Keys lists every object in the bucket, sorted.
func (s *Server) Keys(t testing.TB) []string {
	t.Helper()
	var out []string
	for obj := range s.client.ListObjects(context.Background(), Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("s3fake: list: %v", obj.Err)
		}
		out = append(out, obj.Key)
	}
	sort.Strings(out)
	return out
}

// Incomplete lists the keys of multipart uploads begun and neither
// completed nor aborted.
func (s *Server) Incomplete(t testing.TB) []string {
	t.Helper()
	var out []string
	for up := range s.client.ListIncompleteUploads(context.Background(), Bucket, "", true) {
		if minio.ToErrorResponse(up.Err).Code == "NoSuchUpload" {
			break // gofakes3's answer when there is none
		}
		if up.Err != nil {
			t.Fatalf("s3fake: list uploads: %v", up.Err)
		}
		out = append(out, up.Key)
	}
	return out
}

// PutRaw stores an object at key as any other writer of the bucket would
// (a crashed upload's leftovers in tests).
func (s *Server) PutRaw(t testing.TB, key, body string) {
	t.Helper()
	if _, err := s.client.PutObject(context.Background(), Bucket, key, strings.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{}); err != nil {
		t.Fatalf("s3fake: put %s: %v", key, err)
	}
}

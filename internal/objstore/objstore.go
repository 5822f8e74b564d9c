// Package objstore keeps the bytes of evidence attachments in an
// S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage, …) instead
// of a folder, so that several API processes share them without a shared
// disk. It implements evidence.BlobStore with the folder's promises
// (package blob): content addressed by SHA-256 at
// <prefix>sha256/<aa>/<bb>/<hex>, computed while the upload streams, a
// size limit enforced while reading, nothing visible after a failed upload.
//
// # How an upload becomes visible
//
// The name of a blob is the hash of its bytes, known only once they have
// all been read, so an upload streams to a temporary key
// <prefix>tmp/upload-<uuid> (a multipart upload of parts of PartSize
// bytes: one part is in memory at a time, never the whole file), and only
// when it completed is it copied server-side to its content address and
// the temporary object deleted. A multipart upload is invisible until it
// completes, and a copy appears whole or not at all (S3 PUT and COPY are
// atomic), so a half-written blob is never under a content address. A
// failed or cancelled upload is aborted; what a crash leaves behind (an
// incomplete multipart upload or a temporary object) is under tmp/, never
// served, and CleanTemp removes it.
//
// Which incident an attachment belongs to, and who may read it (the
// visibility and TLP rules), is decided by package evidence from the
// database before a blob is opened; the store only holds bytes.
package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Options configure a Store.
type Options struct {
	// Endpoint is the store's host[:port], without a scheme.
	Endpoint string
	// Bucket is the bucket that holds the blobs; it must exist.
	Bucket string
	// Region is the bucket's region; empty lets the client ask the store.
	Region string
	// AccessKey and SecretKey are the static credentials. Never logged.
	AccessKey, SecretKey string
	// TLS speaks HTTPS to the endpoint.
	TLS bool
	// PathStyle puts the bucket in the path (https://host/bucket/key)
	// instead of the host name; most self-hosted stores need it.
	PathStyle bool
	// Prefix is prepended to every key (e.g. "certdesk/"), so that one
	// bucket can hold other things too; empty: none.
	Prefix string
	// Transport replaces the HTTP transport (tests, custom CAs); nil: the
	// client's default.
	Transport http.RoundTripper
}

// Store is the S3 blob store. The zero value is not usable; call New.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string
}

var _ evidence.BlobStore = (*Store)(nil)

// minPart is the smallest part S3 accepts (but for the last one).
const minPart = 5 << 20

// maxParts is the largest number of parts of one multipart upload.
const maxParts = 10000

// New returns a Store for o. It checks the options and makes no request;
// Check asks the store whether the bucket is there.
func New(o Options) (*Store, error) {
	switch {
	case strings.TrimSpace(o.Endpoint) == "":
		return nil, errors.New("objstore: Options.Endpoint is empty")
	case strings.Contains(o.Endpoint, "://") || strings.Contains(o.Endpoint, "/"):
		return nil, fmt.Errorf("objstore: Options.Endpoint %q must be host[:port] without a scheme or path", o.Endpoint)
	case o.Bucket == "":
		return nil, errors.New("objstore: Options.Bucket is empty")
	case o.AccessKey == "" || o.SecretKey == "":
		return nil, errors.New("objstore: Options.AccessKey and Options.SecretKey are required")
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	lookup := minio.BucketLookupAuto
	if o.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(o.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:       o.TLS,
		Region:       o.Region,
		BucketLookup: lookup,
		Transport:    o.Transport,
		// A few quick retries (about a second in all, instead of ten):
		// an upload or download waits on them, and a store that stays down
		// is a 503 the client can retry.
		MaxRetries: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return &Store{c: c, bucket: o.Bucket, prefix: o.Prefix}, nil
}

// Check fails unless the bucket exists and the credentials may see it.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("objstore: bucket %q does not exist", s.bucket)
	}
	return nil
}

// Where names the store for logs: bucket and prefix, no credentials.
func (s *Store) Where() string { return "s3://" + s.bucket + "/" + s.prefix }

// key is where the blob of a valid hash lives.
func (s *Store) key(sum string) string {
	return s.prefix + "sha256/" + sum[0:2] + "/" + sum[2:4] + "/" + sum
}

func (s *Store) tmpPrefix() string { return s.prefix + "tmp/upload-" }

// partSize is the part size for uploads of at most limit bytes: the
// smallest S3 allows that still fits max in maxParts parts.
func partSize(limit int64) uint64 {
	return uint64(max((limit+maxParts-1)/maxParts, minPart))
}

// Put streams r into the store and returns the SHA-256 (64 lower-case hex
// digits) and size of what it read. More than max bytes is
// *evidence.TooLargeError, an error of r is returned as it is, and a
// cancelled ctx is ctx's error; in every case nothing becomes visible. When
// Put returns nil the blob is stored (the store acknowledged it).
//
// A file that fits in one part (PartSize, at least 5 MiB) is read into
// memory, hashed, and sent with one PUT to its content address. A larger
// one is a multipart upload to a temporary key, copied into place once its
// hash is known.
func (s *Store) Put(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	lr := &limitedHashReader{ctx: ctx, r: r, max: max, h: sha256.New()}
	ps := partSize(max)
	var first bytes.Buffer
	if _, err := io.CopyN(&first, lr, int64(ps)); err == io.EOF {
		sum := hex.EncodeToString(lr.h.Sum(nil))
		return sum, lr.n, s.putSmall(ctx, sum, first.Bytes())
	} else if err != nil {
		return "", 0, err
	}
	return s.putLarge(ctx, lr, io.MultiReader(&first, lr), ps)
}

// putSmall stores b, whose SHA-256 is sum, with one PUT (atomic: the
// object appears whole or not at all).
func (s *Store) putSmall(ctx context.Context, sum string, b []byte) error {
	dst := s.key(sum)
	if exists, err := s.exists(ctx, dst); err != nil || exists {
		return err // already stored: the same bytes, by their hash
	}
	if _, err := s.c.PutObject(ctx, s.bucket, dst, bytes.NewReader(b), int64(len(b)),
		putOptions(0)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return storeError("upload", err)
	}
	return nil
}

// putLarge streams r (which reads through lr) to a temporary key in parts
// of ps bytes, then copies it to its content address.
func (s *Store) putLarge(ctx context.Context, lr *limitedHashReader, r io.Reader, ps uint64) (string, int64, error) {
	tmp := s.tmpPrefix() + uuid.NewString()
	_, err := s.c.PutObject(ctx, s.bucket, tmp, r, -1, putOptions(ps))
	// Whatever happens, the temporary object goes (with a context that
	// outlives a cancelled request); an upload that failed is aborted by
	// the client, and here again when ctx ended (the client's abort used
	// it).
	cleanup := context.WithoutCancel(ctx)
	defer func() {
		_ = s.c.RemoveObject(cleanup, s.bucket, tmp, minio.RemoveObjectOptions{})
	}()
	if err != nil {
		if ctx.Err() != nil {
			_ = s.c.RemoveIncompleteUpload(cleanup, s.bucket, tmp)
		}
		switch {
		case lr.err != nil:
			return "", 0, lr.err // too large, the reader's or the context's error
		case ctx.Err() != nil:
			return "", 0, ctx.Err()
		}
		return "", 0, storeError("upload", err)
	}
	sum := hex.EncodeToString(lr.h.Sum(nil))
	dst := s.key(sum)
	if exists, err := s.exists(ctx, dst); err != nil {
		return "", 0, err
	} else if exists {
		return sum, lr.n, nil
	}
	src := minio.CopySrcOptions{Bucket: s.bucket, Object: tmp}
	dstOpts := minio.CopyDestOptions{Bucket: s.bucket, Object: dst}
	if lr.n <= maxCopy {
		_, err = s.c.CopyObject(ctx, dstOpts, src) // one server-side COPY
	} else {
		_, err = s.c.ComposeObject(ctx, dstOpts, src) // a multipart copy
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		return "", 0, storeError("copy into place", err)
	}
	return sum, lr.n, nil
}

// putOptions are the options of every upload. Each request carries the
// Content-MD5 of its bytes, which the store checks before it accepts them;
// the payload is not signed chunk by chunk (aws-chunked), which not every
// S3-compatible store understands, and over TLS is not signed at all in any
// case.
func putOptions(partSize uint64) minio.PutObjectOptions {
	return minio.PutObjectOptions{PartSize: partSize, ContentType: "application/octet-stream",
		SendContentMd5: true, DisableContentSha256: true}
}

// maxCopy is the largest object one COPY request may copy (S3's limit).
const maxCopy = 5 << 30

// exists reports whether an object is at key.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return true, nil
	case notFound(err):
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	}
	return false, storeError("stat", err)
}

// limitedHashReader hashes and counts what it reads, fails after max bytes
// and when ctx ends, and remembers its error (the client wraps it).
type limitedHashReader struct {
	ctx context.Context
	r   io.Reader
	max int64
	n   int64
	h   hash.Hash
	err error
}

func (l *limitedHashReader) Read(b []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if err := l.ctx.Err(); err != nil {
		l.err = err
		return 0, err
	}
	m, err := l.r.Read(b)
	if m > 0 {
		if l.n+int64(m) > l.max {
			l.err = &evidence.TooLargeError{Max: l.max}
			return 0, l.err
		}
		l.h.Write(b[:m])
		l.n += int64(m)
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return m, err
}

// storeError wraps an error of the store. A store that cannot be reached
// or answers that it is overloaded or failing (5xx, SlowDown) is
// apperr.Unavailable (503: try again later), anything else an internal
// error.
func storeError(op string, err error) error {
	wrapped := fmt.Errorf("objstore: %s: %w", op, err)
	resp := minio.ToErrorResponse(err)
	var netErr net.Error
	if errors.As(err, &netErr) || resp.StatusCode >= 500 || resp.Code == "SlowDown" || resp.Code == "ServiceUnavailable" {
		return &apperr.Error{Code: apperr.Unavailable, Message: "the evidence store is unavailable, try again later", Err: wrapped}
	}
	return wrapped
}

// notFound reports whether err is S3's answer for a missing object.
func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

// Open returns the blob with SHA-256 sum and its size. The reader fetches
// bytes as they are read and seeks with ranged GETs (ctx is used for them).
// A sum that is not 64 lower-case hex digits is apperr.NotFound before any
// request; a missing blob is an internal error, as in the folder.
func (s *Store) Open(ctx context.Context, sum string) (io.ReadSeekCloser, int64, error) {
	if !blob.ValidHash(sum) {
		return nil, 0, apperr.New(apperr.NotFound, "blob not found")
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(sum), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("objstore: open: %w", err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if notFound(err) {
			return nil, 0, &apperr.Error{Code: apperr.Internal, Message: "the stored file of an attachment is missing", Err: err}
		}
		return nil, 0, storeError("open", err)
	}
	return obj, st.Size, nil
}

// Delete removes the blob with SHA-256 sum. A blob that is not there is no
// error; a sum that is not a valid hash is apperr.NotFound. The caller
// makes sure no row still leads to it.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if !blob.ValidHash(sum) {
		return apperr.New(apperr.NotFound, "blob not found")
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(sum), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return storeError("delete", err)
	}
	return nil
}

// CleanTemp removes what uploads that started before now-olderThan left
// under tmp/ (a crash or a killed process between upload and copy):
// temporary objects and incomplete multipart uploads. It returns how many
// it removed.
func (s *Store) CleanTemp(ctx context.Context, now time.Time, olderThan time.Duration) (int, error) {
	n := 0
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.tmpPrefix()}) {
		if obj.Err != nil {
			return n, fmt.Errorf("objstore: list temporary objects: %w", obj.Err)
		}
		if now.Sub(obj.LastModified) < olderThan {
			continue
		}
		if err := s.c.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err == nil {
			n++
		}
	}
	for up := range s.c.ListIncompleteUploads(ctx, s.bucket, s.tmpPrefix(), true) {
		if minio.ToErrorResponse(up.Err).Code == "NoSuchUpload" {
			break // some stores' answer when there is none
		}
		if up.Err != nil {
			return n, fmt.Errorf("objstore: list incomplete uploads: %w", up.Err)
		}
		if now.Sub(up.Initiated) < olderThan {
			continue
		}
		if err := s.c.RemoveIncompleteUpload(ctx, s.bucket, up.Key); err == nil {
			n++
		}
	}
	return n, nil
}

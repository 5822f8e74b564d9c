package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/s3fake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestEvidenceS3AcrossReplicas is the scale-out promise for evidence: with
// the S3 backend, a file uploaded through one certdesk is downloadable
// (whole and by range) through another on the same database that shares no
// folder with it, under the same visibility rules, and neither keeps bytes
// on its own disk.
func TestEvidenceS3AcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := s3fake.New(t)
	const limit = 6 << 20
	w := attSetup(t, testapp.Options{Config: func(c *config.Config) {
		c.BlobBackend = config.BackendS3
		c.S3 = config.S3{Endpoint: srv.Options.Endpoint, Bucket: srv.Options.Bucket, Region: srv.Options.Region,
			AccessKey: srv.Options.AccessKey, SecretKey: srv.Options.SecretKey, PathStyle: true, Prefix: "certdesk/"}
		c.MaxUploadBytes = limit
	}})
	first := w.h.Config.BlobDir
	w.h.Config.BlobDir = t.TempDir() // the second instance shares no folder with the first
	second := w.h.Replica()

	data := make([]byte, limit) // more than one part: a multipart upload, copied into place
	_, _ = rand.Read(data)
	a := w.mustUpload(t, w.reporter, filePart("disk-image.bin", data))
	require.Equal(t, sha(data), a.SHA256)
	require.Equal(t, []string{"certdesk/sha256/" + a.SHA256[:2] + "/" + a.SHA256[2:4] + "/" + a.SHA256}, srv.Keys(t),
		"one object at the content address, nothing temporary left")
	require.Empty(t, srv.Incomplete(t))

	for _, tok := range []string{w.reporter, w.cert} {
		r := second.As(tok).Request(http.MethodGet, a.Links["content"], nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.True(t, bytes.Equal(data, r.Body), "the bytes through the other instance")
		p := second.As(tok).Request(http.MethodGet, a.Links["content"], nil, "Range", "bytes=5300000-5300099")
		require.Equal(t, http.StatusPartialContent, p.Status)
		require.Equal(t, fmt.Sprintf("bytes 5300000-5300099/%d", len(data)), p.Header.Get("Content-Range"))
		require.Equal(t, data[5_300_000:5_300_100], p.Body)
	}
	r := second.As(w.outsider).Request(http.MethodGet, a.Links["content"], nil)
	require.Equal(t, http.StatusNotFound, r.Status, "the visibility rules hold on every instance")

	// Uploaded through the second, read through the first.
	small := []byte("small: one PUT to its content address")
	body, ct := multipartBody(filePart("note.txt", small))
	up := second.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents/"+w.incID+"/attachments", body, "Content-Type", ct)
	require.Equal(t, http.StatusCreated, up.Status, "%s", up.Body)
	var b attBody
	up.JSON(t, &b)
	r = w.h.As(w.cert).Request(http.MethodGet, b.Links["content"], nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, small, r.Body)

	// Too large: 413, and nothing new in the bucket.
	body, ct = multipartBody(filePart("big.bin", make([]byte, limit+1)))
	tl := second.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents/"+w.incID+"/attachments", body, "Content-Type", ct)
	require.Equal(t, http.StatusRequestEntityTooLarge, tl.Status, "%s", tl.Body)
	require.Len(t, srv.Keys(t), 2)
	require.Empty(t, srv.Incomplete(t))

	for _, dir := range []string{first, w.h.Config.BlobDir} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "no bytes on a local disk")
	}
}

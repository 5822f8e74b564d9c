//go:build reliability

package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestReliabilityDiskFull (issue 15, item 7; docs/reliability.md): the
// evidence folder is a real 2 MiB tmpfs, so the disk runs full in the
// middle of an upload. The API answers 507 with a problem document that
// names the cause, the web UI shows the incident page again with the
// message on the file field (507); no temporary file remains, no
// attachment row points at a missing file, and the incident is as it was
// (version, timeline, attachment list). An upload that fits in the space
// left still works. Quick and long mode are the same.
func TestReliabilityDiskFull(t *testing.T) {
	// Mounting needs root: as root directly, else through sudo (as the
	// Makefile installs packages), the file system owned by the test.
	privileged := func(args ...string) *exec.Cmd {
		if os.Getuid() == 0 {
			return exec.Command(args[0], args[1:]...)
		}
		return exec.Command("sudo", append([]string{"-n"}, args...)...)
	}
	dir := t.TempDir()
	opts := fmt.Sprintf("size=2m,mode=0700,uid=%d,gid=%d", os.Getuid(), os.Getgid())
	if out, err := privileged("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs (as root, or with sudo -n) refused (%v: %s): this test needs a real small file system", err, out)
	}
	t.Cleanup(func() {
		if out, err := privileged("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	w := attSetup(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.BlobDir = dir
		c.MaxUploadBytes = 8 << 20 // the limit is not what refuses the file
	}})
	h := w.h
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}

	// state is what must not change when an upload is refused.
	type state struct {
		version  int
		events   int
		atts     int
		files    []string
		tmpFiles int
	}
	read := func() state {
		t.Helper()
		var inc incidentBody
		r := h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+w.incID, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &inc)
		var tl timelineBody
		r = h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+w.incID+"/timeline?limit=200", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &tl)
		s := state{version: inc.Version, events: len(tl.Events), atts: len(w.list(t, w.reporter))}
		for _, f := range w.blobFiles(t) {
			if strings.HasPrefix(f, "tmp"+string(filepath.Separator)) {
				s.tmpFiles++
			} else {
				s.files = append(s.files, f)
			}
		}
		return s
	}
	// consistent checks that every attachment row leads to a file of its
	// size, and every file to a row.
	consistent := func() int {
		t.Helper()
		rows, err := h.App.DB.Pool.Query(context.Background(), `SELECT sha256, size FROM incident_attachments`)
		require.NoError(t, err)
		defer rows.Close()
		n := 0
		want := map[string]bool{}
		for rows.Next() {
			var sum string
			var size int64
			require.NoError(t, rows.Scan(&sum, &size))
			p := filepath.Join("sha256", sum[0:2], sum[2:4], sum)
			fi, err := os.Stat(filepath.Join(dir, p))
			require.NoError(t, err, "the row of %s points at a missing file", sum)
			require.Equal(t, size, fi.Size(), "the file of %s is not whole", sum)
			want[p] = true
			n++
		}
		require.NoError(t, rows.Err())
		for _, f := range w.blobFiles(t) {
			require.True(t, want[f], "a file without a row: %s", f)
		}
		return n
	}

	first := w.mustUpload(t, w.reporter, fieldPart("description", "fits"), filePart("memory-1.bin", random(1<<20)))
	require.Equal(t, int64(1<<20), first.Size)
	before := read()

	// The API: 1.5 MiB into the less than 1 MiB left.
	r := w.upload(w.reporter, w.incID, fieldPart("description", "does not fit"), filePart("memory-2.bin", random(3<<19)))
	require.Equal(t, http.StatusInsufficientStorage, r.Status, "%s", r.Body)
	p := r.Map(t)
	require.Equal(t, "urn:certdesk:problem:insufficient_storage", p["type"])
	require.Contains(t, p["detail"], "no space left")
	afterAPI := read()
	require.Equal(t, before, afterAPI, "the incident, its timeline, its attachments and the folder are as before")
	consistent()

	// The web UI: the same upload through the incident page's form.
	d := newUIWriteDriver(h)
	sess, err := d.session(secNewUser(h, "city", access.Reporter))
	require.NoError(t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("csrf", sess.csrf))
	require.NoError(t, mw.WriteField("description", "does not fit either"))
	fw, err := mw.CreateFormFile("file", "memory-3.bin")
	require.NoError(t, err)
	_, err = fw.Write(random(3 << 19))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	status, page, err := d.do(sess, http.MethodPost, "/incidents/"+w.incRef+"/evidence", &body, mw.FormDataContentType())
	require.NoError(t, err)
	require.Equal(t, http.StatusInsufficientStorage, status, "%.2000s", page)
	require.Contains(t, page, "the evidence storage is full", "the page says why")
	afterUI := read()
	require.Equal(t, before, afterUI, "the incident, its timeline, its attachments and the folder are as before")
	consistent()

	// What fits in the space left is still stored.
	w.mustUpload(t, w.reporter, filePart("small.txt", random(64<<10)))
	after := read()
	require.Equal(t, before.atts+1, after.atts)
	require.Equal(t, before.events+1, after.events)
	require.Zero(t, after.tmpFiles)
	rows := consistent()

	t.Logf("T7: 2 MiB tmpfs, 1 MiB stored, then 2 uploads of 1.5 MiB refused (API 507 %q, UI 507 page); "+
		"%d temporary files left, %d attachment rows all with their whole file, 0 files without a row; "+
		"incident version %d, %d timeline events and %d attachments unchanged; a 64 KiB upload after: 201",
		p["type"], afterUI.tmpFiles, rows, afterUI.version, afterUI.events, afterUI.atts)
}

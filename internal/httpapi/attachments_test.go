package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// attWorld is the bundle of the attachment tests: a regional CERT above a
// city, a sibling city, and an AMBER incident reported by the city.
type attWorld struct {
	h        *testapp.Harness
	reporter string // the city's reporter: reported the incident
	viewer   string // the city's viewer: reads, may not upload
	cert     string // the region's responder: sees the city's incidents
	outsider string // the sibling city's responder: sees nothing of the city
	incID    string
	incRef   string
	email    string // the reporter's e-mail
}

func attSetup(t *testing.T, opts testapp.Options) *attWorld {
	t.Helper()
	h := testapp.New(t, opts)
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("town", org.LocalAuthority, "region")
	w := &attWorld{h: h}
	u, tok := h.User("city", access.Reporter)
	w.reporter, w.email = tok, u.Email
	_, w.viewer = h.User("city", access.Viewer)
	_, w.cert = h.User("region", access.Responder)
	_, w.outsider = h.User("town", access.Responder)
	r := h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Ransomware at the city hall", "tlp": "amber"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc struct{ ID, Reference string }
	r.JSON(t, &inc)
	w.incID, w.incRef = inc.ID, inc.Reference
	return w
}

// mpart is one part of a hand-made multipart body: the test controls every
// header byte.
type mpart struct {
	disposition string
	contentType string
	body        []byte
}

func fieldPart(name, value string) mpart {
	return mpart{disposition: `form-data; name="` + name + `"`, body: []byte(value)}
}

// filePart sends name in a quoted filename parameter as a browser does,
// with quotes and backslashes escaped.
func filePart(name string, body []byte) mpart {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	return mpart{disposition: `form-data; name="file"; filename="` + esc + `"`, contentType: "application/octet-stream", body: body}
}

// filePartExt sends name in an RFC 2231 filename* parameter, which can
// carry any byte (NUL, CR, LF, invalid UTF-8).
func filePartExt(name string, body []byte) mpart {
	var b strings.Builder
	for _, c := range []byte(name) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return mpart{disposition: `form-data; name="file"; filename*=UTF-8''` + b.String(), contentType: "application/octet-stream", body: body}
}

func multipartBody(parts ...mpart) ([]byte, string) {
	boundary := "certdesk-" + rand.Text()
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: %s\r\n", boundary, p.disposition)
		if p.contentType != "" {
			fmt.Fprintf(&b, "Content-Type: %s\r\n", p.contentType)
		}
		b.WriteString("\r\n")
		b.Write(p.body)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), "multipart/form-data; boundary=" + boundary
}

func (w *attWorld) upload(token, incident string, parts ...mpart) *testapp.Response {
	body, ct := multipartBody(parts...)
	return w.h.As(token).Request(http.MethodPost, "/api/v1/incidents/"+incident+"/attachments", body, "Content-Type", ct)
}

type attBody struct {
	ID               string            `json:"id"`
	IncidentID       string            `json:"incident_id"`
	Filename         string            `json:"filename"`
	OriginalFilename string            `json:"original_filename"`
	ContentType      string            `json:"content_type"`
	Size             int64             `json:"size"`
	SHA256           string            `json:"sha256"`
	Description      string            `json:"description"`
	UploadedBy       string            `json:"uploaded_by"`
	Links            map[string]string `json:"links"`
}

type attListBody struct {
	IncidentID  string    `json:"incident_id"`
	Attachments []attBody `json:"attachments"`
	NextCursor  *string   `json:"next_cursor"`
}

func (w *attWorld) mustUpload(t *testing.T, token string, parts ...mpart) attBody {
	t.Helper()
	r := w.upload(token, w.incID, parts...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var a attBody
	r.JSON(t, &a)
	return a
}

func (w *attWorld) list(t *testing.T, token string) []attBody {
	t.Helper()
	r := w.h.As(token).Request(http.MethodGet, "/api/v1/incidents/"+w.incID+"/attachments", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l attListBody
	r.JSON(t, &l)
	return l.Attachments
}

// blobFiles lists every file in the blob folder, relative to it.
func (w *attWorld) blobFiles(t *testing.T) []string {
	t.Helper()
	root := w.h.Config.BlobDir
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	}))
	return out
}

var blobPath = regexp.MustCompile(`^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$`)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestAttachmentRoundTrip(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true})
	data := make([]byte, 300_000)
	_, _ = rand.Read(data)
	data = append(data, []byte("<html><script>alert(1)</script>")...) // served as bytes, never as HTML

	r := w.upload(w.reporter, w.incRef, fieldPart("description", "Ransom note from the file server"),
		mpart{disposition: `form-data; name="file"; filename="README_RESTORE.html"`, contentType: "text/html; charset=utf-8", body: data})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var a attBody
	r.JSON(t, &a)
	require.Equal(t, w.incID, a.IncidentID, "uploaded by reference, recorded by ID")
	require.Equal(t, sha(data), a.SHA256)
	require.Equal(t, int64(len(data)), a.Size)
	require.Equal(t, "README_RESTORE.html", a.Filename)
	require.Equal(t, "text/html; charset=utf-8", a.ContentType, "the declared type is recorded")
	require.Equal(t, "Ransom note from the file server", a.Description)
	require.Equal(t, w.email, a.UploadedBy)
	require.Equal(t, "/api/v1/incidents/"+w.incID+"/attachments/"+a.ID, r.Header.Get("Location"))
	require.Equal(t, `"`+a.SHA256+`"`, r.Header.Get("ETag"))

	// The bytes are on disk at their content address, and nowhere else.
	files := w.blobFiles(t)
	require.Len(t, files, 1)
	m := blobPath.FindStringSubmatch(filepath.ToSlash(files[0]))
	require.NotNil(t, m, files[0])
	require.Equal(t, a.SHA256, m[3])

	// Listed and read back by the reporter and by the CERT above the city.
	for _, tok := range []string{w.reporter, w.cert, w.viewer} {
		l := w.list(t, tok)
		require.Len(t, l, 1)
		require.Equal(t, a, l[0])
		g := w.h.As(tok).Request(http.MethodGet, a.Links["self"], nil)
		require.Equal(t, http.StatusOK, g.Status, "%s", g.Body)
		var got attBody
		g.JSON(t, &got)
		require.Equal(t, a, got)
	}

	c := w.h.As(w.cert).Request(http.MethodGet, a.Links["content"], nil)
	require.Equal(t, http.StatusOK, c.Status, "%s", c.Body)
	require.Equal(t, data, c.Body)
	require.Equal(t, a.SHA256, sha(c.Body))
	require.Equal(t, "application/octet-stream", c.Header.Get("Content-Type"), "never the declared type")
	require.Equal(t, "nosniff", c.Header.Get("X-Content-Type-Options"))
	require.Equal(t, fmt.Sprint(len(data)), c.Header.Get("Content-Length"))
	require.Equal(t, `"`+a.SHA256+`"`, c.Header.Get("ETag"))
	require.Contains(t, c.Header.Get("Content-Security-Policy"), "sandbox")
	require.Contains(t, c.Header.Get("Cache-Control"), "no-store")
	sum := sha256.Sum256(data)
	require.Equal(t, "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":", c.Header.Get("Repr-Digest"))
	disp, params, err := mime.ParseMediaType(c.Header.Get("Content-Disposition"))
	require.NoError(t, err)
	require.Equal(t, "attachment", disp)
	require.Equal(t, "README_RESTORE.html", params["filename"])

	// Ranges and conditional requests.
	p := w.h.As(w.cert).Request(http.MethodGet, a.Links["content"], nil, "Range", "bytes=10-19")
	require.Equal(t, http.StatusPartialContent, p.Status)
	require.Equal(t, data[10:20], p.Body)
	require.Equal(t, fmt.Sprintf("bytes 10-19/%d", len(data)), p.Header.Get("Content-Range"))
	p = w.h.As(w.cert).Request(http.MethodGet, a.Links["content"], nil, "Range", "bytes=99999999-")
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, p.Status)
	require.Equal(t, "application/problem+json", p.Header.Get("Content-Type"))
	require.Empty(t, p.Header.Get("Content-Disposition"))
	p = w.h.As(w.cert).Request(http.MethodGet, a.Links["content"], nil, "If-None-Match", `"`+a.SHA256+`"`)
	require.Equal(t, http.StatusNotModified, p.Status)
	require.Empty(t, p.Body)
	p = w.h.As(w.cert).Request(http.MethodGet, a.Links["content"], nil, "If-Match", `"`+strings.Repeat("0", 64)+`"`)
	require.Equal(t, http.StatusPreconditionFailed, p.Status)
	require.Equal(t, "application/problem+json", p.Header.Get("Content-Type"))

	// The timeline says who added what.
	var tl timelineBody
	w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+w.incID+"/timeline", nil).JSON(t, &tl)
	last := tl.Events[len(tl.Events)-1]
	require.Equal(t, "attachment_added", last.Kind)
	require.Equal(t, w.email, last.Actor)
	require.Equal(t, map[string]any{"attachment_id": a.ID, "filename": a.Filename, "size": float64(a.Size), "sha256": a.SHA256}, last.Data)
}

func TestAttachmentFileNamesAreOnlyMetadata(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true})
	outside := filepath.Dir(w.h.Config.BlobDir) // the test's own temporary folder, around the blob folder
	for i, tc := range []struct {
		name     string
		quoted   bool   // sent as filename="..." (else filename*=UTF-8''...)
		display  string // the display name it must become
		original string // the name as sent, as stored; "" means name
	}{
		{name: "../../etc/passwd", quoted: true, display: "passwd"},
		{name: "../../../../../../../../tmp/evil", quoted: true, display: "evil"},
		{name: `..\..\boot.ini`, display: "boot.ini"},
		{name: `..\..\boot.ini`, quoted: true, display: "boot.ini"},
		{name: "/etc/shadow", quoted: true, display: "shadow"},
		{name: "..", quoted: true, display: "attachment"},
		{name: "", quoted: true, display: "attachment"},
		{name: "nul\x00byte.txt", display: "nulbyte.txt", original: "nul\uFFFDbyte.txt"},
		{name: "crlf\r\nSet-Cookie: x=1.txt", display: "crlfSet-Cookie: x=1.txt"},
		{name: `quote".txt"; filename="evil.exe`, quoted: true, display: `quote".txt"; filename="evil.exe`},
		{name: `quote".txt"; filename="evil.exe`, display: `quote".txt"; filename="evil.exe`},
		{name: "Lösegeld 日本語 ✓.txt", display: "Lösegeld 日本語 ✓.txt"},
		{name: "rtl\u202Eexe.txt", display: "rtlexe.txt"},
		{name: "bad\xffutf8", display: "bad\uFFFDutf8", original: "bad\uFFFDutf8"},
		{name: "100% sure;.txt", display: "100% sure;.txt"},
	} {
		t.Run(fmt.Sprintf("%d %q", i, tc.name), func(t *testing.T) {
			body := []byte(fmt.Sprintf("evidence %d", i))
			part := filePartExt(tc.name, body)
			if tc.quoted {
				part = filePart(tc.name, body)
			}
			a := w.mustUpload(t, w.reporter, part)
			require.Equal(t, tc.display, a.Filename)
			require.NotContains(t, a.Filename, "/")
			require.NotContains(t, a.Filename, `\`)
			require.NotRegexp(t, `[\x00-\x1f\x7f]`, a.Filename)
			want := tc.original
			if want == "" {
				want = tc.name
			}
			require.Equal(t, want, a.OriginalFilename, "the name as sent is kept as metadata")

			c := w.h.As(w.reporter).Request(http.MethodGet, a.Links["content"], nil)
			require.Equal(t, http.StatusOK, c.Status)
			require.Equal(t, body, c.Body)
			cd := c.Header.Get("Content-Disposition")
			require.NotContains(t, cd, "\r")
			require.NotContains(t, cd, "\n")
			require.Regexp(t, `^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`+"`"+`|~%]*$`, cd)
			fallback := regexp.MustCompile(`filename="([^"]*)"`).FindStringSubmatch(cd)
			require.NotNil(t, fallback, "the ASCII fallback is one quoted string: %s", cd)
			require.NotContains(t, fallback[1], `\`)
			disp, params, err := mime.ParseMediaType(cd)
			require.NoError(t, err, cd)
			require.Equal(t, "attachment", disp)
			require.Equal(t, a.Filename, params["filename"], "filename* carries the display name exactly")
		})
	}

	// Nothing was written anywhere but at content addresses in the blob folder.
	require.NoError(t, filepath.WalkDir(outside, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(w.h.Config.BlobDir, path)
		require.NoError(t, err)
		require.Regexp(t, blobPath, filepath.ToSlash(rel), "a file outside the content address space")
		return nil
	}))
	for _, name := range []string{"passwd", "shadow", "boot.ini", "evil"} {
		_, err := os.Stat(filepath.Join(outside, name))
		require.ErrorIs(t, err, fs.ErrNotExist)
	}
}

func TestAttachmentOversize(t *testing.T) {
	t.Parallel()
	const limit = 2048
	w := attSetup(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.MaxUploadBytes = limit
		c.MaxBodyBytes = 1024 // smaller than the upload limit: the upload route has its own
	}})
	for _, tc := range []struct {
		name string
		size int
	}{
		{"one byte over", limit + 1},
		{"far over (the body limit of the route)", 200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.upload(w.reporter, w.incID, filePart("big.bin", make([]byte, tc.size)))
			require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s", r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			require.Empty(t, w.list(t, w.reporter), "no row")
			require.Empty(t, w.blobFiles(t), "no blob and no temporary file")
		})
	}
	// Without a Content-Length, the limits apply while the body streams in.
	chunked := func(t *testing.T, body []byte, ct string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, w.h.URL+"/api/v1/incidents/"+w.incID+"/attachments", io.MultiReader(bytes.NewReader(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+w.reporter)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s", b)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Empty(t, w.list(t, w.reporter))
		require.Empty(t, w.blobFiles(t))
	}
	t.Run("chunked, a big file", func(t *testing.T) {
		body, ct := multipartBody(filePart("big.bin", make([]byte, 200_000)))
		chunked(t, body, ct)
	})
	t.Run("chunked, a part header past the route's body limit", func(t *testing.T) {
		p := filePart("small.bin", []byte("small"))
		p.contentType = "application/octet-stream\r\nX-Padding: " + strings.Repeat("p", 100_000)
		body, ct := multipartBody(p)
		chunked(t, body, ct)
	})

	// Exactly the limit is fine, although it is more than the JSON limit.
	a := w.mustUpload(t, w.reporter, filePart("exact.bin", bytes.Repeat([]byte{7}, limit)))
	require.Equal(t, int64(limit), a.Size)
	// The JSON routes keep their own limit.
	r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": strings.Repeat("x", 1500)})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
}

func TestAttachmentDeduplicates(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true})
	data := []byte("the same log file, sent twice")
	a := w.mustUpload(t, w.reporter, filePart("auth.log", data))
	b := w.mustUpload(t, w.cert, fieldPart("description", "again, from the CERT"), filePart("auth-copy.log", data))
	require.NotEqual(t, a.ID, b.ID, "two records")
	require.Equal(t, a.SHA256, b.SHA256)
	require.Len(t, w.list(t, w.reporter), 2)
	require.Len(t, w.blobFiles(t), 1, "one blob")
	for _, x := range []attBody{a, b} {
		c := w.h.As(w.reporter).Request(http.MethodGet, x.Links["content"], nil)
		require.Equal(t, data, c.Body)
		_, params, err := mime.ParseMediaType(c.Header.Get("Content-Disposition"))
		require.NoError(t, err)
		require.Equal(t, x.Filename, params["filename"], "each record keeps its own name")
	}
}

func TestAttachmentVisibilityAndRoles(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true})
	a := w.mustUpload(t, w.reporter, filePart("secret.txt", []byte("only for those who see the incident")))
	before := w.blobFiles(t)

	// The sibling city's responder does not see the incident: 404
	// everywhere, and an upload stores nothing.
	out := w.h.As(w.outsider)
	for _, path := range []string{
		"/api/v1/incidents/" + w.incID + "/attachments",
		"/api/v1/incidents/" + w.incRef + "/attachments",
		a.Links["self"],
		a.Links["content"],
	} {
		r := out.Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, r.Status, path)
		require.NotContains(t, string(r.Body), "secret")
	}
	r := w.upload(w.outsider, w.incID, filePart("planted.txt", []byte("planted")))
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, before, w.blobFiles(t), "nothing stored for an invisible incident")

	// The city's viewer reads but may not upload.
	r = w.upload(w.viewer, w.incID, filePart("viewer.txt", []byte("viewer")))
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, before, w.blobFiles(t))
	require.Len(t, w.list(t, w.viewer), 1)

	// Attachments are named by ID within their incident: another incident's
	// path, an unknown ID, a non-UUID or the blob's hash lead nowhere.
	other := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Another incident"})
	require.Equal(t, http.StatusCreated, other.Status)
	var inc2 struct{ ID string }
	other.JSON(t, &inc2)
	for _, path := range []string{
		"/api/v1/incidents/" + inc2.ID + "/attachments/" + a.ID,
		"/api/v1/incidents/" + inc2.ID + "/attachments/" + a.ID + "/content",
		"/api/v1/incidents/" + w.incID + "/attachments/" + testapp.NewID(),
		"/api/v1/incidents/" + w.incID + "/attachments/not-a-uuid/content",
		"/api/v1/incidents/" + w.incID + "/attachments/" + a.SHA256,
		"/api/v1/incidents/" + w.incID + "/attachments/" + a.SHA256 + "/content",
		"/api/v1/incidents/" + w.incID + "/attachments/" + url.PathEscape("../../sha256/"+a.SHA256[:2]+"/"+a.SHA256[2:4]+"/"+a.SHA256) + "/content",
	} {
		r := w.h.As(w.reporter).Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, r.Status, path)
	}
}

func TestAttachmentUploadRequestShape(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true})
	file := filePart("a.txt", []byte("a"))
	goodBody, goodCT := multipartBody(file)
	for _, tc := range []struct {
		name        string
		parts       []mpart // a multipart body of these parts, unless raw is set
		raw         []byte
		contentType string // with raw
		status      int
		field, rule string
	}{
		{name: "JSON body", raw: []byte(`{"file":"x"}`), contentType: "application/json", status: http.StatusUnsupportedMediaType},
		{name: "no content type", raw: goodBody, contentType: "", status: http.StatusUnsupportedMediaType},
		{name: "no boundary", raw: goodBody, contentType: "multipart/form-data", status: http.StatusUnprocessableEntity, field: "Content-Type", rule: "boundary"},
		{name: "no file", parts: []mpart{fieldPart("description", "only words")}, status: http.StatusUnprocessableEntity, field: "file", rule: "required"},
		{name: "empty multipart", parts: []mpart{}, status: http.StatusUnprocessableEntity, field: "file", rule: "required"},
		{name: "unknown field", parts: []mpart{fieldPart("title", "x"), file}, status: http.StatusUnprocessableEntity, field: "title", rule: "unknown_field"},
		{name: "description after the file", parts: []mpart{file, fieldPart("description", "late")}, status: http.StatusUnprocessableEntity, field: "file", rule: "last_part"},
		{name: "two files", parts: []mpart{file, filePart("b.txt", []byte("b"))}, status: http.StatusUnprocessableEntity, field: "file", rule: "last_part"},
		{name: "two descriptions", parts: []mpart{fieldPart("description", "1"), fieldPart("description", "2"), file}, status: http.StatusUnprocessableEntity, field: "description", rule: "single"},
		{name: "description too long", parts: []mpart{fieldPart("description", strings.Repeat("d", 2001)), file}, status: http.StatusUnprocessableEntity, field: "description", rule: "max_length"},
		{name: "description not UTF-8", parts: []mpart{fieldPart("description", "\xff"), file}, status: http.StatusUnprocessableEntity, field: "description", rule: "utf8"},
		{name: "part without a name", parts: []mpart{{disposition: "form-data", body: []byte("x")}}, status: http.StatusUnprocessableEntity, field: "body", rule: "multipart"},
		{name: "cut short", raw: goodBody[:len(goodBody)-20], contentType: goodCT, status: http.StatusUnprocessableEntity, field: "body", rule: "multipart"},
		{name: "not multipart at all", raw: []byte("just bytes"), contentType: goodCT, status: http.StatusUnprocessableEntity, field: "body", rule: "multipart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.raw, tc.contentType
			if tc.raw == nil {
				body, ct = multipartBody(tc.parts...)
			}
			header := []string{"Content-Type", ct}
			if ct == "" {
				header = []string{"Content-Type", ""}
			}
			r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents/"+w.incID+"/attachments", body, header...)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			if tc.field != "" {
				var p struct {
					Errors []struct{ Field, Rule string }
				}
				r.JSON(t, &p)
				require.NotEmpty(t, p.Errors, "%s", r.Body)
				require.Equal(t, tc.field, p.Errors[0].Field)
				require.Equal(t, tc.rule, p.Errors[0].Rule)
			}
			require.Empty(t, w.list(t, w.reporter), "no row")
			require.Empty(t, w.blobFiles(t), "no blob")
		})
	}
}

// slowBody sends the body in pieces, waiting between them.
type slowBody struct {
	parts [][]byte
	pause time.Duration
	stall bool // after the parts, block until the request ends
	ctx   context.Context
}

func (s *slowBody) Read(b []byte) (int, error) {
	if len(s.parts) == 0 {
		if s.stall {
			<-s.ctx.Done()
			return 0, s.ctx.Err()
		}
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(b, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	if len(s.parts[0]) == 0 {
		s.parts = s.parts[1:]
	}
	return n, nil
}

func TestAttachmentUploadTimeouts(t *testing.T) {
	t.Parallel()
	w := attSetup(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.RequestTimeout = time.Second // the JSON routes' limit does not cut uploads
		c.UploadTimeout = 4 * time.Second
	}})
	send := func(ctx context.Context, body io.Reader, ct string) (int, []byte) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.h.URL+"/api/v1/incidents/"+w.incID+"/attachments", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+w.reporter)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	t.Run("an upload may take longer than the request timeout", func(t *testing.T) {
		body, ct := multipartBody(filePart("slow.bin", bytes.Repeat([]byte("s"), 3000)))
		parts := [][]byte{body[:1000], body[1000:2000], body[2000:]}
		status, b := send(context.Background(), &slowBody{parts: parts, pause: 700 * time.Millisecond}, ct)
		require.Equal(t, http.StatusCreated, status, "%s", b)
	})
	t.Run("but not longer than the upload timeout", func(t *testing.T) {
		body, ct := multipartBody(filePart("stalled.bin", bytes.Repeat([]byte("s"), 3000)))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		status, b := send(ctx, &slowBody{parts: [][]byte{body[:1500]}, stall: true, ctx: ctx}, ct)
		require.Equal(t, http.StatusServiceUnavailable, status, "%s", b)
		require.Less(t, time.Since(start), 20*time.Second)
		var p map[string]any
		require.NoError(t, json.Unmarshal(b, &p))
	})
	require.Len(t, w.list(t, w.reporter), 1, "only the completed upload has a row")
	require.Len(t, w.blobFiles(t), 1)
}

func TestStartRemovesStaleTemporaryUploads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	require.NoError(t, os.MkdirAll(tmp, 0o700))
	stale, fresh := filepath.Join(tmp, "upload-stale"), filepath.Join(tmp, "upload-fresh")
	require.NoError(t, os.WriteFile(stale, []byte("half an upload"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("an upload in progress elsewhere"), 0o600))
	past := time.Now().Add(-3 * time.Hour)
	require.NoError(t, os.Chtimes(stale, past, past))
	testapp.New(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) { c.BlobDir = dir }})
	require.NoFileExists(t, stale)
	require.FileExists(t, fresh)
}

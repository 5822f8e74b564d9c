package ui

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/labstack/echo/v4"
)

// evidenceDownload serves an evidence file through the same checks and
// with the same headers as the API's download: only to those who see the
// incident (else the 404 page), always as an application/octet-stream
// attachment (never the declared type: a stored file must not be rendered
// in certdesk's origin), nosniff, a sandboxing Content-Security-Policy, no
// caching; Range and conditional requests through http.ServeContent.
func (u *UI) evidenceDownload(c echo.Context) error {
	a, r, err := u.o.Evidence.Open(c.Request().Context(), current(c).Principal, c.Param("ref"), c.Param("id"))
	if err != nil {
		return err
	}
	defer r.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "application/octet-stream")
	hd.Set(echo.HeaderContentDisposition, evidence.ContentDisposition(a.Filename))
	hd.Set(echo.HeaderXContentTypeOptions, "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set(echo.HeaderCacheControl, "private, no-store")
	hd.Set("ETag", `"`+a.SHA256+`"`)
	if sum, err := hex.DecodeString(a.SHA256); err == nil && len(sum) == sha256.Size {
		hd.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	w := &refusal{ResponseWriter: c.Response()}
	http.ServeContent(w, c.Request(), "", a.CreatedAt, r)
	if w.status != 0 {
		// ServeContent refused (a range that cannot be satisfied, a failed
		// If-Match): answer with the error page instead of its text.
		for _, k := range []string{echo.HeaderContentDisposition, "Repr-Digest", "Accept-Ranges", echo.HeaderContentType} {
			hd.Del(k)
		}
		return echo.NewHTTPError(w.status)
	}
	return nil
}

// refusal passes a response through unless its status is an error: then
// it records the status and drops the body, so that the error page can be
// written instead.
type refusal struct {
	http.ResponseWriter
	status int
}

func (w *refusal) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusal) Write(b []byte) (int, error) {
	if w.status != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *refusal) Unwrap() http.ResponseWriter { return w.ResponseWriter }

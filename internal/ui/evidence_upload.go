package ui

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// uploadRoutes are the UI's routes with their own body and time limits
// (OwnLimits): the evidence upload, the guided report's files and the
// MISP import, which reads its file up to its own limit.
var uploadRoutes = map[string]bool{
	http.MethodPost + " /incidents/:ref/evidence": true,
	http.MethodPost + " " + reportFilesRoute:      true,
	http.MethodPost + " " + mispImportRoute:       true,
}

// uploadEnvelope is what the multipart framing around the file may take:
// boundaries, part headers, the CSRF token and the description.
const uploadEnvelope = 64 << 10

// OwnLimits reports whether the route (method and Echo path) sets its own
// body and time limits, so that the server's global ones (1 MiB, the
// request timeout) skip it: the uploads, which may be as large as
// CERTDESK_MAX_UPLOAD_BYTES and take CERTDESK_UPLOAD_TIMEOUT.
func (u *UI) OwnLimits(method, path string) bool { return uploadRoutes[method+" "+path] }

// uploadLimits are the upload route's own limits: the body may be as large
// as the largest file plus its framing, and the request may take
// UploadTimeout, for the handler's context and for reading the body (a
// context does not interrupt a blocked read; a read deadline does).
func (u *UI) uploadLimits(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := u.o.Evidence.MaxBytes() + uploadEnvelope
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(u.o.UploadTimeout))
		ctx, cancel := context.WithTimeout(r.Context(), u.o.UploadTimeout)
		defer cancel()
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// evidenceUpload adds a file of evidence to the incident: a plain
// multipart form (works without JavaScript) whose parts are the CSRF
// token, an optional description, then the file, streamed into the blob
// store without being held in memory. Who may add evidence is decided
// before a byte of the file is read. A missing or too large file comes
// back on the incident page with an error summary.
func (u *UI) evidenceUpload(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Evidence.CheckUpload(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	mr, err := u.uploadParts(c)
	if err != nil {
		return err
	}
	var in evidence.NewAttachment
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return u.uploadFailed(c, inc, in, "evidence-file", "evidence.error.no_file", http.StatusUnprocessableEntity)
		} else if err != nil {
			return uploadReadError(err)
		}
		switch part.FormName() {
		case "description":
			b, err := io.ReadAll(io.LimitReader(part, evidence.MaxDescription*4+1))
			if err != nil {
				return uploadReadError(err)
			}
			if len(b) > evidence.MaxDescription*4 || utf8.RuneCount(b) > evidence.MaxDescription {
				in.Description = string(b)
				return u.uploadFailed(c, inc, in, "evidence-description", "evidence.error.description_long", http.StatusUnprocessableEntity)
			}
			in.Description = string(b)
		case "file":
			in.Filename, in.ContentType = fileName(part), part.Header.Get(echo.HeaderContentType)
			if in.Filename == "" { // the form was sent without choosing a file
				return u.uploadFailed(c, inc, in, "evidence-file", "evidence.error.no_file", http.StatusUnprocessableEntity)
			}
			_, err := u.o.Evidence.Upload(ctx, cur.Principal, inc.ID.String(), in, &evidence.LastPart{Part: part, Form: mr, More: errFileNotLast})
			var tooLarge *evidence.TooLargeError
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge), errors.As(err, &mbe):
				return u.uploadFailed(c, inc, in, "evidence-file", "evidence.error.too_large", http.StatusRequestEntityTooLarge,
					u.o.Evidence.MaxBytes())
			case apperr.CodeOf(err) == apperr.Invalid:
				return u.uploadFailed(c, inc, in, "evidence-file", "evidence.error.invalid", http.StatusUnprocessableEntity)
			case apperr.CodeOf(err) == apperr.InsufficientStorage:
				return u.uploadFailed(c, inc, in, "evidence-file", "evidence.error.storage_full", http.StatusInsufficientStorage)
			case err != nil:
				return uploadReadError(err)
			}
			return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"?done=evidence#evidence")
		default:
			// Parts this form does not have are skipped, not stored.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, uploadEnvelope)); err != nil {
				return uploadReadError(err)
			}
		}
	}
}

// uploadFailed shows the incident page again with the upload's error on
// field (and the description typed): the message key, and a size in
// bytes when the message names one.
func (u *UI) uploadFailed(c echo.Context, inc *incident.Incident, in evidence.NewAttachment, field, key string, status int, size ...int64) error {
	p, err := u.incidentPage(c, inc, incidentForm{EvidenceDescription: in.Description})
	if err != nil {
		return err
	}
	var args []any
	for _, n := range size {
		args = append(args, p.L.Size(n))
	}
	p.Errors = []fieldError{{Field: field, Message: p.L.T(key, args...)}}
	return u.render(c, status, p)
}

// multipartOf checks that the body is multipart/form-data with a boundary
// and returns a streaming reader over its parts.
// uploadParts reads an upload form's body as a stream of parts. The
// first part must be the CSRF token (the form's first field): it is
// checked before anything else is read (the generic CSRF check refuses
// multipart bodies, so that no route buffers one).
func (u *UI) uploadParts(c echo.Context) (*multipart.Reader, error) {
	mr, err := multipartOf(c.Request())
	if err != nil {
		return nil, err
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		return nil, errBadToken
	}
	token, err := io.ReadAll(io.LimitReader(part, 128))
	if err != nil || !hmac.Equal(token, []byte(u.csrfToken(c))) || len(token) == 0 {
		return nil, errBadToken
	}
	return mr, nil
}

// errFileNotLast: a part followed the file (evidence.LastPart).
var errFileNotLast = echo.NewHTTPError(http.StatusBadRequest, "the file must be the form's last field")

func multipartOf(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, echo.NewHTTPError(http.StatusBadRequest)
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// fileName is the file name of a part exactly as the browser sent it
// (multipart.Part.FileName would already have cut it by the server's path
// rules; evidence.DisplayName makes the name shown, and the name as sent
// is kept for the record).
func fileName(part *multipart.Part) string {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// uploadReadError classifies an error while reading the upload: past the
// body limit is 413, a read deadline a timeout (503), an application
// error (the database or the evidence store unavailable or full) itself,
// anything else a malformed or cut-short body (400).
func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	if _, ok := apperr.As(err); ok {
		return err
	}
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge).WithInternal(err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: reading the upload: %w", context.DeadlineExceeded, err)
	}
	return echo.NewHTTPError(http.StatusBadRequest).WithInternal(err)
}

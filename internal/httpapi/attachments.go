package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	"github.com/labstack/echo/v4/middleware"
)

// Evidence attachments (docs/api.md, "Evidence attachments").
//
// Uploads are multipart/form-data with an optional "description" field
// followed by one "file" part, streamed straight into the blob store: the
// body is never buffered in memory or in a temporary file of the HTTP
// layer. The upload route has its own body limit (CERTDESK_MAX_UPLOAD_BYTES
// plus uploadEnvelope for the multipart framing) and time limit
// (CERTDESK_UPLOAD_TIMEOUT) instead of the global ones; every other route
// keeps the 1 MiB JSON limit and the request timeout.

// uploadRoute is the route with its own limits, as "METHOD path".
const uploadRoute = http.MethodPost + " /api/v1/incidents/:id/attachments"

// uploadEnvelope is what the multipart framing around the file may take:
// boundaries, part headers and the description.
const uploadEnvelope = 64 << 10

// maxDescriptionBytes bounds the description part (MaxDescription
// characters of up to 4 bytes).
const maxDescriptionBytes = evidence.MaxDescription * 4

// apiOwnLimits reports whether the request's route is the API's upload,
// which sets its own body and time limits, so that the global ones skip it.
func apiOwnLimits(c echo.Context) bool {
	return c.Request().Method+" "+c.Path() == uploadRoute
}

// unlessOwnLimits applies mw to every route but those with their own
// limits (own).
func unlessOwnLimits(own func(echo.Context) bool, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := mw(next)
		return func(c echo.Context) error {
			if own(c) {
				return next(c)
			}
			return limited(c)
		}
	}
}

// uploadLimits are the upload route's own limits: the body may be as large
// as the largest file plus its framing, and the request may take
// UploadTimeout, for the handler's context and for reading the body (a
// context does not interrupt a blocked read; a read deadline does).
func (h *handlers) uploadLimits() []echo.MiddlewareFunc {
	timeout := h.o.UploadTimeout
	if timeout <= 0 {
		timeout = h.o.RequestTimeout
	}
	readDeadline := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Not every ResponseWriter supports deadlines (ErrNotSupported):
			// then the context alone bounds the upload.
			_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(timeout))
			return next(c)
		}
	}
	return []echo.MiddlewareFunc{
		limitBody(h.o.Evidence.MaxBytes() + uploadEnvelope),
		readDeadline,
		middleware.ContextTimeout(timeout),
	}
}

// attachmentResponse is an attachment's metadata as the API shows it.
type attachmentResponse struct {
	ID               string    `json:"id"`
	IncidentID       string    `json:"incident_id"`
	Filename         string    `json:"filename"`
	OriginalFilename string    `json:"original_filename"`
	ContentType      string    `json:"content_type"`
	Size             int64     `json:"size"`
	SHA256           string    `json:"sha256"`
	Description      string    `json:"description"`
	UploadedBy       string    `json:"uploaded_by"`
	CreatedAt        time.Time `json:"created_at"`
	Links            links     `json:"links"`
}

func toAttachmentResponse(a *evidence.Attachment) attachmentResponse {
	self := "/api/v1/incidents/" + a.IncidentID.String() + "/attachments/" + a.ID.String()
	return attachmentResponse{
		ID: a.ID.String(), IncidentID: a.IncidentID.String(), Filename: a.Filename, OriginalFilename: a.OriginalFilename,
		ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, Description: a.Description,
		UploadedBy: a.UploadedBy, CreatedAt: a.CreatedAt,
		Links: links{"self": self, "content": self + "/content", "incident": "/api/v1/incidents/" + a.IncidentID.String()},
	}
}

type attachmentList struct {
	IncidentID  string               `json:"incident_id"`
	Reference   string               `json:"reference"`
	Attachments []attachmentResponse `json:"attachments"`
	NextCursor  *string              `json:"next_cursor"`
}

func (h *handlers) listAttachments(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	inc, atts, next, err := h.o.Evidence.List(c.Request().Context(), principal(c), c.Param("id"),
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := attachmentList{IncidentID: inc.ID.String(), Reference: inc.Reference, Attachments: make([]attachmentResponse, len(atts))}
	for i := range atts {
		out.Attachments[i] = toAttachmentResponse(&atts[i])
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getAttachment(c echo.Context) error {
	a, err := h.o.Evidence.Get(c.Request().Context(), principal(c), c.Param("id"), c.Param("attachment"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+a.SHA256+`"`)
	return c.JSON(http.StatusOK, toAttachmentResponse(a))
}

// downloadAttachment serves an attachment's bytes, always as an
// application/octet-stream download (never the declared type: a stored
// file must not be rendered by a browser in certdesk's origin), with Range
// and conditional requests through http.ServeContent.
func (h *handlers) downloadAttachment(c echo.Context) error {
	a, r, err := h.o.Evidence.Open(c.Request().Context(), principal(c), c.Param("id"), c.Param("attachment"))
	if err != nil {
		return err
	}
	defer r.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "application/octet-stream")
	hd.Set(echo.HeaderContentDisposition, contentDisposition(a.Filename))
	hd.Set(echo.HeaderXContentTypeOptions, "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("ETag", `"`+a.SHA256+`"`)
	if sum, err := hex.DecodeString(a.SHA256); err == nil && len(sum) == sha256.Size {
		hd.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	w := &errorCatcher{ResponseWriter: c.Response()}
	http.ServeContent(w, c.Request(), "", a.CreatedAt, r)
	if w.status != 0 {
		// ServeContent refused (a range that cannot be satisfied, a failed
		// If-Match): answer with a problem document instead of its text.
		for _, k := range []string{echo.HeaderContentDisposition, "Content-Security-Policy", "Repr-Digest", "Accept-Ranges"} {
			hd.Del(k)
		}
		return echo.NewHTTPError(w.status)
	}
	return nil
}

// errorCatcher passes a response through unless its status is an error:
// then it records the status and drops the body, so that the error
// handler can write the problem document.
type errorCatcher struct {
	http.ResponseWriter
	status int
}

func (w *errorCatcher) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorCatcher) Write(b []byte) (int, error) {
	if w.status != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *errorCatcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contentDisposition offers name as a download (evidence.ContentDisposition).
func contentDisposition(name string) string { return evidence.ContentDisposition(name) }

func (h *handlers) uploadAttachment(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	// Who may upload where is decided before a byte of the body is read.
	inc, err := h.o.Evidence.CheckUpload(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	mr, err := multipartReader(c.Request())
	if err != nil {
		return err
	}
	var in evidence.NewAttachment
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return apperr.Fields{{Field: "file", Rule: "required", Message: "send the file as a multipart part named file"}}.Err()
		} else if err != nil {
			return bodyReadError(err)
		}
		name, filename, err := formPart(part)
		if err != nil {
			return err
		}
		if seen[name] {
			return apperr.Fields{{Field: name, Rule: "single", Message: "send " + name + " once"}}.Err()
		}
		seen[name] = true
		switch name {
		case "description":
			b, err := io.ReadAll(io.LimitReader(part, maxDescriptionBytes+1))
			if err != nil {
				return bodyReadError(err)
			}
			if len(b) > maxDescriptionBytes || utf8.RuneCount(b) > evidence.MaxDescription {
				return apperr.Fields{{Field: "description", Rule: "max_length",
					Message: fmt.Sprintf("description must be at most %d characters", evidence.MaxDescription)}}.Err()
			}
			in.Description = string(b)
		case "file":
			in.Filename, in.ContentType = filename, part.Header.Get(echo.HeaderContentType)
			a, err := h.o.Evidence.Upload(ctx, p, inc.ID.String(), in, &evidence.LastPart{Part: part, Form: mr,
				More: invalidBody("file", "last_part", "the file must be the last part: send description before file"), Wrap: bodyReadError})
			var tooLarge *evidence.TooLargeError
			switch {
			case errors.As(err, &tooLarge):
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge).WithInternal(err)
			case err != nil:
				return err
			}
			c.Response().Header().Set(echo.HeaderLocation, "/api/v1/incidents/"+a.IncidentID.String()+"/attachments/"+a.ID.String())
			c.Response().Header().Set("ETag", `"`+a.SHA256+`"`)
			return c.JSON(http.StatusCreated, toAttachmentResponse(a))
		default:
			return apperr.Fields{{Field: name, Rule: "unknown_field",
				Message: name + " is not a field of this request (send description, then file)"}}.Err()
		}
	}
}

// multipartReader checks that the body is multipart/form-data with a
// boundary and returns a streaming reader over its parts.
func multipartReader(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != "multipart/form-data" {
		return nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the file as multipart/form-data")
	}
	if params["boundary"] == "" {
		return nil, invalidBody("Content-Type", "boundary", "multipart/form-data needs a boundary parameter")
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// formPart returns a part's form field name and the file name exactly as
// the client sent it (multipart.Part.FileName would already have cut it to
// a base name by the server's path rules; evidence.DisplayName does that,
// and the name as sent is kept for the record).
func formPart(part *multipart.Part) (name, filename string, err error) {
	disp, params, perr := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if perr != nil || disp != "form-data" || params["name"] == "" {
		return "", "", invalidBody("body", "multipart", "every part needs a Content-Disposition: form-data header with a name")
	}
	return params["name"], params["filename"], nil
}

// bodyReadError classifies an error while reading a multipart body: past
// the route's body limit is 413, a read deadline is a timeout (503), and
// anything else is the client's malformed or truncated body (422).
func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge).WithInternal(err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: reading the upload: %w", context.DeadlineExceeded, err)
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "the multipart body is malformed or incomplete",
		Fields: []apperr.FieldError{{Field: "body", Rule: "multipart", Message: "the multipart body is malformed or was cut short"}}, Err: err}
}

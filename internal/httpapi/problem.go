package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	// Extra members (allowed transitions, current version...) are merged in.
	Extra map[string]any `json:"-"`
}

// FieldProblem names one invalid field and the rule it broke.
type FieldProblem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// statusOf is the one place that maps application error codes to HTTP status.
var statusOf = map[apperr.Code]int{
	apperr.Malformed:           http.StatusBadRequest,
	apperr.Invalid:             http.StatusUnprocessableEntity,
	apperr.NotFound:            http.StatusNotFound,
	apperr.Conflict:            http.StatusConflict,
	apperr.Precondition:        http.StatusPreconditionFailed,
	apperr.Unauthorized:        http.StatusUnauthorized,
	apperr.Forbidden:           http.StatusForbidden,
	apperr.RateLimited:         http.StatusTooManyRequests,
	apperr.Unavailable:         http.StatusServiceUnavailable,
	apperr.InsufficientStorage: http.StatusInsufficientStorage,
	apperr.Internal:            http.StatusInternalServerError,
}

const problemJSON = "application/problem+json"

// defaultRetryAfter is the Retry-After, in seconds, of a 503 whose error
// does not say how long to wait (a request that took too long).
const defaultRetryAfter = 5

// errorHandler renders every error as problem+json, except on the web
// UI's paths, where pages renders it as a page. Internal errors are
// logged with the request ID and shown without their text.
//
// An error that is not an application error but means the database is
// unavailable (as Options.Unavailable decides) becomes that 503 first,
// for the API and the pages alike. Every 503 carries Retry-After.
func errorHandler(log *slog.Logger, pages Pages, unavailable func(error) error) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if unavailable != nil && apperr.CodeOf(err) == apperr.Internal {
			if ue := unavailable(err); ue != nil {
				err = ue
			}
		}
		if pages != nil && pages.RenderError(err, c) {
			return
		}
		p := Problem{Instance: c.Request().URL.Path, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			p.Status = he.Code
			p.Title = http.StatusText(he.Code)
			if m, ok := he.Message.(string); ok && he.Code < 500 {
				p.Detail = m
			}
			if he.Code == http.StatusRequestEntityTooLarge {
				p.Detail = "the request body is larger than the server accepts"
			}
			p.Type = "urn:certdesk:problem:http-" + strconv.Itoa(he.Code)
		case errors.Is(err, context.DeadlineExceeded):
			p.Status, p.Title = http.StatusServiceUnavailable, "Service Unavailable"
			p.Detail = "the request took too long; try again"
			p.Type = "urn:certdesk:problem:timeout"
		default:
			code := apperr.CodeOf(err)
			p.Status = statusOf[code]
			p.Title = http.StatusText(p.Status)
			p.Type = "urn:certdesk:problem:" + string(code)
			if ae, ok := apperr.As(err); ok && code != apperr.Internal {
				p.Detail = ae.Message
				for _, f := range ae.Fields {
					p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Rule: f.Rule, Message: f.Message})
				}
				p.Extra = ae.Details
				if ae.RetryAfter > 0 {
					c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
				}
			}
		}
		if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", strconv.Itoa(defaultRetryAfter))
		}
		if p.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "err", err, "request_id", p.RequestID,
				"method", c.Request().Method, "path", c.Request().URL.Path)
			if p.Status == http.StatusInternalServerError {
				p.Detail = "an internal error occurred; it has been logged with the request ID"
			}
		}
		if p.Status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="certdesk"`)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		body := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status}
		for k, v := range p.Extra {
			body[k] = v
		}
		if p.Detail != "" {
			body["detail"] = p.Detail
		}
		if p.Instance != "" {
			body["instance"] = p.Instance
		}
		if p.RequestID != "" {
			body["request_id"] = p.RequestID
		}
		if len(p.Errors) > 0 {
			body["errors"] = p.Errors
		}
		c.Response().Header().Set(echo.HeaderContentType, problemJSON)
		c.Response().WriteHeader(p.Status)
		_ = jsonEncode(c.Response(), body)
	}
}

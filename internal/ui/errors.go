package ui

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// errorView is the data of the error page.
type errorView struct {
	Heading   string
	Lines     []string
	RequestID string
}

// RenderError renders err as a page when the request is the UI's (not
// the API's, Slack's or an operational endpoint's) and reports whether it
// did. httpapi's error handler calls it first, so that every error of a
// UI path — a handler's, a route that does not exist, a panic — is a page
// in the person's language and never problem+json.
//
// "Not found" and "may not see" are the same 404 page: an incident the
// person may not see answers exactly like a reference that does not
// exist.
func (u *UI) RenderError(err error, c echo.Context) bool {
	if !isUIPath(c.Request().URL.Path) {
		return false
	}
	if c.Response().Committed {
		return true
	}
	// A route that does not exist ran no middleware: find who is asking
	// so that the page has the same frame as every other. The request's
	// context may have ended with its time limit (the error handler runs
	// after the timeout middleware): the page gets a few seconds of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	c.SetRequest(c.Request().WithContext(ctx))
	c.Response().Header().Set("Content-Security-Policy", contentSecurityPolicy)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if lerr := u.lookup(c); lerr != nil {
		u.o.Logger.ErrorContext(c.Request().Context(), "identify for an error page", "err", lerr)
		c.Set(langKey, u.o.Catalogue.Default())
	}
	status, key := http.StatusInternalServerError, "internal"
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			status, key = http.StatusNotFound, "not_found"
		case http.StatusRequestEntityTooLarge:
			key = "too_large"
		case http.StatusServiceUnavailable:
			key = "unavailable"
		case http.StatusBadRequest:
			key = "bad_request"
		default:
			if he.Code < 500 {
				key = "bad_request"
			}
		}
	case errors.Is(err, context.DeadlineExceeded):
		status, key = http.StatusServiceUnavailable, "unavailable"
	case err == errCrossSite || err == errBadToken:
		status, key = http.StatusForbidden, "csrf"
	default:
		switch apperr.CodeOf(err) {
		case apperr.NotFound:
			status, key = http.StatusNotFound, "not_found"
		case apperr.Forbidden:
			status, key = http.StatusForbidden, "forbidden"
		case apperr.RateLimited:
			status, key = http.StatusTooManyRequests, "rate_limited"
		case apperr.Unavailable:
			status, key = http.StatusServiceUnavailable, "unavailable"
		case apperr.InsufficientStorage:
			status, key = http.StatusInsufficientStorage, "insufficient_storage"
		case apperr.Invalid, apperr.Conflict, apperr.Precondition:
			status, key = http.StatusBadRequest, "bad_request"
		case apperr.Unauthorized:
			status, key = http.StatusUnauthorized, "unauthorized"
		}
	}
	p := u.newPage(c, "error", "error."+key+".title")
	v := errorView{Heading: p.Title, Lines: []string{p.L.T("error." + key + ".text")}}
	if status == http.StatusTooManyRequests {
		secs := 60
		if ae, ok := apperr.As(err); ok && ae.RetryAfter > 0 {
			secs = int(math.Ceil(ae.RetryAfter.Seconds()))
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		v.Lines = append(v.Lines, p.L.T("error.rate_limited.wait", p.L.Duration(retryRound(secs))))
	}
	if status == http.StatusServiceUnavailable {
		secs := 5
		if ae, ok := apperr.As(err); ok && ae.RetryAfter > 0 {
			secs = int(math.Ceil(ae.RetryAfter.Seconds()))
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if status >= 500 {
		v.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		u.o.Logger.ErrorContext(c.Request().Context(), "page failed", "err", err, "request_id", v.RequestID,
			"method", c.Request().Method, "path", c.Request().URL.Path)
	}
	p.Data = v
	if rerr := u.render(c, status, p); rerr != nil {
		u.o.Logger.ErrorContext(c.Request().Context(), "render the error page", "err", rerr)
		_ = c.String(http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
	}
	return true
}

// retryRound rounds a wait up to whole minutes, for "try again in 12 min".
func retryRound(secs int) time.Duration {
	return time.Duration((secs+59)/60) * time.Minute
}

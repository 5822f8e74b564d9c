package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// InvalidError reports a request that cannot be sent as given: a URL that
// is not absolute http(s), or an empty signing secret. It is permanent.
type InvalidError struct {
	Reason string
}

func (e *InvalidError) Error() string { return "outbound: " + e.Reason }

// RequestError reports a request that failed before an answer arrived:
// a refused destination (Err is a *RefusedError), a timeout, a DNS or
// network error. Host is the URL's host; the rest of the URL is left out
// on purpose.
type RequestError struct {
	Host string
	Err  error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("outbound: POST to %s: %v", e.Host, e.Err)
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// StatusError reports an answer whose status is not 2xx.
type StatusError struct {
	Host       string
	StatusCode int
	// RetryAfter is the Retry-After of a 429 or 503 answer (0 if none), at
	// most MaxRetryAfter (an hour).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("outbound: POST to %s: answered %d %s", e.Host, e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		msg += " (redirects are not followed)"
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return msg
}

// IsPermanent reports whether retrying the same request cannot succeed:
// a refused destination, an invalid URL or secret, a redirect, or a 4xx
// answer other than 408 Request Timeout and 429 Too Many Requests. Every
// other error (5xx, 408, 429, timeouts, DNS and network errors, a
// cancelled context) is worth retrying with backoff. IsPermanent(nil) is
// false.
func IsPermanent(err error) bool {
	var re *RefusedError
	var ie *InvalidError
	var se *StatusError
	switch {
	case err == nil:
		return false
	case errors.As(err, &re), errors.As(err, &ie):
		return true
	case errors.As(err, &se):
		switch {
		case se.StatusCode == http.StatusRequestTimeout, se.StatusCode == http.StatusTooManyRequests:
			return false
		case se.StatusCode >= 300 && se.StatusCode < 500:
			return true
		}
	}
	return false
}

// IsRefused reports whether err is a refused destination, and returns it.
func IsRefused(err error) (*RefusedError, bool) {
	var re *RefusedError
	ok := errors.As(err, &re)
	return re, ok
}

// RetryAfter returns the delay a 429 or 503 answer asked for, and whether
// it asked for one.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

// IsTimeout reports whether err is a timeout: Options.Timeout ran out, or
// the caller's context deadline passed.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

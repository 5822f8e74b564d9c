// Package throttle limits failed attempts — a bad API token, a wrong
// password — per key (a client address, a token prefix, an account). The
// failures are counted in PostgreSQL in fixed windows, so that every
// replica of the API sees the same count and a client cannot spread its
// guesses over processes.
package throttle

import (
	"context"
	"math"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
)

// Rule limits the failures of one kind.
type Rule struct {
	// Scope names what is counted ("token.addr", "signin.account"); keys of
	// different scopes never meet.
	Scope string
	// Limit is how many failures a key may have in one window; the next
	// attempt in that window is refused.
	Limit int
	// Window is the length of a counting window. Windows are aligned to
	// multiples of Window since the Unix epoch.
	Window time.Duration
}

// Store keeps the counts.
type Store interface {
	// ThrottleCount returns the failures of (scope, key) in the window
	// that starts at start (0 when there are none).
	ThrottleCount(ctx context.Context, scope, key string, start time.Time) (int, error)
	// ThrottleAdd adds one failure to (scope, key) in the window that
	// starts at start and returns the new count. Concurrent adds are
	// counted exactly.
	ThrottleAdd(ctx context.Context, scope, key string, start time.Time) (int, error)
}

// Limiter checks and records failures against rules.
type Limiter struct {
	store Store
	now   func() time.Time
}

// New returns a Limiter; now nil means time.Now.
func New(store Store, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{store: store, now: now}
}

// window returns the start and end of the rule's current window.
func (l *Limiter) window(r Rule) (start, end time.Time) {
	now := l.now().UTC()
	start = now.Truncate(r.Window)
	return start, start.Add(r.Window)
}

// Check returns an apperr.RateLimited error, carrying the time until the
// window ends as RetryAfter, when key already has r.Limit failures in the
// current window; otherwise nil. It records nothing.
func (l *Limiter) Check(ctx context.Context, r Rule, key string) error {
	start, end := l.window(r)
	n, err := l.store.ThrottleCount(ctx, r.Scope, key, start)
	if err != nil {
		return err
	}
	if n >= r.Limit {
		return l.limited(end)
	}
	return nil
}

// Fail records one failure of key and returns the count in the current
// window.
func (l *Limiter) Fail(ctx context.Context, r Rule, key string) (int, error) {
	start, _ := l.window(r)
	return l.store.ThrottleAdd(ctx, r.Scope, key, start)
}

// limited is the error of a refused attempt: too many failures, try again
// when the window ends (at least one second).
func (l *Limiter) limited(end time.Time) error {
	wait := end.Sub(l.now())
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	e := apperr.New(apperr.RateLimited, "too many failed attempts; try again in %d s", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

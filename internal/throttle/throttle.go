// Package throttle limits failed attempts — a bad API token, a wrong
// password — per key (a client address, a token prefix, an account). The
// failures are counted in PostgreSQL in fixed windows, so that every
// replica of the API sees the same count and a client cannot spread its
// guesses over processes.
package throttle

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
)

// MaxWindow is the longest window a Rule may have. The sweep (Sweeper)
// removes windows that started more than MaxWindow ago.
const MaxWindow = 24 * time.Hour

// MaxReasons is how many different reasons one window counts separately;
// the failures of any further reason are counted under OtherReason.
const MaxReasons = 20

// OtherReason counts the failures of the reasons past MaxReasons.
const OtherReason = "other"

// maxReasonLength bounds a reason's length in characters.
const maxReasonLength = 120

// Rule limits the failures of one kind.
type Rule struct {
	// Scope names what is counted ("token.addr", "signin.account"); keys of
	// different scopes never meet.
	Scope string
	// Limit is how many failures a key may have in one window; the next
	// attempt in that window is refused.
	Limit int
	// Window is the length of a counting window, at most MaxWindow.
	// Windows are aligned to multiples of Window since the Unix epoch.
	Window time.Duration
}

// check reports a rule that cannot count: a bug in the caller.
func (r Rule) check() error {
	if r.Scope == "" || r.Limit < 1 || r.Window <= 0 || r.Window > MaxWindow {
		return fmt.Errorf("throttle: rule %q needs a scope, a limit of at least 1 and a window of at most %s", r.Scope, MaxWindow)
	}
	return nil
}

// Store keeps the counts.
type Store interface {
	// ThrottleCount returns the failures of (scope, key) in the window
	// that starts at start (0 when there are none).
	ThrottleCount(ctx context.Context, scope, key string, start time.Time) (int, error)
	// ThrottleAdd adds one failure to (scope, key) in the window that
	// starts at start and returns the new count. Concurrent adds are
	// counted exactly. A reason other than "" is counted in the window's
	// reasons: under its own name while the window has fewer than
	// MaxReasons, else under OtherReason.
	ThrottleAdd(ctx context.Context, scope, key string, start time.Time, reason string) (int, error)
	// ThrottleAdjust adds delta (which may be 0 or negative) to the
	// failures of (scope, key) in the window that starts at start, never
	// below zero, counts reason as ThrottleAdd does, and returns the new
	// count. Concurrent changes are counted exactly.
	ThrottleAdjust(ctx context.Context, scope, key string, start time.Time, delta int, reason string) (int, error)
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
	if err := r.check(); err != nil {
		return err
	}
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
	return l.FailFor(ctx, r, key, "")
}

// FailFor records one failure of key, counted under reason (a short
// label such as "unknown token"; "" counts none), and returns the count in
// the current window. Reasons are kept with the window for the audit
// entry that summarises it (Sweeper); they must not hold secrets.
func (l *Limiter) FailFor(ctx context.Context, r Rule, key, reason string) (int, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	start, _ := l.window(r)
	return l.store.ThrottleAdd(ctx, r.Scope, key, start, cleanReason(reason))
}

// Attempt is one attempt counted against a rule before it is checked
// (Limiter.Begin). Until End it counts as a failure.
type Attempt struct {
	l     *Limiter
	r     Rule
	key   string
	start time.Time
	ended bool
}

// Begin counts an attempt of key against r before it is made: for a
// check whose outcome takes a while (a password hash), so that attempts
// made at the same moment on any replica are all counted before any of
// them is checked, and a burst gets no more checks than r.Limit. When
// the window already holds r.Limit failures and attempts under way, it
// takes the attempt back and returns an apperr.RateLimited error with
// RetryAfter. Otherwise the attempt counts as a failure until End.
func (l *Limiter) Begin(ctx context.Context, r Rule, key string) (*Attempt, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	start, end := l.window(r)
	n, err := l.store.ThrottleAdjust(ctx, r.Scope, key, start, 1, "")
	if err != nil {
		return nil, err
	}
	a := &Attempt{l: l, r: r, key: key, start: start}
	if n > r.Limit {
		if err := a.End(ctx, false, ""); err != nil {
			return nil, err
		}
		return nil, l.limited(end)
	}
	return a, nil
}

// End ends an attempt Begin counted: a failure stays counted, with reason
// counted among the window's reasons (as FailFor); a success is taken
// back. Ending an attempt a second time does nothing. The change is made
// in the window the attempt began in, whatever the time now.
func (a *Attempt) End(ctx context.Context, failed bool, reason string) error {
	if a == nil || a.ended {
		return nil
	}
	a.ended = true
	delta, counted := -1, ""
	if failed {
		delta, counted = 0, cleanReason(reason)
		if counted == "" {
			return nil
		}
	}
	_, err := a.l.store.ThrottleAdjust(ctx, a.r.Scope, a.key, a.start, delta, counted)
	return err
}

// Refuse records one failure of key for reason, like FailFor, and
// returns an apperr.RateLimited error, with the time until the window
// ends as RetryAfter, when that failure is one more than r.Limit allows:
// the first r.Limit failures of a window return nil, every later one the
// error. Use it where a valid credential must keep working whatever the
// failures around it (a 256-bit token cannot be guessed, so refusing it
// would only let others lock its owner out); use Check before the attempt
// where the attempt itself must be stopped (a password).
func (l *Limiter) Refuse(ctx context.Context, r Rule, key, reason string) error {
	n, err := l.FailFor(ctx, r, key, reason)
	if err != nil {
		return err
	}
	if n > r.Limit {
		_, end := l.window(r)
		return l.limited(end)
	}
	return nil
}

// cleanReason makes reason fit a window's reasons: valid UTF-8 without
// control characters, at most maxReasonLength characters.
func cleanReason(reason string) string {
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(reason, ""))
	if utf8.RuneCountInString(reason) > maxReasonLength {
		reason = string([]rune(reason)[:maxReasonLength])
	}
	return strings.TrimSpace(reason)
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

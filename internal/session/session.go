// Package session signs people in to the web UI with their e-mail address
// and password and keeps their sessions in PostgreSQL.
//
// A session is named by a random 256-bit secret that only the browser
// holds (in a cookie); the database keeps its SHA-256, so a copy of the
// table signs nobody in. A session ends after IdleTimeout without a
// request, at its absolute Lifetime, when its person signs out or ends it
// from the sessions page, and when something ends all of a person's
// sessions (EndAll: a password change; disabling the user and password
// resets call it too). Failed sign-ins are throttled per account and per
// client address in PostgreSQL (internal/throttle), so that every replica
// counts them, and audited.
//
// API tokens are for machines and never open a session; a session never
// authenticates an API request.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/google/uuid"
)

// Session is one signed-in browser of a person.
type Session struct {
	ID         uuid.UUID // the public name of the session (not its secret)
	UserID     uuid.UUID
	CreatedAt  time.Time
	LastSeenAt time.Time // the last request, to the minute
	ExpiresAt  time.Time // the end of its absolute lifetime
	RemoteAddr string    // where it signed in from
	UserAgent  string    // the browser that signed in, as it named itself
	// Method is the first factor the session was established with.
	Method Method
	// SecondFactor is the factor checked after the first ("" when none
	// was), SecondFactorAt when it was last checked.
	SecondFactor   Factor
	SecondFactorAt *time.Time
	// Pending is what the session must still do before it may use
	// anything but the sign-in pages ("" when nothing).
	Pending Pending
}

// Method is how a session's person proved who they are first.
type Method string

// The first factors.
const (
	MethodPassword Method = "password" // e-mail address and password
	MethodOIDC     Method = "oidc"     // the organisation's OpenID Connect provider
	MethodPasskey  Method = "passkey"  // a passkey on its own, where the organisation allows it
)

// Factor is a second factor.
type Factor string

// The second factors.
const (
	FactorTOTP     Factor = "totp"     // a one-time code from an authenticator app
	FactorPasskey  Factor = "passkey"  // a passkey after the first factor
	FactorRecovery Factor = "recovery" // one of the ten one-time recovery codes
)

// Pending is what a session must still do after its first factor.
type Pending string

// The states of a session that is not yet complete.
const (
	PendingNone         Pending = ""
	PendingSecondFactor Pending = "second_factor" // check a factor the person has set up
	PendingSetup        Pending = "setup"         // set one up: the organisation requires it
)

// EndsAt is when the session ends unless a request comes first: idle
// after its last request, or at its absolute end, whichever is earlier.
func (s Session) EndsAt(idle time.Duration) time.Time {
	if end := s.LastSeenAt.Add(idle); end.Before(s.ExpiresAt) {
		return end
	}
	return s.ExpiresAt
}

// Current is the signed-in person of a request: the session, who they are
// and how they read the UI.
type Current struct {
	Session     Session
	Principal   access.Principal
	UserName    string
	OrgName     string
	OrgTimeZone string // the organisation's IANA time zone, the default of Settings.TimeZone
	Settings    settings.Settings
}

// Account is what signing in checks: the user and their password hash
// ("" when the user has none and signs in with API tokens only).
type Account struct {
	User         identity.User
	PasswordHash string
}

// Client is where a request comes from, for the session's record, the
// throttle and the audit log.
type Client struct {
	RemoteAddr string
	UserAgent  string
	// Background marks a request a page's script makes by itself (the
	// triage queue's live updates): it does not count as the person's
	// activity, so an open page does not keep the session alive.
	Background bool
}

// Store is the persistence of sessions.
type Store interface {
	InSessionTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// SignInAccount finds the user with this e-mail (ignoring case) and
	// their password hash in one read. Not found: apperr.NotFound.
	SignInAccount(ctx context.Context, email string) (*Account, error)
	// AccountByID is SignInAccount by the user's ID.
	AccountByID(ctx context.Context, userID uuid.UUID) (*Account, error)
	// SessionBySecret returns the session whose secret has this SHA-256,
	// with its person, organisation and settings, in one read, whatever
	// its state. Not found: apperr.NotFound.
	SessionBySecret(ctx context.Context, secretHash []byte) (*Current, error)
	// Sessions lists a user's sessions, newest first.
	Sessions(ctx context.Context, userID uuid.UUID) ([]Session, error)
	// TouchSession records a request of the session at at.
	TouchSession(ctx context.Context, id uuid.UUID, at time.Time) error
}

// Tx is what session changes may do inside a transaction. The same
// transaction type implements identity.Tx, so a change of identity (a
// disabled user, a password reset) can end the user's sessions in its own
// transaction with EndUserSessions.
type Tx interface {
	InsertSession(ctx context.Context, s *Session, secretHash []byte) error
	// DeleteSession ends the session id of userID; false when there is
	// no such session of that user.
	DeleteSession(ctx context.Context, id, userID uuid.UUID) (bool, error)
	// EndUserSessions ends every session of userID but except (when not
	// nil) and returns how many it ended.
	EndUserSessions(ctx context.Context, userID uuid.UUID, except *uuid.UUID) (int, error)
	// DeleteExpiredSessions removes sessions whose absolute end is before
	// before (idle ones are removed when they are next presented).
	DeleteExpiredSessions(ctx context.Context, before time.Time) error
	// SetSessionFactor records that session id checked second factor f at
	// at, and what it still has to do; false when there is no such session.
	SetSessionFactor(ctx context.Context, id uuid.UUID, f Factor, at time.Time, pending Pending) (bool, error)
	Audit(ctx context.Context, e audit.Entry) error
}

// Password changes go through the identity service, which owns the
// password policy and the audit of the change.
type Passwords interface {
	UpdateUser(ctx context.Context, actor access.Principal, id uuid.UUID, p identity.UserPatch) (*identity.User, error)
}

// Options configure a Service.
type Options struct {
	Store     Store
	Passwords Passwords
	Limiter   *throttle.Limiter
	// Factors keeps second factors and sign-in policies (factors.go).
	Factors FactorStore
	// Secrets seals the authenticator apps' keys (label "totp:<user id>").
	Secrets *sealed.Box
	// IdleTimeout ends a session this long after its last request.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after sign-in, however busy.
	Lifetime time.Duration
	// Logger tells the operator what people cannot fix (a TOTP key that
	// does not open); nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds the sign-in and session use cases.
type Service struct {
	o     Options
	dummy string // an argon2id hash checked for unknown accounts, so that they take as long
}

// The throttle of failed sign-ins. A failure counts against the account
// (the e-mail address given, known or not: AccountRule) and against the
// client address with every other failed authentication from it
// (identity.AddressRule: bad tokens, Slack signatures, reset links);
// either over its limit refuses further attempts until its window ends,
// even with the right password. Failures reach the audit log summarised,
// one entry per account and window (AuditSummary) and one per address and
// minute (identity.AuditSummaries), so that guessing cannot fill the
// append-only log.
var (
	AccountRule = throttle.Rule{Scope: "signin.account", Limit: 10, Window: 15 * time.Minute}
	// AuditSummary turns AccountRule's windows into signin.failed entries
	// with the number of failures and their reasons.
	AuditSummary = throttle.Summary{Rule: AccountRule, Action: audit.SignInFailed, Target: "account"}
)

// touchEvery is how often a session's last request is written: at most
// once a minute, so that pages do not write on every request.
const touchEvery = time.Minute

// ErrBadCredentials is the one answer to a refused sign-in, whatever was
// wrong: an unknown e-mail, a wrong password, a user without a password
// or a disabled user.
var ErrBadCredentials = apperr.New(apperr.Unauthorized, "the e-mail address or the password is not right")

// ErrNoSession is the answer to a missing, unknown, ended or expired
// session.
var ErrNoSession = apperr.New(apperr.Unauthorized, "sign in to continue")

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Limiter == nil || o.Passwords == nil || o.Factors == nil || o.Secrets == nil {
		return nil, fmt.Errorf("session: Store, Passwords, Limiter, Factors and Secrets are required")
	}
	if o.IdleTimeout <= 0 || o.Lifetime <= 0 {
		return nil, fmt.Errorf("session: IdleTimeout and Lifetime must be positive")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The dummy's password is random and thrown away: nothing verifies
	// against it.
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	dummy, err := identity.HashPassword(base64.RawURLEncoding.EncodeToString(pw))
	if err != nil {
		return nil, err
	}
	return &Service{o: o, dummy: dummy}, nil
}

// IdleTimeout is the configured idle timeout.
func (s *Service) IdleTimeout() time.Duration { return s.o.IdleTimeout }

// Lifetime is the configured absolute lifetime.
func (s *Service) Lifetime() time.Duration { return s.o.Lifetime }

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// HashSecret is the SHA-256 of a session secret, as stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// newSecret returns 256 random bits as unpadded base64url (43 characters).
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// accountKey is the throttle key of an e-mail address as typed.
func accountKey(email string) string {
	k := strings.ToLower(strings.TrimSpace(email))
	if len(k) > 254 {
		k = k[:254]
	}
	return strings.ToValidUTF8(k, "?")
}

// SignIn checks an e-mail address and password and opens a new session.
// It returns the session's secret (for the cookie; it is not kept) and
// the signed-in person. Every refusal is ErrBadCredentials and takes as
// long as the others (an unknown account is checked against a dummy
// hash); it counts against the account and the address, and reaches the
// audit log summarised (AuditSummary). Each attempt is counted against
// both before the password is checked (throttle.Limiter.Begin) and taken
// back when it succeeds, so that guesses made at the same moment on any
// replica cannot get more checks than the limits allow. Over either
// limit the answer is apperr.RateLimited with RetryAfter, before anything
// is checked.
func (s *Service) SignIn(ctx context.Context, email, password string, c Client) (string, *Current, error) {
	key := accountKey(email)
	acctTry, err := s.o.Limiter.Begin(ctx, AccountRule, key)
	if err != nil {
		return "", nil, err
	}
	addrTry, err := s.o.Limiter.Begin(ctx, identity.AddressRule, identity.AddressKey(c.RemoteAddr))
	if err != nil {
		return "", nil, errors.Join(err, acctTry.End(context.WithoutCancel(ctx), false, ""))
	}
	// end ends both attempts, also when the request's context has ended:
	// an attempt left counted is a failure.
	end := func(failed bool, reason string) error {
		ctx := context.WithoutCancel(ctx)
		return errors.Join(acctTry.End(ctx, failed, reason), addrTry.End(ctx, failed, reason))
	}
	acct, err := s.o.Store.SignInAccount(ctx, key)
	reason, hash := "", s.dummy
	switch {
	case apperr.Is(err, apperr.NotFound):
		reason, acct = "unknown e-mail", nil
	case err != nil:
		return "", nil, errors.Join(err, end(false, ""))
	case acct.PasswordHash == "":
		reason = "no password"
	default:
		hash = acct.PasswordHash
	}
	ok, verr := identity.VerifyPassword(hash, password)
	switch {
	case reason != "":
	case verr != nil:
		reason = "unusable password hash"
	case !ok:
		reason = "wrong password"
	case acct.User.DisabledAt != nil:
		reason = "disabled user"
	}
	if reason != "" {
		if err := end(true, reason); err != nil {
			return "", nil, err
		}
		return "", nil, ErrBadCredentials
	}
	if err := end(false, ""); err != nil {
		return "", nil, err
	}
	return s.open(ctx, acct, MethodPassword, c)
}

// SignInVerified opens a session for a person whose first factor was
// checked elsewhere (their organisation's OpenID Connect provider, a
// passkey), with that method. A disabled or unknown user is
// ErrBadCredentials.
func (s *Service) SignInVerified(ctx context.Context, userID uuid.UUID, method Method, c Client) (string, *Current, error) {
	if method == MethodPassword || method == "" {
		return "", nil, fmt.Errorf("session: SignInVerified needs a method other than the password")
	}
	acct, err := s.o.Store.AccountByID(ctx, userID)
	if apperr.Is(err, apperr.NotFound) {
		return "", nil, ErrBadCredentials
	} else if err != nil {
		return "", nil, err
	}
	if acct.User.DisabledAt != nil {
		return "", nil, ErrBadCredentials
	}
	return s.open(ctx, acct, method, c)
}

// fail counts a refused password, with its reason, against the account
// and the address; the audit log gets the counts summarised
// (AuditSummary, identity.AuditSummaries).
func (s *Service) fail(ctx context.Context, key, reason string, c Client) error {
	if _, err := s.o.Limiter.FailFor(ctx, AccountRule, key, reason); err != nil {
		return err
	}
	_, err := s.o.Limiter.FailFor(ctx, identity.AddressRule, identity.AddressKey(c.RemoteAddr), reason)
	return err
}

// open starts a session for a checked account, with its audit entry, and
// removes sessions long past their absolute end.
func (s *Service) open(ctx context.Context, acct *Account, method Method, c Client) (string, *Current, error) {
	secret, err := newSecret()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	sess := &Session{ID: uuid.New(), UserID: acct.User.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.o.Lifetime),
		RemoteAddr: c.RemoteAddr, UserAgent: clip(c.UserAgent, 300), Method: method}
	if method == MethodPasskey {
		// A passkey checks possession and the person (user verification):
		// it is both factors at once.
		sess.SecondFactor, sess.SecondFactorAt = FactorPasskey, &now
	}
	// Which sessions must still give (or set up) a second factor: the
	// same decision for every first factor (Decide).
	st, err := s.o.Factors.FactorState(ctx, acct.User.ID)
	if err != nil {
		return "", nil, err
	}
	sess.Pending = Decide(*st, method)
	u := acct.User
	err = s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.DeleteExpiredSessions(ctx, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, sess, HashSecret(secret)); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: &u.ID, Actor: u.Email, Action: audit.SignIn, TargetType: "session",
			TargetID: sess.ID.String(), RemoteAddr: c.RemoteAddr, Data: jsonOf(map[string]any{"user_agent": sess.UserAgent, "method": method, "pending": sess.Pending})})
	})
	if err != nil {
		return "", nil, err
	}
	cur, err := s.o.Store.SessionBySecret(ctx, HashSecret(secret))
	if err != nil {
		return "", nil, err
	}
	cur.Principal.RemoteAddr = c.RemoteAddr
	return secret, cur, nil
}

// PassSecondFactor records that the current session checked second
// factor f now: it is no longer pending, and sensitive actions that ask
// for a recent second factor count from now. Audited.
func (s *Service) PassSecondFactor(ctx context.Context, cur *Current, f Factor) error {
	switch f {
	case FactorTOTP, FactorPasskey, FactorRecovery:
	default:
		return fmt.Errorf("session: unknown second factor %q", f)
	}
	now := s.now()
	err := s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
		ok, err := tx.SetSessionFactor(ctx, cur.Session.ID, f, now, PendingNone)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoSession
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: cur.Principal.UserIDPtr(), Actor: cur.Principal.Name(),
			Action: audit.SecondFactorPassed, TargetType: "session", TargetID: cur.Session.ID.String(),
			RemoteAddr: cur.Principal.RemoteAddr, Data: jsonOf(map[string]any{"factor": f})})
	})
	if err != nil {
		return err
	}
	cur.Session.SecondFactor, cur.Session.SecondFactorAt, cur.Session.Pending = f, &now, PendingNone
	return nil
}

// Authenticate returns the signed-in person of a session secret. A
// missing, unknown, idle, expired or disabled user's session is
// ErrNoSession (and an idle or expired one is removed). A request counts
// as activity: the session's idle timeout starts again (written at most
// once a minute); a Background request does not.
func (s *Service) Authenticate(ctx context.Context, secret string, c Client) (*Current, error) {
	if secret == "" || len(secret) > 100 {
		return nil, ErrNoSession
	}
	cur, err := s.o.Store.SessionBySecret(ctx, HashSecret(secret))
	if apperr.Is(err, apperr.NotFound) {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !now.Before(cur.Session.EndsAt(s.o.IdleTimeout)) || cur.Principal.UserID == uuid.Nil {
		if err := s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
			_, err := tx.DeleteSession(ctx, cur.Session.ID, cur.Session.UserID)
			return err
		}); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	if !c.Background && now.Sub(cur.Session.LastSeenAt) >= touchEvery {
		if err := s.o.Store.TouchSession(ctx, cur.Session.ID, now); err != nil {
			return nil, err
		}
		cur.Session.LastSeenAt = now
	}
	cur.Principal.RemoteAddr = c.RemoteAddr
	return cur, nil
}

// Extend restarts the idle timeout of the current session now ("stay
// signed in"); it never goes past the absolute lifetime.
func (s *Service) Extend(ctx context.Context, cur *Current) error {
	now := s.now()
	if err := s.o.Store.TouchSession(ctx, cur.Session.ID, now); err != nil {
		return err
	}
	cur.Session.LastSeenAt = now
	return nil
}

// SignOut ends the current session on the server.
func (s *Service) SignOut(ctx context.Context, cur *Current) error {
	return s.end(ctx, cur.Principal, cur.Session.ID, "signed out")
}

// End ends one of the principal's own sessions (from the sessions page).
// Another person's session, or one that already ended, is not found.
func (s *Service) End(ctx context.Context, p access.Principal, id uuid.UUID) error {
	return s.end(ctx, p, id, "ended from the sessions page")
}

func (s *Service) end(ctx context.Context, p access.Principal, id uuid.UUID, reason string) error {
	return s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
		ok, err := tx.DeleteSession(ctx, id, p.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "session %s not found", id)
		}
		return tx.Audit(ctx, entry(p, id.String(), map[string]any{"reason": reason, "count": 1}))
	})
}

// EndAll ends every session of the user but except (nil: all of them)
// and audits it as actor with reason ("password changed", "user
// disabled", "password reset"). It returns how many sessions it ended.
// Identity changes that must end sessions in their own transaction use
// Tx.EndUserSessions instead (and audit the change themselves).
func (s *Service) EndAll(ctx context.Context, actor access.Principal, userID uuid.UUID, except *uuid.UUID, reason string) (int, error) {
	var n int
	err := s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if n, err = tx.EndUserSessions(ctx, userID, except); err != nil || n == 0 {
			return err
		}
		e := entry(actor, "", map[string]any{"reason": reason, "count": n, "user_id": userID})
		e.TargetType, e.TargetID = "user", userID.String()
		return tx.Audit(ctx, e)
	})
	return n, err
}

// List returns the principal's own sessions that have not ended, newest
// first.
func (s *Service) List(ctx context.Context, p access.Principal) ([]Session, error) {
	all, err := s.o.Store.Sessions(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Session, 0, len(all))
	for _, x := range all {
		if now.Before(x.EndsAt(s.o.IdleTimeout)) {
			out = append(out, x)
		}
	}
	return out, nil
}

// ChangePassword sets the current person's new password after checking
// their current one, then ends all their other sessions. A wrong current
// password is a field error on current_password and counts against the
// sign-in throttle like a failed sign-in; the new password must pass the
// password policy (field errors on password).
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next string, c Client) error {
	key := accountKey(cur.Principal.Email)
	if err := s.o.Limiter.Check(ctx, AccountRule, key); err != nil {
		return err
	}
	acct, err := s.o.Store.AccountByID(ctx, cur.Principal.UserID)
	if err != nil {
		return err
	}
	hash := acct.PasswordHash
	if hash == "" {
		hash = s.dummy
	}
	ok, verr := identity.VerifyPassword(hash, current)
	if verr != nil || !ok || acct.PasswordHash == "" {
		if err := s.fail(ctx, key, "wrong current password", c); err != nil {
			return err
		}
		var fs apperr.Fields
		fs.Add("current_password", "wrong", "the current password is not right")
		return fs.Err()
	}
	keep := cur.Session.ID
	if _, err := s.o.Passwords.UpdateUser(ctx, cur.Principal, cur.Principal.UserID, identity.UserPatch{Password: &next, KeepSession: &keep}); err != nil {
		return err
	}
	_, err = s.EndAll(ctx, cur.Principal, cur.Principal.UserID, &keep, "password changed")
	return err
}

func entry(p access.Principal, sessionID string, data any) audit.Entry {
	return audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: audit.SessionEnded, TargetType: "session",
		TargetID: sessionID, RemoteAddr: p.RemoteAddr, Data: jsonOf(data)}
}

func jsonOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func (s *Service) log() *slog.Logger {
	if s.o.Logger != nil {
		return s.o.Logger
	}
	return slog.Default()
}

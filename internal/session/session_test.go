package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const password = "correct-horse-battery-2026"

type bundle struct {
	h    *testapp.Harness
	svc  *session.Service
	user *identity.User
	ctx  context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "north")
	ctx := context.Background()
	o, err := h.App.Store.OrganizationBySlug(ctx, "city")
	require.NoError(t, err)
	u, err := h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "Ana@City.example",
		Name: "Ana Example", Role: access.Reporter, Password: password})
	require.NoError(t, err)
	return &bundle{h: h, svc: h.App.Sessions, user: u, ctx: ctx}
}

var client = session.Client{RemoteAddr: "192.0.2.10", UserAgent: "test browser"}

// A right e-mail (in any case) and password open a session that the
// secret then authenticates; the secret is not stored.
func TestSignInOpensASession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret, cur, err := b.svc.SignIn(b.ctx, "ana@city.EXAMPLE", password, client)
	require.NoError(t, err)
	require.Len(t, secret, 43)
	require.Equal(t, b.user.ID, cur.Principal.UserID)
	require.Equal(t, "Ana Example", cur.UserName)
	require.Equal(t, "City", cur.OrgName)

	got, err := b.svc.Authenticate(b.ctx, secret, client)
	require.NoError(t, err)
	require.Equal(t, cur.Session.ID, got.Session.ID)
	require.Equal(t, access.Reporter, got.Principal.Role)
	require.Equal(t, "city", got.Principal.OrgSlug)

	var n int
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE secret_hash = $1`, []byte(secret)).Scan(&n))
	require.Zero(t, n, "the secret itself is never stored")

	_, err = b.svc.Authenticate(b.ctx, secret+"x", client)
	require.ErrorIs(t, err, session.ErrNoSession)
}

// failureReasons returns the failed sign-ins counted against accounts, by
// reason (they reach the audit log summarised per account and window).
func failureReasons(t *testing.T, b *bundle) map[string]int {
	t.Helper()
	rows, err := b.h.App.DB.SQL.Query(`SELECT reasons FROM auth_throttle WHERE scope = 'signin.account'`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var m map[string]int
		require.NoError(t, json.Unmarshal(raw, &m))
		for k, v := range m {
			out[k] += v
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// An unknown e-mail, a wrong password, a user without a password and a
// disabled user all get the same error; each is counted with its reason.
func TestSignInRefusalsLookAlike(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, err := b.h.App.Store.OrganizationBySlug(b.ctx, "city")
	require.NoError(t, err)
	_, err = b.h.App.Identity.CreateUser(b.ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "robot@city.example", Role: access.Reporter})
	require.NoError(t, err)
	off, err := b.h.App.Identity.CreateUser(b.ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "gone@city.example",
		Role: access.Reporter, Password: password})
	require.NoError(t, err)
	yes := true
	_, err = b.h.App.Identity.UpdateUser(b.ctx, access.System, off.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)

	for _, try := range []struct{ email, password string }{
		{"nobody@city.example", password},
		{"ana@city.example", "wrong-password-2026"},
		{"robot@city.example", ""},
		{"gone@city.example", password},
	} {
		_, cur, err := b.svc.SignIn(b.ctx, try.email, try.password, client)
		require.ErrorIs(t, err, session.ErrBadCredentials, try.email)
		require.Nil(t, cur)
	}
	require.Equal(t, map[string]int{"unknown e-mail": 1, "wrong password": 1, "no password": 1, "disabled user": 1}, failureReasons(t, b))
}

// Ten failures for one account refuse the eleventh attempt, even with the
// right password, until the window ends; other accounts from another
// address are not affected. The failed authentications of one address
// (identity.AddressRule) refuse that address for every account.
func TestSignInIsThrottled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.h.Clock.Freeze() // every failure falls in one window, however slow the machine
	for i := 0; i < session.AccountRule.Limit; i++ {
		_, _, err := b.svc.SignIn(b.ctx, "ana@city.example", "wrong-password-2026", client)
		require.ErrorIs(t, err, session.ErrBadCredentials)
	}
	_, _, err := b.svc.SignIn(b.ctx, "ANA@city.example", password, session.Client{RemoteAddr: "198.51.100.7"})
	require.Equal(t, apperr.RateLimited, apperr.CodeOf(err), "the account is throttled whatever the address: %v", err)
	e, _ := apperr.As(err)
	require.Positive(t, e.RetryAfter)
	require.LessOrEqual(t, e.RetryAfter, session.AccountRule.Window)
	require.Equal(t, map[string]int{"wrong password": session.AccountRule.Limit}, failureReasons(t, b), "a refused attempt is neither checked nor counted")

	// The address: failures spread over many accounts.
	addr := session.Client{RemoteAddr: "203.0.113.9"}
	for i := 0; i < identity.AddressRule.Limit; i++ {
		_, _, err := b.svc.SignIn(b.ctx, fmt.Sprintf("guess%d@city.example", i), "x", addr)
		require.ErrorIs(t, err, session.ErrBadCredentials)
	}
	_, _, err = b.svc.SignIn(b.ctx, "someone-else@city.example", "x", addr)
	require.Equal(t, apperr.RateLimited, apperr.CodeOf(err))

	// When the window has passed, the right password works again.
	b.h.Advance(session.AccountRule.Window)
	_, _, err = b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
}

// A session ends after the idle timeout without a request, and at its
// absolute lifetime however busy; either way its row is gone.
func TestSessionsEndIdleAndAtTheirLifetime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	idle, life := b.svc.IdleTimeout(), b.svc.Lifetime()
	require.Equal(t, 30*time.Minute, idle)
	require.Equal(t, 12*time.Hour, life)

	secret, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	b.h.Advance(idle - time.Minute)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.NoError(t, err, "a request before the idle timeout keeps it")
	b.h.Advance(idle - time.Minute)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.NoError(t, err, "and restarts the idle timeout")
	b.h.Advance(idle)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.ErrorIs(t, err, session.ErrNoSession)
	require.Zero(t, countSessions(t, b))

	busy, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	for elapsed := time.Duration(0); elapsed+20*time.Minute < life; elapsed += 20 * time.Minute {
		b.h.Advance(20 * time.Minute)
		cur, err := b.svc.Authenticate(b.ctx, busy, client)
		require.NoError(t, err, "after %s", elapsed)
		require.NoError(t, b.svc.Extend(b.ctx, cur))
	}
	b.h.Advance(20 * time.Minute)
	_, err = b.svc.Authenticate(b.ctx, busy, client)
	require.ErrorIs(t, err, session.ErrNoSession, "staying signed in never passes the lifetime")
}

func countSessions(t *testing.T, b *bundle) int {
	t.Helper()
	var n int
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE user_id = $1`, b.user.ID).Scan(&n))
	return n
}

// Signing out and ending a session from the list end it on the server;
// nobody ends another person's session.
func TestSignOutAndEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	one, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	two, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, session.Client{RemoteAddr: "198.51.100.1", UserAgent: "phone"})
	require.NoError(t, err)
	list, err := b.svc.List(b.ctx, cur.Principal)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "phone", list[0].UserAgent, "newest first")

	other, err := b.h.App.Identity.CreateUser(b.ctx, access.System, identity.NewUser{OrgID: b.user.OrgID, Email: "bo@city.example",
		Role: access.Reporter, Password: password})
	require.NoError(t, err)
	require.Equal(t, apperr.NotFound, apperr.CodeOf(b.svc.End(b.ctx, other.Principal(), list[0].ID)))

	require.NoError(t, b.svc.End(b.ctx, cur.Principal, list[0].ID))
	_, err = b.svc.Authenticate(b.ctx, two, client)
	require.ErrorIs(t, err, session.ErrNoSession)

	require.NoError(t, b.svc.SignOut(b.ctx, cur))
	_, err = b.svc.Authenticate(b.ctx, one, client)
	require.ErrorIs(t, err, session.ErrNoSession)
	require.Zero(t, countSessions(t, b))
}

// EndAll ends every session of a user (but the one kept) and is audited;
// a disabled user's sessions stop working at once even before it runs.
func TestEndAllAndDisabledUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secrets []string
	var keep *session.Current
	for i := 0; i < 3; i++ {
		s, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
		require.NoError(t, err)
		secrets, keep = append(secrets, s), cur
	}
	n, err := b.svc.EndAll(b.ctx, access.System, b.user.ID, &keep.Session.ID, "password reset")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, s := range secrets[:2] {
		_, err := b.svc.Authenticate(b.ctx, s, client)
		require.ErrorIs(t, err, session.ErrNoSession)
	}
	_, err = b.svc.Authenticate(b.ctx, secrets[2], client)
	require.NoError(t, err)
	var reason string
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT data->>'reason' FROM audit_log WHERE action = 'session.ended'`).Scan(&reason))
	require.Equal(t, "password reset", reason)

	yes := true
	_, err = b.h.App.Identity.UpdateUser(b.ctx, access.System, b.user.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	_, err = b.svc.Authenticate(b.ctx, secrets[2], client)
	require.ErrorIs(t, err, session.ErrNoSession, "a disabled user's session is no one's")
	require.Zero(t, countSessions(t, b))
}

// Changing one's password checks the current one (a wrong one counts as
// a failed sign-in), applies the password policy, and ends every other
// session; the new password signs in.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	_, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)

	err = b.svc.ChangePassword(b.ctx, cur, "not-my-password", "a-new-long-passphrase", client)
	requireField(t, err, "current_password", "wrong")
	require.Equal(t, map[string]int{"wrong current password": 1}, failureReasons(t, b))

	err = b.svc.ChangePassword(b.ctx, cur, password, "short", client)
	requireField(t, err, "password", "min_length")

	const next = "a-new-long-passphrase"
	require.NoError(t, b.svc.ChangePassword(b.ctx, cur, password, next, client))
	_, err = b.svc.Authenticate(b.ctx, other, client)
	require.ErrorIs(t, err, session.ErrNoSession, "the other session ended")
	_, err = b.svc.Authenticate(b.ctx, "", client)
	require.ErrorIs(t, err, session.ErrNoSession)
	require.Equal(t, 1, countSessions(t, b), "this session stays")
	_, _, err = b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.ErrorIs(t, err, session.ErrBadCredentials)
	_, _, err = b.svc.SignIn(b.ctx, "ana@city.example", next, client)
	require.NoError(t, err)
}

func requireField(t *testing.T, err error, field, rule string) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Code, "%v", err)
	require.Equal(t, field, e.Fields[0].Field, "%v", err)
	require.Equal(t, rule, e.Fields[0].Rule, "%v", err)
}

// Disabling a user and resetting their password through a reset link
// (internal/identity) end every web session of that user in the
// transaction of the change (security review finding 10; web interface I).
func TestIdentityChangesEndSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.NoError(t, err)

	yes, no := true, false
	_, err = b.h.App.Identity.UpdateUser(b.ctx, access.System, b.user.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.ErrorIs(t, err, session.ErrNoSession, "disabling ends the session")
	_, err = b.h.App.Identity.UpdateUser(b.ctx, access.System, b.user.ID, identity.UserPatch{Disabled: &no})
	require.NoError(t, err)
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.ErrorIs(t, err, session.ErrNoSession, "re-enabling revives no session")

	secret, _, err = b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	link, _, err := b.h.App.Identity.IssueResetLink(b.ctx, access.System, b.user.ID.String())
	require.NoError(t, err)
	token := link[strings.LastIndex(link, "/")+1:]
	require.NoError(t, b.h.App.Identity.ResetPassword(b.ctx, token, "an-entirely-new-passphrase", "192.0.2.10"))
	_, err = b.svc.Authenticate(b.ctx, secret, client)
	require.ErrorIs(t, err, session.ErrNoSession, "a password reset ends the session")
}

// A session records how it was established: a password sign-in is method
// password with no second factor; a sign-in checked elsewhere (OpenID
// Connect) carries its method; a passkey on its own is both factors. A
// second factor checked later is recorded and audited, and a disabled
// user cannot be signed in by another method.
func TestSessionsRecordHowTheyWereEstablished(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	require.Equal(t, session.MethodPassword, cur.Session.Method)
	require.Empty(t, cur.Session.SecondFactor)
	require.Nil(t, cur.Session.SecondFactorAt)

	require.NoError(t, b.svc.PassSecondFactor(b.ctx, cur, session.FactorTOTP))
	got, err := b.svc.Authenticate(b.ctx, secret, client)
	require.NoError(t, err)
	require.Equal(t, session.FactorTOTP, got.Session.SecondFactor)
	require.NotNil(t, got.Session.SecondFactorAt)
	require.Equal(t, session.PendingNone, got.Session.Pending)
	var factor string
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT data->>'factor' FROM audit_log WHERE action = 'signin.second_factor' AND target_id = $1`,
		cur.Session.ID.String()).Scan(&factor))
	require.Equal(t, "totp", factor)
	require.Error(t, b.svc.PassSecondFactor(b.ctx, cur, session.Factor("sms")), "an unknown factor is refused")

	_, oc, err := b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodOIDC, client)
	require.NoError(t, err)
	require.Equal(t, session.MethodOIDC, oc.Session.Method)
	require.Empty(t, oc.Session.SecondFactor)

	_, pc, err := b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodPasskey, client)
	require.NoError(t, err)
	require.Equal(t, session.MethodPasskey, pc.Session.Method)
	require.Equal(t, session.FactorPasskey, pc.Session.SecondFactor, "a passkey on its own is both factors")
	var methods []string
	rows, err := b.h.App.DB.SQL.Query(`SELECT data->>'method' FROM audit_log WHERE action = 'signin' ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var m string
		require.NoError(t, rows.Scan(&m))
		methods = append(methods, m)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"password", "oidc", "passkey"}, methods)

	_, _, err = b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodPassword, client)
	require.Error(t, err, "a password sign-in goes through SignIn")
	yes := true
	_, err = b.h.App.Identity.UpdateUser(b.ctx, access.System, b.user.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	_, _, err = b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodOIDC, client)
	require.ErrorIs(t, err, session.ErrBadCredentials)
	_, _, err = b.svc.SignInVerified(b.ctx, uuid.New(), session.MethodOIDC, client)
	require.ErrorIs(t, err, session.ErrBadCredentials)
}

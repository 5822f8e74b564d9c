package identity_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// clock is a settable clock for the identity service under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*testapp.Harness, *identity.Service, *clock) {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("city", org.LocalAuthority, "national")
	c := &clock{t: time.Now()}
	return h, identity.NewService(h.App.Store, c.now), c
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	h, svc, c := setup(t)
	ctx := context.Background()
	u, _ := h.User("city", access.Responder)
	exp := c.t.Add(time.Hour)
	plain, tok, err := svc.CreateToken(ctx, u.Principal(), u.ID, "laptop", &exp)
	require.NoError(t, err)
	require.Equal(t, "laptop", tok.Name)

	p, err := svc.Authenticate(ctx, plain, "192.0.2.7")
	require.NoError(t, err)
	require.Equal(t, u.ID, p.UserID)
	require.Equal(t, access.Responder, p.Role)
	require.Equal(t, "192.0.2.7", p.RemoteAddr)
	toks, err := svc.Tokens(ctx, u.Principal())
	require.NoError(t, err)
	require.Len(t, toks, 2) // the harness's and this one
	var stored *identity.Token
	for i := range toks {
		if toks[i].ID == tok.ID {
			stored = &toks[i]
		}
	}
	require.NotNil(t, stored.LastUsedAt, "a use is recorded")

	t.Run("expired", func(t *testing.T) {
		c.t = exp.Add(time.Second)
		_, err := svc.Authenticate(ctx, plain, "192.0.2.7")
		require.ErrorIs(t, err, identity.ErrUnauthenticated)
		c.t = exp.Add(-30 * time.Minute)
	})
	t.Run("revoked", func(t *testing.T) {
		require.NoError(t, svc.RevokeToken(ctx, u.Principal(), tok.ID))
		_, err := svc.Authenticate(ctx, plain, "192.0.2.7")
		require.ErrorIs(t, err, identity.ErrUnauthenticated)
	})
	t.Run("another user's token is not found", func(t *testing.T) {
		other, _ := h.User("city", access.Responder)
		err := svc.RevokeToken(ctx, other.Principal(), tok.ID)
		require.True(t, apperr.Is(err, apperr.NotFound))
	})
	t.Run("every failure is counted with its reason", func(t *testing.T) {
		failures, reasons := 0, map[string]int{}
		rows, err := h.App.DB.Pool.Query(ctx, `SELECT failures, reasons FROM auth_throttle
			WHERE scope = 'auth.addr' AND key = '192.0.2.7'`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var n int
			var rs map[string]int
			require.NoError(t, rows.Scan(&n, &rs))
			failures += n
			for k, v := range rs {
				reasons[k] += v
			}
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 2, failures)
		require.Equal(t, map[string]int{"expired token " + tok.ID.String(): 1, "revoked token " + tok.ID.String(): 1}, reasons)
	})
	t.Run("limits on expiry", func(t *testing.T) {
		past := c.t.Add(-time.Hour)
		_, _, err := svc.CreateToken(ctx, u.Principal(), u.ID, "x", &past)
		require.ErrorContains(t, err, "expires_at")
		far := c.t.Add(400 * 24 * time.Hour)
		_, _, err = svc.CreateToken(ctx, u.Principal(), u.ID, "x", &far)
		require.ErrorContains(t, err, "expires_at")
	})
}

// TestDisablingRevokesTokensForGood is security review finding 10:
// disabling a user revokes their tokens (audited, in the same
// transaction), so that enabling them again revives none.
func TestDisablingRevokesTokensForGood(t *testing.T) {
	t.Parallel()
	h, svc, _ := setup(t)
	ctx := context.Background()
	admin, _ := h.User("city", access.Admin)
	u, tok := h.User("city", access.Reporter)
	disabled := true
	_, err := svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, tok, "198.51.100.1")
	require.ErrorIs(t, err, identity.ErrUnauthenticated)
	toks, err := svc.Tokens(ctx, u.Principal())
	require.NoError(t, err)
	require.Len(t, toks, 1)
	require.NotNil(t, toks[0].RevokedAt, "the token is revoked, not only refused")
	// History stays: the user still exists and can be enabled again, but
	// their old token stays revoked.
	enabled := false
	_, err = svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &enabled})
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, tok, "198.51.100.1")
	require.ErrorIs(t, err, identity.ErrUnauthenticated)
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'token.revoked'
		AND target_id = $1 AND data->>'reason' = 'user disabled'`, toks[0].ID.String()).Scan(&n))
	require.Equal(t, 1, n)
}

func TestAuthFailuresLookAlike(t *testing.T) {
	t.Parallel()
	h, svc, c := setup(t)
	ctx := context.Background()
	u, _ := h.User("city", access.Responder)
	exp := c.t.Add(time.Minute)
	expired, _, err := svc.CreateToken(ctx, u.Principal(), u.ID, "soon", &exp)
	require.NoError(t, err)
	revoked, rt, err := svc.CreateToken(ctx, u.Principal(), u.ID, "gone", nil)
	require.NoError(t, err)
	require.NoError(t, svc.RevokeToken(ctx, u.Principal(), rt.ID))
	c.t = c.t.Add(2 * time.Minute)
	// Through the real HTTP stack (whose clock is the wall clock, so only
	// the revoked and the wrong token fail there) the bodies differ only in
	// the request ID.
	var bodies []map[string]any
	for _, tok := range []string{"cdt_not-a-token", revoked} {
		r := h.As(tok).Request(http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Equal(t, `Bearer realm="certdesk"`, r.Header.Get("WWW-Authenticate"))
		m := r.Map(t)
		delete(m, "request_id")
		bodies = append(bodies, m)
	}
	require.Equal(t, bodies[0], bodies[1])
	for _, tok := range []string{"cdt_not-a-token", revoked, expired} {
		_, err := svc.Authenticate(ctx, tok, "")
		require.Equal(t, identity.ErrUnauthenticated, err, "one error value for every failure")
	}
}

func TestUserManagementScope(t *testing.T) {
	t.Parallel()
	h, svc, _ := setup(t)
	ctx := context.Background()
	h.Org("other", org.LocalAuthority, "national")
	natAdmin, _ := h.User("national", access.Admin)
	cityAdmin, _ := h.User("city", access.Admin)
	cityResp, _ := h.User("city", access.Responder)
	other, err := h.App.Store.OrganizationBySlug(ctx, "other")
	require.NoError(t, err)

	_, err = svc.CreateUser(ctx, cityAdmin.Principal(), identity.NewUser{OrgID: other.ID, Email: "x@other.example", Role: access.Reporter})
	require.True(t, apperr.Is(err, apperr.Forbidden), "a city admin manages its own city only: %v", err)
	_, err = svc.CreateUser(ctx, natAdmin.Principal(), identity.NewUser{OrgID: other.ID, Email: "x@other.example", Role: access.Reporter})
	require.NoError(t, err, "the national CERT's admin manages its constituency")
	_, err = svc.CreateUser(ctx, natAdmin.Principal(), identity.NewUser{OrgID: other.ID, Email: "X@other.example", Role: access.Reporter})
	require.True(t, apperr.Is(err, apperr.Conflict), "e-mails are unique ignoring case: %v", err)
	_, err = svc.CreateUser(ctx, cityResp.Principal(), identity.NewUser{OrgID: cityResp.OrgID, Email: "y@city.example", Role: access.Reporter})
	require.True(t, apperr.Is(err, apperr.Forbidden), "responders do not manage users")
	_, err = svc.CreateUser(ctx, access.System, identity.NewUser{OrgID: cityAdmin.OrgID, Email: "not-an-email", Role: "boss", Password: "short"})
	e, ok := apperr.As(err)
	require.True(t, ok)
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	require.Equal(t, map[string]bool{"email": true, "role": true, "password": true}, fields, "every bad field is named at once")

	role := access.Coordinator
	_, err = svc.UpdateUser(ctx, cityAdmin.Principal(), cityAdmin.ID, identity.UserPatch{Role: &role})
	require.True(t, apperr.Is(err, apperr.Conflict), "admins cannot change their own role")
	got, err := svc.UpdateUser(ctx, cityAdmin.Principal(), cityResp.ID, identity.UserPatch{Role: &role})
	require.NoError(t, err)
	require.Equal(t, access.Coordinator, got.Role)
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'user.changed' AND target_id = $1",
		cityResp.ID.String()).Scan(&n))
	require.Equal(t, 1, n, "role changes are audited")
}

// TestOnlyTheUserSetsTheirPassword is security review finding 6 at the
// service: an administrator (or the operator) setting another user's
// password, or choosing a new user's first one, is refused; the user
// changes their own.
func TestOnlyTheUserSetsTheirPassword(t *testing.T) {
	t.Parallel()
	h, svc, _ := setup(t)
	ctx := context.Background()
	admin, _ := h.User("city", access.Admin)
	u, _ := h.User("city", access.Reporter)
	pw := "juniper-anchor-velvet-3"
	for name, actor := range map[string]access.Principal{"an admin": admin.Principal(), "the operator": access.System} {
		_, err := svc.UpdateUser(ctx, actor, u.ID, identity.UserPatch{Password: &pw})
		require.ErrorIs(t, err, identity.ErrNotYourPassword, name)
	}
	_, err := svc.CreateUser(ctx, admin.Principal(), identity.NewUser{OrgID: u.OrgID, Email: "first@city.example", Role: access.Reporter, Password: pw})
	require.ErrorIs(t, err, identity.ErrNotYourPassword, "an admin creates users without a password")
	hash, err := h.App.Store.PasswordHash(ctx, u.ID)
	require.NoError(t, err)
	require.Empty(t, hash)

	_, err = svc.UpdateUser(ctx, u.Principal(), u.ID, identity.UserPatch{Password: &pw})
	require.NoError(t, err)
	hash, err = h.App.Store.PasswordHash(ctx, u.ID)
	require.NoError(t, err)
	ok, err := identity.VerifyPassword(hash, pw)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = svc.CreateUser(ctx, access.System, identity.NewUser{OrgID: u.OrgID, Email: "first@city.example", Role: access.Reporter, Password: pw})
	require.NoError(t, err, "the operator may set a first password (certdesk user create --password-stdin)")
}

func resetToken(t *testing.T, url string) string {
	t.Helper()
	i := strings.Index(url, identity.ResetPath)
	require.GreaterOrEqual(t, i, 0, url)
	return url[i+len(identity.ResetPath):]
}

// TestResetLinks: issue, use once, expiry, voiding, the password policy,
// disabled users, and who may issue one.
func TestResetLinks(t *testing.T) {
	t.Parallel()
	h, svc, c := setup(t)
	ctx := context.Background()
	require.NoError(t, svc.SetResetLinks("https://certdesk.example", 2*time.Hour))
	admin, _ := h.User("city", access.Admin)
	responder, _ := h.User("city", access.Responder)
	natUser, _ := h.User("national", access.Responder)
	u, _ := h.User("city", access.Reporter)
	const addr = "192.0.2.40"

	t.Run("who issues", func(t *testing.T) {
		_, _, err := svc.IssueResetLink(ctx, responder.Principal(), u.ID.String())
		require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
		_, _, err = svc.IssueResetLink(ctx, admin.Principal(), natUser.ID.String())
		require.True(t, apperr.Is(err, apperr.NotFound), "a user outside the admin's scope: %v", err)
		_, _, err = svc.IssueResetLink(ctx, access.System, natUser.ID.String())
		require.NoError(t, err, "the operator issues for anyone")
	})
	t.Run("used once", func(t *testing.T) {
		url, l, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(url, "https://certdesk.example/password-reset/cdr_"), url)
		require.Equal(t, c.t.Add(2*time.Hour).UTC().Truncate(time.Microsecond), l.ExpiresAt.Truncate(time.Microsecond))
		tok := resetToken(t, url)
		err = svc.ResetPassword(ctx, tok, "short", addr)
		require.True(t, apperr.Is(err, apperr.Invalid), "the policy applies: %v", err)
		require.NoError(t, svc.ResetPassword(ctx, tok, "willow-compass-ember-42", addr), "a refused password does not use the link")
		require.ErrorIs(t, svc.ResetPassword(ctx, tok, "willow-compass-ember-43", addr), identity.ErrResetLinkInvalid)
		_, err = svc.ResetLinkUser(ctx, tok, addr)
		require.ErrorIs(t, err, identity.ErrResetLinkInvalid)
	})
	t.Run("expires", func(t *testing.T) {
		url, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.NoError(t, err)
		c.t = c.t.Add(2*time.Hour + time.Second)
		defer func() { c.t = c.t.Add(-2*time.Hour - time.Second) }()
		require.ErrorIs(t, svc.ResetPassword(ctx, resetToken(t, url), "willow-compass-ember-44", addr), identity.ErrResetLinkInvalid)
	})
	t.Run("a newer link voids the older", func(t *testing.T) {
		first, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.NoError(t, err)
		second, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.NoError(t, err)
		require.ErrorIs(t, svc.ResetPassword(ctx, resetToken(t, first), "willow-compass-ember-45", addr), identity.ErrResetLinkInvalid)
		got, err := svc.ResetLinkUser(ctx, resetToken(t, second), addr)
		require.NoError(t, err)
		require.Equal(t, u.Email, got.Email)
	})
	t.Run("disabling voids links", func(t *testing.T) {
		url, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.NoError(t, err)
		yes, no := true, false
		_, err = svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &yes})
		require.NoError(t, err)
		_, _, err = svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
		require.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
		_, err = svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &no})
		require.NoError(t, err)
		require.ErrorIs(t, svc.ResetPassword(ctx, resetToken(t, url), "willow-compass-ember-46", addr), identity.ErrResetLinkInvalid,
			"enabling the user again does not revive the link either")
	})
}

// TestResetLinkUseIsThrottledPerAddress: bad reset links count as failed
// authentications of the address; past the limit the answer is 429, and
// a good link from another address still works.
func TestResetLinkUseIsThrottledPerAddress(t *testing.T) {
	t.Parallel()
	h, svc, c := setup(t)
	ctx := context.Background()
	c.t = c.t.Truncate(time.Minute).Add(time.Second)
	admin, _ := h.User("city", access.Admin)
	u, _ := h.User("city", access.Reporter)
	url, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
	require.NoError(t, err)
	for i := 0; i < identity.AddressRule.Limit; i++ {
		err := svc.ResetPassword(ctx, "cdr_guess"+strconv.Itoa(i), "willow-compass-ember-47", "203.0.113.4")
		require.ErrorIs(t, err, identity.ErrResetLinkInvalid)
	}
	err = svc.ResetPassword(ctx, "cdr_guess-again", "willow-compass-ember-47", "203.0.113.4")
	ae, ok := apperr.As(err)
	require.True(t, ok && ae.Code == apperr.RateLimited, "%v", err)
	require.Equal(t, 59*time.Second, ae.RetryAfter)
	_, err = svc.ResetLinkUser(ctx, "cdr_guess-again", "203.0.113.4")
	require.True(t, apperr.Is(err, apperr.RateLimited), "looking a link up counts too: %v", err)
	require.NoError(t, svc.ResetPassword(ctx, resetToken(t, url), "willow-compass-ember-47", "203.0.113.5"))
}

// sessionStore wraps the real store so that its transactions implement
// identity.SessionEnder, as the web interface's session store will, and
// records whose sessions were ended.
type sessionStore struct {
	*postgres.Store
	mu    sync.Mutex
	ended []uuid.UUID
}

type sessionTx struct {
	identity.Tx
	s *sessionStore
}

func (t sessionTx) EndUserSessions(_ context.Context, userID uuid.UUID, _ *uuid.UUID) (int, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.s.ended = append(t.s.ended, userID)
	return 2, nil
}

func (s *sessionStore) InIdentityTx(ctx context.Context, fn func(ctx context.Context, tx identity.Tx) error) error {
	return s.Store.InIdentityTx(ctx, func(ctx context.Context, tx identity.Tx) error { return fn(ctx, sessionTx{tx, s}) })
}

func (s *sessionStore) endedFor() []uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uuid.UUID(nil), s.ended...)
}

// TestSessionHookEndsSessions: disabling a user, their own password change
// and a password reset call the session store's SessionEnder, inside the
// change's transaction; other changes do not.
func TestSessionHookEndsSessions(t *testing.T) {
	t.Parallel()
	h, _, _ := setup(t)
	ctx := context.Background()
	store := &sessionStore{Store: h.App.Store}
	svc := identity.NewService(store, nil)
	admin, _ := h.User("city", access.Admin)
	u, _ := h.User("city", access.Reporter)
	name := "Renamed"
	_, err := svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Name: &name})
	require.NoError(t, err)
	require.Empty(t, store.endedFor(), "a new name ends nothing")

	pw := "willow-compass-ember-48"
	_, err = svc.UpdateUser(ctx, u.Principal(), u.ID, identity.UserPatch{Password: &pw})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{u.ID}, store.endedFor(), "a password change ends the user's sessions")

	url, _, err := svc.IssueResetLink(ctx, admin.Principal(), u.ID.String())
	require.NoError(t, err)
	require.NoError(t, svc.ResetPassword(ctx, resetToken(t, url), "willow-compass-ember-49", "192.0.2.9"))
	require.Len(t, store.endedFor(), 2, "so does a reset")

	yes := true
	_, err = svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	require.Len(t, store.endedFor(), 3, "so does disabling")
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE target_id = $1
		AND (data->>'sessions_ended')::int = 2`, u.ID.String()).Scan(&n))
	require.Equal(t, 3, n, "each is audited with the number of sessions ended")
}

func TestThrottleKeys(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1%eth0": "2001:db8:1:2::/64",
		"":                          "unknown",
		"not-an-address":            "not-an-address",
	} {
		require.Equal(t, want, identity.AddressKey(in), in)
	}
	for in, want := range map[string]string{
		"cdt_AbC-_9rest-of-the-token": "cdt_AbC-_9",
		"cdt_short":                   "other",
		"cdt_ab cd efgh":              "other",
		"cdt_ÄÖÜäöü-xyz":              "other",
		"Bearer-ish":                  "other",
	} {
		require.Equal(t, want, identity.PrefixKey(in), in)
	}
}

// TestCreateUserInAndResetLinkForTransports: the use cases the API and
// the web interface call with what a person typed: the organisation by
// slug (the caller's own when empty; one the caller does not see is as
// missing) and a user ID that may not be one. Who may manage users is
// decided first, so a refused caller learns nothing about organisations
// or users.
func TestCreateUserInAndResetLinkForTransports(t *testing.T) {
	t.Parallel()
	h, svc, _ := setup(t)
	ctx := context.Background()
	h.Org("partner", org.Partner, "")
	natAdmin, _ := h.User("national", access.Admin)
	cityAdmin, _ := h.User("city", access.Admin)
	partnerAdmin, _ := h.User("partner", access.Admin)
	responder, _ := h.User("city", access.Responder)
	field := func(err error) string {
		t.Helper()
		e, ok := apperr.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, apperr.Invalid, e.Code, "%v", err)
		require.Len(t, e.Fields, 1)
		return e.Fields[0].Field + "/" + e.Fields[0].Rule
	}

	_, err := svc.CreateUserIn(ctx, responder.Principal(), "nowhere", identity.NewUser{Email: "a@city.example", Role: access.Reporter})
	require.True(t, apperr.Is(err, apperr.Forbidden), "the role is refused before the organisation is looked up: %v", err)
	u, err := svc.CreateUserIn(ctx, cityAdmin.Principal(), "", identity.NewUser{Email: "b@city.example", Role: access.Reporter})
	require.NoError(t, err)
	require.Equal(t, "city", u.OrgSlug, "no organisation: the caller's own")
	require.Equal(t, "org/exists", field(func() error {
		_, err := svc.CreateUserIn(ctx, cityAdmin.Principal(), "nowhere", identity.NewUser{Email: "c@city.example", Role: access.Reporter})
		return err
	}()))
	require.Equal(t, "org/exists", field(func() error {
		_, err := svc.CreateUserIn(ctx, partnerAdmin.Principal(), "city", identity.NewUser{Email: "d@city.example", Role: access.Reporter})
		return err
	}()), "a partner does not see a city in the directory: the same answer as a missing one")
	_, err = svc.CreateUserIn(ctx, cityAdmin.Principal(), "national", identity.NewUser{Email: "e@national.example", Role: access.Reporter})
	require.True(t, apperr.Is(err, apperr.Forbidden), "a city's admin sees the national CERT but does not manage it: %v", err)
	u, err = svc.CreateUserIn(ctx, natAdmin.Principal(), "city", identity.NewUser{Email: "f@city.example", Role: access.Viewer})
	require.NoError(t, err)
	require.Equal(t, "city", u.OrgSlug)
	_, err = svc.CreateUserIn(ctx, cityAdmin.Principal(), "city", identity.NewUser{Email: "g@city.example", Role: access.Reporter,
		Password: "juniper-anchor-velvet-3"})
	require.ErrorIs(t, err, identity.ErrNotYourPassword)

	_, _, err = svc.IssueResetLink(ctx, responder.Principal(), "not-a-uuid")
	require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
	_, _, err = svc.IssueResetLink(ctx, cityAdmin.Principal(), "not-a-uuid")
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	require.ErrorContains(t, err, `user "not-a-uuid" not found`)
	url, _, err := svc.IssueResetLink(ctx, cityAdmin.Principal(), strings.ToUpper(u.ID.String()))
	require.NoError(t, err, "a UUID in capitals is the same user")
	require.NotEmpty(t, url)
}

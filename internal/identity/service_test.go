package identity_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
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
	t.Run("every failure is audited", func(t *testing.T) {
		var n int
		require.NoError(t, h.App.DB.Pool.QueryRow(ctx,
			"SELECT count(*) FROM audit_log WHERE action = 'auth.failed' AND remote_addr = '192.0.2.7'").Scan(&n))
		require.Equal(t, 2, n)
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

func TestDisabledUserCannotAuthenticate(t *testing.T) {
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
	// History stays: the user still exists and can be enabled again.
	enabled := false
	_, err = svc.UpdateUser(ctx, admin.Principal(), u.ID, identity.UserPatch{Disabled: &enabled})
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, tok, "198.51.100.1")
	require.NoError(t, err)
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
	_, err = svc.CreateUser(ctx, cityAdmin.Principal(), identity.NewUser{OrgID: cityAdmin.OrgID, Email: "not-an-email", Role: "boss", Password: "short"})
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

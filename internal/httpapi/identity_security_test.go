package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Tests of security review findings 6 (an admin set other users'
// passwords), 9 (failed authentication wrote the audit log without limit)
// and 10 (enabling a disabled user revived their tokens).

func identitySetup(t *testing.T, opts testapp.Options) *testapp.Harness {
	t.Helper()
	h := testapp.New(t, opts)
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("town", org.LocalAuthority, "region")
	return h
}

// atMinuteStart moves the application's clock to one second past the
// start of the next minute, so that a burst of requests falls into one
// throttle window (59 s of real time to spare).
func atMinuteStart(h *testapp.Harness) {
	now := h.Clock.Now()
	h.Advance(now.Truncate(time.Minute).Add(time.Minute + time.Second).Sub(now))
}

func passwordHash(t *testing.T, h *testapp.Harness, id uuid.UUID) string {
	t.Helper()
	ph, err := h.App.Store.PasswordHash(context.Background(), id)
	require.NoError(t, err)
	return ph
}

func auditCount(t *testing.T, h *testapp.Harness, where string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE "+where, args...).Scan(&n))
	return n
}

// TestAdminCannotSetAnotherUsersPassword is finding 6: PATCH
// /users/{id} with a password is the user's own business; an administrator
// gets 403 and issues a reset link instead.
func TestAdminCannotSetAnotherUsersPassword(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := identitySetup(t, testapp.Options{NoWorkers: true})
	cityAdmin, adminTok := h.User("city", access.Admin)
	regionAdmin, regionTok := h.User("region", access.Admin)
	reporter, reporterTok := h.User("city", access.Reporter)
	_ = cityAdmin
	_ = regionAdmin

	for name, tok := range map[string]string{"the city's admin": adminTok, "the region's admin": regionTok} {
		r := h.As(tok).Request(http.MethodPatch, "/api/v1/users/"+reporter.ID.String(), map[string]any{"password": "tidal-lantern-orchard-5"})
		require.Equal(t, http.StatusForbidden, r.Status, "%s: %s", name, r.Body)
		require.Contains(t, string(r.Body), "reset-link")
		require.Empty(t, passwordHash(t, h, reporter.ID), "%s set no password", name)
	}
	// With other fields the whole change is refused.
	r := h.As(adminTok).Request(http.MethodPatch, "/api/v1/users/"+reporter.ID.String(),
		map[string]any{"name": "Renamed", "password": "tidal-lantern-orchard-5"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	// Nor may an admin choose a new user's first password.
	r = h.As(adminTok).Request(http.MethodPost, "/api/v1/users", map[string]any{"org": "city",
		"email": "newcomer@city.example", "role": "reporter", "password": "tidal-lantern-orchard-5"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Zero(t, auditCount(t, h, "action = 'user.created' AND data->>'email' = 'newcomer@city.example'"))

	// The user changes their own password, under the policy.
	r = h.As(reporterTok).Request(http.MethodPatch, "/api/v1/users/"+reporter.ID.String(), map[string]any{"password": "short"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	r = h.As(reporterTok).Request(http.MethodPatch, "/api/v1/users/"+reporter.ID.String(), map[string]any{"password": "tidal-lantern-orchard-5"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	ok, err := identity.VerifyPassword(passwordHash(t, h, reporter.ID), "tidal-lantern-orchard-5")
	require.NoError(t, err)
	require.True(t, ok, "the user's own change took effect")
	require.Equal(t, 1, auditCount(t, h, "action = 'user.changed' AND target_id = $1 AND data->>'password' = 'changed'", reporter.ID.String()))
}

type resetLinkBody struct {
	UserID    string    `json:"user_id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TestAdminIssuesResetLink: an administrator whose scope holds the user
// gets a one-time link, once, uncached and audited; the user sets their
// password with it, once.
func TestAdminIssuesResetLink(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := identitySetup(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	regionAdmin, regionTok := h.User("region", access.Admin)
	_, townAdminTok := h.User("town", access.Admin)
	_, responderTok := h.User("city", access.Responder)
	reporter, _ := h.User("city", access.Reporter)
	nationalUser, _ := h.User("national", access.Coordinator)
	path := "/api/v1/users/" + reporter.ID.String() + "/reset-link"

	r := h.As(regionTok).Request(http.MethodPost, path, nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var link resetLinkBody
	r.JSON(t, &link)
	require.Equal(t, reporter.ID.String(), link.UserID)
	prefix := h.Config.BaseURL + "/password-reset/" + identity.ResetTokenPrefix
	require.True(t, strings.HasPrefix(link.URL, prefix), link.URL)
	token := strings.TrimPrefix(link.URL, h.Config.BaseURL+"/password-reset/")
	require.Len(t, token, len(identity.ResetTokenPrefix)+43, "256 random bits")
	require.WithinDuration(t, h.Clock.Now().Add(identity.DefaultResetLinkLifetime), link.ExpiresAt, time.Minute)

	require.Equal(t, 1, auditCount(t, h, "action = 'user.reset_link_issued' AND target_id = $1 AND actor = $2",
		reporter.ID.String(), regionAdmin.Email))
	require.Zero(t, auditCount(t, h, "data::text LIKE '%' || $1 || '%'", token), "the audit log never holds the link")
	var stored int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM password_resets WHERE hash = sha256(convert_to($1, 'UTF8'))", token).Scan(&stored))
	require.Equal(t, 1, stored, "only the token's SHA-256 is stored")

	for name, tc := range map[string]struct {
		tok, path string
		want      int
	}{
		"a responder":                       {responderTok, path, http.StatusForbidden},
		"another town's admin":              {townAdminTok, path, http.StatusNotFound},
		"the region's admin, national user": {regionTok, "/api/v1/users/" + nationalUser.ID.String() + "/reset-link", http.StatusNotFound},
		"an unknown user":                   {regionTok, "/api/v1/users/" + uuid.NewString() + "/reset-link", http.StatusNotFound},
		"not a user id":                     {regionTok, "/api/v1/users/nobody/reset-link", http.StatusNotFound},
	} {
		r := h.As(tc.tok).Request(http.MethodPost, tc.path, nil)
		require.Equal(t, tc.want, r.Status, "%s: %s", name, r.Body)
	}

	u, err := h.App.Identity.ResetLinkUser(ctx, token, "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, reporter.ID, u.ID)
	require.NoError(t, h.App.Identity.ResetPassword(ctx, token, "harbour-kestrel-meadow-9", "192.0.2.1"))
	ok, err := identity.VerifyPassword(passwordHash(t, h, reporter.ID), "harbour-kestrel-meadow-9")
	require.NoError(t, err)
	require.True(t, ok)
	require.ErrorIs(t, h.App.Identity.ResetPassword(ctx, token, "another-kestrel-meadow-9", "192.0.2.1"), identity.ErrResetLinkInvalid,
		"a link is used once")
	require.Equal(t, 1, auditCount(t, h, "action = 'user.password_reset' AND target_id = $1 AND actor = $2 AND remote_addr = '192.0.2.1'",
		reporter.ID.String(), reporter.Email))

	// A disabled user gets no link.
	r = h.As(regionTok).Request(http.MethodPatch, "/api/v1/users/"+reporter.ID.String(), map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = h.As(regionTok).Request(http.MethodPost, path, nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
}

// TestBadTokensFromOneAddressAre429AcrossReplicas is finding 9's
// throttle: twenty failures a minute per client address, counted in
// PostgreSQL, so that two replicas share the count; then 429 with
// Retry-After until the minute ends. A valid token keeps working.
func TestBadTokensFromOneAddressAre429AcrossReplicas(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	a := identitySetup(t, testapp.Options{NoWorkers: true})
	b := a.Replica()
	_, valid := a.User("city", access.Responder)
	atMinuteStart(a)

	for i := 0; i < identity.AddressRule.Limit; i++ {
		h := []*testapp.Harness{a, b}[i%2]
		r := h.As("cdt_"+uuid.NewString()).Request(http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, "failure %d: %s", i+1, r.Body)
	}
	for _, h := range []*testapp.Harness{a, b} {
		r := h.As("cdt_"+uuid.NewString()).Request(http.MethodGet, "/api/v1/incidents", nil)
		require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After: %q", r.Header.Get("Retry-After"))
		require.True(t, secs >= 1 && secs <= 60, "Retry-After %d s: until the minute ends", secs)
	}
	r := b.As(valid).Request(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, r.Status, "a valid token is never refused: %s", r.Body)

	// The next minute starts afresh.
	a.Advance(time.Minute)
	r = b.As("cdt_"+uuid.NewString()).Request(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
}

// TestBadTokensWithOnePrefixAre429FromAnyAddress: one token's prefix
// (cdt_ and six characters) tried from many addresses is throttled too.
func TestBadTokensWithOnePrefixAre429FromAnyAddress(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := identitySetup(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) { c.TrustProxy = true }})
	atMinuteStart(h)
	bad := func(i int) string { return "cdt_Leaked" + strconv.Itoa(i) + uuid.NewString() }
	for i := 0; i < identity.TokenPrefixRule.Limit; i++ {
		r := h.As(bad(i)).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "198.51.100."+strconv.Itoa(i+1))
		require.Equal(t, http.StatusUnauthorized, r.Status, "failure %d: %s", i+1, r.Body)
	}
	r := h.As(bad(99)).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "203.0.113.50")
	require.Equal(t, http.StatusTooManyRequests, r.Status, "a fresh address, the same prefix: %s", r.Body)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	r = h.As("cdt_Other0"+uuid.NewString()).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "203.0.113.50")
	require.Equal(t, http.StatusUnauthorized, r.Status, "another prefix from that address is only a failure: %s", r.Body)
}

// TestFailedAuthenticationIsOneAuditRowPerSourceAndMinute is finding 9's
// bound on the audit log: sixty bad tokens from one address in one minute
// are one auth.failed entry, written by the periodic sweep once the minute
// has ended, carrying the count and the reasons.
func TestFailedAuthenticationIsOneAuditRowPerSourceAndMinute(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := identitySetup(t, testapp.Options{Config: func(c *config.Config) { c.TrustProxy = true }})
	ctx := context.Background()
	u, _ := h.User("city", access.Responder)
	revoked, meta, err := h.App.Identity.CreateToken(ctx, access.System, u.ID, "old", nil)
	require.NoError(t, err)
	require.NoError(t, h.App.Identity.RevokeToken(ctx, u.Principal(), meta.ID))
	atMinuteStart(h)
	windowStart := h.Clock.Now().UTC().Truncate(time.Minute)

	for i := 0; i < 60; i++ {
		tok := "cdt_" + uuid.NewString()
		if i == 7 {
			tok = revoked
		}
		r := h.As(tok).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "192.0.2.10")
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, r.Status)
	}
	r := h.As("cdt_"+uuid.NewString()).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "192.0.2.11")
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Zero(t, auditCount(t, h, "action = 'auth.failed'"), "nothing is written per failure")

	h.Advance(time.Minute) // the minute has ended
	_, err = h.App.River.Insert(ctx, throttle.SweepJob{}, nil)
	require.NoError(t, err)
	h.Eventually(func() bool { return auditCount(t, h, "action = 'auth.failed'") == 2 }, "the sweep summarises both addresses")

	var (
		actor, targetType string
		data              map[string]any
	)
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT actor, target_type, data FROM audit_log
		WHERE action = 'auth.failed' AND remote_addr = '192.0.2.10'`).Scan(&actor, &targetType, &data))
	require.Equal(t, "anonymous", actor)
	require.Equal(t, "address", targetType)
	require.EqualValues(t, 60, data["failures"], "the count of the minute: %v", data)
	require.EqualValues(t, 40, data["refused"], "the failures answered 429")
	require.Equal(t, windowStart.Format(time.RFC3339), data["window_start"])
	require.Equal(t, map[string]any{"unknown token": 59.0, "revoked token " + meta.ID.String(): 1.0}, data["reasons"])

	// A second sweep adds nothing.
	_, err = h.App.Sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, auditCount(t, h, "action = 'auth.failed' AND remote_addr = '192.0.2.10'"))
}

// TestDisabledThenEnabledUserKeepsOldTokensRevoked is finding 10:
// disabling revokes every token of the user in the same transaction,
// audited; enabling them again revives none.
func TestDisabledThenEnabledUserKeepsOldTokensRevoked(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := identitySetup(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	admin, adminTok := h.User("region", access.Admin)
	victim, tok := h.User("city", access.Responder)
	second, _, err := h.App.Identity.CreateToken(ctx, victim.Principal(), victim.ID, "laptop", nil)
	require.NoError(t, err)
	for _, tk := range []string{tok, second} {
		require.Equal(t, http.StatusOK, h.As(tk).Request(http.MethodGet, "/api/v1/me", nil).Status)
	}

	path := "/api/v1/users/" + victim.ID.String()
	r := h.As(adminTok).Request(http.MethodPatch, path, map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, 2, auditCount(t, h, "action = 'token.revoked' AND actor = $1 AND data->>'reason' = 'user disabled' AND data->>'user_id' = $2",
		admin.Email, victim.ID.String()))
	require.Equal(t, 1, auditCount(t, h, "action = 'user.changed' AND target_id = $1 AND (data->>'tokens_revoked')::int = 2", victim.ID.String()))

	r = h.As(adminTok).Request(http.MethodPatch, path, map[string]any{"disabled": false})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, tk := range []string{tok, second} {
		r := h.As(tk).Request(http.MethodGet, "/api/v1/me", nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, "an old token stays dead after enabling: %s", r.Body)
	}
	fresh, _, err := h.App.Identity.CreateToken(ctx, access.System, victim.ID, "after", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, h.As(fresh).Request(http.MethodGet, "/api/v1/me", nil).Status, "a new token works")
}

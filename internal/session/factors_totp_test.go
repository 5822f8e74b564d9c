package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// codeAt is the app's code for secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return c
}

// withApp signs Ana in, sets up and confirms an app and returns the
// session, the key and the recovery codes.
func withApp(t *testing.T, b *bundle) (*session.Current, string, []string) {
	t.Helper()
	b.h.Clock.Freeze()
	_, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	su, err := b.svc.BeginTOTP(b.ctx, cur)
	require.NoError(t, err)
	again, err := b.svc.BeginTOTP(b.ctx, cur)
	require.NoError(t, err)
	require.Equal(t, su.Secret, again.Secret, "the app being set up keeps its key until confirmed")
	require.True(t, strings.HasPrefix(su.URL, "otpauth://totp/certdesk:"))
	codes, err := b.svc.ConfirmTOTP(b.ctx, cur, codeAt(t, su.Secret, b.h.Clock.Now()), client)
	require.NoError(t, err)
	require.Len(t, codes, session.RecoveryCodeCount)
	require.Equal(t, session.FactorTOTP, cur.Session.SecondFactor)
	return cur, su.Secret, codes
}

func pending(t *testing.T, b *bundle) *session.Current {
	t.Helper()
	_, cur, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	require.Equal(t, session.PendingSecondFactor, cur.Session.Pending)
	return cur
}

// A code is good once (its step is recorded) and one step either side of
// now; two steps off is not. The key is sealed, never stored as text.
func TestTOTPReplayAndSkew(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, secret, _ := withApp(t, b)
	var sealedKey []byte
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT key_sealed FROM user_totp`).Scan(&sealedKey))
	require.NotContains(t, string(sealedKey), secret)

	b.h.Advance(2 * time.Minute)
	cur := pending(t, b)
	now := b.h.Clock.Now()
	_, err := b.svc.CheckSecondFactor(b.ctx, cur, codeAt(t, secret, now.Add(-70*time.Second)), client)
	require.ErrorIs(t, err, session.ErrWrongCode, "two steps back")
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, codeAt(t, secret, now.Add(70*time.Second)), client)
	require.ErrorIs(t, err, session.ErrWrongCode, "two steps ahead")
	f, err := b.svc.CheckSecondFactor(b.ctx, cur, codeAt(t, secret, now.Add(30*time.Second)), client)
	require.NoError(t, err, "one step ahead")
	require.Equal(t, session.FactorTOTP, f)
	require.Equal(t, session.PendingNone, cur.Session.Pending)

	cur2 := pending(t, b)
	_, err = b.svc.CheckSecondFactor(b.ctx, cur2, codeAt(t, secret, now.Add(30*time.Second)), client)
	require.ErrorIs(t, err, session.ErrWrongCode, "the same code again")
	_, err = b.svc.CheckSecondFactor(b.ctx, cur2, codeAt(t, secret, now), client)
	require.ErrorIs(t, err, session.ErrWrongCode, "an earlier step than one used")
	b.h.Advance(60 * time.Second)
	_, err = b.svc.CheckSecondFactor(b.ctx, cur2, codeAt(t, secret, b.h.Clock.Now()), client)
	require.NoError(t, err, "a later step")
	require.Equal(t, 4, failureReasons(t, b)["wrong second factor code"], "wrong codes count like failed sign-ins")
}

// Each recovery code works once, typed in any case with or without
// dashes; renewing voids the old ones and needs a recent second factor.
func TestRecoveryCodesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, codes := withApp(t, b)
	var n int
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM user_recovery_codes WHERE code_hash = $1::bytea`, []byte(codes[0])).Scan(&n))
	require.Zero(t, n)

	cur := pending(t, b)
	f, err := b.svc.CheckSecondFactor(b.ctx, cur, strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")), client)
	require.NoError(t, err)
	require.Equal(t, session.FactorRecovery, f)
	cur = pending(t, b)
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, codes[0], client)
	require.ErrorIs(t, err, session.ErrWrongCode, "used")
	st, err := b.svc.Factors(b.ctx, b.user.ID)
	require.NoError(t, err)
	require.Equal(t, 9, st.RecoveryLeft)

	b.h.Advance(20 * time.Minute)
	_, err = b.svc.RenewRecoveryCodes(b.ctx, cur)
	require.ErrorIs(t, err, session.ErrStepUp, "no recent second factor")
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, codes[1], client)
	require.NoError(t, err)
	fresh, err := b.svc.RenewRecoveryCodes(b.ctx, cur)
	require.NoError(t, err)
	require.Len(t, fresh, 10)
	cur = pending(t, b)
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, codes[2], client)
	require.ErrorIs(t, err, session.ErrWrongCode, "the old codes are void")
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, fresh[9], client)
	require.NoError(t, err)
}

// Removing the app asks for a code or the password.
func TestRemoveTOTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur, secret, _ := withApp(t, b)
	require.ErrorIs(t, b.svc.RemoveTOTP(b.ctx, cur, "", "wrong password", client), session.ErrWrongCode)
	require.ErrorIs(t, b.svc.RemoveTOTP(b.ctx, cur, "000000", "", client), session.ErrWrongCode)
	b.h.Advance(30 * time.Second)
	require.NoError(t, b.svc.RemoveTOTP(b.ctx, cur, codeAt(t, secret, b.h.Clock.Now()), "", client))
	st, err := b.svc.Factors(b.ctx, b.user.ID)
	require.NoError(t, err)
	require.False(t, st.TOTP)
	require.Zero(t, st.RecoveryLeft)
	_, cur, err = b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	require.Equal(t, session.PendingNone, cur.Session.Pending)
}

// Step-up: only where the policy requires a factor of the person, and
// only when the last one is older than the policy's minutes.
func TestNeedsStepUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cur, secret, _ := withApp(t, b)
	need, err := b.svc.NeedsStepUp(b.ctx, cur)
	require.NoError(t, err)
	require.False(t, need, "optional policy")
	admin := adminOf(t, b, "city")
	p := session.DefaultPolicy(b.user.OrgID)
	p.SecondFactor, p.StepUpMinutes = session.RequireAll, 10
	require.NoError(t, b.svc.SavePolicy(b.ctx, admin, p))
	need, err = b.svc.NeedsStepUp(b.ctx, cur)
	require.NoError(t, err)
	require.False(t, need, "a factor just given")
	b.h.Advance(11 * time.Minute)
	need, err = b.svc.NeedsStepUp(b.ctx, cur)
	require.NoError(t, err)
	require.True(t, need)
	_, err = b.svc.CheckSecondFactor(b.ctx, cur, codeAt(t, secret, b.h.Clock.Now()), client)
	require.NoError(t, err)
	need, err = b.svc.NeedsStepUp(b.ctx, cur)
	require.NoError(t, err)
	require.False(t, need)
}

func adminOf(t *testing.T, b *bundle, slug string) access.Principal {
	t.Helper()
	o, err := b.h.App.Store.OrganizationBySlug(b.ctx, slug)
	require.NoError(t, err)
	u, err := b.h.App.Identity.CreateUser(b.ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "admin@" + slug + ".example",
		Name: "Admin " + slug, Role: access.Admin, Password: password})
	require.NoError(t, err)
	return u.Principal()
}

// The policy and the reset links are for administrators of the
// organisation or one above it; another organisation's admin finds
// nothing. A reset link removes the app, the codes and the passkeys, ends
// the sessions, and works once.
func TestPolicyAndResetAcrossOrganisations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.h.Org("south", "regional_cert", "national")
	cityAdmin, northAdmin, southAdmin := adminOf(t, b, "city"), adminOf(t, b, "north"), adminOf(t, b, "south")
	p := session.DefaultPolicy(b.user.OrgID)
	p.SecondFactor, p.Roles = session.RequireRoles, []access.Role{access.Reporter}
	require.True(t, apperr.Is(b.svc.SavePolicy(b.ctx, southAdmin, p), apperr.NotFound))
	_, err := b.svc.PolicyOf(b.ctx, southAdmin, b.user.OrgID)
	require.True(t, apperr.Is(err, apperr.NotFound))
	require.True(t, apperr.Is(b.svc.SavePolicy(b.ctx, b.user.Principal(), p), apperr.Forbidden), "a reporter")
	require.NoError(t, b.svc.SavePolicy(b.ctx, northAdmin, p), "the city's CERT")
	require.NoError(t, b.svc.SavePolicy(b.ctx, cityAdmin, p))
	got, err := b.svc.PolicyOf(b.ctx, cityAdmin, b.user.OrgID)
	require.NoError(t, err)
	require.Equal(t, []access.Role{access.Reporter}, got.Roles)
	require.Equal(t, "Admin city", got.UpdatedBy)

	cur, _, _ := withApp(t, b)
	_, err = b.h.App.DB.SQL.Exec(`INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at) VALUES ('\x01', $1, 'key', '{}', now())`, b.user.ID)
	require.NoError(t, err)
	_, _, err = b.svc.IssueFactorReset(b.ctx, southAdmin, b.user.ID, "https://certdesk.example")
	require.True(t, apperr.Is(err, apperr.NotFound))
	link, _, err := b.svc.IssueFactorReset(b.ctx, cityAdmin, b.user.ID, "https://certdesk.example")
	require.NoError(t, err)
	token := strings.TrimPrefix(link, "https://certdesk.example"+session.FactorResetPath)
	email, err := b.svc.FactorResetUser(b.ctx, token, "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, "ana@city.example", strings.ToLower(email))
	require.NoError(t, b.svc.UseFactorReset(b.ctx, token, "192.0.2.1"))
	require.ErrorIs(t, b.svc.UseFactorReset(b.ctx, token, "192.0.2.1"), session.ErrFactorResetInvalid)
	st, err := b.svc.Factors(b.ctx, b.user.ID)
	require.NoError(t, err)
	require.False(t, st.HasFactor())
	require.Zero(t, st.RecoveryLeft)
	_, err = b.svc.Authenticate(b.ctx, "x", client)
	require.ErrorIs(t, err, session.ErrNoSession)
	sessions, err := b.svc.List(b.ctx, cur.Principal)
	require.NoError(t, err)
	require.Empty(t, sessions, "their sessions ended")
	_, cur, err = b.svc.SignIn(b.ctx, "ana@city.example", password, client)
	require.NoError(t, err)
	require.Equal(t, session.PendingSetup, cur.Session.Pending, "the policy requires one: set up again")
	var actions []string
	rows, err := b.h.App.DB.SQL.Query(`SELECT action FROM audit_log WHERE action LIKE 'user.factor%' OR action = 'org.sign_in_policy_changed' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		actions = append(actions, a)
	}
	require.Equal(t, []string{"org.sign_in_policy_changed", "org.sign_in_policy_changed", "user.factor_reset_issued", "user.factors_reset"}, actions)
}

// A password alone cannot add an app to get past a factor the person has
// (a passkey): adding one needs a recent second factor then, and does not
// count as one.
func TestAddingAnAppNeedsTheFactorOneHas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.h.App.DB.SQL.Exec(`INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at) VALUES ('\x01', $1, 'key', '{}', now())`, b.user.ID)
	require.NoError(t, err)
	cur := pending(t, b)
	_, err = b.svc.BeginTOTP(b.ctx, cur)
	require.ErrorIs(t, err, session.ErrStepUp)
	_, err = b.svc.ConfirmTOTP(b.ctx, cur, "123456", client)
	require.ErrorIs(t, err, session.ErrStepUp)

	require.NoError(t, b.svc.PassSecondFactor(b.ctx, cur, session.FactorPasskey))
	b.h.Clock.Freeze()
	su, err := b.svc.BeginTOTP(b.ctx, cur)
	require.NoError(t, err)
	at := *cur.Session.SecondFactorAt
	b.h.Advance(time.Minute)
	_, err = b.svc.ConfirmTOTP(b.ctx, cur, codeAt(t, su.Secret, b.h.Clock.Now()), client)
	require.NoError(t, err)
	require.Equal(t, session.FactorPasskey, cur.Session.SecondFactor, "the new app is not the session's factor")
	require.Equal(t, at, *cur.Session.SecondFactorAt)
}

package session_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Decide: a person with a factor is always asked for it (but a passkey
// session has given it); one without sets one up when the policy requires
// it of their role; everyone else is done.
func TestDecideEveryBranch(t *testing.T) {
	t.Parallel()
	org := uuid.New()
	pol := func(req session.Requirement, roles ...access.Role) session.Policy {
		p := session.DefaultPolicy(org)
		p.SecondFactor, p.Roles = req, roles
		return p
	}
	cases := []struct {
		name   string
		st     session.FactorState
		method session.Method
		want   session.Pending
	}{
		{"no factor, optional", session.FactorState{Role: access.Responder, Policy: pol(session.RequireOptional)}, session.MethodPassword, session.PendingNone},
		{"no factor, all", session.FactorState{Role: access.Responder, Policy: pol(session.RequireAll)}, session.MethodPassword, session.PendingSetup},
		{"no factor, all, oidc", session.FactorState{Role: access.Viewer, Policy: pol(session.RequireAll)}, session.MethodOIDC, session.PendingSetup},
		{"no factor, role listed", session.FactorState{Role: access.Responder, Policy: pol(session.RequireRoles, access.Responder)}, session.MethodPassword, session.PendingSetup},
		{"no factor, role not listed", session.FactorState{Role: access.Reporter, Policy: pol(session.RequireRoles, access.Responder)}, session.MethodPassword, session.PendingNone},
		{"app, optional", session.FactorState{Role: access.Reporter, TOTP: true, Policy: pol(session.RequireOptional)}, session.MethodPassword, session.PendingSecondFactor},
		{"passkey row, optional, oidc", session.FactorState{Role: access.Reporter, Passkeys: 1, Policy: pol(session.RequireOptional)}, session.MethodOIDC, session.PendingSecondFactor},
		{"app, required", session.FactorState{Role: access.Admin, TOTP: true, Policy: pol(session.RequireAll)}, session.MethodPassword, session.PendingSecondFactor},
		{"passkey session, required", session.FactorState{Role: access.Admin, Passkeys: 1, Policy: pol(session.RequireAll)}, session.MethodPasskey, session.PendingNone},
		{"passkey session, app too", session.FactorState{Role: access.Admin, TOTP: true, Passkeys: 1}, session.MethodPasskey, session.PendingNone},
		{"recovery codes alone are no factor", session.FactorState{Role: access.Reporter, RecoveryLeft: 3, Policy: pol(session.RequireOptional)}, session.MethodPassword, session.PendingNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, session.Decide(tc.st, tc.method))
		})
	}
}

// Policies validate their requirement, roles and step-up minutes.
func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	p := session.DefaultPolicy(uuid.New())
	require.NoError(t, p.Validate())
	p.SecondFactor = session.RequireRoles
	require.Error(t, p.Validate(), "roles without a role")
	p.Roles = []access.Role{access.Responder}
	require.NoError(t, p.Validate())
	p.Roles = []access.Role{"boss"}
	require.Error(t, p.Validate())
	p.Roles, p.StepUpMinutes = []access.Role{access.Responder}, 0
	require.Error(t, p.Validate())
	p.StepUpMinutes, p.SecondFactor = 15, "sometimes"
	require.Error(t, p.Validate())
}

// The decision is stored on the session when it opens, from the rows in
// the database: the policy, a confirmed app, a passkey.
func TestSignInDecidesPending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	db := b.h.App.DB.SQL
	signIn := func() *session.Current {
		t.Helper()
		secret, _, err := b.svc.SignIn(b.ctx, "ana@city.example", password, client)
		require.NoError(t, err)
		cur, err := b.svc.Authenticate(b.ctx, secret, client)
		require.NoError(t, err)
		return cur
	}
	require.Equal(t, session.PendingNone, signIn().Session.Pending, "no policy, no factor")

	_, err := db.Exec(`INSERT INTO org_sign_in_policies (org_id, second_factor, second_factor_roles, updated_at)
		VALUES ($1, 'roles', '{responder}', now())`, b.user.OrgID)
	require.NoError(t, err)
	require.Equal(t, session.PendingNone, signIn().Session.Pending, "a reporter, responders must")

	_, err = db.Exec(`UPDATE org_sign_in_policies SET second_factor_roles = '{reporter,responder}'`)
	require.NoError(t, err)
	require.Equal(t, session.PendingSetup, signIn().Session.Pending)

	_, err = db.Exec(`INSERT INTO user_totp (user_id, key_sealed, created_at) VALUES ($1, '\x00', now())`, b.user.ID)
	require.NoError(t, err)
	require.Equal(t, session.PendingSetup, signIn().Session.Pending, "an app being set up is no factor yet")

	_, err = db.Exec(`UPDATE user_totp SET confirmed_at = now()`)
	require.NoError(t, err)
	require.Equal(t, session.PendingSecondFactor, signIn().Session.Pending)

	_, err = db.Exec(`UPDATE org_sign_in_policies SET second_factor = 'optional'`)
	require.NoError(t, err)
	require.Equal(t, session.PendingSecondFactor, signIn().Session.Pending, "a factor one has is asked for, whatever the policy")

	_, err = db.Exec(`DELETE FROM user_totp`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at) VALUES ('\x01', $1, 'key', '{}', now())`, b.user.ID)
	require.NoError(t, err)
	cur := signIn()
	require.Equal(t, session.PendingSecondFactor, cur.Session.Pending, "a passkey is a factor for a password session")

	_, cur2, err := b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodPasskey, client)
	require.NoError(t, err)
	require.Equal(t, session.PendingNone, cur2.Session.Pending, "a passkey session has both factors")
	_, cur3, err := b.svc.SignInVerified(b.ctx, b.user.ID, session.MethodOIDC, client)
	require.NoError(t, err)
	require.Equal(t, session.PendingSecondFactor, cur3.Session.Pending, "an OIDC session is asked alike")

	require.NoError(t, b.svc.PassSecondFactor(b.ctx, cur, session.FactorPasskey))
	got, err := b.svc.Factors(b.ctx, b.user.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Passkeys)
}

package sso_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/oidcfake"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type bundle struct {
	h        *testapp.Harness
	svc      *sso.Service
	idp      *oidcfake.Server
	ministry *org.Organization
	city     *org.Organization
	admin    *identity.User // the ministry's administrator
	user     *identity.User // a ministry's responder
	other    *identity.User // a city's responder
}

// setup starts certdesk with a ministry whose provider (the fake) serves
// ministry.example, and a city without one.
func setup(t *testing.T) *bundle {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	b := &bundle{h: h, svc: h.App.SSO}
	h.Org("national", org.NationalCERT, "")
	b.ministry = h.Org("ministry", org.LocalAuthority, "national")
	b.city = h.Org("city", org.LocalAuthority, "national")
	b.admin, _ = h.User("ministry", access.Admin)
	b.user, _ = h.User("ministry", access.Responder)
	b.other, _ = h.User("city", access.Responder)
	b.idp = oidcfake.New("certdesk-ministry", "s3cret-ministry", t.Cleanup)
	require.NoError(t, b.svc.Save(context.Background(), b.admin.Principal(), b.ministry.ID, sso.Input{
		Issuer: b.idp.Issuer(), ClientID: "certdesk-ministry", ClientSecret: "s3cret-ministry", Domains: "ministry.example"}))
	return b
}

// signIn goes through Begin, the provider and Finish for email.
func (b *bundle) signIn(t *testing.T, email string) (*sso.Result, error) {
	t.Helper()
	state, code := b.authorize(t, email, "browser-1")
	return b.svc.Finish(context.Background(), sso.Callback{State: state, Code: code, Browser: "browser-1", RemoteAddr: "192.0.2.1"})
}

// authorize begins a sign-in and follows the provider's answer: the
// state and code it sends back to certdesk.
func (b *bundle) authorize(t *testing.T, email, browser string) (string, string) {
	t.Helper()
	to, err := b.svc.Begin(context.Background(), email, browser, "/queue", "192.0.2.1")
	require.NoError(t, err)
	u, err := url.Parse(to)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("nonce"))
	require.Equal(t, "openid email profile", q.Get("scope"))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(to)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	back, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/signin/oidc/callback", back.Path)
	return back.Query().Get("state"), back.Query().Get("code")
}

func (b *bundle) failures(t *testing.T) []audit.Entry {
	t.Helper()
	es, _, err := b.h.App.Audit.Read(context.Background(), access.System, audit.Query{Action: sso.SignInFailed, Limit: 50})
	require.NoError(t, err)
	return es
}

func TestSignInValid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.signIn(t, b.user.Email)
	require.NoError(t, err)
	require.Equal(t, b.user.ID, res.UserID)
	require.Equal(t, "/queue", res.ReturnTo)
	require.False(t, res.Created)
	has, err := b.svc.HasProvider(context.Background(), "Someone@MINISTRY.example")
	require.NoError(t, err)
	require.True(t, has)
	has, err = b.svc.HasProvider(context.Background(), b.other.Email)
	require.NoError(t, err)
	require.False(t, has)
}

// TestSignInRefusals: each bad answer is a Refusal with its reason, and
// audited.
func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		knobs  oidcfake.Knobs
		email  func(b *bundle) string
		reason sso.Reason
	}{
		{"wrong audience", oidcfake.Knobs{Audience: "another-client"}, nil, sso.ReasonAudience},
		{"expired token", oidcfake.Knobs{Expired: true}, nil, sso.ReasonExpired},
		{"bad nonce", oidcfake.Knobs{Nonce: "not-this-sign-in"}, nil, sso.ReasonNonce},
		{"token endpoint down", oidcfake.Knobs{TokenDown: true}, nil, sso.ReasonUnreachable},
		{"provider says no", oidcfake.Knobs{Denied: true}, nil, sso.ReasonDenied},
		// The ministry's provider vouches for an address of the city's
		// domain: not the ministry's to vouch for.
		{"another organisation's domain", oidcfake.Knobs{}, func(b *bundle) string { return b.other.Email }, sso.ReasonOtherDomain},
		{"unknown user", oidcfake.Knobs{Email: "nobody@ministry.example"}, nil, sso.ReasonUnknownUser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			k := tc.knobs
			if tc.email != nil {
				k.Email = tc.email(b)
			}
			b.idp.Set(k)
			res, err := b.signIn(t, b.user.Email)
			require.Error(t, err)
			require.Equal(t, tc.reason, sso.ReasonOf(err), "%v", err)
			require.Equal(t, uuid.Nil, res.UserID)
			fs := b.failures(t)
			require.Len(t, fs, 1)
			require.Contains(t, string(fs[0].Data), string(tc.reason))
			require.Equal(t, b.ministry.ID.String(), fs[0].TargetID)
		})
	}
}

func TestSignInReplayedState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	state, code := b.authorize(t, b.user.Email, "browser-1")
	res, err := b.svc.Finish(context.Background(), sso.Callback{State: state, Code: code, Browser: "browser-1"})
	require.NoError(t, err)
	require.Equal(t, b.user.ID, res.UserID)
	_, err = b.svc.Finish(context.Background(), sso.Callback{State: state, Code: code, Browser: "browser-1"})
	require.Equal(t, sso.ReasonState, sso.ReasonOf(err), "%v", err)

	// A state that comes back to another browser (a link planted by
	// someone who began the sign-in) is refused, and used up.
	state, code = b.authorize(t, b.user.Email, "browser-1")
	_, err = b.svc.Finish(context.Background(), sso.Callback{State: state, Code: code, Browser: "browser-2"})
	require.Equal(t, sso.ReasonState, sso.ReasonOf(err), "%v", err)
	_, err = b.svc.Finish(context.Background(), sso.Callback{State: state, Code: code, Browser: "browser-1"})
	require.Equal(t, sso.ReasonState, sso.ReasonOf(err), "%v", err)
}

func TestSignInProviderDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.idp.Set(oidcfake.Knobs{Down: true})
	_, err := b.svc.Begin(context.Background(), b.user.Email, "browser-1", "", "192.0.2.1")
	require.Equal(t, sso.ReasonUnreachable, sso.ReasonOf(err), "%v", err)

	// Gone altogether: nothing listens at the issuer any more.
	b.idp.Close()
	_, err = b.svc.Begin(context.Background(), b.user.Email, "browser-1", "", "192.0.2.1")
	require.Equal(t, sso.ReasonUnreachable, sso.ReasonOf(err), "%v", err)
}

func TestSignInDisabledUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	yes := true
	_, err := b.h.App.Identity.UpdateUser(context.Background(), access.System, b.user.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	_, err = b.signIn(t, b.user.Email)
	require.Equal(t, sso.ReasonUnknownUser, sso.ReasonOf(err), "%v", err)
}

func TestSignInCreatesUsersWhenAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.idp.Set(oidcfake.Knobs{Email: "new.officer@ministry.example"})
	_, err := b.signIn(t, b.user.Email)
	require.Equal(t, sso.ReasonUnknownUser, sso.ReasonOf(err), "creation is off by default: %v", err)

	require.NoError(t, b.svc.Save(ctx, b.admin.Principal(), b.ministry.ID, sso.Input{Issuer: b.idp.Issuer(), ClientID: "certdesk-ministry",
		Domains: "ministry.example", CreateUsers: true, DefaultRole: access.Viewer}))
	res, err := b.signIn(t, b.user.Email)
	require.NoError(t, err)
	require.True(t, res.Created)
	u, err := b.h.App.Store.UserByEmail(ctx, "new.officer@ministry.example")
	require.NoError(t, err)
	require.Equal(t, res.UserID, u.ID)
	require.Equal(t, b.ministry.ID, u.OrgID)
	require.Equal(t, access.Viewer, u.Role)

	// The next sign-in finds the user.
	res, err = b.signIn(t, b.user.Email)
	require.NoError(t, err)
	require.False(t, res.Created)
	require.Equal(t, u.ID, res.UserID)
}

func TestProviderConfigOwnOrganisationOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	in := sso.Input{Issuer: "https://idp.city.example", ClientID: "x", ClientSecret: "y", Domains: "city.example"}
	// The ministry's administrator may not configure the city's provider,
	// nor read it.
	err := b.svc.Save(ctx, b.admin.Principal(), b.city.ID, in)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%v", err)
	_, err = b.svc.ConfigOf(ctx, b.admin.Principal(), b.city.ID)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%v", err)
	err = b.svc.Remove(ctx, b.admin.Principal(), b.city.ID)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%v", err)
	// Nor claim the city's domain for its own provider: the city's
	// people would be sent to the ministry's provider.
	in.Domains = "ministry.example, city.example"
	err = b.svc.Save(ctx, b.admin.Principal(), b.ministry.ID, in)
	require.Equal(t, apperr.Invalid, apperr.CodeOf(err), "%v", err)
	has, err := b.svc.HasProvider(ctx, b.other.Email)
	require.NoError(t, err)
	require.False(t, has)
	// A responder may not configure even their own.
	err = b.svc.Save(ctx, b.user.Principal(), b.ministry.ID, in)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%v", err)

	// The secret is never shown back; saving without one keeps it.
	c, err := b.svc.ConfigOf(ctx, b.admin.Principal(), b.ministry.ID)
	require.NoError(t, err)
	require.True(t, c.SecretSet)
	require.Equal(t, []string{"ministry.example"}, c.Domains)
	require.NoError(t, b.svc.Save(ctx, b.admin.Principal(), b.ministry.ID, sso.Input{Issuer: b.idp.Issuer(), ClientID: "certdesk-ministry", Domains: "ministry.example"}))
	_, err = b.signIn(t, b.user.Email)
	require.NoError(t, err)

	require.NoError(t, b.svc.Remove(ctx, b.admin.Principal(), b.ministry.ID))
	has, err = b.svc.HasProvider(ctx, b.user.Email)
	require.NoError(t, err)
	require.False(t, has)
}

func TestInputValidate(t *testing.T) {
	t.Parallel()
	ok := sso.Input{Issuer: "https://login.ministry.example", ClientID: "c", ClientSecret: "s", Domains: "ministry.example"}
	require.NoError(t, ok.Validate(false))
	for name, in := range map[string]sso.Input{
		"plain http":        {Issuer: "http://login.ministry.example", ClientID: "c", ClientSecret: "s", Domains: "ministry.example"},
		"no secret":         {Issuer: "https://login.ministry.example", ClientID: "c", Domains: "ministry.example"},
		"no domain":         {Issuer: "https://login.ministry.example", ClientID: "c", ClientSecret: "s"},
		"not a domain":      {Issuer: "https://login.ministry.example", ClientID: "c", ClientSecret: "s", Domains: "ministry"},
		"role for creation": {Issuer: "https://login.ministry.example", ClientID: "c", ClientSecret: "s", Domains: "ministry.example", CreateUsers: true},
	} {
		require.Equal(t, apperr.Invalid, apperr.CodeOf(in.Validate(false)), name)
	}
	loop := sso.Input{Issuer: "http://127.0.0.1:8080", ClientID: "c", Domains: "ministry.example"}
	require.NoError(t, loop.Validate(true), "plain http on this machine, a stored secret kept")
	require.Equal(t, []string{"a.example", "b.example"}, sso.ParseDomains("@B.example, a.example\nb.example"))
}

// One client address may start StartRule.Limit sign-ins through a
// provider per window; the next is refused (apperr.RateLimited, with
// RetryAfter) before a state is stored or the provider asked; another
// address is not affected, nor is an address whose domain has no
// provider (that step stores nothing).
func TestSignInStartsAreThrottledPerAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := 0; i < sso.StartRule.Limit; i++ {
		_, err := b.svc.Begin(ctx, b.user.Email, "browser-1", "", "198.51.100.7")
		require.NoError(t, err, "start %d", i+1)
	}
	var states int
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM sso_states`).Scan(&states))
	_, err := b.svc.Begin(ctx, b.user.Email, "browser-1", "", "198.51.100.7")
	require.Equal(t, apperr.RateLimited, apperr.CodeOf(err), "%v", err)
	ae, ok := apperr.As(err)
	require.True(t, ok)
	require.Positive(t, ae.RetryAfter)
	var after int
	require.NoError(t, b.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM sso_states`).Scan(&after))
	require.Equal(t, states, after, "a refused start stores no state")

	_, err = b.svc.Begin(ctx, b.user.Email, "browser-2", "", "198.51.100.8")
	require.NoError(t, err, "another address")
	_, err = b.svc.Begin(ctx, "someone@nowhere.example", "browser-1", "", "198.51.100.7")
	require.True(t, apperr.Is(err, apperr.NotFound), "no provider: the password step, not the throttle (%v)", err)
}

package app_test

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// cli runs certdesk command lines against one test database.
type cli struct {
	t   *testing.T
	url string
}

// run runs args with stdin and returns standard output, standard error
// and the error.
func (c cli) run(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	// The data folder is the test's own: the demo stores evidence files,
	// which would otherwise land in ./data beside the test.
	e, out, errb := env(map[string]string{"DATABASE_URL": c.url, "CERTDESK_DATA_DIR": c.t.TempDir()}, args...)
	e.Stdin = strings.NewReader(stdin)
	err := app.Run(context.Background(), e)
	return out.String(), errb.String(), err
}

// openApp builds an App on the test database, as serve would.
func openApp(t *testing.T, url string) *app.App {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return map[string]string{"DATABASE_URL": url}[k] })
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	db, err := postgres.Open(context.Background(), url, 4, log)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	a, err := app.New(cfg, db, log, time.Now)
	require.NoError(t, err)
	return a
}

func TestAdminCommandsHaveHelp(t *testing.T) {
	t.Parallel()
	c := cli{t: t}
	for _, args := range [][]string{
		{"org", "create", "--help"}, {"org", "set-webhook", "--help"}, {"user", "create", "--help"}, {"user", "reset-link", "--help"},
		{"token", "create", "--help"}, {"demo", "--help"}, {"audit", "verify", "--help"},
		{"org", "--help"}, {"user", "--help"}, {"token", "--help"}, {"audit", "--help"},
	} {
		out, _, err := c.run("", args...)
		require.NoError(t, err, args)
		require.Contains(t, out, "Usage: certdesk "+args[0], args)
	}
	out, _, err := c.run("", "--help")
	require.NoError(t, err)
	for _, cmd := range []string{"org", "user", "token", "demo", "audit"} {
		require.Contains(t, out, "\n  "+cmd+" ")
	}
	_, errOut, err := c.run("", "org", "delete")
	require.ErrorIs(t, err, app.ErrUsage)
	require.Contains(t, errOut, `unknown subcommand "delete"`)
}

func TestOrgUserTokenCreate(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}

	out, _, err := c.run("", "org", "create", "--slug", "national-cert", "--name", "National CERT", "--kind", "national_cert", "--country", "DE")
	require.NoError(t, err)
	require.Equal(t, "national-cert\n", out)
	out, _, err = c.run("", "org", "create", "--slug", "city-a", "--name", "City A", "--kind", "local_authority",
		"--parent", "national-cert", "--sector", "public-administration", "--contact-email", "it@city-a.example")
	require.NoError(t, err)
	require.Equal(t, "city-a\n", out)

	t.Run("validation errors name their fields, one per line", func(t *testing.T) {
		_, _, err := c.run("", "org", "create", "--slug", "city-b", "--name", "City B", "--kind", "city")
		require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
		require.ErrorContains(t, err, "kind: kind must be one of")
		_, _, err = c.run("", "org", "create", "--slug", "Bad Slug", "--name", "X", "--kind", "city")
		require.ErrorContains(t, err, "slug: ")
		require.ErrorContains(t, err, "\ncertdesk: kind: ")
		_, _, err = c.run("", "org", "create", "--slug", "national-cert", "--name", "Again", "--kind", "national_cert")
		require.ErrorContains(t, err, "slug: an organisation with this slug exists")
		_, _, err = c.run("", "org", "create", "--slug", "city-c", "--name", "City C", "--kind", "local_authority")
		require.ErrorContains(t, err, "parent: ")
	})

	t.Run("missing flags are usage errors naming them", func(t *testing.T) {
		_, errOut, err := c.run("", "org", "create", "--name", "X")
		require.ErrorIs(t, err, app.ErrUsage)
		require.ErrorContains(t, err, "--slug")
		require.Contains(t, errOut, "--slug is required")
		require.Contains(t, errOut, "--kind is required")
		_, errOut, err = c.run("", "user", "create", "--org", "city-a")
		require.ErrorIs(t, err, app.ErrUsage)
		require.Contains(t, errOut, "--email is required")
		_, errOut, err = c.run("", "token", "create")
		require.ErrorIs(t, err, app.ErrUsage)
		require.Contains(t, errOut, "--user is required")
	})

	out, errOut, err := c.run("Tangerine-Lantern-47\n", "user", "create", "--org", "city-a", "--email", "ana@city-a.example",
		"--role", "responder", "--name", "Ana", "--password-stdin")
	require.NoError(t, err, errOut)
	id, err := uuid.Parse(strings.TrimSpace(out))
	require.NoError(t, err, out)

	t.Run("the password policy applies", func(t *testing.T) {
		_, _, err := c.run("password\n", "user", "create", "--org", "city-a", "--email", "bo@city-a.example", "--role", "reporter", "--password-stdin")
		require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
		require.ErrorContains(t, err, "password: ")
		_, _, err = c.run("", "user", "create", "--org", "city-a", "--email", "bo@city-a.example", "--role", "reporter", "--password-stdin")
		require.ErrorContains(t, err, "password: ")
		_, _, err = c.run("", "user", "create", "--org", "nowhere", "--email", "bo@city-a.example", "--role", "chief")
		require.ErrorContains(t, err, "org: ")
		require.ErrorContains(t, err, "role: ")
		_, _, err = c.run("", "user", "create", "--org", "city-a", "--email", "ANA@city-a.example", "--role", "reporter")
		require.ErrorContains(t, err, "email: ")
	})

	out, errOut, err = c.run("", "token", "create", "--user", "ana@city-a.example", "--name", "ci", "--expires", "30d")
	require.NoError(t, err, errOut)
	require.Regexp(t, `^cdt_\S+\n$`, out, "only the token on standard output")
	require.Contains(t, errOut, "shown only once")

	a := openApp(t, c.url)
	p, err := a.Identity.Authenticate(context.Background(), strings.TrimSpace(out), "127.0.0.1")
	require.NoError(t, err)
	require.Equal(t, id, p.UserID)
	require.Equal(t, access.Responder, p.Role)
	require.Equal(t, "city-a", p.OrgSlug)

	t.Run("bad token requests", func(t *testing.T) {
		_, _, err := c.run("", "token", "create", "--user", "ana@city-a.example", "--expires", "soon")
		require.ErrorContains(t, err, "expires: ")
		_, _, err = c.run("", "token", "create", "--user", "ana@city-a.example", "--expires", "400d")
		require.ErrorContains(t, err, "expires_at: ")
		_, _, err = c.run("", "token", "create", "--user", "nobody@city-a.example")
		require.ErrorContains(t, err, "user: ")
	})
}

func TestDemoIsIdempotentAndVisibilityHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := cli{t: t, url: testdb.New(t)}
	a := openApp(t, c.url)
	count := func(q string) int {
		t.Helper()
		var n int
		require.NoError(t, a.DB.Pool.QueryRow(ctx, q).Scan(&n), q)
		return n
	}
	counts := func() [4]int {
		return [4]int{count("SELECT count(*) FROM organizations"), count("SELECT count(*) FROM users"),
			count("SELECT count(*) FROM incidents"), count("SELECT count(*) FROM incident_shares")}
	}

	out1, errOut, err := c.run("", "demo")
	require.NoError(t, err, errOut)
	first := counts()
	out2, errOut, err := c.run("", "demo")
	require.NoError(t, err, errOut)
	require.Equal(t, first, counts(), "a second run creates nothing")
	require.Contains(t, out2, "new in this run: 0, 0, 0")

	require.GreaterOrEqual(t, first[0], 8)
	require.GreaterOrEqual(t, first[2], 12)
	require.Zero(t, count(`SELECT count(*) FROM organizations o
		WHERE (SELECT count(DISTINCT role) FROM users u WHERE u.org_id = o.id) <> 5`), "every role in every organisation")
	require.Positive(t, count(`SELECT count(*) FROM incidents WHERE tlp = 'TLP:RED'`))
	require.Positive(t, count(`SELECT count(*) FROM incidents WHERE tlp = 'TLP:AMBER+STRICT'`))
	require.Equal(t, 4, count(`SELECT count(DISTINCT stage) FROM incidents`))
	require.Equal(t, 4, count(`SELECT count(DISTINCT severity) FROM incidents`))
	require.Equal(t, first[2], count(`SELECT count(*) FROM incidents WHERE coordinating_org_id IS NOT NULL`), "every incident is routed as it is reported")

	for _, out := range []string{out1, out2} {
		require.Contains(t, out, app.DemoPassword)
		require.Regexp(t, `curl -H "Authorization: Bearer cdt_\S+" http://localhost:8080/api/v1/me`, out)
	}
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+@\S+)\s+(\w+)\s+(\S+)\s+(cdt_\S+)$`).FindAllStringSubmatch(out2, -1) {
		tokens[m[1]] = m[4]
	}
	require.Len(t, tokens, 6, out2)
	require.NotContains(t, out1, tokens["viewer@national-cert.demo"], "every run issues fresh tokens")

	principal := func(email string) access.Principal {
		t.Helper()
		p, err := a.Identity.Authenticate(ctx, tokens[email], "127.0.0.1")
		require.NoError(t, err, email)
		require.Equal(t, email, p.Email)
		return p
	}
	incidentID := func(q string) string {
		t.Helper()
		var id uuid.UUID
		require.NoError(t, a.DB.Pool.QueryRow(ctx, q).Scan(&id), q)
		return id.String()
	}
	amber := incidentID(`SELECT i.id FROM incidents i JOIN organizations o ON o.id = i.reporting_org_id
		WHERE o.kind = 'local_authority' AND i.tlp = 'TLP:AMBER' ORDER BY i.reference LIMIT 1`)
	shared := incidentID(`SELECT s.incident_id FROM incident_shares s JOIN organizations o ON o.id = s.org_id
		WHERE o.slug = 'partner-cert'`)

	viewer := principal("viewer@national-cert.demo")
	_, err = a.Incidents.Get(ctx, viewer, amber)
	require.NoError(t, err, "the national CERT sees its constituency's incidents")

	partner := principal("responder@partner-cert.demo")
	_, err = a.Incidents.Get(ctx, partner, amber)
	require.True(t, apperr.Is(err, apperr.NotFound), "a partner does not see an unshared TLP:AMBER incident: %v", err)
	inc, err := a.Incidents.Get(ctx, partner, shared)
	require.NoError(t, err, "a partner sees the GREEN incident shared with it")
	require.Equal(t, incident.TLPGreen, inc.TLP)

	red := incidentID(`SELECT id FROM incidents WHERE tlp = 'TLP:RED' LIMIT 1`)
	_, err = a.Incidents.Get(ctx, principal("responder@cert-north.demo"), red)
	require.NoError(t, err, "a named participant sees the TLP:RED incident")
	_, err = a.Incidents.Get(ctx, viewer, red)
	require.True(t, apperr.Is(err, apperr.NotFound), "TLP:RED is for named participants only: %v", err)
}

func TestOrgSetWebhook(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	_, _, err := c.run("", "org", "create", "--slug", "national-cert", "--name", "National CERT", "--kind", "national_cert")
	require.NoError(t, err)

	out, _, err := c.run("", "org", "set-webhook", "--org", "national-cert", "--url", "https://soc.example.org/certdesk")
	require.NoError(t, err)
	require.Regexp(t, `^whsec_[0-9a-f]{64}\n$`, out, "the secret is printed once")
	again, _, err := c.run("", "org", "set-webhook", "--org", "national-cert", "--url", "https://soc.example.org/certdesk")
	require.NoError(t, err)
	require.NotEqual(t, out, again, "setting it again makes a new secret")

	_, _, err = c.run("", "org", "set-webhook", "--org", "national-cert", "--url", "ftp://soc.example.org/")
	require.ErrorContains(t, err, "url must be an absolute http or https URL")
	_, _, err = c.run("", "org", "set-webhook", "--org", "no-such-org", "--url", "https://soc.example.org/")
	require.ErrorContains(t, err, "no-such-org")
	_, errOut, err := c.run("", "org", "set-webhook", "--org", "national-cert")
	require.ErrorIs(t, err, app.ErrUsage)
	require.Contains(t, errOut, "either --url or --clear")
	out, _, err = c.run("", "org", "set-webhook", "--org", "national-cert", "--clear")
	require.NoError(t, err)
	require.Empty(t, out)
}

// TestUserResetLinkCommand: the operator issues a one-time password reset
// link at the CLI (security review, finding 6); the user sets their
// password with it, once.
func TestUserResetLinkCommand(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	_, _, err := c.run("", "org", "create", "--slug", "city-a", "--name", "City A", "--kind", "national_cert")
	require.NoError(t, err)
	out, errOut, err := c.run("", "user", "create", "--org", "city-a", "--email", "ana@city-a.example", "--role", "responder")
	require.NoError(t, err, errOut)
	id := uuid.MustParse(strings.TrimSpace(out))

	_, errOut, err = c.run("", "user", "reset-link")
	require.ErrorIs(t, err, app.ErrUsage)
	require.Contains(t, errOut, "--email is required")
	_, _, err = c.run("", "user", "reset-link", "--email", "nobody@city-a.example")
	require.ErrorContains(t, err, "email: no user has the e-mail")

	e, stdout, stderr := env(map[string]string{"DATABASE_URL": c.url, "CERTDESK_BASE_URL": "https://certdesk.example",
		"CERTDESK_RESET_LINK_LIFETIME": "2h"}, "user", "reset-link", "--email", "ANA@city-a.example")
	require.NoError(t, app.Run(context.Background(), e), stderr.String())
	require.Regexp(t, `^https://certdesk\.example/password-reset/cdr_[A-Za-z0-9_-]{43}\n$`, stdout.String(), "only the link on standard output")
	require.Contains(t, stderr.String(), "ana@city-a.example")
	require.Contains(t, stderr.String(), "shown only once")
	token := strings.TrimPrefix(strings.TrimSpace(stdout.String()), "https://certdesk.example/password-reset/")

	a := openApp(t, c.url)
	ctx := context.Background()
	var expires time.Time
	var issuer string
	require.NoError(t, a.DB.Pool.QueryRow(ctx, "SELECT expires_at, issued_by FROM password_resets WHERE user_id = $1", id).Scan(&expires, &issuer))
	require.WithinDuration(t, time.Now().Add(2*time.Hour), expires, time.Minute, "CERTDESK_RESET_LINK_LIFETIME applies")
	require.Equal(t, "certdesk", issuer, "the operator issued it")
	require.NoError(t, a.Identity.ResetPassword(ctx, token, "Tangerine-Lantern-47", "127.0.0.1"))
	require.ErrorIs(t, a.Identity.ResetPassword(ctx, token, "Tangerine-Lantern-48", "127.0.0.1"), identity.ErrResetLinkInvalid)
	var n int
	require.NoError(t, a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.reset_link_issued'
		AND actor = 'certdesk' AND target_id = $1`, id.String()).Scan(&n))
	require.Equal(t, 1, n)
}

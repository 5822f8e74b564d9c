package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/stretchr/testify/require"
)

// adminWorld is the small world with administrators: of CERT North
// ("admin-north"), CERT South ("admin-south"), the city under CERT North
// ("admin-city") and the national CERT ("admin-national").
func adminWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	for name, slug := range map[string]string{"admin-north": "cert-north", "admin-south": "cert-south",
		"admin-city": "city-north", "admin-national": "national"} {
		o, err := w.h.App.Store.OrganizationBySlug(ctx, slug)
		require.NoError(t, err)
		u, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: name + "@" + slug + ".example",
			Name: "Admin " + slug, Role: access.Admin, Password: password})
		require.NoError(t, err)
		w.users[name] = u
	}
	return w
}

// signedIn is a client signed in as the world's user name.
func (w *world) signedIn(t *testing.T, name string) *client {
	t.Helper()
	c := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c.signIn(w.email(name), password).status)
	return c
}

func policyOf(t *testing.T, w *world, slug string) []escalation.Rule {
	t.Helper()
	op, err := w.h.App.Escalations.GetPolicy(context.Background(), access.System, slug)
	require.NoError(t, err)
	return op.Policy.Rules
}

func TestAdminEscalationPolicyPage(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	const path = "/admin/organisations/cert-north/escalation-policy"
	rule := func(op string, kv ...string) url.Values {
		f := url.Values{"op": {op}, "rule-0-row": {"1"}, "rule-0-name": {"high"}, "rule-0-unacknowledged_for": {"30m"},
			"rule-0-min_severity": {"high"}, "rule-0-action": {"escalate"}, "rule-0-to": {"parent"}, "rule-0-kind": {"assist"},
			"rule-0-repeat_up": {"yes"}, "rule-1-row": {"1"}, "rule-1-new": {"yes"}, "sample-severity": {"critical"}, "sample-tlp": {"TLP:AMBER"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	admin := w.signedIn(t, "admin-north")
	pg := admin.get(path)
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, "Escalation policy of CERT North")
	require.Contains(t, pg.body, "No rules yet")
	require.Equal(t, http.StatusOK, admin.get("/admin/organisations/city-north/escalation-policy").status,
		"a CERT's administrator manages its constituency's policies")

	t.Run("bad input names the rule and the field, and keeps what was typed", func(t *testing.T) {
		f := rule("save", "rule-0-unacknowledged_for", "soon")
		f.Set("csrf", pg.csrf(t))
		got := admin.post(path, f)
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, `href="#rule-0-unacknowledged_for"`)
		require.Contains(t, got.body, "Rule 1: write the time as 30m, 2h or 1h30m")
		require.Contains(t, got.body, `value="soon"`)
		require.Empty(t, policyOf(t, w, "cert-north"))
		f = rule("preview", "rule-0-repeat_up", "yes", "rule-0-unacknowledged_for", "immediately")
		f.Set("csrf", pg.csrf(t))
		got = admin.post(path, f)
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Rule 1: climbing higher needs a time")
	})

	t.Run("preview shows each step and saves nothing", func(t *testing.T) {
		f := rule("preview")
		f.Set("csrf", pg.csrf(t))
		got := admin.post(path, f)
		require.Equal(t, http.StatusOK, got.status)
		require.Contains(t, got.body, "<strong>After 30 min:</strong> escalate to CERT North, asking it to assist (rule “high”)")
		require.Contains(t, got.body, "<strong>After 1 h:</strong> escalate to National CERT, asking it to assist (rule “high”, level 2)")
		require.Empty(t, policyOf(t, w, "cert-north"))
		f.Set("sample-severity", "low")
		got = admin.post(path, f)
		require.Contains(t, got.body, "Nothing: no rule applies to such an incident.")
	})

	t.Run("another organisation's administrator gets 404 and changes nothing", func(t *testing.T) {
		south := w.signedIn(t, "admin-south")
		require.Equal(t, http.StatusNotFound, south.get(path).status)
		own := south.get("/admin/organisations/cert-south/escalation-policy")
		require.Equal(t, http.StatusOK, own.status)
		f := rule("save")
		f.Set("csrf", own.csrf(t))
		require.Equal(t, http.StatusNotFound, south.post(path, f).status)
		city := w.signedIn(t, "admin-city")
		require.Equal(t, http.StatusNotFound, city.get(path).status, "a city does not manage the CERT above it")
		require.Equal(t, http.StatusNotFound, south.get("/admin/organisations/no-such-org/escalation-policy").status)
		require.Empty(t, policyOf(t, w, "cert-north"))
	})

	t.Run("a role that may not administer is refused", func(t *testing.T) {
		responder := w.signedIn(t, "responder")
		got := responder.get(path)
		require.Equal(t, http.StatusForbidden, got.status)
		require.Contains(t, got.body, "You cannot do this")
		f := rule("save")
		f.Set("csrf", got.csrf(t))
		require.Equal(t, http.StatusForbidden, responder.post(path, f).status)
		require.Empty(t, policyOf(t, w, "cert-north"))
	})

	t.Run("save", func(t *testing.T) {
		f := rule("save")
		f.Set("csrf", pg.csrf(t))
		got := admin.post(path, f)
		require.Equal(t, http.StatusSeeOther, got.status)
		require.Equal(t, path+"?saved=1", got.header.Get("Location"))
		rules := policyOf(t, w, "cert-north")
		require.Len(t, rules, 1)
		require.True(t, rules[0].RepeatUp)
		shown := admin.get(path + "?saved=1")
		require.Contains(t, shown.body, "The escalation policy is saved.")
		require.Contains(t, shown.body, `value="high"`)
		entries, _, err := w.h.App.Audit.Read(context.Background(), access.System, audit.Query{Action: escalation.AuditPolicySet})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, w.email("admin-north"), entries[0].Actor)
		// Removing the rule empties the policy.
		f = url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "rule-0-row": {"1"}, "rule-0-name": {"high"},
			"rule-0-unacknowledged_for": {"30m"}, "rule-0-remove": {"yes"}}
		require.Equal(t, http.StatusSeeOther, admin.post(path, f).status)
		require.Empty(t, policyOf(t, w, "cert-north"))
	})
}

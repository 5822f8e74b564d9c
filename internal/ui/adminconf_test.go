package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
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
	require.Contains(t, pg.body, "No rules saved yet")
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

func TestAdminWebhookPage(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	const path = "/admin/organisations/city-north/webhook"
	ctx := context.Background()
	hookOf := func() string {
		h, err := w.h.App.Notify.Webhook(ctx, access.Principal{Role: access.Admin, System: true}, "city-north")
		require.NoError(t, err)
		return h.Origin
	}
	admin := w.signedIn(t, "admin-city")
	pg := admin.get(path)
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, "Webhook of City of Northbridge")
	require.Equal(t, http.StatusOK, w.signedIn(t, "admin-north").get(path).status, "the CERT above manages it too")

	t.Run("the guard's refusal is shown and nothing is saved", func(t *testing.T) {
		for _, tc := range []struct{ url, want string }{
			{"http://127.0.0.1:8080/hook", "127.0.0.1 resolves to 127.0.0.1, a loopback address"},
			{"https://10.20.30.40/hook", "10.20.30.40 resolves to 10.20.30.40, a private address"},
			{"http://169.254.169.254/latest/meta-data/", "a link-local address"},
		} {
			got := admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "url": {tc.url}})
			require.Equal(t, http.StatusUnprocessableEntity, got.status, tc.url)
			require.Contains(t, got.body, tc.want)
			require.Contains(t, got.body, `href="#url"`)
			require.Contains(t, got.body, "The guard refuses this address")
			require.Contains(t, got.body, `value="`+tc.url+`"`, "what was typed stays")
			require.Empty(t, hookOf())
		}
		got := admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "url": {"ftp://files.example/x"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Enter an address that starts with https://")
		got = admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "url": {" "}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Enter the address of your receiver.")
		got = admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "url": {"https://user:pw@93.184.215.14/hook"}})
		require.Contains(t, got.body, "Leave out user:password")
		require.Empty(t, hookOf())
	})

	t.Run("another organisation's administrator gets 404 and changes nothing", func(t *testing.T) {
		south := w.signedIn(t, "admin-south")
		require.Equal(t, http.StatusNotFound, south.get(path).status)
		own := south.get("/admin/organisations/cert-south/webhook")
		require.Equal(t, http.StatusOK, own.status)
		require.Equal(t, http.StatusNotFound, south.post(path, url.Values{"csrf": {own.csrf(t)}, "op": {"save"},
			"url": {"https://93.184.215.14/south"}}).status)
		require.Equal(t, http.StatusNotFound, w.signedIn(t, "admin-city").get("/admin/organisations/cert-north/webhook").status)
		require.Empty(t, hookOf())
	})

	t.Run("a role that may not administer is refused", func(t *testing.T) {
		reporter := w.signedIn(t, "reporter")
		got := reporter.get(path)
		require.Equal(t, http.StatusForbidden, got.status)
		require.Equal(t, http.StatusForbidden, reporter.post(path, url.Values{"csrf": {got.csrf(t)}, "op": {"save"},
			"url": {"https://93.184.215.14/x"}}).status)
		require.Empty(t, hookOf())
	})

	t.Run("save shows the verdict and the secret once; remove", func(t *testing.T) {
		got := admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"save"}, "url": {"https://93.184.215.14/in/token-123"}})
		require.Equal(t, http.StatusOK, got.status)
		require.Contains(t, got.body, "The guard allows this address")
		require.Contains(t, got.body, "93.184.215.14 resolves to 93.184.215.14")
		require.Regexp(t, `<code class="secret" id="webhook-secret">whsec_[0-9a-f]{64}</code>`, got.body)
		require.Equal(t, "https://93.184.215.14", hookOf())
		again := admin.get(path)
		require.NotContains(t, again.body, "whsec_", "the secret is shown once")
		require.NotContains(t, again.body, "token-123", "the path is not shown")
		require.Contains(t, again.body, "Sends to https://93.184.215.14")
		entries, _, err := w.h.App.Audit.Read(ctx, access.System, audit.Query{Action: audit.OrgChanged, TargetID: "city-north"})
		require.NoError(t, err)
		require.NotEmpty(t, entries)
		require.Equal(t, w.email("admin-city"), entries[0].Actor)
		require.NotContains(t, string(entries[0].Data), "token-123")

		got = admin.post(path, url.Values{"csrf": {pg.csrf(t)}, "op": {"remove"}})
		require.Equal(t, http.StatusSeeOther, got.status)
		require.Empty(t, hookOf())
		require.Contains(t, admin.get(path+"?removed=1").body, "The webhook is removed.")
	})
}

func TestAdminDeliveriesPage(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	w.h.Eventually(func() bool {
		ns, _, err := w.h.App.Notify.List(context.Background(), access.System, w.ref, pageOf(10))
		return err == nil && len(ns) > 0 && ns[0].State != "pending"
	}, "the routing notification is delivered")
	north := w.signedIn(t, "admin-north")
	got := north.get("/admin/deliveries")
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, `<a href="/incidents/`+w.ref+`">`+w.ref+`</a>`)
	require.Contains(t, got.body, "cert-north")
	got = north.get("/admin/deliveries?state=sent&incident=" + w.ref)
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, w.ref)
	require.Contains(t, north.get("/admin/deliveries?state=failed").body, "No notifications match.")

	t.Run("bad input names the filter", func(t *testing.T) {
		got := north.get("/admin/deliveries?state=lost")
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.body, `href="#state"`)
		require.Contains(t, got.body, "Choose a state from the list.")
	})

	t.Run("only deliveries of incidents the administrator may see", func(t *testing.T) {
		south := w.signedIn(t, "admin-south")
		got := south.get("/admin/deliveries")
		require.Equal(t, http.StatusOK, got.status)
		require.NotContains(t, got.body, w.ref)
		got = south.get("/admin/deliveries?incident=" + w.ref)
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.body, "No incident you may see has this reference.")
		require.Equal(t, normalise(got.body, w.ref, "REF"),
			normalise(south.get("/admin/deliveries?incident=INC-2000-999999").body, "INC-2000-999999", "REF"),
			"an incident of another organisation reads like one that does not exist")
	})

	t.Run("a role that may not administer is refused", func(t *testing.T) {
		require.Equal(t, http.StatusForbidden, w.signedIn(t, "responder").get("/admin/deliveries").status)
	})
}

func TestAdminAuditPage(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	ctx := context.Background()
	pol, err := escalation.DecodePolicy([]byte(`{"rules": [{"name": "high", "unacknowledged_for": "30m"}]}`))
	require.NoError(t, err)
	_, err = w.h.App.Escalations.SetPolicy(ctx, w.users["admin-north"].Principal(), "cert-north", pol)
	require.NoError(t, err)

	national := w.signedIn(t, "admin-national")
	got := national.get("/admin/audit")
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, "escalation_policy.set")
	require.Contains(t, got.body, "user.created")
	got = national.get("/admin/audit?action=escalation_policy.set&actor=" + url.QueryEscape(w.email("admin-north")))
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, w.email("admin-north"))
	require.NotContains(t, got.body, "user.created")
	require.Contains(t, got.body, `value="escalation_policy.set"`, "the filters stay in the form")
	require.Contains(t, national.get("/admin/audit?action=escalation_policy.set&target_id=cert-south").body, "No entries match.")
	require.Contains(t, national.get("/admin/audit?since=2000-01-01&until=2000-01-31").body, "No entries match.")

	t.Run("bad input names the filter", func(t *testing.T) {
		got := national.get("/admin/audit?since=yesterday")
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.body, `href="#since"`)
		require.Contains(t, got.body, "Enter a day as a date")
		got = national.get("/admin/audit?since=2026-03-02&until=2026-03-01")
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.body, "The last day must not be before the first.")
		got = national.get("/admin/audit?after=forged")
		require.Equal(t, http.StatusBadRequest, got.status)
		require.Contains(t, got.body, "This page link is no longer valid")
	})

	t.Run("the audit log is for the national CERT's administrators", func(t *testing.T) {
		for _, name := range []string{"admin-north", "admin-city", "responder", "national"} {
			got := w.signedIn(t, name).get("/admin/audit?since=yesterday")
			require.Equal(t, http.StatusForbidden, got.status, name)
			require.NotContains(t, got.body, "escalation_policy.set")
		}
	})
}

// walkPages follows a log's "next" links from path and returns the
// number of rows of every page and the pages' links, checking that each
// link keeps the filter.
func walkPages(t *testing.T, c *client, path, filter string) (rows int, pages int) {
	t.Helper()
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	for path != "" && pages < 10 {
		got := c.get(path)
		require.Equal(t, http.StatusOK, got.status, path)
		pages++
		rows += strings.Count(got.body, `<th scope="row" class="cell-key"`)
		path = ""
		if m := next.FindStringSubmatch(got.body); m != nil {
			path = html.UnescapeString(m[1])
			require.Contains(t, path, filter, "the next page keeps the filter")
		}
	}
	return rows, pages
}

// The delivery and audit logs page 50 rows at a time: following "next"
// reads every matching row once, the filter kept on every page.
func TestAdminLogsPageThroughEveryRow(t *testing.T) {
	t.Parallel()
	w := adminWorld(t)
	ctx := context.Background()
	_, err := w.h.App.DB.SQL.ExecContext(ctx, `INSERT INTO audit_log (actor, action, target_type, target_id)
		SELECT 'paging@test', 'test.paging', 'row', 'row-' || g FROM generate_series(1, 120) g`)
	require.NoError(t, err)
	rows, pages := walkPages(t, w.signedIn(t, "admin-national"), "/admin/audit?action=test.paging", "action=test.paging")
	require.Equal(t, 120, rows)
	require.Equal(t, 3, pages)

	_, err = w.h.App.DB.SQL.ExecContext(ctx, `INSERT INTO notifications (id, incident_id, event_key, event_kind, recipient_org_id,
			provider, message, state, attempts, last_error, created_at)
		SELECT gen_random_uuid(), i.id, 'paging-' || g, 'routed', i.coordinating_org_id, 'log', '{}', 'failed', 5,
			'refused', now() - g * interval '1 second'
		FROM incidents i, generate_series(1, 70) g WHERE i.reference = $1`, w.ref)
	require.NoError(t, err)
	north := w.signedIn(t, "admin-north")
	rows, pages = walkPages(t, north, "/admin/deliveries?state=failed", "state=failed")
	require.Equal(t, 70, rows)
	require.Equal(t, 2, pages)
	rows, _ = walkPages(t, w.signedIn(t, "admin-south"), "/admin/deliveries?state=failed", "state=failed")
	require.Zero(t, rows, "another region's administrator pages through none of them")
}

package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// receiver is an organisation's webhook endpoint on loopback. Each path
// answers with the statuses in fail, in turn, and then 200.
type receiver struct {
	mu   sync.Mutex
	fail map[string][]int
	got  map[string][]received // accepted requests, by path
	hits map[string]int
	keys map[string][]string // the Idempotency-Key of every request, by path
}

type received struct {
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits[r.URL.Path]++
	if rc.keys != nil {
		rc.keys[r.URL.Path] = append(rc.keys[r.URL.Path], r.Header.Get(outbound.HeaderIdempotencyKey))
	}
	if f := rc.fail[r.URL.Path]; len(f) > 0 {
		rc.fail[r.URL.Path] = f[1:]
		w.WriteHeader(f[0])
		return
	}
	rc.got[r.URL.Path] = append(rc.got[r.URL.Path], received{header: r.Header.Clone(), body: body})
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) accepted(path string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got[path]...)
}

func (rc *receiver) hitsOf(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits[path]
}

type notificationView struct {
	Provider, State, Channel string
	Attempts                 int
	LastError                string `json:"last_error"`
	RecipientOrg             string `json:"recipient_org"`
}

func TestWebhookNotifications(t *testing.T) {
	t.Parallel()
	rc := &receiver{fail: map[string][]int{"/hook": {http.StatusInternalServerError}, "/gone": {http.StatusNotFound}},
		got: map[string][]received{}, hits: map[string]int{}, keys: map[string][]string{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	// The Slack peer: certdesk's own stand-in for Slack's Web API.
	slackSrv := httptest.NewServer(slackfake.New(io.Discard, nil).Handler())
	t.Cleanup(slackSrv.Close)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.SlackAPIURL, c.SlackBotToken = slackSrv.URL+"/api/", "xoxb-test"
	}})
	ctx := context.Background()
	h.Org("national-cert", org.NationalCERT, "")
	h.Org("region-north", org.RegionalCERT, "national-cert")
	h.Org("city-a", org.LocalAuthority, "region-north")
	cityB := h.Org("city-b", org.LocalAuthority, "region-north")
	h.Org("city-c", org.LocalAuthority, "region-north")
	_, reporter := h.User("city-a", access.Reporter)
	_, cert := h.User("region-north", access.Responder)

	// Setting a webhook: the URL is checked, the secret generated.
	for _, bad := range []string{"ftp://example.org/x", "/relative", "https://user:pw@example.org/hook"} {
		_, err := h.App.Notify.SetWebhook(ctx, "region-north", bad)
		require.True(t, apperr.Is(err, apperr.Invalid), bad)
		ae, _ := apperr.As(err)
		require.Equal(t, "url", ae.Fields[0].Field, bad)
	}
	_, err := h.App.Notify.SetWebhook(ctx, "no-such-org", srv.URL+"/hook")
	require.True(t, apperr.Is(err, apperr.NotFound))
	secret, err := h.App.Notify.SetWebhook(ctx, "region-north", srv.URL+"/hook")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, notify.WebhookSecretPrefix))

	report := func(title, tlp string) (id, ref string) {
		r := h.As(reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
			"title": title, "description": "Details of " + title, "severity": "high", "tlp": tlp})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var c struct{ ID, Reference string }
		r.JSON(t, &c)
		return c.ID, c.Reference
	}
	list := func(token, incident string) []notificationView {
		r := h.As(token).Request(http.MethodGet, "/api/v1/notifications?incident="+url.QueryEscape(incident), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var l struct{ Notifications []notificationView }
		r.JSON(t, &l)
		return l.Notifications
	}

	// A routed incident goes to the regional CERT's webhook; the first
	// answer is a 500, so it is retried, and delivered once.
	id, ref := report("Ransomware at the town hall", "TLP:AMBER")
	h.Eventually(func() bool { return rc.hitsOf("/hook") >= 1 }, "the first attempt")
	h.Eventually(func() bool {
		h.Advance(0) // make the retry due
		return len(rc.accepted("/hook")) == 1
	}, "the retried delivery")
	var ns []notificationView
	h.Eventually(func() bool {
		ns = list(cert, id)
		return len(ns) == 1 && ns[0].State == "sent"
	}, "the notification is sent")
	require.Equal(t, "webhook", ns[0].Provider)
	require.Equal(t, "region-north", ns[0].RecipientOrg)
	require.Empty(t, ns[0].Channel, "the webhook URL is not shown")
	require.Equal(t, 2, ns[0].Attempts)

	got := rc.accepted("/hook")[0]
	require.NoError(t, outbound.Verify(secret, got.header, got.body, h.Clock.Now(), 0), "signed with the organisation's secret")
	require.Error(t, outbound.Verify("whsec_other", got.header, got.body, h.Clock.Now(), 0))
	var doc notify.WebhookDocument
	require.NoError(t, json.Unmarshal(got.body, &doc))
	require.Equal(t, notify.KindRouted, doc.Event)
	require.Equal(t, ref, doc.Incident.Reference)
	require.Equal(t, id, doc.Incident.ID)
	rc.mu.Lock()
	keys := append([]string(nil), rc.keys["/hook"]...)
	rc.mu.Unlock()
	require.Equal(t, []string{doc.ID, doc.ID}, keys, "the failed attempt and the retry carry one Idempotency-Key: the notification's ID")
	require.Equal(t, "high", doc.Incident.Severity)
	require.Equal(t, "response", doc.Incident.Stage)
	require.Equal(t, "TLP:AMBER", doc.Incident.TLP)
	require.Contains(t, doc.Text, "Ransomware at the town hall")
	require.Equal(t, "https://certdesk.example/incidents/"+ref, doc.Link)
	tl := h.As(cert).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=notified", nil)
	require.Contains(t, string(tl.Body), `"provider":"webhook"`)
	require.NotContains(t, string(tl.Body), srv.URL, "the timeline does not show the URL")

	// TLP:RED: no organisation as a whole sees it, so nothing about it
	// goes to a webhook, not even its reference.
	redID, _ := report("SECRET-RED-TITLE minister's mailbox", "TLP:RED")
	h.Eventually(func() bool {
		inc, err := h.App.Incidents.Get(ctx, access.System, redID)
		return err == nil && inc.CoordinatingOrgSlug != ""
	}, "the TLP:RED incident is routed")
	require.Empty(t, list(reporter, redID), "no notification of the TLP:RED incident")
	require.Len(t, rc.accepted("/hook"), 1)

	// Webhooks of organisations the incident is shared with.
	for _, o := range []string{"city-b", "city-c"} {
		r := h.As(cert).Request(http.MethodPost, "/api/v1/incidents/"+id+"/shares", map[string]any{"org": o})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	}

	// A 4xx is permanent: failed, on the timeline, not retried.
	_, err = h.App.Notify.SetWebhook(ctx, "city-b", srv.URL+"/gone")
	require.NoError(t, err)
	cityB.ChatChannel = ""
	_, err = h.App.Notify.Notify(ctx, id, *cityB, "test.gone:"+id, "test.gone", "Gone")
	require.NoError(t, err)
	h.Eventually(func() bool {
		for _, n := range list(cert, id) {
			if n.RecipientOrg == "city-b" {
				return n.State == "failed" && strings.Contains(n.LastError, "404")
			}
		}
		return false
	}, "a 404 fails the notification for good")
	require.Equal(t, 1, rc.hitsOf("/gone"))

	// A destination the guard refuses (cloud metadata) fails for good, and
	// nothing is sent.
	cityC, err := h.App.Store.OrganizationBySlug(ctx, "city-c")
	require.NoError(t, err)
	_, err = h.App.Notify.SetWebhook(ctx, "city-c", "http://169.254.169.254/latest/meta-data/")
	require.NoError(t, err)
	_, err = h.App.Notify.Notify(ctx, id, *cityC, "test.metadata:"+id, "test.metadata", "Metadata")
	require.NoError(t, err)
	h.Eventually(func() bool {
		for _, n := range list(cert, id) {
			if n.RecipientOrg == "city-c" {
				return n.State == "failed"
			}
		}
		return false
	}, "a refused destination fails the notification")

	// A recipient with a Slack channel and a webhook gets one of each.
	region, err := h.App.Store.OrganizationBySlug(ctx, "region-north")
	require.NoError(t, err)
	region.ChatChannel = "C0REGIONN01"
	_, err = h.App.Notify.Notify(ctx, id, *region, "test.both:"+id, "test.both", "Both")
	require.NoError(t, err)
	again, err := h.App.Notify.Notify(ctx, id, *region, "test.both:"+id, "test.both", "Both")
	require.NoError(t, err)
	require.Nil(t, again, "the same event again is no new notification")
	h.Eventually(func() bool {
		var providers []string
		for _, n := range list(cert, id) {
			if n.RecipientOrg == "region-north" && n.State == "sent" {
				providers = append(providers, n.Provider)
			}
		}
		return len(providers) == 3 // the routed webhook, and both of "Both"
	}, "Slack and webhook notifications of one event")
	require.Len(t, rc.accepted("/hook"), 2)

	// Removing the webhook: later events go to Slack only.
	_, err = h.App.Notify.SetWebhook(ctx, "region-north", "")
	require.NoError(t, err)
	n, err := h.App.Notify.Notify(ctx, id, *region, "test.after:"+id, "test.after", "After")
	require.NoError(t, err)
	require.Equal(t, notify.Slack, n.Provider)
}

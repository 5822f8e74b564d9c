package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"
)

// Delivery decides for the recipient organisation as it is when the
// message is sent, not as it was when it was queued (issue 10, "one
// decision for every exit"): a notification waiting for Slack and for a
// webhook while its recipient loses sight of the incident is withdrawn,
// with a timeline entry, and sent to neither, not even in reduced form.
func TestDeliveryWithdrawsWhenTheRecipientLostSight(t *testing.T) {
	t.Parallel()
	rc := &receiver{fail: map[string][]int{"/hook": {http.StatusInternalServerError}}, got: map[string][]received{}, hits: map[string]int{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	f := &fakeSlack{}
	f.setDown(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	srv := slacktest.NewTestServer(f.handle)
	srv.Start()
	t.Cleanup(srv.Stop)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SlackAPIURL, c.SlackBotToken = srv.GetAPIURL(), "xoxb-test"
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	ctx := context.Background()
	region := &org.Organization{Slug: "region", Name: "Region North CERT", Kind: org.RegionalCERT, ChatChannel: regionChannel}
	require.NoError(t, h.App.Store.CreateOrganization(ctx, region))
	h.Org("city", org.LocalAuthority, "region")
	_, reporter := h.User("city", access.Reporter)
	_, err := h.App.Notify.SetWebhook(ctx, "region", hook.URL+"/hook")
	require.NoError(t, err)

	r := h.As(reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "LOSTSIGHT-SECRET mailbox", "severity": "high", "tlp": "TLP:GREEN"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	id := r.Map(t)["id"].(string)
	h.Eventually(func() bool { return rc.hitsOf("/hook") >= 1 && f.refusals() >= 1 }, "both deliveries tried once")

	// The regional CERT loses sight without the change going through the
	// incident service (a change made before this release, or by hand):
	// only the delivery's own decision stands between the message and a
	// stranger.
	_, err = h.App.DB.SQL.Exec(`UPDATE incidents SET tlp = 'TLP:RED' WHERE id = $1`, id)
	require.NoError(t, err)
	f.setDown(nil)
	list := func() []notificationView {
		r := h.As(reporter).Request(http.MethodGet, "/api/v1/notifications?incident="+id, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var l struct{ Notifications []notificationView }
		r.JSON(t, &l)
		return l.Notifications
	}
	h.Eventually(func() bool {
		h.Advance(time.Hour) // the retries are due
		ns := list()
		return len(ns) == 2 && ns[0].State == "withdrawn" && ns[1].State == "withdrawn"
	}, "both notifications withdrawn")
	require.Empty(t, rc.accepted("/hook"), "the webhook got nothing")
	require.Empty(t, f.all(), "Slack got nothing")
	tl := h.As(reporter).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=notification_withdrawn", nil)
	require.Equal(t, http.StatusOK, tl.Status)
	var events struct {
		Events []struct{ Data map[string]any }
	}
	tl.JSON(t, &events)
	require.Len(t, events.Events, 2)
	for _, ev := range events.Events {
		require.Equal(t, "region", ev.Data["recipient_org"])
		require.Contains(t, ev.Data["reason"], "no longer sees the incident")
	}
}

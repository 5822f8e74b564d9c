package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// Issue 6's "with SLACK_API_URL pointing at a local fake, certdesk demo
// shows messages arriving in the right channels": every demo report is
// posted into the channel of the CERT that coordinates it, and no message
// about an incident lands in a channel of an organisation that may not
// see it (design §2: reporter, coordinator, and for AMBER and below the
// CERTs above the reporter and the organisations it was shared with; no
// organisation as a whole for TLP:RED, whose report therefore is posted
// nowhere).
func TestDemoPostsIntoTheRightChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := slackfake.New(nil, nil)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	h := testapp.New(t, testapp.Options{Config: func(c *config.Config) {
		c.SlackAPIURL = srv.URL + "/api/"
		c.SlackBotToken = "xoxb-fake"
	}})
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL))

	type want struct{ tlp, title, channel string }
	wants := map[string]want{}
	h.Eventually(func() bool {
		var pending int
		_ = h.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE coordinating_org_id IS NULL`).Scan(&pending)
		return pending == 0
	}, "the workers route every demo incident")
	// Every incident's coordinating CERT, by reference, and its channel.
	rows, err := h.App.DB.Pool.Query(ctx, `SELECT i.reference, i.tlp, i.title, co.chat_channel
		FROM incidents i JOIN organizations co ON co.id = i.coordinating_org_id`)
	require.NoError(t, err)
	for rows.Next() {
		var ref string
		var w want
		require.NoError(t, rows.Scan(&ref, &w.tlp, &w.title, &w.channel))
		wants[ref] = w
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, wants)

	posted := func(channel, ref string) bool {
		for _, m := range fake.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Text+string(m.Blocks), ref) {
				return true
			}
		}
		return false
	}
	for ref, w := range wants {
		if w.tlp == "TLP:RED" {
			continue
		}
		h.Eventually(func() bool { return posted(w.channel, ref) }, ref+" is posted in its coordinating CERT's channel "+w.channel)
	}
	// Which organisations' channels may carry which incident: those that
	// see it. A message in any other channel is a leak.
	for _, ch := range fake.Channels() {
		for _, m := range fake.Messages(ch) {
			for ref, w := range wants {
				if !strings.Contains(m.Text+string(m.Blocks), ref) {
					continue
				}
				var sees bool
				require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organizations o
					JOIN incidents i ON i.reference = $2
					WHERE o.chat_channel = $1 AND i.tlp <> 'TLP:RED' AND (o.id = i.reporting_org_id OR o.id = i.coordinating_org_id
						OR (i.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (
							EXISTS (SELECT 1 FROM incident_shares s WHERE s.incident_id = i.id AND s.org_id = o.id)
							OR EXISTS (SELECT 1 FROM org_closure c WHERE c.ancestor_id = o.id AND c.descendant_id = i.reporting_org_id)))))`,
					ch, ref).Scan(&sees))
				require.True(t, sees, "a message about %s went to %s, whose organisation may not see it", ref, ch)
				if w.tlp == "TLP:RED" || w.tlp == "TLP:AMBER+STRICT" {
					require.NotContains(t, m.Text+string(m.Blocks), w.title, "%s is %s: its title never leaves", ref, w.tlp)
				}
			}
		}
	}
}

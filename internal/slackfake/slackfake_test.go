package slackfake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// certdesk pointed at the fake posts a city's report into the regional
// CERT's channel, and the fake keeps and prints it.
func TestCertdeskPostsIntoTheFake(t *testing.T) {
	var out strings.Builder
	fake := slackfake.New(&lockedWriter{b: &out}, nil)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	h := testapp.New(t, testapp.Options{Config: func(c *config.Config) {
		c.SlackAPIURL = srv.URL + "/api/"
		c.SlackBotToken = "xoxb-fake"
	}})
	ctx := context.Background()
	region := &org.Organization{Slug: "region", Name: "Region CERT", Kind: org.RegionalCERT, ChatChannel: "CREGION"}
	require.NoError(t, h.App.Store.CreateOrganization(ctx, region))
	h.Org("city", org.LocalAuthority, "region")
	_, tok := h.User("city", access.Reporter)
	r := h.As(tok).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Ransomware", "severity": "high", "tlp": "amber"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	ref := r.Map(t)["reference"].(string)
	h.Eventually(func() bool { return len(fake.Messages("CREGION")) > 0 }, "the regional CERT's channel gets the report")
	msgs := fake.Messages("CREGION")
	require.Contains(t, string(msgs[0].Blocks)+msgs[0].Text, ref)
	require.Equal(t, []string{"CREGION"}, fake.Channels(), "no other channel got anything")
}

// chat.update changes a posted message; users.info answers from the map;
// unknown messages, users and methods get Slack's errors.
func TestFakeAnswersLikeSlack(t *testing.T) {
	fake := slackfake.New(nil, map[string]string{"U1": "ana@city.example"})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	api := slackapi.New("xoxb-fake", slackapi.OptionAPIURL(srv.URL+"/api/"))
	ch, ts, err := api.PostMessage("C1", slackapi.MsgOptionText("first", false))
	require.NoError(t, err)
	require.Equal(t, "C1", ch)
	_, _, err = api.PostMessage("C1", slackapi.MsgOptionText("reply", false), slackapi.MsgOptionTS(ts))
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessage("C1", ts, slackapi.MsgOptionText("first, updated", false))
	require.NoError(t, err)
	msgs := fake.Messages("C1")
	require.Len(t, msgs, 2)
	require.Equal(t, "first, updated", msgs[0].Text)
	require.Equal(t, 1, msgs[0].Updated)
	require.Equal(t, ts, msgs[1].ThreadTS, "the reply is in the first message's thread")

	_, _, _, err = api.UpdateMessage("C2", ts, slackapi.MsgOptionText("x", false))
	require.ErrorContains(t, err, "message_not_found", "a message is updated in its own channel only")
	u, err := api.GetUserInfo("U1")
	require.NoError(t, err)
	require.Equal(t, "ana@city.example", u.Profile.Email)
	_, err = api.GetUserInfo("U2")
	require.ErrorContains(t, err, "user_not_found")

	resp, err := http.PostForm(srv.URL+"/api/conversations.kick", url.Values{})
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		OK    bool
		Error string
	}
	require.NoError(t, jsonDecode(resp, &body))
	require.False(t, body.OK)
	require.Equal(t, "unknown_method", body.Error)
}

package slack

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	body := []byte("token=x&team_id=T1&text=help")
	header := func(secret string, at time.Time, body []byte) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(Sign(secret, ts, body)))
		return h
	}
	// Slack's published example of a signed request (its secret is secret).
	slackExample := http.Header{}
	slackExample.Set("X-Slack-Request-Timestamp", "1531420618")
	slackExample.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	slackBody := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")

	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", header(secret, now, body), body, now, nil},
		{"valid, 4 minutes old", header(secret, now.Add(-4*time.Minute), body), body, now, nil},
		{"Slack's example", slackExample, slackBody, time.Unix(1531420618, 0).Add(time.Minute), nil},
		{"wrong secret", header("another secret", now, body), body, now, ErrBadSignature},
		{"body changed", header(secret, now, body), []byte("token=x&team_id=T1&text=declare"), now, ErrBadSignature},
		{"6 minutes old", header(secret, now.Add(-6*time.Minute), body), body, now, ErrStaleRequest},
		{"6 minutes ahead", header(secret, now.Add(6*time.Minute), body), body, now, ErrStaleRequest},
		{"no headers", http.Header{}, body, now, ErrStaleRequest},
		{"no signature", func() http.Header { h := header(secret, now, body); h.Del("X-Slack-Signature"); return h }(), body, now, ErrBadSignature},
		{"v1 signature", func() http.Header {
			h := header(secret, now, body)
			h.Set("X-Slack-Signature", "v1="+h.Get("X-Slack-Signature")[3:])
			return h
		}(), body, now, ErrBadSignature},
		{"not hex", func() http.Header { h := header(secret, now, body); h.Set("X-Slack-Signature", "v0=zz"); return h }(), body, now, ErrBadSignature},
		{"timestamp not a number", func() http.Header {
			h := header(secret, now, body)
			h.Set("X-Slack-Request-Timestamp", "soon")
			return h
		}(), body, now, ErrStaleRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Verify(tc.header, tc.body, secret, tc.now))
		})
	}
}

func TestBlocksRenderActionsAsButtons(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	m := notify.Message{Header: "Escalation: INC-2026-000042", Text: "Please coordinate", Link: "https://certdesk.example/incidents/INC-2026-000042",
		Actions: append([]notify.Action{notify.AcknowledgeAction(id)}, notify.EscalationActions("esc-7")...)}
	b, err := json.Marshal(slackapi.Blocks{BlockSet: Blocks(m)})
	require.NoError(t, err)
	var blocks slackapi.Blocks
	require.NoError(t, json.Unmarshal(b, &blocks))
	last, ok := blocks.BlockSet[len(blocks.BlockSet)-1].(*slackapi.ActionBlock)
	require.True(t, ok, "the buttons come last")
	require.Equal(t, ActionsBlockID, last.BlockID)
	var got [][3]string
	for _, el := range last.Elements.ElementSet {
		btn := el.(*slackapi.ButtonBlockElement)
		got = append(got, [3]string{btn.ActionID, btn.Value, btn.Text.Text})
	}
	require.Equal(t, [][3]string{
		{"acknowledge", id.String(), "Acknowledge"},
		{"accept_escalation", "esc-7", "Accept escalation"},
		{"decline_escalation", "esc-7", "Decline escalation"},
	}, got)

	// Without actions, no action block.
	m.Actions = nil
	for _, bl := range Blocks(m) {
		require.NotEqual(t, slackapi.MBTAction, bl.BlockType())
	}
}

func TestResponseURLMustBeSlacks(t *testing.T) {
	t.Parallel()
	c := New("xoxb-test", "http://127.0.0.1:4390/api/", time.Second)
	for u, ok := range map[string]bool{
		"https://hooks.slack.com/actions/T1/1/abc":      true,
		"http://127.0.0.1:4390/respond/1":               true, // the configured Web API's host (a local fake)
		"http://hooks.slack.com/actions/T1/1/abc":       false,
		"https://hooks.slack.com.evil.example/actions/": false,
		"http://169.254.169.254/latest/meta-data/":      false,
		"https://user:pw@hooks.slack.com/actions/":      false,
		"http://127.0.0.1:5432/":                        false,
	} {
		require.Equal(t, ok, c.allowedResponseURL(u), u)
	}
}

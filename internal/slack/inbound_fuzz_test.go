package slack_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/slack"
	"github.com/certdesk/certdesk/internal/testapp"
)

// FuzzSlackInbound sends what Slack sends — button presses (a form with an
// interaction payload) and /incident commands — with arbitrary content,
// correctly signed, through the real router to the real app on a real
// PostgreSQL: no answer is a 5xx (a panic in the payload parsing would be a
// 500), a press is answered 200 or 4xx, a command 200 with its ephemeral
// answer or 4xx; each answer is as docs/openapi.yaml describes. mode picks
// the route and the field: 0 the interaction's payload, 1 the command's
// text as a linked Slack user, 2 the same as an unknown one, 3 the raw
// body of either route. One app serves the whole fuzz run.
func FuzzSlackInbound(f *testing.F) {
	w := newWorldWith(f, true, testSecret)
	r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Fuzzed", "severity": "high", "tlp": "amber"})
	if r.Status != http.StatusCreated {
		f.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var inc struct{ ID, Reference string }
	r.JSON(f, &inc)
	certUser, _ := w.h.User("region-north", access.Responder)
	w.slackUsers.add("U0CERT", certUser.Email)

	press := func(actionID, value, blockID string) string {
		p, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": "U0CERT"}, "team": map[string]any{"id": "T0TEST"},
			"response_url": w.srv.GetAPIURL() + "respond/fuzz",
			"actions":      []map[string]any{{"type": "button", "action_id": actionID, "block_id": blockID, "value": value}},
		})
		return string(p)
	}
	for _, s := range []string{
		press("acknowledge", inc.ID, slack.ActionsBlockID), press("accept_escalation", testapp.NewID(), slack.ActionsBlockID),
		press("decline_escalation", "not-an-id", slack.ActionsBlockID), press("acknowledge", inc.Reference, "other-block"),
		press("launch_missiles", inc.ID, slack.ActionsBlockID), `{"type":"view_submission"}`, `{"type":"block_actions","actions":[null]}`,
		`{"type":"block_actions","user":{"id":"U0CERT"},"actions":[{"block_id":"` + slack.ActionsBlockID + `","action_id":"acknowledge","value":"\u0000"}]}`,
		`{"type":"block_actions","response_url":"http://169.254.169.254/latest","user":{"id":"U0CERT"},"actions":[{"block_id":"` +
			slack.ActionsBlockID + `","action_id":"acknowledge","value":"` + inc.ID + `"}]}`,
		``, `null`, `[`, `{"type":1}`,
	} {
		f.Add(uint8(0), s)
	}
	for _, s := range []string{"", "help", inc.Reference, "INC-1999-000001", "declare", "declare Phishing at the town hall",
		"declare \u0000", inc.ID + " extra", "declare " + string(make([]byte, 300)), "  declare   spaced  "} {
		f.Add(uint8(1), s)
		f.Add(uint8(2), s)
	}
	for _, s := range []string{"payload=%zz", "text=a&text=b&user_id=U0CERT", "a=b;c=d", "%", "payload=" + url.QueryEscape(`{"type":"block_actions"}`)} {
		f.Add(uint8(3), s)
	}
	f.Fuzz(func(t *testing.T, mode uint8, s string) {
		if len(s) > 16<<10 {
			return // Slack's bodies are small: keep each input fast
		}
		path, body := "/slack/interactions", ""
		switch mode % 4 {
		case 0:
			body = url.Values{"payload": {s}}.Encode()
		case 1:
			path, body = "/slack/commands", url.Values{"command": {"/incident"}, "text": {s}, "user_id": {"U0CERT"}, "trigger_id": {s}}.Encode()
		case 2:
			path, body = "/slack/commands", url.Values{"command": {"/incident"}, "text": {s}, "user_id": {"U0NOBODY"}}.Encode()
		case 3:
			if mode%8 == 7 {
				path = "/slack/commands"
			}
			body = s
		}
		ts := strconv.FormatInt(w.h.Clock.Now().Unix(), 10)
		sig := "v0=" + hex.EncodeToString(slack.Sign(testSecret, ts, []byte(body)))
		r := w.h.WithT(t).Request(http.MethodPost, path, body, "Content-Type", "application/x-www-form-urlencoded",
			"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig)
		if r.Status >= 500 {
			t.Fatalf("%s with %q: %d %s", path, body, r.Status, r.Body)
		}
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("%s with %q: a correctly signed request was refused: %s", path, body, r.Body)
		}
	})
}

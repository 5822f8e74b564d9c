package slack_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/slack"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// directory is the Slack peer's users.info: Slack user IDs and the e-mail
// addresses of their profiles.
type directory struct {
	mu     sync.Mutex
	emails map[string]string
}

func (d *directory) add(slackID, email string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.emails[slackID] = email
}

func (d *directory) handler(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	d.mu.Lock()
	email, ok := d.emails[r.Form.Get("user")]
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{
		"id": r.Form.Get("user"), "name": "someone", "profile": map[string]any{"email": email}}})
}

// replyRecorder is the Slack peer's response_urls (/respond/...).
type replyRecorder struct {
	mu      sync.Mutex
	replies map[string][]map[string]any // by path
}

func (rr *replyRecorder) handler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.replies == nil {
		rr.replies = map[string][]map[string]any{}
	}
	rr.replies[r.URL.Path] = append(rr.replies[r.URL.Path], m)
	w.WriteHeader(http.StatusOK)
}

func (rr *replyRecorder) of(path string) []map[string]any {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]map[string]any(nil), rr.replies[path]...)
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signed sends form to path as Slack would: signed with secret at time at.
func (w *world) signed(path string, form url.Values, secret string, at time.Time) *testapp.Response {
	body := form.Encode()
	ts := strconv.FormatInt(at.Unix(), 10)
	sig := "v0=" + hex.EncodeToString(slack.Sign(secret, ts, []byte(body)))
	return w.h.Request(http.MethodPost, path, body, "Content-Type", "application/x-www-form-urlencoded",
		"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig)
}

// press is the interaction of a Slack user pressing a certdesk button;
// the answer is expected at the response_url path /respond/<reply>.
func (w *world) press(slackUser, actionID, value, reply string) url.Values {
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": slackUser}, "team": map[string]any{"id": "T0TEST"},
		"trigger_id": "trig-" + reply, "response_url": w.srv.GetAPIURL() + "respond/" + reply,
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": slack.ActionsBlockID, "value": value}},
	})
	return url.Values{"payload": {string(payload)}}
}

// replyTo waits for the answer posted to /respond/<reply>.
func (w *world) replyTo(t *testing.T, reply string) string {
	t.Helper()
	var text string
	w.h.Eventually(func() bool {
		rs := w.replies.of("/respond/" + reply)
		if len(rs) == 0 {
			return false
		}
		text, _ = rs[0]["text"].(string)
		require.Equal(t, "ephemeral", rs[0]["response_type"])
		return true
	}, "a reply at /respond/"+reply)
	return text
}

type incidentBody struct {
	Reference       string     `json:"reference"`
	CoordinatingOrg string     `json:"coordinating_org"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at"`
}

func (w *world) incident(t *testing.T, id string) incidentBody {
	t.Helper()
	r := w.h.As(w.cert).Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var b incidentBody
	r.JSON(t, &b)
	return b
}

// slackFailures returns how many Slack requests were counted as failed
// authentications of the client address, by reason (they reach the audit
// log as one auth.failed entry per address and minute).
func (w *world) slackFailures(t *testing.T) map[string]int {
	t.Helper()
	rows, err := w.h.App.DB.Pool.Query(context.Background(), `SELECT reasons FROM auth_throttle WHERE scope = 'auth.addr'`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var rs map[string]int
		require.NoError(t, rows.Scan(&rs))
		for k, v := range rs {
			out[k] += v
		}
	}
	require.NoError(t, rows.Err())
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestForgedOrStaleInteractionIsRejected(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	inc := w.report(t, "Ransomware at the water utility", "TLP:AMBER")
	w.sentFor(t, w.cert, inc.ID, 1)
	certUser, _ := w.h.User("region-north", access.Responder)
	w.slackUsers.add("U0CERT", certUser.Email)
	form := w.press("U0CERT", "acknowledge", inc.ID, "forged")
	now := w.h.Clock.Now()

	cases := []struct {
		name string
		send func() *testapp.Response
	}{
		{"forged signature", func() *testapp.Response { return w.signed("/slack/interactions", form, "not-the-secret", now) }},
		{"stale timestamp (6 minutes)", func() *testapp.Response {
			return w.signed("/slack/interactions", form, testSecret, now.Add(-6*time.Minute))
		}},
		{"timestamp 6 minutes ahead", func() *testapp.Response {
			return w.signed("/slack/interactions", form, testSecret, now.Add(6*time.Minute))
		}},
		{"no signature", func() *testapp.Response {
			return w.h.Request(http.MethodPost, "/slack/interactions", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
				"X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
		}},
		{"body changed after signing", func() *testapp.Response {
			ts := strconv.FormatInt(now.Unix(), 10)
			sig := "v0=" + hex.EncodeToString(slack.Sign(testSecret, ts, []byte(form.Encode())))
			other := w.press("U0CERT", "acknowledge", inc.ID, "tampered").Encode()
			return w.h.Request(http.MethodPost, "/slack/interactions", other, "Content-Type", "application/x-www-form-urlencoded",
				"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", sig)
		}},
		{"a bearer token instead", func() *testapp.Response {
			return w.h.As(w.cert).Request(http.MethodPost, "/slack/interactions", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		}},
	}
	for i, tc := range cases {
		r := tc.send()
		require.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s", tc.name, r.Body)
		require.Equal(t, i+1, total(w.slackFailures(t)), "%s is counted as a failed authentication", tc.name)
	}
	// The command route checks the same way.
	r := w.signed("/slack/commands", url.Values{"text": {inc.Reference}, "user_id": {"U0CERT"}}, "not-the-secret", now)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, map[string]int{"bad slack signature": 4, "stale or missing slack timestamp": 3}, w.slackFailures(t))

	time.Sleep(300 * time.Millisecond) // a reply job, had one been queued, would have run
	require.Nil(t, w.incident(t, inc.ID).AcknowledgedAt, "nothing was acknowledged")
	require.Empty(t, w.replies.of("/respond/forged"))
}

// TestSlackSignatureFailuresShareTheAuthenticationBound: forged Slack
// requests count as failed authentications of the client address, like
// bad tokens (security review, finding 9): past twenty a minute they are
// 429 with Retry-After, and the audit log gets one auth.failed entry for
// the address and minute, carrying the count.
func TestSlackSignatureFailuresShareTheAuthenticationBound(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	ctx := context.Background()
	now := w.h.Clock.Now()
	w.h.Advance(now.Truncate(time.Minute).Add(time.Minute + time.Second).Sub(now)) // one minute for the burst
	form := url.Values{"text": {"help"}, "user_id": {"U0NOBODY"}}
	for i := 0; i < identity.AddressRule.Limit; i++ {
		r := w.signed("/slack/commands", form, "not-the-secret", w.h.Clock.Now())
		require.Equal(t, http.StatusUnauthorized, r.Status, "failure %d: %s", i+1, r.Body)
	}
	// A bad token from the same address counts towards the same limit.
	r := w.h.As("cdt_"+strings.Repeat("y", 43)).Request(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	r = w.signed("/slack/interactions", w.press("U0NOBODY", "acknowledge", "x", "x"), "not-the-secret", w.h.Clock.Now())
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.NotEmpty(t, r.Header.Get("Retry-After"))

	w.h.Advance(time.Minute)
	_, err := w.h.App.Sweeper.Sweep(ctx)
	require.NoError(t, err)
	entries, _, err := w.h.App.Store.AuditLog(ctx, audit.Query{Action: audit.AuthFailed, Limit: 500})
	require.NoError(t, err)
	var failed []audit.Entry
	for _, e := range entries {
		if e.Action == audit.AuthFailed {
			failed = append(failed, e)
		}
	}
	require.Len(t, failed, 1, "one entry for the address and minute")
	var data struct {
		Failures int            `json:"failures"`
		Reasons  map[string]int `json:"reasons"`
	}
	require.NoError(t, json.Unmarshal(failed[0].Data, &data))
	require.Equal(t, 22, data.Failures)
	require.Equal(t, map[string]int{"bad slack signature": 21, "unknown token": 1}, data.Reasons)
}

func TestAcknowledgeButton(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	inc := w.report(t, "Phishing wave at city hall", "TLP:AMBER")
	w.sentFor(t, w.cert, inc.ID, 1)

	// The message to the regional CERT carries the Acknowledge button.
	post := w.rec.snapshot()[0]
	require.Contains(t, post.Get("blocks"), `"action_id":"acknowledge"`)
	require.Contains(t, post.Get("blocks"), `"value":"`+inc.ID+`"`)
	require.Contains(t, post.Get("blocks"), `"block_id":"`+slack.ActionsBlockID+`"`)

	certUser, _ := w.h.User("region-north", access.Responder)
	w.slackUsers.add("U0CERT", certUser.Email)
	reporterUser, _ := w.h.User("city-a", access.Reporter)
	w.slackUsers.add("U0REPORTER", reporterUser.Email)
	w.h.Org("region-south", "regional_cert", "national-cert")
	southUser, _ := w.h.User("region-south", access.Coordinator)
	w.slackUsers.add("U0SOUTH", southUser.Email)
	disabled, _ := w.h.User("region-north", access.Coordinator)
	yes := true
	_, err := w.h.App.Identity.UpdateUser(context.Background(), access.System, disabled.ID, identity.UserPatch{Disabled: &yes})
	require.NoError(t, err)
	w.slackUsers.add("U0DISABLED", disabled.Email)
	w.slackUsers.add("U0STRANGER", "nobody@elsewhere.example")

	now := w.h.Clock.Now()
	refusals := []struct{ slackUser, want string }{
		{"U0REPORTER", "Not allowed: your role (reporter) may not do incident.transition."},
		{"U0SOUTH", "Not found: it does not exist, or you may not see it."},
		{"U0DISABLED", "not linked"},
		{"U0STRANGER", "not linked"},
		{"U0UNKNOWN", "not linked"},
	}
	for _, c := range refusals {
		r := w.signed("/slack/interactions", w.press(c.slackUser, "acknowledge", inc.ID, c.slackUser), testSecret, now)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Contains(t, w.replyTo(t, c.slackUser), c.want, c.slackUser)
	}
	require.Nil(t, w.incident(t, inc.ID).AcknowledgedAt, "refused presses change nothing")

	// The CERT's responder acknowledges.
	r := w.signed("/slack/interactions", w.press("U0CERT", "acknowledge", inc.ID, "ack"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "You acknowledged "+inc.Reference+".", w.replyTo(t, "ack"))
	require.NotNil(t, w.incident(t, inc.ID).AcknowledgedAt)

	// The timeline shows who, and that it was through Slack.
	tl := w.h.As(w.cert).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?kind=acknowledged", nil)
	require.Equal(t, http.StatusOK, tl.Status)
	var events struct {
		Events []struct {
			Actor string
			Data  map[string]any
		}
	}
	tl.JSON(t, &events)
	require.Len(t, events.Events, 1)
	require.Equal(t, certUser.Email, events.Events[0].Actor)
	require.Equal(t, "slack", events.Events[0].Data["via"])
	require.Equal(t, "region-north", events.Events[0].Data["org"])

	// Pressing it again changes nothing and says so.
	r = w.signed("/slack/interactions", w.press("U0CERT", "acknowledge", inc.ID, "again"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, w.replyTo(t, "again"), "was already acknowledged")

	// The thread's first message now shows who acknowledged, and no button.
	w.h.Eventually(func() bool {
		for _, u := range w.rec.updateSnapshot() {
			if strings.Contains(u.Get("blocks"), "*Acknowledged*\\nby "+certUser.Email+" at ") {
				require.Equal(t, "C0REGIONN01", u.Get("channel"))
				require.Equal(t, "1700000000.000001", u.Get("ts"))
				require.NotContains(t, u.Get("blocks"), `"action_id":"acknowledge"`)
				return true
			}
		}
		return false
	}, "the root message shows the acknowledgement")

	// The escalation buttons decide through the escalation service, as
	// the user who pressed them: the regional CERT asks the national CERT
	// to coordinate; its Slack message carries Accept and Decline; the
	// national coordinator accepts from Slack.
	nationalUser, _ := w.h.User("national-cert", access.Coordinator)
	w.slackUsers.add("U0NATIONAL", nationalUser.Email)
	_, escalator := w.h.User("region-north", access.Coordinator)
	er := w.h.As(escalator).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "reason": "Three cities hit"})
	require.Equal(t, http.StatusCreated, er.Status, string(er.Body))
	escID := er.Map(t)["id"].(string)
	var msg string
	require.NoError(t, w.h.App.DB.Pool.QueryRow(context.Background(), `SELECT n.message::text FROM notifications n
		JOIN organizations o ON o.id = n.recipient_org_id WHERE n.event_kind = 'escalation.requested' AND o.slug = 'national-cert'`).Scan(&msg))
	require.Contains(t, msg, "accept_escalation", "the organisation asked gets Accept and Decline")
	require.Contains(t, msg, escID)
	r = w.signed("/slack/interactions", w.press("U0CERT", "accept_escalation", escID, "esc-wrong-side"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, w.replyTo(t, "esc-wrong-side"), "You accepted", "the requesting side cannot accept")
	r = w.signed("/slack/interactions", w.press("U0NATIONAL", "accept_escalation", escID, "esc"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "You accepted the escalation.", w.replyTo(t, "esc"))
	got := w.h.As(escalator).Request(http.MethodGet, "/api/v1/escalations/"+escID, nil).Map(t)
	require.Equal(t, "accepted", got["state"])
	require.Equal(t, "national-cert", w.incident(t, inc.ID).CoordinatingOrg, "accepting coordinate moves the coordination")

	// With a decider of the test's own, the principal it gets is the
	// pressing user's, through Slack.
	type decision struct {
		p      access.Principal
		id     string
		accept bool
	}
	decided := make(chan decision, 2)
	w.h.App.SlackInbound.SetDecide(func(_ context.Context, p access.Principal, id string, accept bool, _ string) error {
		if id == "esc-hidden" {
			return apperr.New(apperr.NotFound, "escalation %s not found", id)
		}
		decided <- decision{p, id, accept}
		return nil
	})
	r = w.signed("/slack/interactions", w.press("U0CERT", "decline_escalation", "esc-2", "decline"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "You declined the escalation.", w.replyTo(t, "decline"))
	d := <-decided
	require.Equal(t, certUser.Email, d.p.Email)
	require.Equal(t, "slack", d.p.Via)
	require.Equal(t, "esc-2", d.id)
	require.False(t, d.accept)
	r = w.signed("/slack/interactions", w.press("U0CERT", "accept_escalation", "esc-hidden", "hidden"), testSecret, now)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, w.replyTo(t, "hidden"), "Not found")
}

func TestIncidentCommand(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	amber := w.report(t, "Defaced website of city-a", "TLP:AMBER")
	red := w.report(t, "SECRET-RED-TITLE minister's mailbox", "TLP:RED")
	certUser, _ := w.h.User("region-north", access.Responder)
	w.slackUsers.add("U0CERT", certUser.Email)
	var me struct{ Email string }
	w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/me", nil).JSON(t, &me)
	w.slackUsers.add("U0REPORTER", me.Email) // the reporter of both incidents
	viewer, _ := w.h.User("region-north", access.Viewer)
	w.slackUsers.add("U0VIEWER", viewer.Email)

	command := func(slackUser, text, trigger string) string {
		t.Helper()
		r := w.signed("/slack/commands", url.Values{"command": {"/incident"}, "text": {text}, "user_id": {slackUser},
			"trigger_id": {trigger}, "response_url": {w.srv.GetAPIURL() + "respond/cmd"}}, testSecret, w.h.Clock.Now())
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var out struct{ ResponseType, Text string }
		r.JSON(t, &out)
		return out.Text
	}

	status := command("U0CERT", amber.Reference, "t1")
	require.Contains(t, status, amber.Reference)
	require.Contains(t, status, "Defaced website of city-a")
	require.Contains(t, status, "Status: open\nSeverity: high\nStage: response\nTLP: TLP:AMBER\nCoordinating: ")
	require.Contains(t, status, "Acknowledged: not yet")
	require.Contains(t, status, "https://certdesk.example/incidents/"+amber.Reference)

	// Visibility applies: the regional CERT does not see a TLP:RED incident
	// it is not a participant of; its reporter does, without the title.
	require.Contains(t, command("U0CERT", red.Reference, "t2"), "Not found")
	redStatus := command("U0REPORTER", red.Reference, "t3")
	require.Contains(t, redStatus, red.Reference)
	require.NotContains(t, redStatus, "SECRET")

	// declare opens a report once, however often Slack retries.
	opened := command("U0REPORTER", "declare Suspicious logins on the mail server", "trigger-42")
	require.Contains(t, opened, "Opened INC-")
	require.Equal(t, opened, command("U0REPORTER", "declare Suspicious logins on the mail server", "trigger-42"))
	ref := strings.Fields(strings.TrimPrefix(opened, "Opened "))[0]
	r := w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+ref, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), "Suspicious logins on the mail server")
	tl := w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+ref+"/timeline?kind=created", nil)
	require.Contains(t, string(tl.Body), `"via":"slack"`)

	// Refusals and usage.
	require.Contains(t, command("U0VIEWER", "declare Something", "t5"), "Not allowed")
	require.Contains(t, command("U0REPORTER", "declare "+strings.Repeat("x", 300), "t6"), "Not done: title")
	require.Contains(t, command("U0NOBODY", amber.Reference, "t7"), "not linked")
	for _, text := range []string{"", "help", "frobnicate the thing", "declare"} {
		require.Contains(t, command("U0CERT", text, "t8"), "Usage: `/incident INC-", "text %q", text)
	}
}

func TestSlackRoutesNeedTheSigningSecret(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true) // a bot token, no signing secret
	for _, path := range []string{"/slack/interactions", "/slack/commands"} {
		r := w.signed(path, url.Values{"text": {"help"}}, "", w.h.Clock.Now())
		require.Equal(t, http.StatusNotFound, r.Status, path)
	}
}

func TestRootMessageFollowsTheIncident(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	inc := w.report(t, "DDoS on the citizens' portal", "TLP:GREEN")
	strict := w.report(t, "SECRET-STRICT-TITLE minister's mailbox", "TLP:AMBER+STRICT")
	w.sentFor(t, w.cert, inc.ID, 1)
	w.sentFor(t, w.reporter, strict.ID, 1)

	// Several changes; the root ends up showing the last state.
	for _, patch := range []map[string]any{{"severity": "critical"}, {"title": "DDoS on the portal and the mail gateway"}} {
		r := w.h.As(w.cert).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, patch)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	r := w.h.As(w.cert).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/transitions", map[string]any{"to": "recovery"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	last := func() url.Values {
		var out url.Values
		for _, u := range w.rec.updateSnapshot() {
			if strings.Contains(u.Get("text"), inc.Reference) {
				out = u
			}
		}
		return out
	}
	w.h.Eventually(func() bool {
		u := last()
		return u != nil && strings.Contains(u.Get("blocks"), "*Stage*\\nrecovery") &&
			strings.Contains(u.Get("blocks"), "*Severity*\\ncritical") &&
			strings.Contains(u.Get("text"), "DDoS on the portal and the mail gateway")
	}, "the root shows severity, title and stage")
	u := last()
	require.Equal(t, "C0REGIONN01", u.Get("channel"))
	require.Contains(t, u.Get("blocks"), "*Coordinating*\\nregion-north")
	require.Contains(t, u.Get("blocks"), `"action_id":"acknowledge"`, "still unacknowledged")

	// The TLP:AMBER+STRICT incident's root is updated too, never with its
	// title.
	r = w.h.As(w.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+strict.ID, map[string]any{"severity": "critical"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.h.Eventually(func() bool {
		for _, u := range w.rec.updateSnapshot() {
			if strings.Contains(u.Get("text"), strict.Reference) && strings.Contains(u.Get("blocks"), "*Severity*\\ncritical") {
				return true
			}
		}
		return false
	}, "the TLP:AMBER+STRICT root shows the new severity")
	for _, u := range w.rec.updateSnapshot() {
		for field, values := range u {
			for _, v := range values {
				require.NotContains(t, v, "SECRET", "chat.update field %s", field)
				require.NotContains(t, v, "minister", "chat.update field %s", field)
			}
		}
	}

	// Closing: one more update; then nothing more without a change.
	r = w.h.As(w.cert).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/close", map[string]any{"resolution": "Mitigated by the upstream provider."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.h.Eventually(func() bool {
		u := last()
		return u != nil && strings.Contains(u.Get("blocks"), "*Status*\\nclosed")
	}, "the root shows the incident closed")
	require.NotContains(t, last().Get("blocks"), `"action_id":"acknowledge"`, "no button on a closed incident")
	n := len(w.rec.updateSnapshot())
	time.Sleep(300 * time.Millisecond)
	require.Len(t, w.rec.updateSnapshot(), n, "no update without a change")
}

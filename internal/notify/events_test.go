package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// post is one message Slack accepted.
type post struct{ form url.Values }

func (p post) channel() string { return p.form.Get("channel") }
func (p post) thread() string  { return p.form.Get("thread_ts") }
func (p post) ts() string      { return p.form.Get("ts") }

// fakeSlack is chat.postMessage of a Slack workspace: it answers each
// accepted post with a unique ts, and while down it refuses every call.
type fakeSlack struct {
	mu      sync.Mutex
	posts   []post
	refused int
	down    func(call int, w http.ResponseWriter) // nil: up
	gate    *gate                                 // nil: answers at once
	updates []url.Values                          // chat.update calls
}

// chatUpdate is chat.update: it records the call and answers ok.
func (f *fakeSlack) chatUpdate(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, r.PostForm)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts")})
}

func (f *fakeSlack) allUpdates() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.updates...)
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	g := f.gate
	f.mu.Unlock()
	if g != nil && !g.wait(r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		f.refused++
		f.down(f.refused, w)
		return
	}
	form := r.PostForm
	form.Set("ts", fmt.Sprintf("1700000100.%06d", len(f.posts)+1))
	f.posts = append(f.posts, post{form})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": form.Get("channel"), "ts": form.Get("ts")})
}

// history is conversations.history and conversations.replies: the
// posts of the channel (of the thread ts), with the metadata they were
// posted with, in one page. It stays up while posts are refused.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	msgs := []map[string]any{}
	for _, p := range f.posts {
		if p.form.Get("channel") != r.Form.Get("channel") || (r.Form.Get("ts") != "" && p.form.Get("thread_ts") != r.Form.Get("ts")) {
			continue
		}
		m := map[string]any{"type": "message", "ts": p.form.Get("ts"), "text": p.form.Get("text")}
		if meta := p.form.Get("metadata"); meta != "" {
			m["metadata"] = json.RawMessage(meta)
		}
		msgs = append(msgs, m)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

// handle adds the fake's calls to a slacktest server.
func (f *fakeSlack) handle(c slacktest.Customize) {
	c.Handle("/chat.postMessage", f.postMessage)
	c.Handle("/chat.update", f.chatUpdate)
	c.Handle("/conversations.history", f.history)
	c.Handle("/conversations.replies", f.history)
}

func (f *fakeSlack) all() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

func (f *fakeSlack) setDown(down func(call int, w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeSlack) refusals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

// env is certdesk with Slack: a regional CERT and a city below it, each
// with its own channel, a reporter and a responder of the city, and a
// responder of the CERT.
type env struct {
	h                             *testapp.Harness
	slack                         *fakeSlack
	reporter, cityResponder, cert string
	certEmail                     string
}

const (
	regionChannel = "C0REGION001"
	cityChannel   = "C0CITY00001"
)

func setup(t *testing.T) *env {
	t.Helper()
	f := &fakeSlack{}
	srv := slacktest.NewTestServer(f.handle)
	srv.Start()
	t.Cleanup(srv.Stop)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SlackAPIURL = srv.GetAPIURL()
		c.SlackBotToken = "xoxb-test"
	}})
	ctx := context.Background()
	region := &org.Organization{Slug: "region", Name: "Region North CERT", Kind: org.RegionalCERT, ChatChannel: regionChannel}
	require.NoError(t, h.App.Store.CreateOrganization(ctx, region))
	city := &org.Organization{Slug: "city", Name: "City of Adorf", Kind: org.LocalAuthority, ChatChannel: cityChannel, ParentID: &region.ID}
	require.NoError(t, h.App.Store.CreateOrganization(ctx, city))
	_, reporter := h.User("city", access.Reporter)
	_, cityResponder := h.User("city", access.Responder)
	certUser, cert := h.User("region", access.Responder)
	return &env{h: h, slack: f, reporter: reporter, cityResponder: cityResponder, cert: cert, certEmail: certUser.Email}
}

func (e *env) do(t *testing.T, token, method, path string, body any) map[string]any {
	t.Helper()
	r := e.h.As(token).Request(method, path, body)
	require.Less(t, r.Status, 300, "%s %s: %s", method, path, r.Body)
	return r.Map(t)
}

type sent struct {
	ID           string
	EventKind    string `json:"event_kind"`
	RecipientOrg string `json:"recipient_org"`
	State        string
	Attempts     int
	LastError    string `json:"last_error"`
	MessageTS    string `json:"message_ts"`
	Message      struct{ Header, Text string }
}

func (e *env) notifications(t *testing.T, token, id string) []sent {
	t.Helper()
	r := e.h.As(token).Request(http.MethodGet, "/api/v1/notifications?limit=500&incident="+id, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Notifications []sent }
	r.JSON(t, &l)
	return l.Notifications
}

// notificationsC is notifications for the condition of an
// EventuallyWithT: it reports to c, not to t, because the condition runs
// on another goroutine.
func (e *env) notificationsC(c *assert.CollectT, token, id string) []sent {
	r := e.h.As(token).Request(http.MethodGet, "/api/v1/notifications?limit=500&incident="+id, nil)
	if !assert.Equal(c, http.StatusOK, r.Status, "%s", r.Body) {
		return nil
	}
	var l struct{ Notifications []sent }
	if !assert.NoError(c, json.Unmarshal(r.Body, &l)) {
		return nil
	}
	return l.Notifications
}

// jobState is the state of the delivery job of a notification, for the
// condition of an EventuallyWithT.
func (e *env) jobState(c *assert.CollectT, notificationID string) string {
	var state string
	assert.NoError(c, e.h.App.DB.SQL.QueryRowContext(context.Background(),
		`SELECT state FROM river_job WHERE kind = 'notify.deliver' AND args->>'notification_id' = $1`, notificationID).Scan(&state))
	return state
}

// delivered waits until the incident has n notifications, all sent.
func (e *env) delivered(t *testing.T, token, id string, n int) []sent {
	t.Helper()
	var ns []sent
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := e.notificationsC(c, token, id)
		for _, x := range got {
			assert.Equal(c, "sent", x.State, "%s to %s", x.EventKind, x.RecipientOrg)
		}
		assert.GreaterOrEqual(c, len(got), n)
		ns = got
	}, 60*time.Second, 50*time.Millisecond, "%d notifications of %s sent", n, id)
	require.Len(t, ns, n)
	return ns
}

// deliveriesDone waits until every delivery job has finished, so that
// nothing can still be posted.
func (e *env) deliveriesDone(t *testing.T) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var n int
		assert.NoError(c, e.h.App.DB.SQL.QueryRowContext(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'notify.deliver' AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n))
		assert.Zero(c, n)
	}, 10*time.Second, 20*time.Millisecond, "every delivery job finished")
}

func kinds(ns []sent, recipient string) []string {
	var out []string
	for _, n := range ns {
		if n.RecipientOrg == recipient {
			out = append(out, n.EventKind)
		}
	}
	return out
}

// requireThreads checks that each channel has one first message and that
// every other message is a reply in its thread.
func requireThreads(t *testing.T, posts []post) map[string]string {
	t.Helper()
	roots := map[string]string{}
	for _, p := range posts {
		if p.thread() == "" {
			require.Empty(t, roots[p.channel()], "a second thread in %s", p.channel())
			roots[p.channel()] = p.ts()
		}
	}
	for _, p := range posts {
		if p.thread() != "" {
			require.Equal(t, roots[p.channel()], p.thread(), "a reply in %s outside the incident's thread", p.channel())
		}
	}
	return roots
}

// A city's report posts into the regional CERT's channel; what follows
// goes to both organisations, each into the incident's thread in its own
// channel; changes nobody must hear about post nothing.
func TestEventsReachBothOrganisationsInTheIncidentsThread(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Phishing wave at city hall", "description": "Mails to all staff", "severity": "medium", "tlp": "amber"})["id"].(string)
	e.delivered(t, e.cert, id, 1)
	posts := e.slack.all()
	require.Len(t, posts, 1)
	require.Equal(t, regionChannel, posts[0].channel())
	require.Empty(t, posts[0].thread())
	require.Contains(t, posts[0].form.Get("text"), "New incident to coordinate")

	base := "/api/v1/incidents/" + id
	e.do(t, e.cert, http.MethodPost, base+"/acknowledge", nil)
	e.delivered(t, e.cert, id, 2)
	e.do(t, e.cert, http.MethodPost, base+"/transitions", map[string]any{"to": "recovery"})
	e.delivered(t, e.cert, id, 4)
	e.do(t, e.cert, http.MethodPatch, base, map[string]any{"severity": "critical", "title": "Phishing wave, round two"})
	e.delivered(t, e.cert, id, 6)
	e.do(t, e.cert, http.MethodPatch, base, map[string]any{"severity": "low", "tags": []string{"phishing"}})
	e.do(t, e.cert, http.MethodPost, base+"/close", map[string]any{"resolution": "Mails purged"})
	ns := e.delivered(t, e.cert, id, 8)
	require.Equal(t, []string{"incident.closed", "incident.severity_raised", "incident.stage_changed", "incident.routed"}, kinds(ns, "region"))
	require.Equal(t, []string{"incident.closed", "incident.severity_raised", "incident.stage_changed", "incident.acknowledged"}, kinds(ns, "city"))

	posts = e.slack.all()
	require.Len(t, posts, 8, "one post per notification, nothing for a lowered severity, a title or tags")
	roots := requireThreads(t, posts)
	require.Equal(t, posts[0].ts(), roots[regionChannel], "the routing message starts the CERT's thread")
	ack := posts[1]
	require.Equal(t, cityChannel, ack.channel())
	require.Empty(t, ack.thread(), "the acknowledgement starts the city's thread")
	require.Contains(t, ack.form.Get("text"), "Your report was acknowledged")
	require.Contains(t, ack.form.Get("text"), "Region North CERT has your report.")
	var stage []post
	for _, p := range posts {
		if strings.Contains(p.form.Get("text"), "Stage changed to recovery") {
			stage = append(stage, p)
			require.Contains(t, p.form.Get("text"), "Stage: response → recovery")
		}
	}
	require.Len(t, stage, 2)
	require.ElementsMatch(t, []string{regionChannel, cityChannel}, []string{stage[0].channel(), stage[1].channel()})
	for _, p := range stage {
		require.Equal(t, roots[p.channel()], p.thread(), "a later stage change goes into the same thread")
	}
}

// The organisation that acted is not told when it would be the only
// recipient: a CERT that reports and coordinates its own incident hears
// of its routing and nothing it did itself.
func TestActorsOwnOrganisationAloneIsNotNotified(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.do(t, e.cert, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Own incident", "severity": "low", "tlp": "amber"})["id"].(string)
	e.delivered(t, e.cert, id, 1)
	base := "/api/v1/incidents/" + id
	e.do(t, e.cert, http.MethodPost, base+"/acknowledge", nil)
	e.do(t, e.cert, http.MethodPost, base+"/transitions", map[string]any{"to": "recovery"})
	e.do(t, e.cert, http.MethodPatch, base, map[string]any{"severity": "critical"})
	e.do(t, e.cert, http.MethodPost, base+"/close", map[string]any{"resolution": "Done"})
	// Notifications are written in the transaction of their event: what
	// is not there now never will be.
	ns := e.notifications(t, e.cert, id)
	require.Len(t, ns, 1)
	require.Equal(t, "incident.routed", ns[0].EventKind)
}

// No organisation as a whole sees a TLP:RED incident (its named
// participants do), so no message about one is queued for any
// organisation's channel, whatever the event: not its title, not even its
// reference (issue 10, "one decision for every exit").
func TestRedIncidentReachesNoChannelForAnyEvent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.do(t, e.cityResponder, http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "SECRET-TITLE minister", "description": "SECRET-DESCRIPTION", "severity": "medium", "tlp": "TLP:RED",
		"significant": true, "personal_data_breach": true})["id"].(string)
	base := "/api/v1/incidents/" + id
	timeline := func(c *assert.CollectT, kind string) int {
		r := e.h.As(e.cityResponder).Request(http.MethodGet, base+"/timeline?limit=500&kind="+kind, nil)
		var tl struct{ Events []json.RawMessage }
		if assert.Equal(c, http.StatusOK, r.Status) && assert.NoError(c, json.Unmarshal(r.Body, &tl)) {
			return len(tl.Events)
		}
		return 0
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 1, timeline(c, "routed")) },
		30*time.Second, 20*time.Millisecond, "routed")
	e.do(t, e.cityResponder, http.MethodPost, base+"/participants", map[string]any{"email": e.certEmail})
	e.do(t, e.cert, http.MethodPost, base+"/acknowledge", nil)
	e.do(t, e.cityResponder, http.MethodPost, base+"/transitions", map[string]any{"to": "recovery", "reason": "SECRET-REASON"})
	e.do(t, e.cityResponder, http.MethodPost, base+"/transitions", map[string]any{"to": "response", "reason": "SECRET-BACK"})
	e.do(t, e.cityResponder, http.MethodPatch, base, map[string]any{"severity": "critical", "title": "SECRET-TITLE-2"})
	e.do(t, e.cityResponder, http.MethodPost, base+"/deadlines/nis2_early_warning/met", map[string]any{"reference": "SECRET-REFERENCE"})
	e.h.Advance(36*time.Hour + time.Minute) // GDPR and NIS2 notification: 50 %
	e.h.Advance(37 * time.Hour)             // both missed
	e.do(t, e.cityResponder, http.MethodPatch, base, map[string]any{"personal_data_breach": false})
	e.do(t, e.cityResponder, http.MethodPost, base+"/close", map[string]any{"resolution": "SECRET-RESOLUTION"})
	e.do(t, e.cityResponder, http.MethodPost, base+"/reopen", map[string]any{"reason": "SECRET-REOPEN"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Positive(c, timeline(c, "deadline_reminder"))
		assert.Positive(c, timeline(c, "deadline_missed"))
	}, 60*time.Second, 50*time.Millisecond, "every kind of event happened")

	require.Empty(t, e.notifications(t, e.cityResponder, id), "no organisation was addressed")
	e.deliveriesDone(t)
	require.Empty(t, e.slack.all(), "nothing reached a channel")
}

// A notification queued while an incident was TLP:AMBER and delivered
// after it became TLP:AMBER+STRICT (Slack down meanwhile) is sent
// restricted to the coordinating CERT, which still sees it: the TLP at
// delivery decides, not the text rendered at queue time. Had the incident
// become TLP:RED, no organisation would see it any more: the notification
// is withdrawn in the transaction of the change and never sent.
func TestBecameStrictWhilePendingIsDeliveredRestricted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.slack.setDown(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	report := func(title string) string {
		return e.do(t, e.cityResponder, http.MethodPost, "/api/v1/incidents", map[string]any{
			"title": title, "description": "ZEBRA-DESCRIPTION", "severity": "high", "tlp": "amber"})["id"].(string)
	}
	strict, red := report("ZEBRA-7 exfiltration at the mayor's office"), report("ZEBRA-8 the mayor's mailbox")
	var ns []sent
	for i, id := range []string{strict, red} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			got := e.notificationsC(c, e.cert, id)
			if assert.Len(c, got, 1) {
				assert.Equal(c, "pending", got[0].State)
				if i == 0 {
					// The channel is in trouble after the first failure:
					// the second waits behind the first (strict order).
					assert.GreaterOrEqual(c, got[0].Attempts, 1)
				}
			}
			ns = got
		}, 30*time.Second, 20*time.Millisecond, "the routing notification tried while Slack is down")
		require.Contains(t, ns[0].Message.Text, "ZEBRA-", "rendered in full while the incident was TLP:AMBER")
	}

	e.do(t, e.cityResponder, http.MethodPatch, "/api/v1/incidents/"+strict, map[string]any{"tlp": "TLP:AMBER+STRICT"})
	e.do(t, e.cityResponder, http.MethodPatch, "/api/v1/incidents/"+red, map[string]any{"tlp": "TLP:RED"})
	ns = e.notifications(t, e.cityResponder, red)
	require.Len(t, ns, 1)
	require.Equal(t, "withdrawn", ns[0].State, "withdrawn with the change, not at delivery")
	e.slack.setDown(nil)
	e.h.Advance(time.Hour) // the retries are due
	ns = e.delivered(t, e.cityResponder, strict, 1)
	e.deliveriesDone(t)
	posts := e.slack.all()
	require.Len(t, posts, 1, "the TLP:AMBER+STRICT one only")
	for field, values := range posts[0].form {
		for _, v := range values {
			require.NotContains(t, v, "ZEBRA", "form field %s", field)
			require.NotContains(t, v, "coordinate", "form field %s: the queue-time headline", field)
		}
	}
	require.Contains(t, posts[0].form.Get("text"), notify.RestrictedHeadline+": INC-")
	require.Contains(t, posts[0].form.Get("text"), "Details in certdesk only")
	require.NotContains(t, ns[0].Message.Text, "ZEBRA", "the stored message is what was sent")
	require.Equal(t, notify.RestrictedHeadline, strings.SplitN(ns[0].Message.Header, ":", 2)[0])
	require.Equal(t, "withdrawn", e.notifications(t, e.cityResponder, red)[0].State)
}

// During a Slack outage (server errors, then connections cut) every event
// is kept; once Slack is back, everything arrives once, in its threads.
func TestSlackOutageDeliversEveryEventOnceWhenBack(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.slack.setDown(func(call int, w http.ResponseWriter) {
		if call%2 == 0 {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close() // a network error
					return
				}
			}
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "During the outage", "severity": "high", "tlp": "green"})["id"].(string)
	// Routed first: the CERT sees its constituency's incident before the
	// route job ran, and a stage change before routing has one recipient.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"incident.routed"}, kinds(e.notificationsC(c, e.cert, id), "region"))
	}, 30*time.Second, 20*time.Millisecond, "routed")
	base := "/api/v1/incidents/" + id
	e.do(t, e.cert, http.MethodPost, base+"/acknowledge", nil)
	e.do(t, e.cert, http.MethodPost, base+"/transitions", map[string]any{"to": "recovery"})
	e.do(t, e.cert, http.MethodPost, base+"/close", map[string]any{"resolution": "Restored"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ns := e.notificationsC(c, e.cert, id)
		tried := 0
		for _, n := range ns {
			assert.Equal(c, "pending", n.State)
			if n.Attempts >= 1 {
				tried++
			}
		}
		// Once a channel failed, its notifications go one at a time,
		// oldest first (strict order): the oldest of each of the two
		// channels is tried, again and again, the others wait behind it.
		assert.Len(c, ns, 6)
		assert.GreaterOrEqual(c, tried, 2)
		assert.GreaterOrEqual(c, e.slack.refusals(), 4)
	}, 30*time.Second, 50*time.Millisecond, "the oldest delivery of each channel tried during the outage, some twice")
	require.Empty(t, e.slack.all())

	e.slack.setDown(nil)
	ns := e.delivered(t, e.cert, id, 6)
	e.deliveriesDone(t)
	posts := e.slack.all()
	require.Len(t, posts, 6, "nothing twice")
	requireThreads(t, posts)
	seen := map[string]bool{}
	retried := 0
	for _, n := range ns {
		require.GreaterOrEqual(t, n.Attempts, 1)
		if n.Attempts >= 2 {
			retried++
		}
		require.Empty(t, n.LastError, "a sent notification has no error left")
		seen[n.EventKind] = true
	}
	require.GreaterOrEqual(t, retried, 2, "the oldest of each channel failed, then succeeded")
	require.Len(t, seen, 4, "routed, acknowledged, stage changed and closed, each delivered")
}

// tried waits until the incident's one notification (as the CERT sees
// it) had a delivery attempt, and returns it.
func (e *env) tried(t *testing.T, id string) []sent {
	t.Helper()
	var ns []sent
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := e.notificationsC(c, e.cert, id)
		if assert.Len(c, got, 1) {
			assert.GreaterOrEqual(c, got[0].Attempts, 1)
		}
		ns = got
	}, 10*time.Second, 20*time.Millisecond, "tried")
	return ns
}

// A delivery that fails on its last attempt is marked failed, on the
// timeline, and never sent afterwards.
func TestGiveUpMarksFailed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.slack.setDown(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Never arrives", "severity": "high", "tlp": "green"})["id"].(string)
	ns := e.tried(t, id)
	require.NoError(t, e.h.App.Notify.GiveUp(context.Background(), uuid.MustParse(ns[0].ID), 25, errors.New("slack: 500")))
	ns = e.notifications(t, e.cert, id)
	require.Equal(t, "failed", ns[0].State)
	require.Equal(t, "gave up after 25 attempts: slack: 500", ns[0].LastError)
	r := e.h.As(e.cert).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=notification_failed", nil)
	require.Contains(t, string(r.Body), "gave up after 25 attempts")
	e.slack.setDown(nil)
	e.h.Advance(time.Hour) // the retry is due: it finds the notification failed
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "completed", e.jobState(c, ns[0].ID))
	}, 10*time.Second, 20*time.Millisecond, "the retry completed without sending")
	require.Empty(t, e.slack.all())
}

// The worker's last attempt gives up: the notification is marked failed
// and the job cancelled, instead of River discarding it with the
// notification still pending.
func TestLastAttemptGivesUp(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.slack.setDown(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Out of attempts", "severity": "high", "tlp": "green"})["id"].(string)
	ns := e.tried(t, id)
	// The next attempt is the job's last.
	_, err := e.h.App.DB.SQL.ExecContext(context.Background(), `UPDATE river_job SET max_attempts = attempt + 1
		WHERE kind = 'notify.deliver' AND args->>'notification_id' = $1`, ns[0].ID)
	require.NoError(t, err)
	e.h.Advance(time.Hour)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := e.notificationsC(c, e.cert, id)
		if assert.Len(c, got, 1) {
			assert.Equal(c, "failed", got[0].State)
		}
		ns = got
	}, 10*time.Second, 20*time.Millisecond, "given up")
	require.Regexp(t, `^gave up after \d+ attempts: slack: .*502`, ns[0].LastError)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "cancelled", e.jobState(c, ns[0].ID))
	}, 10*time.Second, 20*time.Millisecond, "the job is cancelled, not discarded")
	r := e.h.As(e.cert).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=notification_failed", nil)
	require.Contains(t, string(r.Body), "gave up after")
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{0: 2 * time.Second, 1: 2 * time.Second, 2: 4 * time.Second,
		9: 512 * time.Second, 10: 10 * time.Minute, 25: 10 * time.Minute, 1000: 10 * time.Minute} {
		require.Equal(t, want, notify.RetryDelay(attempt), "attempt %d", attempt)
	}
	var total time.Duration
	for attempt := 1; attempt < 25; attempt++ {
		total += notify.RetryDelay(attempt)
	}
	require.Equal(t, 2*time.Hour+47*time.Minute+2*time.Second, total, "the give-up time docs/notifications.md states")
}

// An event whose actor has no user row (or no organisation) is not the
// actor's own organisation's doing: the recipient is told, and the change
// goes through, instead of the lookup's NotFound aborting it.
func TestActorNotFoundStillNotifies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.do(t, e.reporter, http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Actor gone", "severity": "low", "tlp": "green"})["id"].(string)
	e.delivered(t, e.cert, id, 1)
	ctx := context.Background()
	var evID int64
	require.NoError(t, e.h.App.DB.SQL.QueryRowContext(ctx, `SELECT id FROM incident_events WHERE incident_id = $1 AND kind = 'created'`, id).Scan(&evID))
	ghost := uuid.New()
	handler := e.h.App.Notify.EventHandler()
	err := e.h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, id)
		if err != nil {
			return err
		}
		return handler.Handle(ctx, tx, inc, []incident.Event{{ID: evID, IncidentID: inc.ID, Kind: incident.EventAcknowledged,
			ActorUserID: &ghost, Data: json.RawMessage(`{}`)}})
	})
	require.NoError(t, err)
	ns := e.delivered(t, e.cert, id, 2)
	require.Equal(t, []string{"incident.acknowledged"}, kinds(ns, "city"))
}

package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"
)

// recorder is the Slack peer's chat.postMessage: it keeps every accepted
// post's form and answers with a unique ts. respond, when set, may answer
// a call itself (an outage, a rate limit, a Slack error).
type recorder struct {
	mu      sync.Mutex
	calls   int
	posts   []url.Values
	at      []time.Time
	refused []time.Time
	updates []url.Values
	respond func(call int, w http.ResponseWriter) bool
	// lose, when set and true for a call, keeps the post but never
	// answers it: the connection is closed (Slack took the message, its
	// answer was lost).
	lose     func(call int) bool
	searches int // conversations.history and .replies calls
}

func (rec *recorder) handler(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls++
	if rec.respond != nil && rec.respond(rec.calls, w) {
		rec.refused = append(rec.refused, time.Now())
		return
	}
	rec.posts = append(rec.posts, r.PostForm)
	rec.at = append(rec.at, time.Now())
	if rec.lose != nil && rec.lose(rec.calls) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"),
		"ts": fmt.Sprintf("1700000000.%06d", len(rec.posts))})
}

// history is the Slack peer's conversations.history and
// conversations.replies: every kept post of the channel (of the thread),
// with the metadata it was posted with, in one page.
func (rec *recorder) history(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.searches++
	msgs := []map[string]any{}
	for i, p := range rec.posts {
		if p.Get("channel") != r.Form.Get("channel") || (r.Form.Get("ts") != "" && p.Get("thread_ts") != r.Form.Get("ts")) {
			continue
		}
		m := map[string]any{"type": "message", "ts": fmt.Sprintf("1700000000.%06d", i+1), "text": p.Get("text")}
		if meta := p.Get("metadata"); meta != "" {
			m["metadata"] = json.RawMessage(meta)
		}
		msgs = append(msgs, m)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

// updateHandler is the Slack peer's chat.update: it keeps every update's
// form.
func (rec *recorder) updateHandler(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.updates = append(rec.updates, r.PostForm)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"),
		"ts": r.PostForm.Get("ts"), "text": r.PostForm.Get("text")})
}

func (rec *recorder) updateSnapshot() []url.Values {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]url.Values(nil), rec.updates...)
}

func (rec *recorder) setRespond(f func(call int, w http.ResponseWriter) bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.respond = f
}

func (rec *recorder) snapshot() []url.Values {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]url.Values(nil), rec.posts...)
}

func (rec *recorder) refusals() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.refused)
}

// world is a running certdesk talking to a fake Slack, with a national
// CERT, a regional CERT with a channel, and two cities below it.
type world struct {
	h        *testapp.Harness
	rec      *recorder
	srv      *slacktest.Server
	region   *org.Organization
	reporter string // token of a reporter of city-a
	cert     string // token of a responder of the regional CERT

	slackUsers *directory     // the Slack peer's users.info
	replies    *replyRecorder // the Slack peer's response_urls
	secret     string         // Slack's signing secret
}

func newWorld(t *testing.T, slackOn bool) *world {
	t.Helper()
	return newWorldWith(t, slackOn, "")
}

// newWorldWith is newWorld with Slack's signing secret set (interactivity
// on when Slack is).
func newWorldWith(t testing.TB, slackOn bool, signingSecret string) *world {
	t.Helper()
	rec := &recorder{}
	slackUsers := &directory{emails: map[string]string{}}
	replies := &replyRecorder{}
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", rec.handler)
		c.Handle("/chat.update", rec.updateHandler)
		c.Handle("/conversations.history", rec.history)
		c.Handle("/conversations.replies", rec.history)
		c.Handle("/users.info", slackUsers.handler)
		c.Handle("/respond/", replies.handler)
	})
	srv.Start()
	t.Cleanup(srv.Stop)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SlackAPIURL = srv.GetAPIURL()
		if slackOn {
			c.SlackBotToken = "xoxb-test-token"
		}
		c.SlackSigningSecret = signingSecret
	}})
	ctx := context.Background()
	h.Org("national-cert", org.NationalCERT, "")
	region := &org.Organization{Slug: "region-north", Name: "Region North CERT", Kind: org.RegionalCERT, ChatChannel: "C0REGIONN01"}
	nat, err := h.App.Store.OrganizationBySlug(ctx, "national-cert")
	require.NoError(t, err)
	region.ParentID = &nat.ID
	require.NoError(t, h.App.Store.CreateOrganization(ctx, region))
	h.Org("city-a", org.LocalAuthority, "region-north")
	h.Org("city-b", org.LocalAuthority, "region-north")
	_, reporter := h.User("city-a", access.Reporter)
	_, cert := h.User("region-north", access.Responder)
	return &world{h: h, rec: rec, srv: srv, region: region, reporter: reporter, cert: cert,
		slackUsers: slackUsers, replies: replies, secret: signingSecret}
}

type created struct{ ID, Reference string }

func (w *world) report(t *testing.T, title, tlp string) created {
	t.Helper()
	r := w.h.As(w.reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": title, "description": "Details: " + title, "severity": "high", "tlp": tlp})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var c created
	r.JSON(t, &c)
	return c
}

type notificationBody struct {
	ID                string
	IncidentID        string `json:"incident_id"`
	IncidentReference string `json:"incident_reference"`
	RecipientOrg      string `json:"recipient_org"`
	Channel           string
	Provider          string
	State             string
	Attempts          int
	LastError         string `json:"last_error"`
	MessageTS         string `json:"message_ts"`
	ThreadTS          string `json:"thread_ts"`
	Message           struct {
		Header, Text, Link string
	}
}

func (w *world) notifications(t *testing.T, token, incident string) []notificationBody {
	t.Helper()
	r := w.h.As(token).Request(http.MethodGet, "/api/v1/notifications?incident="+url.QueryEscape(incident), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var l struct{ Notifications []notificationBody }
	r.JSON(t, &l)
	return l.Notifications
}

// sentFor waits until the incident's notifications are all sent.
func (w *world) sentFor(t *testing.T, token, incident string, n int) []notificationBody {
	t.Helper()
	var ns []notificationBody
	w.h.Eventually(func() bool {
		ns = w.notifications(t, token, incident)
		if len(ns) != n {
			return false
		}
		for _, x := range ns {
			if x.State != "sent" {
				return false
			}
		}
		return true
	}, fmt.Sprintf("%d notifications of %s sent", n, incident))
	return ns
}

func (w *world) timelineKinds(t *testing.T, incident, kind string) int {
	t.Helper()
	r := w.h.As(w.cert).Request(http.MethodGet, "/api/v1/incidents/"+incident+"/timeline?kind="+kind, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var tl struct{ Events []struct{ Kind string } }
	r.JSON(t, &tl)
	return len(tl.Events)
}

func TestCityReportPostsIntoRegionalChannelAndThreads(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	inc := w.report(t, "Phishing wave at city hall", "TLP:AMBER")
	ns := w.sentFor(t, w.cert, inc.ID, 1)
	posts := w.rec.snapshot()
	require.Len(t, posts, 1)
	p := posts[0]
	require.Equal(t, "C0REGIONN01", p.Get("channel"))
	require.Empty(t, p.Get("thread_ts"), "the first message starts the thread")
	require.Contains(t, p.Get("text"), "Phishing wave at city hall")
	require.Contains(t, p.Get("text"), "https://certdesk.example/incidents/"+inc.Reference)
	var blocks slackapi.Blocks
	require.NoError(t, json.Unmarshal([]byte(p.Get("blocks")), &blocks))
	require.Equal(t, slackapi.MBTHeader, blocks.BlockSet[0].BlockType())
	require.Contains(t, p.Get("blocks"), `\u003chttps://certdesk.example/incidents/`+inc.Reference+`|Open in certdesk\u003e`)
	require.Contains(t, p.Get("blocks"), "*Severity*\\nhigh")

	n := ns[0]
	require.Equal(t, "slack", n.Provider)
	require.Equal(t, "region-north", n.RecipientOrg)
	require.Equal(t, "C0REGIONN01", n.Channel)
	require.Equal(t, "1700000000.000001", n.MessageTS)
	require.Equal(t, 1, w.timelineKinds(t, inc.ID, "notified"))

	// A second event of the same incident goes into the thread.
	_, err := w.h.App.Notify.Notify(context.Background(), inc.ID, *w.region, "test.update:"+inc.ID, "test.update", "Update")
	require.NoError(t, err)
	w.sentFor(t, w.cert, inc.ID, 2)
	posts = w.rec.snapshot()
	require.Len(t, posts, 2)
	require.Equal(t, "C0REGIONN01", posts[1].Get("channel"))
	require.Equal(t, "1700000000.000001", posts[1].Get("thread_ts"), "replies go to the first message's thread")

	// The same event again is not a new notification; delivering a sent
	// one again posts nothing.
	again, err := w.h.App.Notify.Notify(context.Background(), inc.ID, *w.region, "test.update:"+inc.ID, "test.update", "Update")
	require.NoError(t, err)
	require.Nil(t, again)
	id := uuid.MustParse(ns[0].ID)
	require.NoError(t, w.h.App.Notify.Deliver(context.Background(), id, func(context.Context, notify.Tx) error { return nil }))
	time.Sleep(200 * time.Millisecond)
	require.Len(t, w.rec.snapshot(), 2)
	require.Equal(t, 2, w.timelineKinds(t, inc.ID, "notified"))

	// Another incident starts its own thread.
	other := w.report(t, "Second incident", "TLP:GREEN")
	w.sentFor(t, w.cert, other.ID, 1)
	posts = w.rec.snapshot()
	require.Len(t, posts, 3)
	require.Empty(t, posts[2].Get("thread_ts"))
}

// A TLP:AMBER+STRICT incident's message carries its reference and no
// title; a TLP:RED incident, which no organisation sees as a whole, sends
// nothing to any channel.
func TestRestrictedTitlesNeverReachSlack(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	red := w.report(t, "SECRET-RED-TITLE minister's mailbox", "TLP:RED")
	strict := w.report(t, "SECRET-STRICT-TITLE hospital", "TLP:AMBER+STRICT")
	// The regional CERT sees the AMBER+STRICT one as its coordinator.
	w.sentFor(t, w.reporter, strict.ID, 1)
	w.h.Eventually(func() bool {
		r := w.h.As(w.reporter).Request(http.MethodGet, "/api/v1/incidents/"+red.ID+"/timeline?kind=routed", nil)
		return r.Status == http.StatusOK && strings.Contains(string(r.Body), `"routed"`)
	}, "the TLP:RED incident is routed")
	require.Empty(t, w.notifications(t, w.reporter, red.ID), "no organisation is told about a TLP:RED incident")
	posts := w.rec.snapshot()
	require.Len(t, posts, 1)
	for _, p := range posts {
		for field, values := range p {
			for _, v := range values {
				require.NotContains(t, v, "SECRET", "form field %s", field)
				require.NotContains(t, v, "minister", "form field %s", field)
				require.NotContains(t, v, "hospital", "form field %s", field)
				require.NotContains(t, v, red.Reference, "form field %s", field)
			}
		}
	}
	require.Contains(t, posts[0].Get("text"), "https://certdesk.example/incidents/"+strict.Reference)
	// The regional CERT does not see the TLP:RED incident, nor its
	// notifications.
	r := w.h.As(w.cert).Request(http.MethodGet, "/api/v1/notifications?incident="+red.ID, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
}

func TestRateLimitSnoozesAndDeliversOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.rec.setRespond(func(call int, rw http.ResponseWriter) bool {
		if call > 1 {
			return false
		}
		rw.Header().Set("Retry-After", "1")
		rw.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	inc := w.report(t, "Rate limited", "TLP:GREEN")
	ns := w.sentFor(t, w.cert, inc.ID, 1)
	w.rec.mu.Lock()
	require.Len(t, w.rec.refused, 1)
	require.Len(t, w.rec.posts, 1)
	waited := w.rec.at[0].Sub(w.rec.refused[0])
	w.rec.mu.Unlock()
	require.GreaterOrEqual(t, waited, 900*time.Millisecond, "delivery waited for Retry-After")
	require.Equal(t, 2, ns[0].Attempts)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, w.rec.snapshot(), 1, "delivered exactly once")
	require.Equal(t, 1, w.timelineKinds(t, inc.ID, "notified"))
}

// Slack takes a message but its answer is lost (the connection closes,
// as when the process dies during the call): the next attempt finds the
// message by its metadata (the notification's ID) and records it instead
// of posting it again. A first attempt never looks.
func TestLostAnswerIsRecordedNotPostedTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.rec.mu.Lock()
	w.rec.lose = func(call int) bool { return call == 1 }
	w.rec.mu.Unlock()
	inc := w.report(t, "Answer lost", "TLP:GREEN")
	ns := w.sentFor(t, w.cert, inc.ID, 1)
	posts := w.rec.snapshot()
	require.Len(t, posts, 1, "posted once")
	require.JSONEq(t, `{"event_type":"certdesk_notification","event_payload":{"notification_id":"`+ns[0].ID+`"}}`,
		posts[0].Get("metadata"), "labelled with the notification's ID")
	require.Equal(t, "1700000000.000001", ns[0].MessageTS, "the message found is the one recorded")
	require.Equal(t, 2, ns[0].Attempts, "the lost answer and the search")
	w.rec.mu.Lock()
	searches := w.rec.searches
	w.rec.mu.Unlock()
	require.Equal(t, 1, searches, "only the second attempt looked")
	require.Equal(t, 1, w.timelineKinds(t, inc.ID, "notified"))

	// A thread's reply is looked for in the thread.
	w.rec.mu.Lock()
	w.rec.lose = func(call int) bool { return call == 2 }
	w.rec.mu.Unlock()
	_, err := w.h.App.Notify.Notify(context.Background(), inc.ID, *w.region, "test.update:"+inc.ID, "test.update", "Update")
	require.NoError(t, err)
	w.sentFor(t, w.cert, inc.ID, 2)
	posts = w.rec.snapshot()
	require.Len(t, posts, 2, "the reply posted once")
	require.Equal(t, "1700000000.000001", posts[1].Get("thread_ts"))
	w.rec.mu.Lock()
	searches = w.rec.searches
	w.rec.mu.Unlock()
	require.Equal(t, 2, searches)
}

func TestSlackOutageDeliversEverythingOnceWhenBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.rec.setRespond(func(_ int, rw http.ResponseWriter) bool {
		rw.WriteHeader(http.StatusInternalServerError)
		return true
	})
	var incs []created
	for i := range 3 {
		incs = append(incs, w.report(t, fmt.Sprintf("Outage report %d", i), "TLP:GREEN"))
	}
	// The first notification was tried (and failed) during the outage;
	// the channel is in trouble, so the others wait behind it (strict
	// order, docs/slack.md).
	w.h.Eventually(func() bool {
		for i, inc := range incs {
			ns := w.notifications(t, w.cert, inc.ID)
			if len(ns) != 1 || (i == 0 && ns[0].Attempts < 1) {
				return false
			}
			require.Equal(t, "pending", ns[0].State)
			if i == 0 {
				require.Contains(t, ns[0].LastError, "500")
			}
		}
		return true
	}, "the first delivery tried during the outage")
	w.rec.setRespond(nil) // Slack is back
	// River's backoff grows as attempt⁴ seconds: a notification tried
	// twice during the outage waits 16 s for its third attempt.
	require.Eventually(t, func() bool {
		for i, inc := range incs {
			ns := w.notifications(t, w.cert, inc.ID)
			if len(ns) != 1 || ns[0].State != "sent" {
				return false
			}
			if i == 0 {
				require.GreaterOrEqual(t, ns[0].Attempts, 2)
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "everything delivered once Slack is back")
	time.Sleep(300 * time.Millisecond)
	posts := w.rec.snapshot()
	require.Len(t, posts, 3, "nothing twice")
	seen := map[string]bool{}
	for _, p := range posts {
		for _, inc := range incs {
			if strings.Contains(p.Get("text"), inc.Reference) {
				require.False(t, seen[inc.Reference], "%s posted twice", inc.Reference)
				seen[inc.Reference] = true
			}
		}
	}
	require.Len(t, seen, 3)
}

func TestPermanentSlackErrorMarksFailed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.rec.setRespond(func(_ int, rw http.ResponseWriter) bool {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
		return true
	})
	inc := w.report(t, "Nowhere to go", "TLP:GREEN")
	var ns []notificationBody
	w.h.Eventually(func() bool {
		ns = w.notifications(t, w.cert, inc.ID)
		return len(ns) == 1 && ns[0].State == "failed"
	}, "the notification failed")
	require.Contains(t, ns[0].LastError, "channel_not_found")
	require.Equal(t, 1, w.timelineKinds(t, inc.ID, "notification_failed"))
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, w.rec.refusals(), "a permanent error is not retried")
}

func TestWithoutSlackNotificationsAreRecordedAndLogged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	inc := w.report(t, "No Slack here", "TLP:AMBER")
	ns := w.sentFor(t, w.cert, inc.ID, 1)
	require.Equal(t, "log", ns[0].Provider)
	require.Equal(t, "region-north", ns[0].RecipientOrg)
	require.Contains(t, ns[0].Message.Text, "No Slack here")
	require.Empty(t, w.rec.snapshot(), "nothing goes to Slack")
	require.Equal(t, 0, w.timelineKinds(t, inc.ID, "notified"), "nobody was told: not on the timeline")

	// Listed without a filter for those who see the incident...
	r := w.h.As(w.cert).Request(http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), inc.ID)
	// ...and never for those who do not.
	_, other := w.h.User("city-b", access.Responder)
	r = w.h.As(other).Request(http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), inc.ID)
	require.NotContains(t, string(r.Body), "No Slack here")
	r = w.h.As(other).Request(http.MethodGet, "/api/v1/notifications?incident="+inc.Reference, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.NotContains(t, string(r.Body), "No Slack here")
}

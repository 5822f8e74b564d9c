package slack_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

// in returns what certdesk sent to channel: posts and chat.updates.
func (w *world) in(channel string) (posts, updates []url.Values) {
	for _, p := range w.rec.snapshot() {
		if p.Get("channel") == channel {
			posts = append(posts, p)
		}
	}
	for _, u := range w.rec.updateSnapshot() {
		if u.Get("channel") == channel {
			updates = append(updates, u)
		}
	}
	return posts, updates
}

// rootShows waits until the root of the incident's thread in the regional
// CERT's channel shows words: the root updates of that change have run.
func (w *world) rootShows(t *testing.T, ref, words string) {
	t.Helper()
	w.h.Eventually(func() bool {
		_, ups := w.in("C0REGIONN01")
		for _, u := range ups {
			if strings.Contains(u.Get("text"), ref) && strings.Contains(u.Get("text")+u.Get("blocks"), words) {
				return true
			}
		}
		return false
	}, "the regional CERT's root shows "+words)
}

// Finding 7: Slack's top-level text (the notification fallback) is escaped
// like the blocks, in posts, in thread-root updates and in /incident
// answers, so a title can neither ping a channel nor forge a link.
func TestFinding7HostileTitleIsEscapedInEveryText(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	const hostile = "Invoice <!channel> <https://evil.example|Reset your password> & more"
	inc := w.report(t, hostile, "TLP:AMBER")
	w.sentFor(t, w.cert, inc.ID, 1)
	r := w.h.As(w.cert).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"severity": "critical"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.rootShows(t, inc.Reference, "critical")

	certUser, _ := w.h.User("region-north", access.Responder)
	w.slackUsers.add("U0CERT", certUser.Email)
	r = w.signed("/slack/commands", url.Values{"command": {"/incident"}, "text": {inc.Reference}, "user_id": {"U0CERT"},
		"trigger_id": {"t-hostile"}}, testSecret, w.h.Clock.Now())
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var answer struct{ Text string }
	r.JSON(t, &answer)

	posts, ups := w.in("C0REGIONN01")
	texts := []string{answer.Text}
	for _, m := range append(posts, ups...) {
		texts = append(texts, m.Get("text"), m.Get("blocks"))
	}
	for _, s := range texts {
		require.NotContains(t, s, "<!channel>")
		require.NotContains(t, s, "<https://evil.example")
		require.NotContains(t, s, "& more", "a bare & is escaped")
	}
	for _, m := range append(posts, ups...) {
		require.Contains(t, m.Get("text"), "&lt;!channel&gt; &lt;https://evil.example|Reset your password&gt; &amp; more")
	}
	require.Contains(t, answer.Text, "&lt;!channel&gt;")
}

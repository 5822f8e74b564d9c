package slack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

// Issue 6: "an accepted escalation posts to both CERTs". The regional CERT
// asks the national CERT to coordinate a city's incident; the request
// reaches the national channel with Accept and Decline, and the
// acceptance reaches both CERTs' channels, each in the incident's thread
// there.
func TestAcceptedEscalationPostsToBothCERTs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	_, natAdmin := w.h.User("national-cert", access.Admin)
	r := w.h.As(natAdmin).Request(http.MethodPatch, "/api/v1/organizations/national-cert", map[string]any{"chat_channel": "C0NATION001"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	inc := w.report(t, "Ransomware in three city halls", "TLP:AMBER")
	w.sentFor(t, w.cert, inc.ID, 1) // routed: the regional CERT's channel

	_, regionCoord := w.h.User("region-north", access.Coordinator)
	r = w.h.As(regionCoord).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "reason": "Several cities hit"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	escID := r.Map(t)["id"].(string)
	type post struct{ channel, thread, text, blocks string }
	posts := func() []post {
		var out []post
		for _, p := range w.rec.snapshot() {
			out = append(out, post{p.Get("channel"), p.Get("thread_ts"), p.Get("text"), p.Get("blocks")})
		}
		return out
	}
	about := func(ps []post, channel, words string) []post {
		var out []post
		for _, p := range ps {
			if p.channel == channel && strings.Contains(p.text+p.blocks, words) {
				out = append(out, p)
			}
		}
		return out
	}
	// The request reaches the national CERT's channel before anyone
	// accepts it, as it does for people: otherwise the request's job and
	// the acceptance's race for the thread's first message.
	w.h.Eventually(func() bool { return len(about(posts(), "C0NATION001", inc.Reference)) > 0 },
		"the request is posted in the national CERT's channel")
	_, natCoord := w.h.User("national-cert", access.Coordinator)
	r = w.h.As(natCoord).Request(http.MethodPost, "/api/v1/escalations/"+escID+"/accept", map[string]any{"reason": "We coordinate"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	w.h.Eventually(func() bool {
		ps := posts()
		return len(about(ps, "C0NATION001", "accepted")) == 1 && len(about(ps, "C0REGIONN01", "accepted")) == 1
	}, "the acceptance is posted in both CERTs' channels")
	ps := posts()
	req := about(ps, "C0NATION001", inc.Reference)
	require.NotEmpty(t, req)
	require.Contains(t, req[0].blocks, `"action_id":"accept_escalation"`, "the request to the national CERT carries Accept")
	require.Contains(t, req[0].blocks, `"action_id":"decline_escalation"`)
	require.Empty(t, req[0].thread, "the national CERT's first message about the incident starts its thread")
	for _, p := range about(ps, "C0NATION001", "accepted") {
		require.NotEmpty(t, p.thread, "later messages go into the incident's thread in that channel")
	}
	for _, p := range about(ps, "C0REGIONN01", "accepted") {
		require.NotEmpty(t, p.thread, "the regional CERT's thread began with the routing message")
	}
	for _, p := range ps {
		require.Contains(t, []string{"C0REGIONN01", "C0NATION001"}, p.channel, "nothing else is posted")
	}
}

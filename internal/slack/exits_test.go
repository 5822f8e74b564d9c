package slack_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/stretchr/testify/require"
)

// The security review's findings about what leaves certdesk through Slack
// (issue 10, findings 1, 2 and 3): every message, thread-root update and
// button decision is decided for the recipient organisation as it is when
// the message is sent.

const partnerChannel = "C0PARTNER01"

// partner adds a partner CERT with its own Slack channel and returns a
// coordinator's token.
func (w *world) partner(t *testing.T) string {
	t.Helper()
	p := &org.Organization{Slug: "partner-cert", Name: "Partner CERT", Kind: org.Partner, ChatChannel: partnerChannel}
	require.NoError(t, w.h.App.Store.CreateOrganization(context.Background(), p))
	_, coord := w.h.User("partner-cert", access.Coordinator)
	return coord
}

// requireNeutralRoot checks that what reached the partner's channel after
// it lost sight of the incident is at most the one neutral replacement of
// its thread root: no title, no field, no button.
func requireNeutralRoot(t *testing.T, w *world, ref string, secrets ...string) {
	t.Helper()
	w.h.Eventually(func() bool {
		_, ups := w.in(partnerChannel)
		return len(ups) > 0
	}, "the partner's thread root was dealt with")
	posts, ups := w.in(partnerChannel)
	for _, s := range secrets {
		for _, m := range append(posts, ups...) {
			for field, values := range m {
				for _, v := range values {
					require.NotContains(t, v, s, "form field %s of a message to the partner's channel", field)
				}
			}
		}
	}
	require.Len(t, ups, 1, "the root is replaced once")
	require.Contains(t, ups[0].Get("text"), ref)
	require.Contains(t, ups[0].Get("text"), "no longer")
	for _, field := range []string{"Severity", "Stage", "TLP", "Coordinating", "Acknowledged", "action_id"} {
		require.NotContains(t, ups[0].Get("blocks"), field, "the neutral root carries nothing of the incident")
	}
}

// Finding 1, first reproduction: the regional CERT escalates a TLP:GREEN
// incident to the partner CERT; the partner declines (and gets 404); the
// CERT raises the TLP to AMBER and edits the title. The partner's channel
// must not receive the new AMBER title, nor the card in reduced form.
func TestFinding1DeclinedPartnerChannelGetsNothingNew(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	partner := w.partner(t)
	inc := w.report(t, "Phishing kit on the city portal", "TLP:GREEN")
	w.sentFor(t, w.cert, inc.ID, 1)
	_, regionCoord := w.h.User("region-north", access.Coordinator)
	r := w.h.As(regionCoord).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/escalations",
		map[string]any{"to": "partner-cert", "kind": "assist", "reason": "the kit is hosted abroad"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	escID := r.Map(t)["id"].(string)
	w.h.Eventually(func() bool { posts, _ := w.in(partnerChannel); return len(posts) == 1 }, "the request reaches the partner")

	r = w.h.As(partner).Request(http.MethodPost, "/api/v1/escalations/"+escID+"/decline", map[string]any{"reason": "not ours"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	declined := r.Map(t)
	r = w.h.As(partner).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	r = w.h.As(regionCoord).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID,
		map[string]any{"tlp": "TLP:AMBER", "title": "AMBERSECRET exfiltration via the portal"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.rootShows(t, inc.Reference, "AMBERSECRET")
	requireNeutralRoot(t, w, inc.Reference, "AMBERSECRET", "TLP:AMBER", "declined")
	require.Nil(t, declined["incident_title"], "the decline's answer shows no title the partner no longer sees")
}

// Finding 1, second reproduction: the same after a GREEN→AMBER raise alone
// (the partner never declined; a partner does not see AMBER escalated to
// it). The pending escalation is cancelled in the same transaction.
func TestFinding1GreenToAmberRaiseStopsPartnerRoot(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	partner := w.partner(t)
	inc := w.report(t, "Credential phishing wave", "TLP:GREEN")
	w.sentFor(t, w.cert, inc.ID, 1)
	_, regionCoord := w.h.User("region-north", access.Coordinator)
	r := w.h.As(regionCoord).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/escalations",
		map[string]any{"to": "partner-cert", "reason": "cross-border"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	escID := r.Map(t)["id"].(string)
	w.h.Eventually(func() bool { posts, _ := w.in(partnerChannel); return len(posts) == 1 }, "the request reaches the partner")

	r = w.h.As(regionCoord).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID,
		map[string]any{"tlp": "TLP:AMBER", "title": "AMBERSECRET ministry mailbox"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.rootShows(t, inc.Reference, "AMBERSECRET")
	requireNeutralRoot(t, w, inc.Reference, "AMBERSECRET", "TLP:AMBER")

	r = w.h.As(partner).Request(http.MethodGet, "/api/v1/escalations/"+escID, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	e := r.Map(t)
	require.Equal(t, "cancelled", e["state"], "the partner can no longer be asked")
	require.Nil(t, e["incident_title"])
	r = w.h.As(partner).Request(http.MethodPost, "/api/v1/escalations/"+escID+"/accept", nil)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
}

// Finding 1, third reproduction, and finding 3: an escalation policy's
// notify rule names a partner that does not see the TLP:GREEN incident.
// Nothing is sent to it (no title, no reference), so no thread is opened
// there that later changes would feed; the timer says why it was skipped.
func TestFinding3PolicyNotifyToPartnerThatMayNotSee(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	w.partner(t)
	_, regionAdmin := w.h.User("region-north", access.Admin)
	r := w.h.As(regionAdmin).Request(http.MethodPut, "/api/v1/organizations/region-north/escalation-policy", map[string]any{
		"rules": []any{map[string]any{"name": "tell-partner", "unacknowledged_for": "immediately", "action": "notify", "to": "partner-cert"}}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	inc := w.report(t, "POLICYSECRET phishing kit", "TLP:GREEN")
	var state, note string
	w.h.Eventually(func() bool {
		err := w.h.App.DB.Pool.QueryRow(context.Background(), `SELECT state, note FROM escalation_timers WHERE incident_id = $1`, inc.ID).Scan(&state, &note)
		return err == nil && state != "scheduled"
	}, "the policy timer ran")
	require.Equal(t, "skipped", state)
	require.Contains(t, note, "partner-cert does not see the incident")
	require.Equal(t, 0, w.timelineKinds(t, inc.ID, "escalation_policy_notified"), "nobody was told")

	r = w.h.As(w.cert).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"title": "POLICYSECRET-2 phishing kit"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	w.rootShows(t, inc.Reference, "POLICYSECRET-2")
	posts, ups := w.in(partnerChannel)
	require.Empty(t, posts, "nothing about the incident reached the partner")
	require.Empty(t, ups)
}

// Finding 2 through Slack: the regional CERT asks the national CERT to
// coordinate a TLP:AMBER incident; the reporter raises it to
// TLP:AMBER+STRICT; the national CERT no longer sees it, and its Accept
// button must not make it the coordinator.
func TestFinding2SlackAcceptAfterStrictRaise(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, testSecret)
	inc := w.report(t, "Ransomware at the hospital", "TLP:AMBER")
	w.sentFor(t, w.cert, inc.ID, 1)
	_, regionCoord := w.h.User("region-north", access.Coordinator)
	r := w.h.As(regionCoord).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "reason": "national coordination"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	escID := r.Map(t)["id"].(string)

	r = w.h.As(w.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"tlp": "TLP:AMBER+STRICT"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	nationalUser, nationalToken := w.h.User("national-cert", access.Coordinator)
	r = w.h.As(nationalToken).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	w.slackUsers.add("U0NATIONAL", nationalUser.Email)
	r = w.signed("/slack/interactions", w.press("U0NATIONAL", "accept_escalation", escID, "strict-accept"), testSecret, w.h.Clock.Now())
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	reply := w.replyTo(t, "strict-accept")
	require.NotContains(t, reply, "You accepted")
	require.Contains(t, reply, "Not done")
	require.Equal(t, "region-north", w.incident(t, inc.ID).CoordinatingOrg, "the requesting CERT still coordinates")
	r = w.h.As(nationalToken).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "the national CERT did not get the incident")
}

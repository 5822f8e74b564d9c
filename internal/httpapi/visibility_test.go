package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// secListAll pages through GET /api/v1/incidents (with extra query, e.g.
// "&tlp=..."), limit at a time, and returns the IDs in order.
func secListAll(t *testing.T, h *testapp.Harness, token string, limit int, query string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 200, "pagination does not end")
		path := fmt.Sprintf("/api/v1/incidents?limit=%d%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.As(token).Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var l secIncidentList
		r.JSON(t, &l)
		require.LessOrEqual(t, len(l.Incidents), limit)
		for _, b := range l.Incidents {
			ids = append(ids, b.ID)
		}
		if l.NextCursor == nil {
			return ids
		}
		require.NotEmpty(t, l.Incidents, "a page with a next cursor is not empty")
		cursor = *l.NextCursor
	}
}

// TestListsNeverLeak seeds incidents of every TLP in three cities, shares
// and escalates some of them, and checks that every viewer's list — paged —
// holds exactly the incidents the rule table lets it see, and that every
// other incident answers 404 without showing anything of itself.
func TestListsNeverLeak(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	tr := seedSecTree(h)
	ctx := context.Background()

	reporters := map[string]secUser{}
	for _, city := range []string{"city-a", "city-b", "city-c"} {
		reporters[city] = secNewUser(h, city, access.Reporter)
	}
	northResponder := secNewUser(h, "region-north", access.Responder)
	southResponder := secNewUser(h, "region-south", access.Responder)

	// Two incidents per TLP in each city.
	byKey := map[string]*secIncident{}
	var incs []*secIncident
	for _, city := range []string{"city-a", "city-b", "city-c"} {
		for _, tlp := range secTLPs {
			for i := range 2 {
				key := fmt.Sprintf("%s %s #%d", city, tlp, i)
				inc := secReport(t, h, reporters[city], "Secret "+key+" "+uuid.NewString()[:8], tlp)
				byKey[key] = inc
				incs = append(incs, inc)
			}
		}
	}
	secWaitRouted(t, h, incs...)
	for _, inc := range incs {
		want := map[string]string{"city-a": "region-north", "city-b": "region-north", "city-c": "region-south"}[inc.Reporting]
		require.Equal(t, want, inc.Coordinating, "%s is coordinated by the regional CERT above it", inc.Ref)
	}

	// Explicit shares: with the partner, and with a city of another region.
	secShare(t, h, northResponder, byKey["city-a TLP:GREEN #0"], "partner", http.StatusCreated)
	secShare(t, h, northResponder, byKey["city-a TLP:AMBER #0"], "partner", http.StatusCreated)
	secShare(t, h, northResponder, byKey["city-b TLP:CLEAR #1"], "partner", http.StatusCreated)
	secShare(t, h, southResponder, byKey["city-c TLP:AMBER #0"], "city-a", http.StatusCreated)
	secShare(t, h, southResponder, byKey["city-c TLP:GREEN #1"], "city-b", http.StatusCreated)
	// Refused: restricted TLPs are not shared with organisations (409), and
	// a RED incident the sharer cannot see is not found (404).
	secShare(t, h, northResponder, byKey["city-b TLP:AMBER+STRICT #0"], "partner", http.StatusConflict)
	secShare(t, h, southResponder, byKey["city-c TLP:RED #0"], "partner", http.StatusNotFound)
	secShare(t, h, northResponder, byKey["city-c TLP:AMBER #1"], "partner", http.StatusNotFound) // not north's to share

	// Escalations (no API yet: seeded as the escalation feature will store
	// them). A partner sees GREEN/CLEAR ones escalated to it but AMBER only
	// when shared explicitly; an organisation in the tree sees AMBER too.
	escalate := func(inc *secIncident, orgSlug string) {
		_, err := h.App.DB.Pool.Exec(ctx, `INSERT INTO incident_shares (incident_id, org_id, kind, note)
			VALUES ($1, (SELECT id FROM organizations WHERE slug = $2), 'escalation', 'test')`, inc.ID, orgSlug)
		require.NoError(t, err)
		inc.shares[orgSlug] = "escalation"
	}
	escalate(byKey["city-b TLP:GREEN #0"], "partner")
	escalate(byKey["city-b TLP:AMBER #1"], "partner")
	escalate(byKey["city-c TLP:CLEAR #0"], "region-north")
	escalate(byKey["city-c TLP:AMBER #1"], "city-b")

	// An organisation that only received an incident reads it but may not
	// pass it on: a city it was shared with, a partner.
	cityAResponder := secNewUser(h, "city-a", access.Responder)
	partnerResponder := secNewUser(h, "partner", access.Responder)
	for _, tc := range []struct {
		by  secUser
		inc *secIncident
	}{{cityAResponder, byKey["city-c TLP:AMBER #0"]}, {partnerResponder, byKey["city-a TLP:GREEN #0"]}, {partnerResponder, byKey["city-a TLP:AMBER #0"]}} {
		require.Equal(t, http.StatusOK, h.As(tc.by.Token).Request(http.MethodGet, "/api/v1/incidents/"+tc.inc.Ref, nil).Status)
		secShare(t, h, tc.by, tc.inc, "city-b", http.StatusForbidden)
		r := h.As(tc.by.Token).Request(http.MethodPost, "/api/v1/incidents/"+tc.inc.ID+"/participants", map[string]any{"email": tc.by.Email})
		require.Equal(t, http.StatusForbidden, r.Status, "%s/%s names a participant of %s it only received: %s", tc.by.OrgSlug, tc.by.Role, tc.inc.Ref, r.Body)
	}

	viewers := []secUser{northResponder, southResponder, cityAResponder, partnerResponder}
	for _, o := range tr.order {
		if o != "sink" {
			viewers = append(viewers, secNewUser(h, o, access.Viewer))
		}
	}
	for _, city := range []string{"city-a", "city-b", "city-c"} {
		viewers = append(viewers, reporters[city]) // participants of their own reports
	}

	for _, v := range viewers {
		t.Run(v.OrgSlug+"/"+string(v.Role), func(t *testing.T) {
			want := map[string]bool{}
			var invisible []*secIncident
			for _, inc := range incs {
				if tr.sees(v.ID, v.OrgSlug, inc) {
					want[inc.ID] = true
				} else {
					invisible = append(invisible, inc)
				}
			}
			got := secListAll(t, h, v.Token, 4, "")
			seen := map[string]bool{}
			for _, id := range got {
				require.False(t, seen[id], "incident %s is on two pages", id)
				seen[id] = true
			}
			require.Equal(t, secNames(incs, want), secNames(incs, seen), "the list holds exactly what the rule table allows")

			// The same through a filter.
			amber := secListAll(t, h, v.Token, 3, "&tlp="+url.QueryEscape(string(incident.TLPAmber)))
			wantAmber := map[string]bool{}
			for _, inc := range incs {
				if inc.TLP == incident.TLPAmber && want[inc.ID] {
					wantAmber[inc.ID] = true
				}
			}
			gotAmber := map[string]bool{}
			for _, id := range amber {
				gotAmber[id] = true
			}
			require.Equal(t, secNames(incs, wantAmber), secNames(incs, gotAmber), "the TLP filter narrows the visible set only")

			// Every invisible incident: 404, by UUID and by reference, on
			// the incident and its timeline, without a word of it.
			for _, inc := range invisible {
				for _, path := range []string{"/api/v1/incidents/" + inc.ID, "/api/v1/incidents/" + inc.Ref + "/timeline"} {
					r := h.As(v.Token).Request(http.MethodGet, path, nil)
					require.Equal(t, http.StatusNotFound, r.Status, "%s (%s of %s) as %s/%s: %s", path, inc.TLP, inc.Reporting, v.OrgSlug, v.Role, r.Body)
					require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
					require.False(t, bytes.Contains(r.Body, []byte(inc.Title)), "the 404 shows the title: %s", r.Body)
					require.False(t, bytes.Contains(r.Body, []byte("Secret")), "the 404 shows incident data: %s", r.Body)
				}
			}
			// And one visible incident answers 200 both ways (not a
			// blanket 404).
			for _, inc := range incs {
				if want[inc.ID] {
					require.Equal(t, http.StatusOK, h.As(v.Token).Request(http.MethodGet, "/api/v1/incidents/"+inc.Ref, nil).Status)
					require.Equal(t, http.StatusOK, h.As(v.Token).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline", nil).Status)
					break
				}
			}
		})
	}
}

// secNames turns a set of incident IDs into sorted readable names, so that
// a failure says which incident leaked or went missing.
func secNames(incs []*secIncident, ids map[string]bool) []string {
	out := []string{}
	for _, inc := range incs {
		if ids[inc.ID] {
			out = append(out, fmt.Sprintf("%s (%s, %s)", inc.Ref, inc.TLP, inc.Reporting))
		}
	}
	for id := range ids { // anything not seeded here
		found := false
		for _, inc := range incs {
			found = found || inc.ID == id
		}
		if !found {
			out = append(out, "unknown incident "+id)
		}
	}
	sort.Strings(out)
	return out
}

// TestParticipantSeesRed: a TLP:RED incident is seen by its named
// participants only, whatever their organisation, and never by
// organisations as a whole.
func TestParticipantSeesRed(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	seedSecTree(h)
	ctx := context.Background()

	reporter := secNewUser(h, "city-a", access.Reporter)
	responder := secNewUser(h, "city-a", access.Responder)
	national := secNewUser(h, "national-cert", access.Responder)
	others := []secUser{
		secNewUser(h, "city-a", access.Viewer),
		secNewUser(h, "city-a", access.Admin),
		secNewUser(h, "region-north", access.Responder),
		secNewUser(h, "region-north", access.Admin),
		secNewUser(h, "national-cert", access.Viewer),
		secNewUser(h, "national-cert", access.Admin),
		secNewUser(h, "partner", access.Responder),
	}
	title := "Minister's mailbox compromised " + uuid.NewString()[:8]
	body := map[string]any{"title": title, "severity": "high", "tlp": "TLP:RED"}
	r := h.As(reporter.Token).Request(http.MethodPost, "/api/v1/incidents", body, "Idempotency-Key", "red-1")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var created secIncidentBody
	r.JSON(t, &created)
	red := &secIncident{ID: created.ID, Ref: created.Reference, Title: title, TLP: incident.TLPRed, Reporting: "city-a",
		participants: map[uuid.UUID]bool{reporter.ID: true}, shares: map[string]string{}}
	secWaitRouted(t, h, red)
	// Another user replaying the same key and body gets an incident of its
	// own, never the first one.
	colleague := secNewUser(h, "city-a", access.Reporter)
	r = h.As(colleague.Token).Request(http.MethodPost, "/api/v1/incidents", body, "Idempotency-Key", "red-1")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	var other secIncidentBody
	r.JSON(t, &other)
	require.NotEqual(t, red.ID, other.ID, "an idempotency key is the caller's own")

	listed := func(u secUser) bool {
		for _, id := range secListAll(t, h, u.Token, 50, "") {
			if id == red.ID {
				return true
			}
		}
		return false
	}
	get := func(u secUser, path string) int { return h.As(u.Token).Request(http.MethodGet, path, nil).Status }

	require.Equal(t, http.StatusOK, get(reporter, "/api/v1/incidents/"+red.ID), "the reporting user is a participant")
	require.True(t, listed(reporter))
	require.Equal(t, http.StatusNotFound, get(responder, "/api/v1/incidents/"+red.ID), "a colleague of the reporter is not")
	require.Equal(t, http.StatusNotFound, get(national, "/api/v1/incidents/"+red.Ref))
	// The reporter names participants on its own TLP:RED report (issue 10,
	// finding 11: the originator decides who receives TLP:RED).
	r = h.As(reporter.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.ID+"/participants", map[string]any{"email": national.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	red.participants[national.ID] = true

	_, err := h.App.Incidents.AddParticipant(ctx, access.System, red.Ref, responder.Email)
	require.NoError(t, err)
	red.participants[responder.ID] = true
	require.Equal(t, http.StatusOK, get(responder, "/api/v1/incidents/"+red.Ref))

	r = h.As(responder.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.Ref+"/participants", map[string]any{"email": national.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	red.participants[national.ID] = true
	r = h.As(responder.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.Ref+"/participants", map[string]any{"email": "nobody@nowhere.example"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	r = h.As(responder.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.Ref+"/shares", map[string]any{"org": "partner"})
	require.Equal(t, http.StatusConflict, r.Status, "a participant may not share TLP:RED with an organisation: %s", r.Body)

	for _, path := range []string{"/api/v1/incidents/" + red.ID, "/api/v1/incidents/" + red.Ref, "/api/v1/incidents/" + red.ID + "/timeline"} {
		require.Equal(t, http.StatusOK, get(national, path), "the named participant sees %s", path)
	}
	// A participant from an organisation that does not own the incident
	// reads it but may not pass it on.
	guest := secNewUser(h, "partner", access.Responder)
	r = h.As(responder.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.ID+"/participants", map[string]any{"email": guest.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, get(guest, "/api/v1/incidents/"+red.ID), "a participant may belong to any organisation")
	r = h.As(guest.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.ID+"/participants", map[string]any{"email": others[6].Email})
	require.Equal(t, http.StatusForbidden, r.Status, "a guest participant names further participants: %s", r.Body)
	require.True(t, listed(national), "and lists it")
	var tl struct {
		Events []struct {
			Kind string         `json:"kind"`
			Data map[string]any `json:"data"`
		} `json:"events"`
	}
	h.As(national.Token).Request(http.MethodGet, "/api/v1/incidents/"+red.Ref+"/timeline", nil).JSON(t, &tl)
	var added []any
	for _, e := range tl.Events {
		if e.Kind == "participant_added" {
			added = append(added, e.Data["user"])
		}
	}
	require.Contains(t, added, national.Email, "naming a participant is on the timeline")

	for _, u := range others {
		for _, path := range []string{"/api/v1/incidents/" + red.ID, "/api/v1/incidents/" + red.Ref + "/timeline"} {
			r := h.As(u.Token).Request(http.MethodGet, path, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "%s/%s reads %s", u.OrgSlug, u.Role, path)
			require.NotContains(t, string(r.Body), red.Title)
		}
		require.False(t, listed(u), "%s/%s lists the RED incident", u.OrgSlug, u.Role)
		r := h.As(u.Token).Request(http.MethodPost, "/api/v1/incidents/"+red.ID+"/participants", map[string]any{"email": u.Email})
		require.Equal(t, http.StatusNotFound, r.Status, "%s/%s cannot name itself a participant of what it cannot see", u.OrgSlug, u.Role)
	}
}

// TestAuditRecordsSecurityEvents: failed authentications (with the
// client's address), token creation and revocation, and shares are in the
// audit log, which only the national CERT's administrators read.
func TestAuditRecordsSecurityEvents(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	seedSecTree(h)
	nationalAdmin := secNewUser(h, "national-cert", access.Admin)
	nationalViewer := secNewUser(h, "national-cert", access.Viewer)
	regionAdmin := secNewUser(h, "region-north", access.Admin)
	responder := secNewUser(h, "region-north", access.Responder)
	reporter := secNewUser(h, "city-a", access.Reporter)

	// Failed authentications are counted per client address and minute,
	// and summarised into one audit entry per address and minute once the
	// minute has ended (TestFailedAuthenticationIsOneAuditRowPerSourceAndMinute).
	countFailed := func() int {
		var n int
		require.NoError(t, h.App.DB.Pool.QueryRow(context.Background(),
			"SELECT COALESCE(sum(failures), 0) FROM auth_throttle WHERE scope = 'auth.addr' AND key = '127.0.0.1'").Scan(&n))
		return n
	}
	// No credential at all: 401, but nothing was checked, so nothing is counted.
	for _, hdr := range [][]string{nil, {"Authorization", "Basic dXNlcjpwYXNz"}, {"Authorization", "Bearer "}} {
		r := h.Request(http.MethodGet, "/api/v1/me", nil, hdr...)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Equal(t, `Bearer realm="certdesk"`, r.Header.Get("WWW-Authenticate"))
	}
	require.Zero(t, countFailed())

	// A wrong token, with a forged client address that must not be believed
	// (CERTDESK_TRUST_PROXY is off by default).
	bad := "cdt_" + uuid.NewString()
	r := h.As(bad).Request(http.MethodGet, "/api/v1/me", nil, "X-Forwarded-For", "203.0.113.7", "X-Real-IP", "203.0.113.8")
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, 1, countFailed())

	// An expired token (aged in the database: the API refuses a past expiry).
	aged := secNewUser(h, "city-a", access.Viewer)
	agedTok, agedMeta, err := h.App.Identity.CreateToken(context.Background(), access.System, aged.ID, "aged", nil)
	require.NoError(t, err)
	_, err = h.App.DB.Pool.Exec(context.Background(), "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1", agedMeta.ID)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, h.As(agedTok).Request(http.MethodGet, "/api/v1/me", nil).Status, "an expired token is refused")
	require.Equal(t, http.StatusOK, h.As(aged.Token).Request(http.MethodGet, "/api/v1/me", nil).Status, "the user's other token still works")

	// A disabled user's tokens stop at once: they are revoked.
	victim := secNewUser(h, "city-a", access.Responder)
	victimTok, _, err := h.App.Store.TokenByHash(context.Background(), identity.HashToken(victim.Token))
	require.NoError(t, err)
	r = h.As(regionAdmin.Token).Request(http.MethodPatch, "/api/v1/users/"+victim.ID.String(), map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusUnauthorized, h.As(victim.Token).Request(http.MethodGet, "/api/v1/me", nil).Status)

	r = h.As(responder.Token).Request(http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var tok struct{ ID, Token string }
	r.JSON(t, &tok)
	r = h.As(responder.Token).Request(http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	r = h.As(tok.Token).Request(http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "a revoked token is refused")
	r = h.As(responder.Token).Request(http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "revoking again changes nothing: %s", r.Body)

	inc := secReport(t, h, reporter, "Phishing wave "+uuid.NewString()[:8], incident.TLPGreen)
	secWaitRouted(t, h, inc)
	secShare(t, h, responder, inc, "partner", http.StatusCreated)

	type entry struct {
		Action     string         `json:"action"`
		Actor      string         `json:"actor"`
		TargetType string         `json:"target_type"`
		TargetID   string         `json:"target_id"`
		RemoteAddr string         `json:"remote_addr"`
		Data       map[string]any `json:"data"`
	}
	h.Advance(2 * time.Minute) // the minutes of the failures have ended
	_, err = h.App.Sweeper.Sweep(context.Background())
	require.NoError(t, err)

	var entries []entry
	var raw []byte
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 100)
		path := "/api/v1/audit?limit=20"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.As(nationalAdmin.Token).Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		raw = append(raw, r.Body...)
		var p struct {
			Entries    []entry `json:"entries"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &p)
		entries = append(entries, p.Entries...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	find := func(pred func(e entry) bool, what string) entry {
		t.Helper()
		for _, e := range entries {
			if pred(e) {
				return e
			}
		}
		require.Failf(t, "missing audit entry", "%s; the log holds: %s", what, raw)
		return entry{}
	}
	// The failures from 127.0.0.1, summarised: one entry per minute, each
	// reason counted; a known token is named by its ID.
	reasons := map[string]float64{}
	for _, e := range entries {
		if e.Action != "auth.failed" {
			continue
		}
		require.Equal(t, "127.0.0.1", e.RemoteAddr, "a failed authentication records where it came from, not what X-Forwarded-For claims")
		require.Equal(t, "anonymous", e.Actor)
		require.Equal(t, "address", e.TargetType)
		rs, _ := e.Data["reasons"].(map[string]any)
		for k, v := range rs {
			reasons[k] += v.(float64)
		}
	}
	require.Equal(t, map[string]float64{"unknown token": 1, "expired token " + agedMeta.ID.String(): 1,
		"revoked token " + victimTok.ID.String(): 1, "revoked token " + tok.ID: 1}, reasons, "the log holds: %s", raw)
	e := find(func(e entry) bool { return e.Action == "user.changed" && e.TargetID == victim.ID.String() }, "user.changed (disabled)")
	require.Equal(t, regionAdmin.Email, e.Actor)
	require.Equal(t, true, e.Data["disabled"])
	e = find(func(e entry) bool { return e.Action == "token.revoked" && e.TargetID == victimTok.ID.String() }, "token.revoked (user disabled)")
	require.Equal(t, "user disabled", e.Data["reason"])
	require.Equal(t, regionAdmin.Email, e.Actor)
	e = find(func(e entry) bool { return e.Action == "token.created" && e.TargetID == tok.ID }, "token.created")
	require.Equal(t, responder.Email, e.Actor)
	require.Equal(t, "127.0.0.1", e.RemoteAddr)
	revoked := 0
	for _, e := range entries {
		if e.Action == "token.revoked" && e.TargetID == tok.ID {
			revoked++
		}
	}
	require.Equal(t, 1, revoked, "token.revoked once: the second revocation changed nothing")
	e = find(func(e entry) bool { return e.Action == "incident.shared" && e.TargetID == inc.Ref }, "incident.shared")
	require.Equal(t, responder.Email, e.Actor)
	require.Equal(t, "partner", e.Data["org"])
	require.Equal(t, "127.0.0.1", e.RemoteAddr)

	require.NotContains(t, string(raw), tok.Token, "the audit log never holds a token")
	require.NotContains(t, string(raw), agedTok)
	require.NotContains(t, string(raw), bad, "not even a wrong one")

	for _, u := range []secUser{regionAdmin, nationalViewer, responder} {
		r := h.As(u.Token).Request(http.MethodGet, "/api/v1/audit", nil)
		require.Equal(t, http.StatusForbidden, r.Status, "%s/%s reads the audit log", u.OrgSlug, u.Role)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	}
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// redWorld: a national CERT, two regional CERTs with a city each, a
// partner; a user of every role in each, and a duty officer (a responder)
// in region-north.
type redWorld struct {
	h     *testapp.Harness
	users map[string]map[access.Role]secUser
	duty  secUser
}

func newRedWorld(t *testing.T) *redWorld {
	t.Helper()
	secWarmSpec(t)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	for _, o := range []struct {
		slug   string
		kind   org.Kind
		parent string
	}{
		{"national-cert", org.NationalCERT, ""}, {"region-north", org.RegionalCERT, "national-cert"},
		{"city-a", org.LocalAuthority, "region-north"}, {"region-south", org.RegionalCERT, "national-cert"},
		{"city-c", org.LocalAuthority, "region-south"}, {"partner", org.Partner, ""},
	} {
		h.Org(o.slug, o.kind, o.parent)
	}
	w := &redWorld{h: h, users: map[string]map[access.Role]secUser{}}
	for _, o := range []string{"national-cert", "region-north", "city-a", "region-south", "city-c", "partner"} {
		w.users[o] = map[access.Role]secUser{}
		for _, r := range secAllRoles {
			w.users[o][r] = secNewUser(h, o, r)
		}
	}
	w.duty = secNewUser(h, "region-north", access.Responder)
	return w
}

func (w *redWorld) u(orgSlug string, r access.Role) secUser { return w.users[orgSlug][r] }

func (w *redWorld) as(u secUser) *testapp.Harness { return w.h.As(u.Token) }

// report files an incident as the city's reporter and returns its ID and
// reference (not waiting for its routing).
func (w *redWorld) report(t *testing.T, city, title string, tlp incident.TLP) (string, string) {
	t.Helper()
	r := w.as(w.u(city, access.Reporter)).Request(http.MethodPost, "/api/v1/incidents",
		map[string]any{"title": title, "severity": "high", "tlp": string(tlp)})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var b struct{ ID, Reference string }
	r.JSON(t, &b)
	return b.ID, b.Reference
}

func (w *redWorld) waitRouted(t *testing.T, id string) {
	t.Helper()
	w.h.Eventually(func() bool {
		inc, err := w.h.App.Incidents.Get(context.Background(), access.System, id)
		return err == nil && inc.CoordinatingOrgSlug != ""
	}, "the incident is routed")
}

// designate sets region-north's TLP:RED recipients as its admin.
func (w *redWorld) designate(t *testing.T, users ...secUser) map[string]any {
	t.Helper()
	emails := []string{}
	for _, u := range users {
		emails = append(emails, u.Email)
	}
	r := w.as(w.u("region-north", access.Admin)).Request(http.MethodPut, "/api/v1/organizations/region-north/red-recipients",
		map[string]any{"recipients": emails})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.Map(t)
}

// participantEvents returns, by user e-mail, the reason of each
// participant_added event on the incident's timeline.
func participantEvents(t *testing.T, h *testapp.Harness, id string) map[string]string {
	t.Helper()
	_, evs, _, err := h.App.Incidents.Timeline(context.Background(), access.System, id,
		[]incident.EventKind{incident.EventParticipantAdded}, incident.Page{Limit: 500})
	require.NoError(t, err)
	out := map[string]string{}
	for _, ev := range evs {
		var d struct{ User, Reason string }
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		out[d.User] = d.Reason
	}
	return out
}

// routedEvent returns the data of the incident's routed event.
func routedEvent(t *testing.T, h *testapp.Harness, id string) map[string]any {
	t.Helper()
	_, evs, _, err := h.App.Incidents.Timeline(context.Background(), access.System, id,
		[]incident.EventKind{incident.EventRouted}, incident.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(evs[0].Data, &m))
	return m
}

// routedMessage returns the header and text of the routing notification
// to the organisation slug.
func routedMessage(t *testing.T, h *testapp.Harness, id, slug string) (string, string) {
	t.Helper()
	var header, text string
	require.NoError(t, h.App.DB.SQL.QueryRow(`SELECT n.message->>'header', n.message->>'text' FROM notifications n
		JOIN organizations o ON o.id = n.recipient_org_id
		WHERE n.incident_id = $1 AND n.event_kind = 'incident.routed' AND o.slug = $2`, id, slug).Scan(&header, &text))
	return header, text
}

func status(h *testapp.Harness, u secUser, method, path string, body any) int {
	return h.As(u.Token).Request(method, path, body).Status
}

// Issue 10, finding 11: a city's TLP:RED report reaches the regional
// CERT's designated TLP:RED recipients, who read and acknowledge it; the
// rest of the CERT still gets 404; the timeline says who was added.
func TestRedReportReachesTheCERTsRedRecipients(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	h := w.h
	got := w.designate(t, w.duty)
	require.Equal(t, "designated", got["source"])
	require.Empty(t, got["warnings"])

	title := "SECRET-RED minister's mailbox " + uuid.NewString()[:8]
	id, ref := w.report(t, "city-a", title, incident.TLPRed)
	w.waitRouted(t, id)

	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref, nil), "the duty officer reads it")
	r := w.as(w.duty).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, r.Status, "the duty officer acknowledges it: %s", r.Body)
	require.NotNil(t, r.Map(t)["acknowledged_at"])
	for _, role := range secAllRoles {
		u := w.u("region-north", role)
		require.Equal(t, http.StatusNotFound, status(h, u, http.MethodGet, "/api/v1/incidents/"+ref, nil), "region-north's %s", role)
		require.Equal(t, http.StatusNotFound, status(h, u, http.MethodPost, "/api/v1/incidents/"+ref+"/acknowledge", nil), "region-north's %s", role)
	}
	require.Equal(t, http.StatusNotFound, status(h, w.u("city-a", access.Responder), http.MethodGet, "/api/v1/incidents/"+ref, nil),
		"the reporter's colleagues are not told")
	require.Equal(t, http.StatusNotFound, status(h, w.u("national-cert", access.Coordinator), http.MethodGet, "/api/v1/incidents/"+ref, nil))

	// The timeline says who was added, and why.
	require.Equal(t, map[string]string{w.duty.Email: "TLP:RED recipient of region-north"}, participantEvents(t, h, id),
		"the reporting user was a participant from the start; the duty officer was added")
	routed := routedEvent(t, h, id)
	require.Equal(t, "region-north", routed["coordinating_org"])
	require.Equal(t, "designated", routed["red_source"])
	require.Equal(t, []any{w.duty.Email}, routed["red_recipients"])
	r = w.as(w.duty).Request(http.MethodGet, "/api/v1/incidents/"+ref+"/timeline", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), "TLP:RED recipient of region-north")

	// The CERT's channel hears of it without the title.
	header, text := routedMessage(t, h, id, "region-north")
	require.NotContains(t, header+text, "SECRET")
	require.Contains(t, header, "New TLP:RED incident")
	require.Contains(t, text, "TLP:RED recipients")
}

// With none designated, the CERT's coordinators are named instead, and
// its admins are warned: in the organisation's API answer, in the
// red-recipients answer, and in the channel (without the title).
func TestRedReportWithoutRecipientsGoesToCoordinatorsWithAWarning(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	h := w.h
	title := "SECRET-RED leaked payroll " + uuid.NewString()[:8]
	id, ref := w.report(t, "city-a", title, incident.TLPRed)
	w.waitRouted(t, id)

	coord := w.u("region-north", access.Coordinator)
	require.Equal(t, http.StatusOK, status(h, coord, http.MethodGet, "/api/v1/incidents/"+ref, nil))
	require.Equal(t, http.StatusOK, status(h, coord, http.MethodPost, "/api/v1/incidents/"+ref+"/acknowledge", nil))
	for _, u := range []secUser{w.duty, w.u("region-north", access.Responder), w.u("region-north", access.Admin), w.u("region-north", access.Viewer)} {
		require.Equal(t, http.StatusNotFound, status(h, u, http.MethodGet, "/api/v1/incidents/"+ref, nil), "%s", u.Email)
	}
	events := participantEvents(t, h, id)
	require.Equal(t, "coordinator of region-north, which has designated no TLP:RED recipients", events[coord.Email])
	routed := routedEvent(t, h, id)
	require.Equal(t, "coordinators", routed["red_source"])
	require.Contains(t, routed["warning"], "region-north has designated no TLP:RED recipients")

	header, text := routedMessage(t, h, id, "region-north")
	require.NotContains(t, header+text, "SECRET")
	require.Contains(t, text, "no TLP:RED recipients are designated")

	// The admins see the warning on their organisation.
	admin := w.u("region-north", access.Admin)
	r := w.as(admin).Request(http.MethodGet, "/api/v1/organizations/region-north", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var o struct {
		Warnings []struct{ Code, Message string } `json:"warnings"`
	}
	r.JSON(t, &o)
	require.Len(t, o.Warnings, 1, "%s", r.Body)
	require.Equal(t, "no_red_recipients", o.Warnings[0].Code)
	require.Contains(t, o.Warnings[0].Message, coord.Email)
	national := w.as(w.u("national-cert", access.Admin)).Request(http.MethodGet, "/api/v1/organizations/region-north", nil)
	require.Contains(t, string(national.Body), "no_red_recipients", "the admins of the CERT above manage it too")
	for _, u := range []secUser{w.u("region-north", access.Responder), w.u("city-a", access.Admin), w.u("region-south", access.Admin)} {
		r := w.as(u).Request(http.MethodGet, "/api/v1/organizations/region-north", nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.NotContains(t, string(r.Body), "warnings", "only its managing admins see warnings: %s", u.Email)
	}
	rr := w.as(admin).Request(http.MethodGet, "/api/v1/organizations/region-north/red-recipients", nil)
	require.Equal(t, http.StatusOK, rr.Status, "%s", rr.Body)
	require.Equal(t, "coordinators", rr.Map(t)["source"])

	// Once designated, the warning is gone and the next report goes to the
	// duty officer only.
	w.designate(t, w.duty)
	r = w.as(admin).Request(http.MethodGet, "/api/v1/organizations/region-north", nil)
	require.NotContains(t, string(r.Body), "warnings", "nothing to fix")
	id2, ref2 := w.report(t, "city-a", "SECRET-RED second "+uuid.NewString()[:8], incident.TLPRed)
	w.waitRouted(t, id2)
	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref2, nil))
	require.Equal(t, http.StatusNotFound, status(h, coord, http.MethodGet, "/api/v1/incidents/"+ref2, nil))
}

// A PATCH raising a routed incident to TLP:RED reaches the coordinating
// CERT's recipients the same way, and keeps the user who raised it.
func TestRaisingToRedReachesTheRecipients(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	h := w.h
	w.designate(t, w.duty)
	id, ref := w.report(t, "city-a", "Suspicious mail rules", incident.TLPAmber)
	w.waitRouted(t, id)
	responder := w.u("region-north", access.Responder)
	r := w.as(responder).Request(http.MethodPatch, "/api/v1/incidents/"+ref, map[string]any{"tlp": "TLP:RED"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref, nil), "the duty officer is named")
	require.Equal(t, http.StatusOK, status(h, responder, http.MethodGet, "/api/v1/incidents/"+ref, nil), "who raised it keeps it")
	require.Equal(t, http.StatusNotFound, status(h, w.u("region-north", access.Coordinator), http.MethodGet, "/api/v1/incidents/"+ref, nil))
	require.Equal(t, http.StatusOK, status(h, w.u("city-a", access.Reporter), http.MethodGet, "/api/v1/incidents/"+ref, nil))
	events := participantEvents(t, h, id)
	require.Equal(t, "TLP:RED recipient of region-north (raised to TLP:RED)", events[w.duty.Email])
	require.Equal(t, "raised the incident to TLP:RED", events[responder.Email])
	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodPost, "/api/v1/incidents/"+ref+"/acknowledge", nil))

	// The reporter raising its own report does the same.
	id2, ref2 := w.report(t, "city-a", "Another one", incident.TLPGreen)
	w.waitRouted(t, id2)
	r = w.as(w.u("city-a", access.Reporter)).Request(http.MethodPatch, "/api/v1/incidents/"+ref2, map[string]any{"tlp": "red"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref2, nil))
}

// The escalation policy does not run for TLP:RED incidents: no timer is
// scheduled for one, and raising an incident to TLP:RED cancels its timers.
func TestEscalationPolicyDoesNotEscalateRedIncidents(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	h := w.h
	r := w.as(w.u("region-north", access.Admin)).Request(http.MethodPut, "/api/v1/organizations/region-north/escalation-policy", map[string]any{
		"rules": []any{
			map[string]any{"name": "high-unacknowledged", "when": map[string]any{"min_severity": "high"},
				"unacknowledged_for": "15m", "action": "escalate", "to": "parent", "kind": "coordinate", "repeat_up": true},
			map[string]any{"name": "high-notify", "when": map[string]any{"min_severity": "high"},
				"unacknowledged_for": "5m", "action": "notify", "to": "national"},
		},
	})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	red, _ := w.report(t, "city-a", "SECRET-RED from the start", incident.TLPRed)
	amber, amberRef := w.report(t, "city-a", "Raised to RED later", incident.TLPAmber)
	w.waitRouted(t, red)
	w.waitRouted(t, amber)
	require.Empty(t, policyJobs(t, h, red), "no timer for a TLP:RED incident")
	require.Equal(t, map[string]string{"high-unacknowledged": "scheduled: ", "high-notify": "scheduled: "}, timerStates(t, h, amber),
		"the AMBER one has its timers")
	r = w.as(w.u("city-a", access.Reporter)).Request(http.MethodPatch, "/api/v1/incidents/"+amberRef, map[string]any{"tlp": "TLP:RED"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	states := timerStates(t, h, amber)
	require.NotEmpty(t, states)
	for rule, st := range states {
		require.Equal(t, "cancelled: the incident is TLP:RED: it reaches named people, not organisations", st, rule)
	}

	h.Advance(time.Hour)
	waitJobsIdle(t, h, red)
	waitJobsIdle(t, h, amber)
	for _, id := range []string{red, amber} {
		require.Empty(t, escalationsOf(t, h, id))
		var n int
		require.NoError(t, h.App.DB.SQL.QueryRow(`SELECT count(*) FROM notifications WHERE incident_id = $1 AND event_kind = 'escalation.policy'`, id).Scan(&n))
		require.Zero(t, n, "no policy notification")
		require.NotContains(t, timelineKinds(t, h, id), "escalation_policy_notified")
	}
}

// timerStates returns each policy timer of the incident as "state: note", by rule.
func timerStates(t *testing.T, h *testapp.Harness, incidentID string) map[string]string {
	t.Helper()
	rows, err := h.App.DB.SQL.QueryContext(context.Background(), `SELECT rule_name, state, note FROM escalation_timers WHERE incident_id = $1`, incidentID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var rule, state, note string
		require.NoError(t, rows.Scan(&rule, &state, &note))
		out[rule] = state + ": " + note
	}
	require.NoError(t, rows.Err())
	return out
}

// The reporter is told, before submitting, who will receive a TLP:RED
// report: the CERT that routes it and the names of its recipients.
func TestRedRecipientsPreview(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	reporter := w.u("city-a", access.Reporter)
	preview := func(u secUser) (int, map[string]any) {
		r := w.as(u).Request(http.MethodGet, "/api/v1/me/red-recipients", nil)
		if r.Status != http.StatusOK {
			return r.Status, nil
		}
		return r.Status, r.Map(t)
	}
	code, p := preview(reporter)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "region-north", p["organization"])
	require.Equal(t, "coordinators", p["source"])
	require.Equal(t, []any{w.u("region-north", access.Coordinator).Email}, p["recipients"], "a user without a name is shown by e-mail")

	_, err := w.h.App.Identity.UpdateUser(context.Background(), access.System, w.duty.ID, identity.UserPatch{Name: ptrTo("Dana Duty")})
	require.NoError(t, err)
	w.designate(t, w.duty)
	_, p = preview(reporter)
	require.Equal(t, "designated", p["source"])
	require.Equal(t, []any{"Dana Duty"}, p["recipients"])
	require.Contains(t, p["note"], "you")

	// A CERT's own users route to their CERT; a viewer reports nothing.
	_, p = preview(w.u("region-north", access.Responder))
	require.Equal(t, "region-north", p["organization"])
	_, p = preview(w.u("city-c", access.Reporter))
	require.Equal(t, "region-south", p["organization"])
	code, _ = preview(w.u("city-a", access.Viewer))
	require.Equal(t, http.StatusForbidden, code)

	// The use case the web form will call says the same.
	prev, err := w.h.App.Incidents.RedRecipientsFor(context.Background(), reporter.Principal())
	require.NoError(t, err)
	require.Equal(t, "region-north", prev.Org.Slug)
	require.Equal(t, []string{"Dana Duty"}, prev.Names())
}

func ptrTo[T any](v T) *T { return &v }

// Who reads and sets an organisation's TLP:RED recipients, and what a
// designation must be.
func TestRedRecipientsAccessAndValidation(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	path := "/api/v1/organizations/region-north/red-recipients"
	for _, c := range []struct {
		who  secUser
		want int
	}{
		{w.u("region-north", access.Viewer), http.StatusOK},
		{w.u("region-north", access.Reporter), http.StatusOK},
		{w.u("national-cert", access.Responder), http.StatusOK},
		{w.u("city-a", access.Admin), http.StatusForbidden},
		{w.u("region-south", access.Admin), http.StatusForbidden},
		{w.u("partner", access.Admin), http.StatusForbidden},
	} {
		require.Equal(t, c.want, status(w.h, c.who, http.MethodGet, path, nil), "GET as %s", c.who.Email)
	}
	require.Equal(t, http.StatusNotFound, status(w.h, w.u("partner", access.Admin), http.MethodGet, "/api/v1/organizations/city-a/red-recipients", nil))
	require.Equal(t, http.StatusNotFound, status(w.h, w.u("national-cert", access.Admin), http.MethodGet, "/api/v1/organizations/nope/red-recipients", nil))

	body := map[string]any{"recipients": []string{w.duty.Email}}
	for _, c := range []struct {
		who  secUser
		want int
	}{
		{w.u("region-north", access.Coordinator), http.StatusForbidden},
		{w.u("city-a", access.Admin), http.StatusForbidden},
		{w.u("region-south", access.Admin), http.StatusForbidden},
		{w.u("national-cert", access.Admin), http.StatusOK},
		{w.u("region-north", access.Admin), http.StatusOK},
	} {
		require.Equal(t, c.want, status(w.h, c.who, http.MethodPut, path, body), "PUT as %s", c.who.Email)
	}
	r := w.as(w.u("city-a", access.Admin)).Request(http.MethodPut, "/api/v1/organizations/city-a/red-recipients",
		map[string]any{"recipients": []string{w.u("city-a", access.Responder).Email}})
	require.Equal(t, http.StatusConflict, r.Status, "only CERTs route TLP:RED reports: %s", r.Body)

	disabled := secNewUser(w.h, "region-north", access.Responder)
	_, err := w.h.App.Identity.UpdateUser(context.Background(), access.System, disabled.ID, identity.UserPatch{Disabled: ptrTo(true)})
	require.NoError(t, err)
	admin := w.u("region-north", access.Admin)
	for _, c := range []struct {
		name   string
		emails []string
		field  string
		rule   string
	}{
		{"unknown user", []string{"nobody@nowhere.example"}, "recipients[0]", "exists"},
		{"user of another organisation", []string{w.duty.Email, w.u("region-south", access.Responder).Email}, "recipients[1]", "org"},
		{"a viewer cannot acknowledge", []string{w.u("region-north", access.Viewer).Email}, "recipients[0]", "role"},
		{"a reporter cannot acknowledge", []string{w.u("region-north", access.Reporter).Email}, "recipients[0]", "role"},
		{"disabled", []string{disabled.Email}, "recipients[0]", "disabled"},
		{"empty", []string{" "}, "recipients[0]", "required"},
	} {
		r := w.as(admin).Request(http.MethodPut, path, map[string]any{"recipients": c.emails})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", c.name, r.Body)
		require.Contains(t, string(r.Body), `"field":"`+c.field+`","rule":"`+c.rule+`"`, c.name)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = w.duty.Email
	}
	r = w.as(admin).Request(http.MethodPut, path, map[string]any{"recipients": many})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, string(r.Body), `"field":"recipients","rule":"max_items"`)

	// A designation is audited and answered with who it reaches.
	r = w.as(admin).Request(http.MethodPut, path, map[string]any{"recipients": []string{strings.ToUpper(w.duty.Email), w.duty.Email, w.u("region-north", access.Coordinator).Email}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var got struct {
		Organization string
		Source       string
		Recipients   []struct{ Email, Role string }
		Effective    []struct{ Email string } `json:"effective_recipients"`
	}
	r.JSON(t, &got)
	require.Equal(t, "region-north", got.Organization)
	require.Len(t, got.Recipients, 2, "a repeated address counts once")
	require.Len(t, got.Effective, 2)
	var n int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'org.red_recipients_set' AND target_id = 'region-north'`).Scan(&n))
	require.Equal(t, 3, n, "every designation is audited")

	// A designated user disabled later receives nothing, and the admins
	// are told.
	_, err = w.h.App.Identity.UpdateUser(context.Background(), access.System, w.duty.ID, identity.UserPatch{Disabled: ptrTo(true)})
	require.NoError(t, err)
	r = w.as(admin).Request(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &got)
	require.Len(t, got.Effective, 1)
	require.Contains(t, string(r.Body), "red_recipient_inactive")
	// Clearing the designation falls back to the coordinators.
	r = w.as(admin).Request(http.MethodPut, path, map[string]any{"recipients": []string{}})
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &got)
	require.Equal(t, "coordinators", got.Source)
	require.True(t, slices.ContainsFunc(got.Effective, func(e struct{ Email string }) bool {
		return e.Email == w.u("region-north", access.Coordinator).Email
	}))
}

// Reporters of the reporting organisation name participants on their own
// TLP:RED reports (the originator decides who receives TLP:RED); on other
// labels naming participants stays with responders and above.
func TestReporterNamesParticipantsOnOwnRedReport(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	reporter := w.u("city-a", access.Reporter)
	_, ref := w.report(t, "city-a", "SECRET-RED board member's phone", incident.TLPRed)
	colleague := w.u("city-a", access.Responder)
	r := w.as(reporter).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/participants", map[string]any{"email": colleague.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, status(w.h, colleague, http.MethodGet, "/api/v1/incidents/"+ref, nil))
	national := w.u("national-cert", access.Responder)
	r = w.as(reporter).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/participants", map[string]any{"email": national.Email})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, status(w.h, national, http.MethodGet, "/api/v1/incidents/"+ref, nil))
	require.Equal(t, http.StatusNotFound, status(w.h, w.u("city-c", access.Reporter), http.MethodPost, "/api/v1/incidents/"+ref+"/participants",
		map[string]any{"email": national.Email}))

	_, amber := w.report(t, "city-a", "An AMBER report", incident.TLPAmber)
	r = w.as(reporter).Request(http.MethodPost, "/api/v1/incidents/"+amber+"/participants", map[string]any{"email": colleague.Email})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
}

// When the coordination of a TLP:RED incident moves (an escalation handed
// back), the new coordinator's TLP:RED recipients are named too.
func TestRedFollowsCoordinationWhenItMoves(t *testing.T) {
	t.Parallel()
	w := newRedWorld(t)
	h := w.h
	w.designate(t, w.duty)
	id, ref := w.report(t, "city-a", "Spreading to other cities", incident.TLPAmber)
	w.waitRouted(t, id)
	r := w.as(w.u("region-north", access.Responder)).Request(http.MethodPost, "/api/v1/incidents/"+ref+"/escalations",
		map[string]any{"to": "national-cert", "kind": "coordinate", "reason": "national picture"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	escID := r.Map(t)["id"].(string)
	national := w.u("national-cert", access.Coordinator)
	r = w.as(national).Request(http.MethodPost, "/api/v1/escalations/"+escID+"/accept", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// Raised to TLP:RED while the national CERT coordinates: its
	// coordinators are named (it designated nobody), not region-north's duty
	// officer.
	r = w.as(national).Request(http.MethodPatch, "/api/v1/incidents/"+ref, map[string]any{"tlp": "TLP:RED"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusNotFound, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref, nil))

	r = w.as(national).Request(http.MethodPost, "/api/v1/escalations/"+escID+"/return", map[string]any{"reason": "regional matter after all"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, status(h, w.duty, http.MethodGet, "/api/v1/incidents/"+ref, nil), "region-north coordinates again: its duty officer is named")
	require.Equal(t, "TLP:RED recipient of region-north (now coordinating)", participantEvents(t, h, id)[w.duty.Email])
}

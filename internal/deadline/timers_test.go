package deadline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// bundle is a running certdesk with a regional CERT above a city, a
// reporter of the city and a responder of the CERT.
type bundle struct {
	h        *testapp.Harness
	reporter string
	cert     string
}

func setup(t *testing.T, opts testapp.Options) *bundle {
	t.Helper()
	if opts.Playbooks == nil {
		opts.Playbooks = testapp.NoPlaybooks
	}
	h := testapp.New(t, opts)
	h.Org("region", org.RegionalCERT, "")
	h.Org("city", org.LocalAuthority, "region")
	_, reporter := h.User("city", access.Reporter)
	_, cert := h.User("region", access.Responder)
	return &bundle{h: h, reporter: reporter, cert: cert}
}

// report creates an incident from the city with the given extra fields.
func (b *bundle) report(t *testing.T, fields map[string]any) string {
	t.Helper()
	body := map[string]any{"title": "Ransomware at the town hall", "severity": "high", "tlp": "amber"}
	for k, v := range fields {
		body[k] = v
	}
	r := b.h.As(b.reporter).Request(http.MethodPost, "/api/v1/incidents", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.Map(t)["id"].(string)
}

type event struct {
	Kind string
	Data map[string]any
}

func (b *bundle) events(t *testing.T, id string, kind incident.EventKind) []event {
	t.Helper()
	r := b.h.As(b.cert).Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind="+string(kind), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var tl struct{ Events []event }
	r.JSON(t, &tl)
	return tl.Events
}

// waitEvents waits until the incident has n events of kind.
func (b *bundle) waitEvents(t *testing.T, id string, kind incident.EventKind, n int) []event {
	t.Helper()
	var evs []event
	b.h.Eventually(func() bool { evs = b.events(t, id, kind); return len(evs) >= n }, "waiting for "+string(kind))
	require.Len(t, evs, n)
	return evs
}

type job struct {
	ID    int64
	State string
	Args  deadline.TimerJob
}

// jobs returns the incident's timer jobs in River.
func (b *bundle) jobs(t *testing.T, id string) []job {
	t.Helper()
	rows, err := b.h.App.DB.SQL.QueryContext(context.Background(), `SELECT id, state, args FROM river_job
		WHERE kind = 'deadline.timer' AND args->>'incident_id' = $1 ORDER BY id`, id)
	require.NoError(t, err)
	defer rows.Close()
	var out []job
	for rows.Next() {
		var j job
		var args []byte
		require.NoError(t, rows.Scan(&j.ID, &j.State, &args))
		require.NoError(t, json.Unmarshal(args, &j.Args))
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// settled waits until no timer job of the incident is due or running, so
// that "nothing happened" is known after the workers had their turn.
func (b *bundle) settled(t *testing.T, id string) {
	t.Helper()
	b.h.Eventually(func() bool {
		for _, j := range b.jobs(t, id) {
			if j.State == "available" || j.State == "running" || j.State == "retryable" {
				return false
			}
		}
		return true
	}, "timer jobs settled")
}

func find(js []job, kind incident.DeadlineKind, point string) []job {
	var out []job
	for _, j := range js {
		if j.Args.Deadline == kind && j.Args.Point == point {
			out = append(out, j)
		}
	}
	return out
}

type notification struct {
	EventKind    string `json:"event_kind"`
	RecipientOrg string `json:"recipient_org"`
	Message      struct{ Header, Text string }
}

func (b *bundle) notifications(t *testing.T, id, kind string) []notification {
	t.Helper()
	r := b.h.As(b.cert).Request(http.MethodGet, "/api/v1/notifications?incident="+id, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Notifications []notification }
	r.JSON(t, &l)
	var out []notification
	for _, n := range l.Notifications {
		if n.EventKind == kind {
			out = append(out, n)
		}
	}
	return out
}

func recipients(ns []notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.RecipientOrg)
	}
	return out
}

// A significant incident is reminded of its early warning at 50 % and 90 %
// of the 24 hours, in both organisations, and its miss is recorded once.
func TestRemindersFireAtConfiguredPointsAndMissIsRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"significant": true})
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "incident.routed")) == 1 }, "routed")
	js := b.jobs(t, id)
	require.Len(t, js, 9, "three NIS2 deadlines, each with two reminders and a due time")
	for _, j := range js {
		require.Equal(t, "scheduled", j.State)
	}

	b.h.Advance(12*time.Hour + time.Minute)
	evs := b.waitEvents(t, id, deadline.EventReminder, 1)
	require.Equal(t, "nis2_early_warning", evs[0].Data["kind"])
	require.Equal(t, "50%", evs[0].Data["point"])
	require.Equal(t, "11 h 59 min left", evs[0].Data["time_left"])
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "deadline.reminder")) == 2 }, "reminder notified")
	ns := b.notifications(t, id, "deadline.reminder")
	require.ElementsMatch(t, []string{"region", "city"}, recipients(ns))
	due, err := time.Parse(time.RFC3339Nano, evs[0].Data["due_at"].(string))
	require.NoError(t, err)
	ref := b.h.As(b.cert).Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)["reference"].(string)
	require.Equal(t, "NIS2 early warning due soon: "+ref, ns[0].Message.Header)
	require.Contains(t, ns[0].Message.Text, "11 h 59 min left, due "+deadline.DueText(due)+" (NIS2 Art. 23(4)(a))")

	b.h.Advance(9*time.Hour + 36*time.Minute) // 21 h 37 min: past 90 % of 24 h
	evs = b.waitEvents(t, id, deadline.EventReminder, 2)
	require.Equal(t, "90%", evs[1].Data["point"])
	require.Equal(t, "2 h 23 min left", evs[1].Data["time_left"])
	require.Empty(t, b.events(t, id, deadline.EventMissed))

	b.h.Advance(2*time.Hour + 30*time.Minute) // 24 h 7 min: the early warning is missed
	missed := b.waitEvents(t, id, deadline.EventMissed, 1)
	require.Equal(t, "nis2_early_warning", missed[0].Data["kind"])
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "deadline.missed")) == 2 }, "miss notified")
	b.settled(t, id)
	require.Len(t, b.events(t, id, deadline.EventReminder), 2, "the 72-hour deadline's first reminder is at 36 h")

	// The miss job fired; running it again (a second delivery) records nothing.
	miss := find(b.jobs(t, id), incident.NIS2EarlyWarning, deadline.PointDue)
	require.Len(t, miss, 1)
	require.Equal(t, "completed", miss[0].State)
	noop := func(context.Context, deadline.Tx) error { return nil }
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), miss[0].Args, miss[0].ID, noop))
	b.h.Advance(time.Hour)
	b.settled(t, id)
	require.Len(t, b.events(t, id, deadline.EventMissed), 1, "a miss is recorded once")
	require.Len(t, b.notifications(t, id, "deadline.missed"), 2)

	r := b.h.As(b.cert).Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
	require.Contains(t, string(r.Body), `"state":"missed"`)
}

// Marking a deadline met cancels its pending jobs in the same transaction:
// no reminder and no miss follow. Clearing the flag cancels the rest.
func TestMarkingMetStopsReminders(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"significant": true})
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "incident.routed")) == 1 }, "routed")

	r := b.h.As(b.cert).Request(http.MethodPost, "/api/v1/incidents/"+id+"/deadlines/nis2_early_warning/met",
		map[string]any{"reference": "CSIRT early warning 2026-77"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	js := b.jobs(t, id)
	for _, point := range []string{"50%", "90%", deadline.PointDue} {
		ew := find(js, incident.NIS2EarlyWarning, point)
		require.Len(t, ew, 1, point)
		require.Equal(t, "cancelled", ew[0].State, "the %s job of the met deadline is cancelled", point)
	}
	require.Len(t, find(js, incident.NIS2Notification, "50%"), 1)
	require.Equal(t, "scheduled", find(js, incident.NIS2Notification, "50%")[0].State)
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "deadline.met")) == 2 }, "met notified")
	require.ElementsMatch(t, []string{"region", "city"}, recipients(b.notifications(t, id, "deadline.met")))

	b.h.Advance(25 * time.Hour)
	b.settled(t, id)
	require.Empty(t, b.events(t, id, deadline.EventReminder), "no reminder of a met deadline")
	require.Empty(t, b.events(t, id, deadline.EventMissed))

	// Clearing the flag cancels every timer left.
	r = b.h.As(b.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"significant": false})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, j := range b.jobs(t, id) {
		require.Contains(t, []string{"cancelled", "completed"}, j.State, "%s %s", j.Args.Deadline, j.Args.Point)
	}
	b.h.Advance(40 * 24 * time.Hour)
	b.settled(t, id)
	require.Empty(t, b.events(t, id, deadline.EventReminder))
	require.Empty(t, b.events(t, id, deadline.EventMissed))
}

// Changing detected_at moves the deadlines: the old jobs are cancelled and
// the reminders fire at the new points.
func TestChangingDetectedAtReschedules(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	now := b.h.Clock.Now().UTC()
	id := b.report(t, map[string]any{"personal_data_breach": true, "detected_at": now.Add(-time.Hour)})
	before := b.jobs(t, id)
	require.Len(t, before, 3, "GDPR: two reminders and the due time")

	detected := now.Add(-40 * time.Hour)
	r := b.h.As(b.reporter).Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"detected_at": detected})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	after := b.jobs(t, id)
	for _, j := range before {
		for _, a := range after {
			if a.ID == j.ID {
				require.Equal(t, "cancelled", a.State, "the old %s job", j.Args.Point)
			}
		}
	}
	newDue := detected.Add(72 * time.Hour).Truncate(time.Microsecond)
	var live []job
	for _, a := range after {
		if a.State == "scheduled" {
			live = append(live, a)
			require.True(t, newDue.Equal(a.Args.DueAt), "new due %s, job due %s", newDue, a.Args.DueAt)
		}
	}
	// 50 % (36 h after detection) has passed: only 90 % and the due time.
	require.Len(t, live, 2)

	b.h.Advance(25 * time.Hour) // 65 h after detection: past 90 % (64.8 h)
	evs := b.waitEvents(t, id, deadline.EventReminder, 1)
	require.Equal(t, "90%", evs[0].Data["point"])
	due, err := time.Parse(time.RFC3339Nano, evs[0].Data["due_at"].(string))
	require.NoError(t, err)
	require.True(t, newDue.Equal(due))
	b.settled(t, id)
	require.Len(t, b.events(t, id, deadline.EventReminder), 1, "the cancelled jobs of the old due time did nothing")
}

// A timer job delivered twice at once, or again after it ran, reminds
// once; a job of a timer that was planned again since does nothing.
func TestJobDeliveredTwiceRemindsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{NoWorkers: true})
	id := b.report(t, map[string]any{"personal_data_breach": true})
	b.h.Advance(36*time.Hour + time.Minute)
	half := find(b.jobs(t, id), incident.GDPRNotification, "50%")
	require.Len(t, half, 1)

	noop := func(context.Context, deadline.Tx) error { return nil }
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.h.App.Deadlines.Fire(context.Background(), half[0].Args, half[0].ID, noop)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), half[0].Args, half[0].ID, noop))
	require.Len(t, b.events(t, id, deadline.EventReminder), 1, "one reminder for four deliveries")
	// Routed as it was reported: one to the reporting organisation and
	// one to its coordinator, not four of each.
	require.Len(t, b.notifications(t, id, "deadline.reminder"), 2, "one per organisation")

	// A job for another due time, or another job ID, is stale: probed on
	// the 90 % timer, which has not fired (the 50 % one would be stale
	// anyway).
	ninety := find(b.jobs(t, id), incident.GDPRNotification, "90%")
	require.Len(t, ninety, 1)
	b.h.Advance(29 * time.Hour) // 65 h 1 min: the 90 % point has passed
	stale := ninety[0].Args
	stale.DueAt = stale.DueAt.Add(time.Hour)
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), stale, ninety[0].ID, noop))
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), ninety[0].Args, ninety[0].ID+1000, noop))
	// The miss job run before the due time asks to wait.
	due := find(b.jobs(t, id), incident.GDPRNotification, deadline.PointDue)
	require.Len(t, due, 1)
	var early *deadline.EarlyError
	require.ErrorAs(t, b.h.App.Deadlines.Fire(context.Background(), due[0].Args, due[0].ID, noop), &early)
	require.Len(t, b.events(t, id, deadline.EventReminder), 1, "the stale 90 % probes reminded nothing")
	require.Empty(t, b.events(t, id, deadline.EventMissed))
	// The 90 % job itself still reminds: the probes left its timer alone.
	require.NoError(t, b.h.App.Deadlines.Fire(context.Background(), ninety[0].Args, ninety[0].ID, noop))
	require.Len(t, b.events(t, id, deadline.EventReminder), 2)

	// An incident that does not exist cancels the job for good.
	gone := half[0].Args
	gone.IncidentID = uuid.New()
	err := b.h.App.Deadlines.Fire(context.Background(), gone, half[0].ID, noop)
	require.True(t, apperr.Is(err, apperr.NotFound), "want not found, got %v", err)
}

// Closing an incident does not stop its legal deadlines: the NIS2 final
// report typically falls due after the case is closed.
func TestClosingKeepsDeadlineTimers(t *testing.T) {
	t.Parallel()
	b := setup(t, testapp.Options{})
	id := b.report(t, map[string]any{"personal_data_breach": true})
	b.h.Eventually(func() bool { return len(b.notifications(t, id, "incident.routed")) == 1 }, "routed")
	r := b.h.As(b.cert).Request(http.MethodPost, "/api/v1/incidents/"+id+"/close", map[string]any{"resolution": "Contained"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	b.h.Advance(36*time.Hour + time.Minute)
	b.waitEvents(t, id, deadline.EventReminder, 1)
}

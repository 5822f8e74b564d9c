package deadline

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestTimeLeft(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		12 * time.Hour: "12 h left",
		12*time.Hour + 30*time.Minute + 29*time.Second: "12 h 30 min left",
		12*time.Hour - 2*time.Second:                   "12 h left",
		45*time.Minute + 20*time.Second:                "45 min left",
		29 * time.Second:                               "less than a minute left",
		47*time.Hour + 59*time.Minute:                  "47 h 59 min left",
		48 * time.Hour:                                 "2 days left",
		3*24*time.Hour + 4*time.Hour + 5:               "3 days 4 h left",
		0:                                              "overdue",
		-time.Hour:                                     "overdue",
	} {
		require.Equal(t, want, TimeLeft(d), d.String())
	}
	require.Equal(t, "Tue 24 Nov 09:00 UTC", DueText(time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CET", 3600))))
}

func TestPlan(t *testing.T) {
	t.Parallel()
	aware := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	now := aware.Add(time.Hour)
	inc := &incident.Incident{ID: uuid.New(), DetectedAt: &aware, ReportedAt: now, Significant: true, PersonalDataBreach: true,
		ReportingOrgTimeZone: "Europe/Berlin"}
	at := func(ts []Timer, kind incident.DeadlineKind, point string) Timer {
		for _, x := range ts {
			if x.Kind == kind && x.Point == point {
				return x
			}
		}
		t.Fatalf("no %s timer at %s in %v", kind, point, ts)
		return Timer{}
	}
	plan := Plan(inc, []int{50, 90}, now)
	require.Len(t, plan, 4*3, "four deadlines, two reminders and the due time each")
	require.Equal(t, time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC), at(plan, incident.NIS2EarlyWarning, "50%").FireAt)
	require.Equal(t, time.Date(2026, 11, 24, 6, 36, 0, 0, time.UTC), at(plan, incident.NIS2EarlyWarning, "90%").FireAt)
	require.Equal(t, time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), at(plan, incident.NIS2EarlyWarning, PointDue).FireAt)
	require.Equal(t, time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC), at(plan, incident.GDPRNotification, "50%").FireAt)
	// The final report's window runs from the notification's due time
	// to one calendar month later in the reporter's zone.
	final := at(plan, incident.NIS2FinalReport, PointDue)
	require.Equal(t, time.Date(2026, 12, 26, 9, 0, 0, 0, time.UTC), final.DueAt)
	require.Equal(t, time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC), at(plan, incident.NIS2FinalReport, "50%").FireAt, "half of 26 Nov 09:00 to 26 Dec 09:00")

	// A met deadline has no timers; the final report's window then starts
	// when the notification was sent.
	sent := aware.Add(30 * time.Hour)
	inc.DeadlinesMet = map[incident.DeadlineKind]incident.DeadlineMet{incident.NIS2Notification: {At: sent, Reference: "CSIRT-1"}}
	plan = Plan(inc, []int{50}, now)
	for _, x := range plan {
		require.NotEqual(t, incident.NIS2Notification, x.Kind)
	}
	final = at(plan, incident.NIS2FinalReport, PointDue)
	require.Equal(t, time.Date(2026, 12, 24, 15, 0, 0, 0, time.UTC), final.DueAt)
	require.Equal(t, time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC), at(plan, incident.NIS2FinalReport, "50%").FireAt, "half of 24 Nov 15:00 to 24 Dec 15:00")

	// No flags, no timers; no reminder points, only the due times.
	require.Empty(t, Plan(&incident.Incident{ID: uuid.New(), ReportedAt: now}, []int{50}, now))
	inc.DeadlinesMet = nil
	require.Len(t, Plan(inc, nil, now), 4)
}

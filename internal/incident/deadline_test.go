package incident

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func byKind(ds []Deadline) map[DeadlineKind]Deadline {
	m := map[DeadlineKind]Deadline{}
	for _, d := range ds {
		m[d.Kind] = d
	}
	return m
}

func TestNoFlagsNoDeadlines(t *testing.T) {
	t.Parallel()
	inc := &Incident{ReportedAt: at("2026-11-22T10:00:00Z")}
	require.Empty(t, inc.Deadlines(time.UTC, at("2026-11-22T11:00:00Z")))
}

func TestDeadlinesAtTheirBoundaries(t *testing.T) {
	t.Parallel()
	detected := at("2026-11-20T03:12:00Z")
	inc := &Incident{DetectedAt: &detected, ReportedAt: at("2026-11-20T09:00:00Z"), Significant: true, PersonalDataBreach: true}

	// One second before the early warning falls due: pending, 1 s left.
	d := byKind(inc.Deadlines(time.UTC, at("2026-11-21T03:11:59Z")))
	require.Equal(t, at("2026-11-21T03:12:00Z"), d[NIS2EarlyWarning].DueAt, "24 h from awareness (detected_at), not from the report")
	require.Equal(t, DeadlinePending, d[NIS2EarlyWarning].State)
	require.Equal(t, time.Second, d[NIS2EarlyWarning].TimeLeft)
	require.Equal(t, at("2026-11-23T03:12:00Z"), d[NIS2Notification].DueAt)
	require.Equal(t, at("2026-11-23T03:12:00Z"), d[GDPRNotification].DueAt)
	require.Equal(t, at("2026-12-23T03:12:00Z"), d[NIS2FinalReport].DueAt, "one month after the notification's due date until it is met")

	// At the due instant: missed.
	d = byKind(inc.Deadlines(time.UTC, at("2026-11-21T03:12:00Z")))
	require.Equal(t, DeadlineMissed, d[NIS2EarlyWarning].State)
	require.Equal(t, time.Duration(0), d[NIS2EarlyWarning].TimeLeft)

	// Met on time, met late; the final report runs from the notification sent.
	inc.DeadlinesMet = map[DeadlineKind]DeadlineMet{
		NIS2EarlyWarning: {At: at("2026-11-21T03:11:00Z"), Reference: "EW-1"},
		NIS2Notification: {At: at("2026-11-23T05:00:00Z"), Reference: "N-1"},
	}
	d = byKind(inc.Deadlines(time.UTC, at("2026-11-24T00:00:00Z")))
	require.Equal(t, DeadlineOnTime, d[NIS2EarlyWarning].State)
	require.Equal(t, DeadlineMetLate, d[NIS2Notification].State)
	require.Equal(t, "N-1", d[NIS2Notification].Met.Reference)
	require.Equal(t, at("2026-12-23T05:00:00Z"), d[NIS2FinalReport].DueAt)
	require.Equal(t, DeadlineMissed, d[GDPRNotification].State)
}

func TestAwarenessFallsBackToTheReport(t *testing.T) {
	t.Parallel()
	inc := &Incident{ReportedAt: at("2026-11-20T09:00:00Z"), PersonalDataBreach: true}
	d := byKind(inc.Deadlines(time.UTC, at("2026-11-20T09:00:00Z")))
	require.Equal(t, at("2026-11-23T09:00:00Z"), d[GDPRNotification].DueAt)
	require.Equal(t, 72*time.Hour, d[GDPRNotification].TimeLeft)
	require.True(t, inc.Applies(GDPRNotification))
	require.False(t, inc.Applies(NIS2EarlyWarning))
}

// TestDeadlinesAcrossDaylightSaving: hour deadlines are exact durations
// (72 h across the spring change is 73 h of wall-clock time in Berlin);
// the month of the final report is a calendar month in the reporting
// organisation's zone, so it keeps the wall-clock time across the change.
func TestDeadlinesAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// 27 March 2026, 10:00 CET (UTC+1); summer time starts 29 March 02:00.
	detected := time.Date(2026, 3, 27, 10, 0, 0, 0, berlin)
	inc := &Incident{DetectedAt: &detected, ReportedAt: detected, Significant: true}
	d := byKind(inc.Deadlines(berlin, detected))

	notif := d[NIS2Notification].DueAt
	require.Equal(t, 72*time.Hour, notif.Sub(detected), "exactly 72 hours")
	require.Equal(t, 11, notif.In(berlin).Hour(), "which reads 11:00 CEST on the wall clock")

	// A final report whose month spans the autumn change: detected
	// 1 October 2026 10:00 CEST; summer time ends 25 October.
	detected = time.Date(2026, 10, 1, 10, 0, 0, 0, berlin)
	inc = &Incident{DetectedAt: &detected, ReportedAt: detected, Significant: true}
	d = byKind(inc.Deadlines(berlin, detected))
	final := d[NIS2FinalReport].DueAt.In(berlin)
	require.Equal(t, time.Date(2026, 11, 4, 10, 0, 0, 0, berlin), final, "one calendar month after 4 October 10:00, at 10:00 local")
	require.Equal(t, 31*24*time.Hour+time.Hour, final.Sub(d[NIS2Notification].DueAt), "which is 31 days and one hour later in absolute time")
}

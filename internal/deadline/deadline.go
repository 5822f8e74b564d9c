// Package deadline keeps the timers of an incident's legal deadlines (NIS2
// Art. 23 for significant incidents, GDPR Art. 33 for personal data
// breaches): scheduled jobs that remind the coordinating and the reporting
// organisation at configured points of the time allowed, and record a miss
// when a deadline falls due unmet.
//
// The timers are derived from the incident: whenever what a deadline is
// computed from changes (detected_at, the flags, a deadline met), an
// incident.Bus handler plans them again and reconciles the stored ones in
// the same transaction, cancelling the jobs of timers that no longer apply
// and scheduling the new ones. A firing job checks again, in its own
// transaction, that its timer still stands; a stale job does nothing.
package deadline

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Timeline event kinds written by the timers.
const (
	// EventReminder: a deadline is approaching (data: kind, basis, point,
	// due_at, seconds_left, time_left).
	EventReminder incident.EventKind = "deadline_reminder"
	// EventMissed: a deadline fell due and was not met (data: kind, basis,
	// due_at).
	EventMissed incident.EventKind = "deadline_missed"
	// EventTimerFailed: a timer's job failed on every attempt and was
	// given up, so its reminder or miss may be missing (data: kind, point,
	// due_at, error).
	EventTimerFailed incident.EventKind = "deadline_timer_failed"
)

// PointDue is the point of the timer that fires when a deadline falls due.
const PointDue = "due"

// Timer is one scheduled point of one deadline of an incident.
type Timer struct {
	IncidentID uuid.UUID
	Kind       incident.DeadlineKind
	// Point is "50%" for a reminder at half the time allowed, or PointDue.
	Point   string
	FireAt  time.Time // when the job runs
	DueAt   time.Time // the deadline the timer belongs to
	JobID   int64
	FiredAt *time.Time // set once the timer took effect
}

// same reports whether two timers are the same plan: one deadline's point
// at the same times.
func (t Timer) same(o Timer) bool {
	return t.Kind == o.Kind && t.Point == o.Point && t.DueAt.Equal(o.DueAt) && t.FireAt.Equal(o.FireAt)
}

// TimerJob fires one timer. Its arguments name the timer and the due time
// it was planned for: a job whose timer was re-planned since is stale.
type TimerJob struct {
	IncidentID uuid.UUID             `json:"incident_id"`
	Deadline   incident.DeadlineKind `json:"deadline"`
	Point      string                `json:"point"`
	DueAt      time.Time             `json:"due_at"`
}

// Kind implements incident.Job.
func (TimerJob) Kind() string { return "deadline.timer" }

// windowStart is when the time allowed for d began: awareness, or for the
// NIS2 final report the incident notification (when it was sent, else when
// it was due).
func windowStart(inc *incident.Incident, d incident.Deadline, all []incident.Deadline) time.Time {
	if d.Kind != incident.NIS2FinalReport {
		return inc.AwareAt()
	}
	for _, n := range all {
		if n.Kind == incident.NIS2Notification {
			if n.Met != nil {
				return n.Met.At
			}
			return n.DueAt
		}
	}
	return inc.AwareAt()
}

// Plan returns the timers inc should have: for every deadline that applies
// and is not met, one reminder per percentage in reminders (of the time
// from the start of its window to its due time) and one at the due time.
// now only matters to the deadlines' own computation.
func Plan(inc *incident.Incident, reminders []int, now time.Time) []Timer {
	all := inc.Deadlines(inc.Location(), now)
	var out []Timer
	for _, d := range all {
		if d.Met != nil {
			continue
		}
		start := windowStart(inc, d, all)
		span := d.DueAt.Sub(start)
		for _, pct := range reminders {
			at := start.Add(span * time.Duration(pct) / 100).UTC().Truncate(time.Microsecond)
			out = append(out, Timer{IncidentID: inc.ID, Kind: d.Kind, Point: strconv.Itoa(pct) + "%", FireAt: at, DueAt: d.DueAt})
		}
		out = append(out, Timer{IncidentID: inc.ID, Kind: d.Kind, Point: PointDue, FireAt: d.DueAt, DueAt: d.DueAt})
	}
	return out
}

// Names of the deadlines for people.
var names = map[incident.DeadlineKind]string{
	incident.NIS2EarlyWarning: "NIS2 early warning",
	incident.NIS2Notification: "NIS2 incident notification",
	incident.NIS2FinalReport:  "NIS2 final report",
	incident.GDPRNotification: "GDPR notification to the supervisory authority",
}

// Name is how people call a deadline kind ("NIS2 early warning").
func Name(k incident.DeadlineKind) string {
	if n, ok := names[k]; ok {
		return n
	}
	return string(k)
}

// TimeLeft says how long remains, to the nearest minute, in a human form: "3 days 4 h left",
// "12 h left", "12 h 30 min left", "45 min left", "less than a minute
// left"; "overdue" when d is not positive.
func TimeLeft(d time.Duration) string {
	if d <= 0 {
		return "overdue"
	}
	d = d.Round(time.Minute) // a reminder a moment late still says "12 h left"
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	switch {
	case days >= 2:
		parts = append(parts, fmt.Sprintf("%d days", days))
		if hours > 0 {
			parts = append(parts, fmt.Sprintf("%d h", hours))
		}
	case d >= time.Hour:
		parts = append(parts, fmt.Sprintf("%d h", days*24+hours))
		if mins > 0 {
			parts = append(parts, fmt.Sprintf("%d min", mins))
		}
	case mins > 0:
		parts = append(parts, fmt.Sprintf("%d min", mins))
	default:
		return "less than a minute left"
	}
	return strings.Join(parts, " ") + " left"
}

// DueText formats a due time for messages: "Tue 24 Nov 09:00 UTC".
func DueText(t time.Time) string {
	return t.UTC().Format("Mon 2 Jan 15:04 UTC")
}

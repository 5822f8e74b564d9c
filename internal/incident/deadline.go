package incident

import (
	"time"
)

// DeadlineKind names a legal reporting deadline.
type DeadlineKind string

// The deadlines certdesk tracks.
const (
	// NIS2 Art. 23(4)(a): early warning within 24 hours of becoming aware
	// of a significant incident.
	NIS2EarlyWarning DeadlineKind = "nis2_early_warning"
	// NIS2 Art. 23(4)(b): incident notification within 72 hours.
	NIS2Notification DeadlineKind = "nis2_notification"
	// NIS2 Art. 23(4)(d): final report within one month after the
	// incident notification.
	NIS2FinalReport DeadlineKind = "nis2_final_report"
	// GDPR Art. 33(1): a personal data breach is notified to the
	// supervisory authority within 72 hours of becoming aware of it.
	GDPRNotification DeadlineKind = "gdpr_notification"
)

// DeadlineKinds lists every kind.
var DeadlineKinds = []DeadlineKind{NIS2EarlyWarning, NIS2Notification, NIS2FinalReport, GDPRNotification}

// DeadlineState says where a deadline stands.
type DeadlineState string

// The deadline states.
const (
	DeadlinePending DeadlineState = "pending"  // not met, still time
	DeadlineOnTime  DeadlineState = "met"      // met on time
	DeadlineMetLate DeadlineState = "met_late" // met after it fell due
	DeadlineMissed  DeadlineState = "missed"   // fell due, not met
)

// DeadlineMet records that a deadline was met, and with what.
type DeadlineMet struct {
	At        time.Time
	Reference string // what was sent: a report number, a ticket, a link
}

// Deadline is one computed legal deadline of an incident.
type Deadline struct {
	Kind     DeadlineKind
	Basis    string // the legal provision
	DueAt    time.Time
	State    DeadlineState
	TimeLeft time.Duration // until DueAt from now; negative when overdue; 0 once met
	Met      *DeadlineMet
}

// AwareAt is when the reporting organisation became aware of the incident,
// from which legal deadlines run: detected_at, or the report time when the
// reporter did not give one.
func (inc *Incident) AwareAt() time.Time {
	if inc.DetectedAt != nil {
		return *inc.DetectedAt
	}
	return inc.ReportedAt
}

// Location returns the reporting organisation's time zone
// (ReportingOrgTimeZone, filled on reads), in which calendar deadlines
// run; UTC when it is unknown or not a zone this system knows.
func (inc *Incident) Location() *time.Location {
	if inc.ReportingOrgTimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(inc.ReportingOrgTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Deadlines computes the incident's legal deadlines at now. Hour-based
// deadlines are exact durations; "one month" is a calendar month in loc
// (the reporting organisation's time zone), so a final report due across a
// daylight-saving change keeps its wall-clock time.
func (inc *Incident) Deadlines(loc *time.Location, now time.Time) []Deadline {
	if loc == nil {
		loc = time.UTC
	}
	aware := inc.AwareAt()
	var out []Deadline
	add := func(kind DeadlineKind, basis string, due time.Time) {
		d := Deadline{Kind: kind, Basis: basis, DueAt: due.UTC()}
		if m, ok := inc.DeadlinesMet[kind]; ok {
			m := m
			d.Met = &m
			d.State = DeadlineOnTime
			if m.At.After(due) {
				d.State = DeadlineMetLate
			}
		} else {
			d.TimeLeft = due.Sub(now)
			d.State = DeadlinePending
			if !now.Before(due) {
				d.State = DeadlineMissed
			}
		}
		out = append(out, d)
	}
	if inc.Significant {
		add(NIS2EarlyWarning, "NIS2 Art. 23(4)(a)", aware.Add(24*time.Hour))
		notification := aware.Add(72 * time.Hour)
		add(NIS2Notification, "NIS2 Art. 23(4)(b)", notification)
		from := notification
		if m, ok := inc.DeadlinesMet[NIS2Notification]; ok {
			from = m.At
		}
		add(NIS2FinalReport, "NIS2 Art. 23(4)(d)", from.In(loc).AddDate(0, 1, 0))
	}
	if inc.PersonalDataBreach {
		add(GDPRNotification, "GDPR Art. 33(1)", aware.Add(72*time.Hour))
	}
	return out
}

// Applies reports whether the deadline kind applies to the incident's flags.
func (inc *Incident) Applies(kind DeadlineKind) bool {
	switch kind {
	case NIS2EarlyWarning, NIS2Notification, NIS2FinalReport:
		return inc.Significant
	case GDPRNotification:
		return inc.PersonalDataBreach
	}
	return false
}
